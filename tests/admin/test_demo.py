"""The demo: the Уфа administrator finds one invitation waiting on the staff page."""

from __future__ import annotations

import sqlalchemy as sa

from participation.admin.invitations_demo import EMAIL, seed_admin_demo
from participation.admin.models import InvitationStatus, StaffInvitation
from participation.core.outbox import OutboxMessage
from participation.core.users import User
from participation.demo.seed import seed_demo
from participation.extensions import db
from tests.helpers import login_as


def test_demo_has_one_pending_invitation_for_the_administrator(db_session, client):
    seed_demo()
    [invitation] = db.session.scalars(sa.select(StaffInvitation)).all()
    assert invitation.status == InvitationStatus.PENDING and invitation.email == EMAIL
    assert seed_admin_demo().id == invitation.id  # a second run adds nothing
    assert db.session.scalar(sa.select(sa.func.count(StaffInvitation.id))) == 1
    letter = db.session.scalar(sa.select(OutboxMessage).where(OutboxMessage.email == EMAIL))
    assert letter is not None and "/invitations/" in letter.link
    administrator = db.session.scalar(sa.select(User).where(User.esia_oid == "1000001"))
    login_as(client, administrator)
    page = client.get("/admin/").get_data(as_text=True)
    assert "Сафина Алия Рустамовна" in page and EMAIL in page
