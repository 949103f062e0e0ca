"""Small factories for test rows: sensible defaults, override what the test is about."""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from datetime import date

from participation.core.organizations import Organization, OrganizationKind
from participation.core.territories import Territory, TerritoryLevel
from participation.core.users import AccountLevel, Membership, Role, User
from participation.extensions import db

_seq = itertools.count(1)


def territory(
    level: TerritoryLevel = TerritoryLevel.URBAN_OKRUG, parent: Territory | None = None, **kw
) -> Territory:
    n = next(_seq)
    if parent is None and level != TerritoryLevel.COUNTRY:
        parent = (
            territory(TerritoryLevel.COUNTRY)
            if level == TerritoryLevel.REGION
            else territory(TerritoryLevel.REGION)
        )
    oktmo = {TerritoryLevel.COUNTRY: f"{n % 100:02d}", TerritoryLevel.SETTLEMENT: f"{n:011d}"}.get(
        level, f"{n:08d}"
    )
    row = Territory(
        oktmo=kw.pop("oktmo", oktmo),
        name=kw.pop("name", f"Территория {n}"),
        level=level,
        parent=parent,
        timezone=kw.pop("timezone", "Asia/Yekaterinburg"),
        **kw,
    )
    db.session.add(row)
    db.session.flush()
    return row


def organization(
    kind: OrganizationKind = OrganizationKind.MUNICIPAL,
    territory_=None,
    ready: bool = True,
    components: Iterable[str] | None = None,
    **kw,
) -> Organization:
    """A ready organization has every component confirmed unless `components` lists which."""
    from participation.backoffice.models import ComponentReadiness
    from participation.backoffice.readiness import COMPONENTS
    from participation.core.db import utcnow

    n = next(_seq)
    row = Organization(
        name=kw.pop("name", f"Организация {n}"),
        kind=kind,
        territory=territory_ or territory(),
        ready_confirmed_at=utcnow() if ready else None,
        training_confirmed_at=utcnow() if ready else None,
        **kw,
    )
    db.session.add(row)
    db.session.flush()
    if components is None:
        components = [c.key for c in COMPONENTS] if ready else []
    for key in components:
        db.session.add(ComponentReadiness(organization_id=row.id, component=key))
    db.session.flush()
    return row


def user(level: AccountLevel = AccountLevel.CONFIRMED, **kw) -> User:
    n = next(_seq)
    row = User(
        esia_oid=kw.pop("esia_oid", f"9{n:08d}"),
        last_name=kw.pop("last_name", "Петров"),
        first_name=kw.pop("first_name", "Пётр"),
        middle_name=kw.pop("middle_name", "Петрович"),
        birth_date=kw.pop("birth_date", date(1980, 5, 17)),
        account_level=level,
        email=kw.pop("email", f"user{n}@example.org"),
        **kw,
    )
    db.session.add(row)
    db.session.flush()
    return row


def staff(org: Organization, *roles: Role, **kw) -> User:
    row = user(**kw)
    for role in roles:
        db.session.add(Membership(user=row, organization=org, role=role))
    db.session.flush()
    return row


def unconfirm(org: Organization, *components: str) -> None:
    """Take back the readiness of some components (backoffice/readiness.py) of `org`."""
    import sqlalchemy as sa

    from participation.backoffice.models import ComponentReadiness

    db.session.execute(
        sa.delete(ComponentReadiness).where(
            ComponentReadiness.organization_id == org.id,
            ComponentReadiness.component.in_(components),
        )
    )
    db.session.flush()
