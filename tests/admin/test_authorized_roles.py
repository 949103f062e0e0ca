"""The regional and the municipal authorised official are distinct roles with their own scope."""

from __future__ import annotations

import flask_migrate
import pytest
import sqlalchemy as sa

from participation import create_app
from participation.core.authorized import acts_as_authorized
from participation.core.organizations import OrganizationKind as K
from participation.core.territories import TerritoryLevel as L
from participation.core.users import Role
from participation.extensions import db
from participation.hearings import permissions as hearings
from participation.polls import permissions as polls
from participation.reports import permissions as reports
from participation.voting import permissions as voting
from tests import factories as f
from tests.helpers import login_as
from tests.voting.helpers import Town, campaign


@pytest.fixture
def region():
    """Two regions; in the first a government and two city administrations."""
    w = type("W", (), {})()
    w.region = f.territory(L.REGION, name="Республика Тест")
    w.city = f.territory(parent=w.region, name="город Тестовск")
    w.town = f.territory(parent=w.region, name="город Соседний")
    w.far_region = f.territory(L.REGION, name="Другая область")
    w.far_city = f.territory(parent=w.far_region, name="город Дальний")
    w.government = f.organization(K.REGIONAL, w.region, name="Правительство")
    w.city_admin = f.organization(K.MUNICIPAL, w.city, name="Администрация Тестовска")
    w.town_admin = f.organization(K.MUNICIPAL, w.town, name="Администрация Соседнего")
    w.school = f.organization(K.INSTITUTION, w.city, name="Школа")
    w.far_admin = f.organization(K.MUNICIPAL, w.far_city, name="Администрация Дальнего")
    w.regional = f.staff(w.government, Role.REGIONAL_AUTHORIZED, last_name="Региональный")
    w.municipal = f.staff(w.city_admin, Role.AUTHORIZED, last_name="Муниципальный")
    return w


def test_the_regional_official_acts_region_wide_for_municipal_bodies(region):
    w = region
    for organization in (w.government, w.city_admin, w.town_admin):
        assert acts_as_authorized(w.regional, organization), organization.name
        assert voting.can_organize(w.regional, organization)
        assert polls.can_publish_in(w.regional, organization)
        assert hearings.can_organize_in(w.regional, organization)
    for organization in (w.far_admin, w.school):  # another region; not a body of that level
        assert not acts_as_authorized(w.regional, organization), organization.name
        assert not voting.can_organize(w.regional, organization)
        assert not hearings.can_organize_in(w.regional, organization)


def test_the_municipal_official_acts_for_its_own_body_only(region):
    w = region
    assert voting.can_organize(w.municipal, w.city_admin)
    assert hearings.can_organize_in(w.municipal, w.city_admin)
    for organization in (w.town_admin, w.government, w.far_admin):
        assert not acts_as_authorized(w.municipal, organization), organization.name
        assert not polls.can_publish_in(w.municipal, organization)


def test_only_the_regional_official_sees_the_whole_region_in_reports(region):
    w = region
    assert reports.sees_whole_region(w.regional, w.government)
    legacy = f.staff(w.government, Role.AUTHORIZED)  # the old single role, not migrated
    assert not reports.sees_whole_region(legacy, w.government)
    assert not reports.sees_whole_region(w.municipal, w.city_admin)


def test_the_regional_official_opens_a_municipal_vote_of_the_region(client):
    town = Town()
    c = campaign(town)
    government = f.organization(K.REGIONAL, town.region, name="Правительство Республики")
    login_as(client, f.staff(government, Role.REGIONAL_AUTHORIZED))
    page = client.get(f"/backoffice/voting/{c.id}")
    assert page.status_code == 200
    assert "Голосования организации" in page.get_data(as_text=True)  # the staff menu
    far = f.organization(K.REGIONAL, f.territory(L.REGION), name="Чужое правительство")
    login_as(client, f.staff(far, Role.REGIONAL_AUTHORIZED))
    assert client.get(f"/backoffice/voting/{c.id}").status_code == 404


