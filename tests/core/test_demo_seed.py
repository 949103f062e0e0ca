"""The demo seed: a consistent region, ready organizations, personas, and idempotence."""

from __future__ import annotations

from collections import Counter
from datetime import date

import pytest
import sqlalchemy as sa

from participation.core.organizations import Organization
from participation.core.territories import Territory, TerritoryLevel, territory_by_oktmo
from participation.core.users import Membership, User
from participation.demo import data
from participation.demo.seed import seed_demo
from participation.extensions import db

pytestmark = pytest.mark.usefixtures("app", "db_session")


def _age(born: date, on: date) -> int:
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))


def _row_counts() -> dict[str, int]:
    connection = db.session.connection()
    tables = [t for t in sa.inspect(connection).get_table_names() if t != "alembic_version"]
    count = sa.select(sa.func.count())
    return {
        name: connection.execute(count.select_from(sa.table(name))).scalar_one() for name in tables
    }


def _widget_codes() -> dict[int, str]:
    query = sa.select(Organization.id, Organization.widget_code)
    return dict(db.session.execute(query).all())


def test_seed_creates_the_region_and_ready_organizations() -> None:
    counts = seed_demo()

    assert counts == {
        "territories": len(data.TERRITORIES),
        "organizations": len(data.ORGANIZATIONS),
        "users": len(data.USERS),
        "memberships": sum(len(u["memberships"]) for u in data.USERS),
    }
    region = territory_by_oktmo(data.BASHKORTOSTAN)
    assert region is not None
    assert region.name == "Республика Башкортостан"
    assert region.level == TerritoryLevel.REGION
    ufa = territory_by_oktmo(data.UFA)
    assert ufa is not None
    assert ufa.timezone == "Asia/Yekaterinburg"
    assert ufa.region() == region

    organizations = db.session.scalars(sa.select(Organization)).all()
    assert len(organizations) == len(data.ORGANIZATIONS)
    not_ready = [o.short_name for o in organizations if not o.is_ready]
    assert not_ready == ["Администрация Бирского района"]
    assert all(o.widget_code for o in organizations)
    ufa_admin = db.session.scalar(
        sa.select(Organization).where(Organization.short_name == "Администрация г. Уфы")
    )
    assert ufa_admin is not None
    assert ufa_admin.territory == ufa


def test_second_run_creates_and_changes_nothing() -> None:
    seed_demo()
    db.session.flush()
    before = _row_counts()
    widget_codes = _widget_codes()

    counts = seed_demo()

    assert counts == {"territories": 0, "organizations": 0, "users": 0, "memberships": 0}
    assert not db.session.new
    assert not db.session.dirty
    assert _row_counts() == before
    assert _widget_codes() == widget_codes


def test_staff_have_memberships_and_minor_personas_have_their_ages() -> None:
    seed_demo()

    names = {o["slug"]: o["name"] for o in data.ORGANIZATIONS}
    for record in data.USERS:
        user = db.session.scalar(sa.select(User).where(User.esia_oid == record["esia_oid"]))
        assert user is not None, record["slug"]
        actual = {
            (m.organization.name, m.role)
            for m in db.session.scalars(sa.select(Membership).where(Membership.user_id == user.id))
        }
        expected = {(names[slug], role) for slug, role in record["memberships"]}
        assert actual == expected, record["slug"]

    staff = db.session.scalars(
        sa.select(User).where(User.esia_oid.in_([u["esia_oid"] for u in data.STAFF]))
    ).all()
    assert len(staff) == len(data.STAFF)
    assert all(u.is_staff for u in staff)

    reference = date(2026, 9, 1)
    for slug, years in (("resident-15-ufa", 15), ("resident-13-ufa", 13)):
        oid = data.PERSONAS[slug]["esia_oid"]
        user = db.session.scalar(sa.select(User).where(User.esia_oid == oid))
        assert user is not None and user.birth_date is not None
        assert _age(user.birth_date, reference) == years

    mother = db.session.scalar(sa.select(User).where(User.esia_oid == "2000001"))
    assert mother is not None
    assert mother.full_name == "Иванова Мария Петровна"
    assert mother.registration_territory is not None
    assert mother.registration_territory.oktmo == data.UFA


def test_oktmo_codes_are_unique_and_every_territory_but_the_country_has_a_parent() -> None:
    seed_demo()

    territories = db.session.scalars(sa.select(Territory)).all()
    codes = Counter(t.oktmo for t in territories)
    assert all(n == 1 for n in codes.values())
    for territory in territories:
        assert len(territory.oktmo) in (2, 8, 11)
        if territory.level == TerritoryLevel.COUNTRY:
            assert territory.parent is None
        else:
            assert territory.parent is not None, territory.name
    kazan = territory_by_oktmo(data.KAZAN)
    assert kazan is not None
    assert kazan.timezone == "Europe/Moscow"
    assert kazan.region() is not None and kazan.region().oktmo == data.TATARSTAN
