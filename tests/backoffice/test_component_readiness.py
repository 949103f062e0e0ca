"""Readiness per component: each section opens after its own confirmation, the others work."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa
from flask import url_for

from participation.backoffice.models import ComponentReadiness
from participation.backoffice.readiness import (
    APPEALS,
    COMPONENTS,
    POLLS,
    VOTING,
    WIDGET,
    component_of,
    confirm_component,
    is_confirmed,
)
from participation.core.audit import AuditEntry
from participation.core.errors import FieldError
from participation.core.users import Role
from participation.extensions import db
from tests import factories
from tests.helpers import csrf_token, login_as

# Each component's first staff page, and who sees it in the cabinet.
PAGES = {
    "appeals": "appeals_backoffice.inbox",
    "voting": "voting_manage.index",
    "polls": "polls_manage.index",
    "hearings": "hearings_manage.manage_index",
    "directline": "directline_manage.manage_index",
    "widget": "widget_admin.index",
}
EVERY_ROLE = (Role.ADMINISTRATOR, Role.AUTHORIZED, Role.COORDINATOR, Role.HEAD, Role.MODERATOR)


def _text(response) -> str:
    return re.sub(r"\s+", " ", response.get_data(as_text=True))


def _url(app, component: str) -> str:
    with app.test_request_context():
        return url_for(PAGES[component])


def _rows(organization) -> list[ComponentReadiness]:
    return list(
        db.session.scalars(
            sa.select(ComponentReadiness).where(
                ComponentReadiness.organization_id == organization.id
            )
        )
    )


def _audit() -> list[AuditEntry]:
    return list(
        db.session.scalars(
            sa.select(AuditEntry).where(AuditEntry.action == "organization.component_confirmed")
        )
    )


def _confirm(client, organization, component: str, *, statement: bool = True, next_=None):
    data = {
        "csrf_token": csrf_token(client, "/backoffice/readiness"),
        "component": component,
        "organization_id": str(organization.id),
    }
    if statement:
        data["statement"] = "y"
    if next_:
        data["next"] = next_
    return client.post("/backoffice/readiness", data=data)


def test_every_component_page_belongs_to_exactly_one_line_of_the_table(app):
    assert {c.key for c in COMPONENTS} == set(PAGES)
    for key, endpoint in PAGES.items():
        assert endpoint in app.view_functions
        assert component_of(endpoint).key == key
    assert component_of("backoffice.readiness") is None
    assert component_of("admin.index") is None


@pytest.mark.parametrize("closed", sorted(PAGES))
def test_an_unconfirmed_component_shows_the_reason_and_the_others_stay_open(app, client, closed):
    org = factories.organization(
        name="Администрация Бирского района", components=[k for k in PAGES if k != closed]
    )
    person = factories.staff(org, *EVERY_ROLE)
    login_as(client, person)
    label = next(str(c.label) for c in COMPONENTS if c.key == closed)

    response = client.get(_url(app, closed))
    assert response.status_code == 403
    text = _text(response)
    assert (
        f"Раздел «{label}» откроется после подтверждения готовности организации "
        "«Администрация Бирского района»" in text
    )
    assert "Подтвердить готовность" in text  # this person holds every responsible role
    for key in PAGES:
        if key != closed:
            assert client.get(_url(app, key)).status_code == 200, key
    # The rest of the cabinet does not depend on components at all.
    assert client.get("/admin/").status_code == 200
    home = _text(client.get("/backoffice/"))
    assert "Откроется после подтверждения готовности раздела." in home


def test_the_reason_names_who_confirms_and_offers_no_link_to_others(app, client):
    org = factories.organization(components=[APPEALS, POLLS, WIDGET])
    administrator = factories.staff(org, Role.ADMINISTRATOR)
    login_as(client, administrator)
    response = client.get(_url(app, VOTING))
    assert response.status_code == 403
    text = _text(response)
    assert "Раздел «Голосования» откроется после подтверждения готовности" in text
    assert "Готовность подтверждает: Уполномоченный муниципальный." in text
    assert "Подтвердить готовность" not in text


def test_the_responsible_role_confirms_and_the_section_opens_audited(app, client):
    org = factories.organization(components=[APPEALS])
    authorized = factories.staff(org, Role.AUTHORIZED, last_name="Валиев")
    login_as(client, authorized)
    voting = _url(app, VOTING)
    assert client.get(voting).status_code == 403

    response = _confirm(client, org, VOTING, next_=voting)
    assert response.status_code == 302 and response.location.endswith(voting)
    assert client.get(voting).status_code == 200
    (row,) = [r for r in _rows(org) if r.component == VOTING]
    assert row.confirmed_by_id == authorized.id and row.confirmed_at is not None
    (entry,) = _audit()
    assert entry.actor_id == authorized.id
    assert entry.object_type == "organizations" and entry.object_id == str(org.id)
    assert entry.details == {"component": VOTING}
    page = _text(client.get("/backoffice/readiness"))
    assert "Готовность подтверждена" in page and "Валиев" in page
    # Surveys were not confirmed along with votes.
    assert client.get(_url(app, POLLS)).status_code == 403


def test_a_wrong_role_is_refused_and_nothing_is_recorded(app, client):
    org = factories.organization(components=[APPEALS])
    coordinator = factories.staff(org, Role.COORDINATOR, Role.ADMINISTRATOR)
    login_as(client, coordinator)
    response = _confirm(client, org, VOTING)
    assert response.status_code == 200
    expected = "Готовность раздела «Голосования» подтверждает: Уполномоченный муниципальный."
    assert expected in _text(response)
    assert not is_confirmed(org, VOTING)
    assert _audit() == []
    # The page offers no checkbox for a component the person may not confirm.
    page = _text(client.get("/backoffice/readiness"))
    assert 'value="voting"' not in page and 'value="polls"' in page


def test_an_unticked_box_or_an_unknown_component_confirms_nothing(client):
    org = factories.organization(components=[])
    administrator = factories.staff(org, Role.ADMINISTRATOR)
    login_as(client, administrator)
    response = _confirm(client, org, WIDGET, statement=False)
    assert "Отметьте пункт, который вы подтверждаете." in _text(response)
    response = _confirm(client, org, "everything")
    assert "Такого раздела нет." in _text(response)
    assert _rows(org) == [] and _audit() == []


def test_another_organizations_readiness_is_404(client):
    mine = factories.organization(components=[])
    foreign = factories.organization(components=[])
    administrator = factories.staff(mine, Role.ADMINISTRATOR)
    login_as(client, administrator)
    assert client.get(f"/backoffice/readiness?organization={foreign.id}").status_code == 404
    assert _confirm(client, foreign, APPEALS).status_code == 404
    assert _rows(foreign) == []


def test_confirming_again_is_a_no_op_that_keeps_the_first_person(client):
    org = factories.organization(components=[])
    first = factories.staff(org, Role.ADMINISTRATOR)
    second = factories.staff(org, Role.HEAD)
    assert confirm_component(org, APPEALS, first) is True
    assert confirm_component(org, APPEALS, second) is False
    login_as(client, first)
    response = _confirm(client, org, APPEALS)
    assert response.status_code == 302
    assert "Готовность уже была подтверждена." in _text(client.get(response.location))
    (row,) = _rows(org)
    assert row.confirmed_by_id == first.id
    assert len(_audit()) == 1


def test_components_wait_for_the_organization_level_confirmations(client):
    org = factories.organization(ready=False)
    administrator = factories.staff(org, Role.ADMINISTRATOR)
    assert _rows(org) == []
    with pytest.raises(FieldError, match="Сначала подтвердите готовность ЛКО"):
        confirm_component(org, APPEALS, administrator)
    login_as(client, administrator)
    # The organization-level screen still comes first, before any section.
    response = client.get("/backoffice/appeals/")
    assert response.status_code == 302 and "/backoffice/confirm" in response.location


def test_the_factory_confirms_every_component_of_a_ready_organization():
    org = factories.organization()
    assert {r.component for r in _rows(org)} == set(PAGES)
    assert _rows(factories.organization(ready=False)) == []


def test_the_migration_keeps_working_organizations_open(tmp_path):
    """Organizations with both organization-level confirmations get every component confirmed
    (by nobody, at the later moment); the others get none and confirm each component."""
    import flask_migrate

    from participation import create_app

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
                "(1, '00', 'Россия', 'country', NULL, 'Europe/Moscow')"
            )
            conn.exec_driver_sql(
                "INSERT INTO organizations (id, name, kind, territory_id, widget_code, created_at,"
                " ready_confirmed_at, training_confirmed_at) VALUES "
                "(1, 'Уфа', 'municipal', 1, 'w1', '2026-01-01 00:00:00',"
                " '2026-01-10 06:00:00', '2026-01-12 06:00:00'),"
                "(2, 'Бирск', 'municipal', 1, 'w2', '2026-01-01 00:00:00',"
                " '2026-01-10 06:00:00', NULL)"
            )
        flask_migrate.upgrade()
        with db.engine.connect() as conn:
            rows = conn.exec_driver_sql(
                "SELECT organization_id, component, confirmed_at, confirmed_by_id"
                " FROM organization_component_readiness ORDER BY component"
            ).all()
    assert {r[1] for r in rows} == {c.key for c in COMPONENTS}
    assert {r[0] for r in rows} == {1}
    assert all(str(r[2]).startswith("2026-01-12 06:00:00") and r[3] is None for r in rows)


def test_demo_birsk_confirms_messages_only_and_surveys_stay_closed(client):
    """The embedded demo's path: Бирск's administrator confirms the cabinet, then messages."""
    from participation.core.users import User
    from participation.demo import data
    from participation.demo.seed import seed_demo

    seed_demo()
    oid = data.PERSONAS["birsk-administrator"]["esia_oid"]
    administrator = db.session.scalar(sa.select(User).where(User.esia_oid == oid))
    (birsk,) = [m.organization for m in administrator.memberships]
    assert _rows(birsk) == []
    login_as(client, administrator)
    token = csrf_token(client, "/backoffice/confirm")
    response = client.post(
        "/backoffice/confirm", data={"csrf_token": token, "ready": "y", "training": "y"}
    )
    assert response.status_code == 302
    assert "Откроется после подтверждения готовности раздела." in _text(client.get("/backoffice/"))
    assert client.get("/backoffice/appeals/").status_code == 403

    assert _confirm(client, birsk, APPEALS).status_code == 302
    assert client.get("/backoffice/appeals/").status_code == 200
    surveys = client.get("/polls/manage")
    assert surveys.status_code == 403
    text = _text(surveys)
    assert "Раздел «Опросы» откроется после подтверждения готовности организации" in text
    assert "Подтвердить готовность" in text  # the administrator may confirm surveys
    votes = _text(client.get("/backoffice/voting/"))
    assert "Готовность подтверждает: Уполномоченный муниципальный." in votes
    # Every other demo organization is at work in every component.
    ufa = next(o for o in data.ORGANIZATIONS if o["slug"] == "ufa-admin")
    assert ufa["ready"] and ufa["components"] is None


@pytest.mark.committed
def test_people_confirming_at_once_leave_one_row_and_one_audit_entry(app):
    """The unique (organization, component) pair decides, not a check before the insert."""
    import threading

    from participation.core.organizations import Organization
    from participation.core.users import User

    org = factories.organization(components=[])
    people = [factories.staff(org, Role.ADMINISTRATOR).id for _ in range(4)]
    org_id = org.id
    db.session.commit()
    barrier = threading.Barrier(len(people))
    outcomes: list[str] = []
    lock = threading.Lock()

    def run(user_id: int) -> None:
        with app.app_context():
            organization = db.session.get(Organization, org_id)
            user = db.session.get(User, user_id)
            assert organization.is_ready and user.roles_in(org_id)  # loaded before the barrier
            db.session.commit()
            barrier.wait()
            try:
                result = "given" if confirm_component(organization, WIDGET, user) else "already"
                db.session.commit()
            except Exception as exc:
                db.session.rollback()
                result = f"error: {exc!r}"
            finally:
                db.session.remove()
            with lock:
                outcomes.append(result)

    threads = [threading.Thread(target=run, args=(uid,)) for uid in people]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert sorted(outcomes) == ["already"] * (len(people) - 1) + ["given"], outcomes
    (row,) = db.session.scalars(sa.select(ComponentReadiness)).all()
    assert row.confirmed_by_id in people
    (entry,) = _audit()
    assert entry.actor_id == row.confirmed_by_id
