"""Demo: one invitation waiting in the Уфа administration's staff page.

`seed_admin_demo()` is called by `flask demo seed`; it is matched by organization and e-mail,
so a second run adds nothing. Its letter (with the link) lands in instance/mail/ like any other.
"""

from __future__ import annotations

import sqlalchemy as sa

from participation.admin import invitations
from participation.admin.models import StaffInvitation
from participation.core.organizations import Organization
from participation.core.territories import Territory
from participation.core.users import Role, User
from participation.demo import data
from participation.extensions import db

EMAIL = "a.safina@ufa.example"


def seed_admin_demo() -> StaffInvitation | None:
    ufa = db.session.scalar(sa.select(Territory).where(Territory.oktmo == data.UFA))
    if ufa is None:
        return None
    admin_org = db.session.scalar(
        sa.select(Organization).where(
            Organization.territory_id == ufa.id,
            Organization.name
            == "Администрация городского округа город Уфа Республики Башкортостан",
        )
    )
    administrator = db.session.scalar(sa.select(User).where(User.esia_oid == "1000001"))
    if admin_org is None or administrator is None:
        return None
    existing = db.session.scalar(
        sa.select(StaffInvitation).where(
            StaffInvitation.organization_id == admin_org.id, StaffInvitation.email == EMAIL
        )
    )
    if existing is not None:
        return existing
    return invitations.invite(
        admin_org,
        administrator,
        email=EMAIL,
        last_name="Сафина",
        first_name="Алия",
        middle_name="Рустамовна",
        roles=[Role.COORDINATOR, Role.EXECUTOR],
    )
