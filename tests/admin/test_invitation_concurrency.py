"""Two people open the same link and accept at the same moment: one wins, the other is told
the link was used, and the roles are granted once (the conditional UPDATE claims it)."""

from __future__ import annotations

import threading

import pytest
import sqlalchemy as sa

from participation.admin import invitations
from participation.admin.models import InvitationStatus, StaffInvitation
from participation.core.outbox import OutboxMessage
from participation.core.users import Membership, Role, User
from participation.extensions import db
from tests import factories

ATTEMPTS = 6


@pytest.mark.committed
def test_simultaneous_acceptances_grant_the_roles_once(app):
    org = factories.organization()
    admin = factories.staff(org, Role.ADMINISTRATOR)
    people = [
        factories.user(last_name="Кузнецова", first_name="Анна", middle_name="Сергеевна")
        for _ in range(ATTEMPTS)
    ]
    invitations.invite(
        org,
        admin,
        email="kuznetsova@example.org",
        last_name="Кузнецова",
        first_name="Анна",
        middle_name="Сергеевна",
        roles=[Role.COORDINATOR, Role.EXECUTOR],
    )
    db.session.commit()
    link = db.session.scalar(sa.select(OutboxMessage.link))
    raw = link.rsplit("/", 1)[1]
    ids, org_id = [p.id for p in people], org.id
    # With SQLite every transaction holds the write lock (BEGIN IMMEDIATE): end ours first.
    db.session.remove()

    barrier = threading.Barrier(ATTEMPTS)
    outcomes: list[str] = []

    def attempt(user_id: int) -> None:
        with app.app_context():
            barrier.wait()
            try:
                user = db.session.get(User, user_id)
                invitations.accept(raw, user)
                db.session.commit()
                outcomes.append("accepted")
            except invitations.InvitationUnusable as exc:
                db.session.rollback()
                outcomes.append(exc.message)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=attempt, args=(i,)) for i in ids]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert outcomes.count("accepted") == 1, outcomes
    assert all(o == "accepted" or "уже использована" in o for o in outcomes), outcomes
    invitation = db.session.scalar(sa.select(StaffInvitation))
    assert invitation.status == InvitationStatus.ACCEPTED
    granted = db.session.scalars(
        sa.select(Membership.user_id).where(
            Membership.organization_id == org_id, Membership.role != Role.ADMINISTRATOR
        )
    ).all()
    assert granted == [invitation.accepted_by_id] * 2