def test_labels_tell_the_two_officials_apart(app):
    from participation.core.labels import role_label

    with app.test_request_context():
        assert str(role_label(Role.AUTHORIZED)) == "Уполномоченный муниципальный"
        assert str(role_label(Role.REGIONAL_AUTHORIZED)) == "Уполномоченный региональный"


def test_adding_the_role_by_identifier_checks_the_level_too(client):
    city_admin = f.organization(K.MUNICIPAL)
    admin = f.staff(city_admin, Role.ADMINISTRATOR)
    person = f.user()
    login_as(client, admin)
    from tests.helpers import csrf_token

    token = csrf_token(client, "/admin/staff/new")
    response = client.post(
        "/admin/staff/new",
        data={"csrf_token": token, "identifier": person.esia_oid, "role": "regional_authorized"},
    )
    assert response.status_code == 200
    text = response.get_data(as_text=True)
    assert 'id="role-error"' in text and "только в региональном органе власти" in text
    assert person.memberships == []
    response = client.post(
        "/admin/staff/new",
        data={"csrf_token": token, "identifier": person.esia_oid, "role": "authorized"},
    )
    assert response.status_code == 302


def test_the_migration_maps_regional_bodies_officials_to_the_regional_role(tmp_path):
    """An existing database: `authorized` in a regional body becomes `regional_authorized`;
    in a municipal body it stays (it now means the municipal official)."""
    app = create_app(
        env={
            "PARTICIPATION_ENV": "testing",
            "SECRET_KEY": "test-secret-key-" + "x" * 32,
            "DATABASE_URL": f"sqlite:///{tmp_path / 'old.sqlite3'}",
        }
    )
    with app.app_context():
        flask_migrate.upgrade(revision="0025")
        with db.engine.begin() as conn:
            conn.exec_driver_sql(
                "INSERT INTO territories (id, oktmo, name, level, parent_id, timezone) VALUES "
                "(1, '00', 'Россия', 'country', NULL, 'Europe/Moscow'), "
                "(2, '80', 'Башкортостан', 'region', 1, 'Asia/Yekaterinburg'), "
                "(3, '80701000', 'Уфа', 'urban_okrug', 2, 'Asia/Yekaterinburg')"
            )
            conn.exec_driver_sql(
                "INSERT INTO organizations (id, name, kind, territory_id, widget_code, "
                "created_at) VALUES (1, 'Правительство', 'regional', 2, 'w1', "
                "'2026-01-01 00:00:00'), (2, 'Администрация', 'municipal', 3, 'w2', "
                "'2026-01-01 00:00:00')"
            )
            conn.exec_driver_sql(
                "INSERT INTO users (id, kind, last_name, first_name, account_level, "
                "is_active_account, session_version, created_at) VALUES "
                "(1, 'person', 'А', 'Б', 'confirmed', 1, 1, '2026-01-01 00:00:00')"
            )
            conn.exec_driver_sql(
                "INSERT INTO memberships (id, user_id, organization_id, role, created_at) "
                "VALUES (1, 1, 1, 'authorized', '2026-01-01 00:00:00'), "
                "(2, 1, 2, 'authorized', '2026-01-01 00:00:00')"
            )
        flask_migrate.upgrade()
        with db.engine.connect() as conn:
            rows = conn.exec_driver_sql(
                "SELECT organization_id, role FROM memberships ORDER BY id"
            ).all()
        assert [tuple(r) for r in rows] == [(1, "regional_authorized"), (2, "authorized")]
        flask_migrate.downgrade(revision="0025")
        with db.engine.connect() as conn:
            roles = conn.exec_driver_sql("SELECT role FROM memberships ORDER BY id").scalars()
            assert list(roles) == ["authorized", "authorized"]
        db.engine.dispose()


def test_the_new_role_fits_the_column(db_session):
    """The longest value is stored (the column was widened) and the check accepts it."""
    org = f.organization(K.REGIONAL)
    person = f.staff(org, Role.REGIONAL_AUTHORIZED)
    db_session.expire_all()
    role = db_session.scalar(
        sa.text("SELECT role FROM memberships WHERE user_id = :u"), {"u": person.id}
    )
    assert role == "regional_authorized"
