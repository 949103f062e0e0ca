"""Staff cabinet and organization administration: access, readiness gate, staff and roles."""

from __future__ import annotations

import logging
import re

import pytest
import sqlalchemy as sa
from flask import url_for

from participation.backoffice.gate import GATE_EXEMPT
from participation.core.audit import AuditEntry
from participation.core.organizations import Organization
from participation.core.users import Membership, Role
from participation.extensions import db
from tests import factories
from tests.helpers import csrf_token, login_as


def _audit(action: str) -> list[AuditEntry]:
    return list(db.session.scalars(sa.select(AuditEntry).where(AuditEntry.action == action)))


def _memberships(user_id: int, organization_id: int) -> set[Role]:
    return set(
        db.session.scalars(
            sa.select(Membership.role).where(
                Membership.user_id == user_id, Membership.organization_id == organization_id
            )
        )
    )


def _text(response) -> str:
    return response.get_data(as_text=True)


def _staff_get_urls(app, user_id: int, membership_id: int) -> list[str]:
    """Every GET page of the staff blueprints, with real ids filled in."""
    urls = []
    with app.test_request_context():
        for rule in app.url_map.iter_rules():
            if not rule.endpoint.startswith(("backoffice.", "admin.")):
                continue
            if "GET" not in rule.methods or rule.endpoint in GATE_EXEMPT:
                continue
            values = {"user_id": user_id, "membership_id": membership_id}
            urls.append(url_for(rule.endpoint, **{a: values[a] for a in rule.arguments}))
    return urls


# --- who may enter -----------------------------------------------------------------------------


@pytest.mark.parametrize("url", ["/backoffice/", "/admin/", "/backoffice/confirm"])
def test_anonymous_visitor_is_sent_to_login(client, url):
    response = client.get(url)
    assert response.status_code == 302
    assert "/login" in response.location


@pytest.mark.parametrize("url", ["/backoffice/", "/admin/", "/backoffice/confirm"])
def test_resident_gets_404(client, url, caplog):
    login_as(client, factories.user())
    with caplog.at_level(logging.WARNING, logger="participation.access"):
        assert client.get(url).status_code == 404
    assert "not staff" in caplog.text


def test_landing_shows_organization_and_roles_in_russian(client):
    org = factories.organization(name="Администрация городского округа город Уфа")
    person = factories.staff(org, Role.COORDINATOR, Role.OPERATOR)
    login_as(client, person)
    response = client.get("/backoffice/")
    assert response.status_code == 200
    html = _text(response)
    assert "Администрация городского округа город Уфа" in html
    assert "Координатор" in html and "Оператор приёма" in html
    assert "Орган местного самоуправления" in html
    assert "/admin/" not in html.split("<main")[1]  # no admin section for a coordinator


def test_non_administrator_gets_404_in_admin(client, caplog):
    org = factories.organization()
    login_as(client, factories.staff(org, Role.EXECUTOR))
    with caplog.at_level(logging.WARNING, logger="participation.access"):
        assert client.get("/admin/").status_code == 404
    assert "not an administrator" in caplog.text


# --- the readiness confirmation screen -----------------------------------------------------------


def test_unconfirmed_organization_stops_every_page(app, client):
    org = factories.organization(ready=False)
    admin = factories.staff(org, Role.ADMINISTRATOR)
    membership_id = admin.memberships[0].id
    login_as(client, admin)
    urls = _staff_get_urls(app, admin.id, membership_id)
    assert {"/backoffice/", "/admin/", "/admin/staff/new", f"/admin/staff/{admin.id}"} <= set(urls)
    for url in urls:
        response = client.get(url)
        assert response.status_code == 302, url
        assert response.location.startswith("/backoffice/confirm?next="), url
    # Form posts stop there too, and change nothing.
    token = csrf_token(client, "/backoffice/confirm")
    response = client.post(
        "/admin/staff/new",
        data={"csrf_token": token, "identifier": admin.esia_oid, "role": "moderator"},
    )
    assert response.status_code == 302
    assert response.location.startswith("/backoffice/confirm")
    assert _memberships(admin.id, org.id) == {Role.ADMINISTRATOR}


def test_confirmation_screen_has_two_checkboxes(client):
    org = factories.organization(ready=False)
    login_as(client, factories.staff(org, Role.ADMINISTRATOR))
    html = _text(client.get("/backoffice/confirm"))
    assert html.count('type="checkbox"') == 2
    assert "ЛКО готов к работе" in html and "Мною пройдено обучение" in html


def test_non_administrator_cannot_confirm_readiness_but_confirms_training(client):
    org = factories.organization(ready=False)
    executor = factories.staff(org, Role.EXECUTOR)
    login_as(client, executor)
    html = _text(client.get("/backoffice/confirm"))
    assert re.search(r'<input[^>]*disabled[^>]*id="ready"', html)
    token = csrf_token(client, "/backoffice/confirm")

    response = client.post("/backoffice/confirm", data={"csrf_token": token, "ready": "y"})
    assert response.status_code == 200
    assert "подтверждает администратор организации" in _text(response)
    db.session.expire_all()
    assert org.ready_confirmed_at is None
    assert _audit("organization.ready_confirmed") == []

    response = client.post("/backoffice/confirm", data={"csrf_token": token, "training": "y"})
    assert response.status_code == 302
    assert response.location.startswith("/backoffice/confirm")  # still waiting for the admin
    db.session.expire_all()
    assert org.training_confirmed_at is not None
    assert org.training_confirmed_by_id == executor.id
    [entry] = _audit("organization.training_confirmed")
    assert (entry.actor_id, entry.object_type, entry.object_id) == (
        executor.id,
        "organizations",
        str(org.id),
    )
    assert client.get("/backoffice/").status_code == 302  # still locked
    html = _text(client.get("/backoffice/confirm"))
    assert f"({executor.short_name})" in html  # who confirmed the training
    assert "Ваша часть сделана" in html
    assert "Подтвердить</button>" not in html


def test_nothing_ticked_is_an_error_next_to_the_field(client):
    org = factories.organization(ready=False)
    login_as(client, factories.staff(org, Role.ADMINISTRATOR))
    token = csrf_token(client, "/backoffice/confirm")
    response = client.post("/backoffice/confirm", data={"csrf_token": token})
    assert response.status_code == 200
    assert 'class="error-text"' in _text(response)
    assert "Отметьте пункт" in _text(response)


def test_confirming_both_unlocks_and_returns_to_the_page(client):
    org = factories.organization(ready=False)
    admin = factories.staff(org, Role.ADMINISTRATOR)
    login_as(client, admin)
    response = client.get("/admin/")
    confirm_url = response.location
    token = csrf_token(client, confirm_url)
    response = client.post(
        confirm_url,
        data={"csrf_token": token, "ready": "y", "training": "y", "next": "/admin/"},
    )
    assert response.status_code == 302
    assert response.location == "/admin/"
    db.session.expire_all()
    assert org.is_ready
    assert org.ready_confirmed_by_id == org.training_confirmed_by_id == admin.id
    assert len(_audit("organization.ready_confirmed")) == 1
    assert len(_audit("organization.training_confirmed")) == 1
    assert client.get("/admin/").status_code == 200
    assert client.get("/backoffice/").status_code == 200
    # Confirming again records nothing more.
    client.post("/backoffice/confirm", data={"csrf_token": token, "ready": "y", "training": "y"})
    assert len(_audit("organization.ready_confirmed")) == 1


def test_open_redirect_through_next_is_refused(client):
    org = factories.organization(ready=False)
    login_as(client, factories.staff(org, Role.ADMINISTRATOR))
    token = csrf_token(client, "/backoffice/confirm")
    response = client.post(
        "/backoffice/confirm",
        data={"csrf_token": token, "ready": "y", "training": "y", "next": "//evil.example/"},
    )
    assert response.location == "/backoffice/"


# --- several organizations ---------------------------------------------------------------------


def test_switching_between_organizations(client):
    first = factories.organization(name="А-организация")
    second = factories.organization(name="Б-организация", ready=False)
    foreign = factories.organization(name="Чужая организация")
    person = factories.staff(first, Role.EXECUTOR)
    db.session.add(Membership(user=person, organization=second, role=Role.ADMINISTRATOR))
    db.session.flush()
    login_as(client, person)

    html = _text(client.get("/backoffice/"))
    assert "А-организация" in html and 'name="organization_id"' in html  # the switcher

    token = csrf_token(client, "/backoffice/")
    response = client.post(
        "/backoffice/organization", data={"csrf_token": token, "organization_id": second.id}
    )
    assert response.status_code == 302
    assert client.get("/backoffice/").location.startswith("/backoffice/confirm")

    response = client.post(
        "/backoffice/organization", data={"csrf_token": token, "organization_id": foreign.id}
    )
    assert response.status_code == 404

    client.post("/backoffice/organization", data={"csrf_token": token, "organization_id": first.id})
    assert "Исполнитель" in _text(client.get("/backoffice/"))


# --- organization administration ---------------------------------------------------------------


@pytest.fixture
def org_admin(client):
    org = factories.organization()
    admin = factories.staff(org, Role.ADMINISTRATOR, last_name="Админов")
    login_as(client, admin)
    return org, admin


def test_staff_list_is_paginated_with_roles(client, org_admin):
    org, _admin = org_admin
    for n in range(11):
        factories.staff(org, Role.EXECUTOR, last_name=f"Исполнителев{n:02d}")
    factories.staff(factories.organization(), Role.EXECUTOR, last_name="Посторонний")
    html = _text(client.get("/admin/?size=10"))
    assert "Админов" in html and "Администратор" in html
    assert "Посторонний" not in html
    assert re.search(r"Найдено:? 12 записей", html)
    assert "Страница 1 из 2" in html
    assert "Исполнителев09" not in html  # on the second page
    assert "Исполнителев09" in _text(client.get("/admin/?size=10&page=2"))


def test_admin_adds_staff_by_oid_and_by_email(client, org_admin):
    org, admin = org_admin
    by_oid = factories.user(esia_oid="1000123456")
    by_mail = factories.user(email="Ivanova@Example.org")
    token = csrf_token(client, "/admin/staff/new")

    response = client.post(
        "/admin/staff/new",
        data={"csrf_token": token, "identifier": " 1000123456 ", "role": "coordinator"},
    )
    assert response.status_code == 302
    assert response.location == f"/admin/staff/{by_oid.id}"
    assert _memberships(by_oid.id, org.id) == {Role.COORDINATOR}

    response = client.post(
        "/admin/staff/new",
        data={"csrf_token": token, "identifier": "ivanova@example.org", "role": "head"},
    )
    assert response.status_code == 302
    assert _memberships(by_mail.id, org.id) == {Role.HEAD}

    entries = _audit("staff.role_added")
    assert {(e.actor_id, e.details["user_id"], e.details["role"]) for e in entries} == {
        (admin.id, by_oid.id, "coordinator"),
        (admin.id, by_mail.id, "head"),
    }
    assert "Руководитель" in _text(client.get(f"/admin/staff/{by_mail.id}"))


@pytest.mark.parametrize(
    ("identifier", "role", "field", "message"),
    [
        ("", "executor", "identifier", "Укажите OID ЕСИА или адрес электронной почты"),
        ("999999999", "executor", "identifier", "Пользователь не найден"),
        ("nobody@example.org", "executor", "identifier", "Пользователь не найден"),
        ("1000123456", "", "role", "Выберите роль"),
    ],
)
def test_add_staff_errors_are_shown_next_to_the_field(
    client, org_admin, identifier, role, field, message
):
    org, _admin = org_admin
    factories.user(esia_oid="1000123456")
    token = csrf_token(client, "/admin/staff/new")
    response = client.post(
        "/admin/staff/new", data={"csrf_token": token, "identifier": identifier, "role": role}
    )
    assert response.status_code == 200
    html = _text(response)
    assert re.search(rf'id="{field}-error">[^<]*{message}', html), html
    assert (
        db.session.scalar(
            sa.select(sa.func.count())
            .select_from(Membership)
            .where(Membership.organization_id == org.id)
        )
        == 1
    )
    assert _audit("staff.role_added") == []


def test_duplicate_role_is_refused_in_russian_and_nothing_is_saved(client, org_admin):
    org, _admin = org_admin
    executor = factories.staff(org, Role.EXECUTOR)
    token = csrf_token(client, "/admin/staff/new")
    response = client.post(
        "/admin/staff/new",
        data={"csrf_token": token, "identifier": executor.esia_oid, "role": "executor"},
    )
    assert response.status_code == 200
    assert re.search(r'id="role-error">[^<]*уже есть роль «Исполнитель»', _text(response))

    response = client.post(
        f"/admin/staff/{executor.id}/roles", data={"csrf_token": token, "role": "executor"}
    )
    assert response.status_code == 400
    assert "уже есть роль «Исполнитель»" in _text(response)

    count = db.session.scalar(
        sa.select(sa.func.count())
        .select_from(Membership)
        .where(Membership.user_id == executor.id, Membership.organization_id == org.id)
    )
    assert count == 1
    assert _audit("staff.role_added") == []

    # The same page still works for a new role afterwards (the transaction was not spoiled).
    response = client.post(
        f"/admin/staff/{executor.id}/roles", data={"csrf_token": token, "role": "curator"}
    )
    assert response.status_code == 302
    assert _memberships(executor.id, org.id) == {Role.EXECUTOR, Role.CURATOR}


def test_admin_removes_a_role_with_an_audit_entry(client, org_admin):
    org, admin = org_admin
    person = factories.staff(org, Role.EXECUTOR, Role.CURATOR)
    curator = next(m for m in person.memberships if m.role == Role.CURATOR)
    executor = next(m for m in person.memberships if m.role == Role.EXECUTOR)
    token = csrf_token(client, f"/admin/staff/{person.id}")
    response = client.post(f"/admin/memberships/{curator.id}/remove", data={"csrf_token": token})
    assert response.status_code == 302
    assert response.location == f"/admin/staff/{person.id}"
    assert _memberships(person.id, org.id) == {Role.EXECUTOR}
    [entry] = _audit("staff.role_removed")
    assert entry.actor_id == admin.id
    assert entry.details == {"organization_id": org.id, "user_id": person.id, "role": "curator"}
    # The last role gone: the person is no longer staff of the organization.
    response = client.post(f"/admin/memberships/{executor.id}/remove", data={"csrf_token": token})
    assert response.location == "/admin/"
    assert client.get(f"/admin/staff/{person.id}").status_code == 404


def test_other_organizations_memberships_are_404(client, org_admin, caplog):
    _org, _admin = org_admin
    other_org = factories.organization()
    outsider = factories.staff(other_org, Role.ADMINISTRATOR, Role.EXECUTOR)
    membership = outsider.memberships[0]
    token = csrf_token(client, "/admin/")
    with caplog.at_level(logging.WARNING, logger="participation.access"):
        assert (
            client.post(
                f"/admin/memberships/{membership.id}/remove", data={"csrf_token": token}
            ).status_code
            == 404
        )
        assert client.get(f"/admin/staff/{outsider.id}").status_code == 404
        assert (
            client.post(
                f"/admin/staff/{outsider.id}/roles", data={"csrf_token": token, "role": "head"}
            ).status_code
            == 404
        )
        assert (
            client.post("/admin/memberships/999999/remove", data={"csrf_token": token}).status_code
            == 404
        )
    assert "membership of another organization" in caplog.text
    assert _memberships(outsider.id, other_org.id) == {Role.ADMINISTRATOR, Role.EXECUTOR}


def test_administrator_of_both_organizations_acts_only_in_the_current_one(client, org_admin):
    org, admin = org_admin
    other_org = factories.organization(name="Я-организация")  # sorts after the first one
    db.session.add(Membership(user=admin, organization=other_org, role=Role.ADMINISTRATOR))
    someone = factories.staff(other_org, Role.EXECUTOR)
    token = csrf_token(client, "/admin/")
    membership = someone.memberships[0]
    response = client.post(f"/admin/memberships/{membership.id}/remove", data={"csrf_token": token})
    assert response.status_code == 404
    assert org.name < other_org.name


def test_cannot_remove_own_last_administrator_role(client, org_admin):
    org, admin = org_admin
    own = admin.memberships[0]
    token = csrf_token(client, f"/admin/staff/{admin.id}")
    response = client.post(f"/admin/memberships/{own.id}/remove", data={"csrf_token": token})
    assert response.status_code == 302
    assert response.location == f"/admin/staff/{admin.id}"
    html = _text(client.get(response.location))
    assert "Нельзя снять с себя роль администратора" in html
    assert _memberships(admin.id, org.id) == {Role.ADMINISTRATOR}
    assert _audit("staff.role_removed") == []


def test_may_step_down_when_another_administrator_remains(client, org_admin):
    org, admin = org_admin
    factories.staff(org, Role.ADMINISTRATOR)
    db.session.add(Membership(user=admin, organization=org, role=Role.EXECUTOR))
    db.session.flush()
    own = next(m for m in admin.memberships if m.role == Role.ADMINISTRATOR)
    token = csrf_token(client, f"/admin/staff/{admin.id}")
    response = client.post(f"/admin/memberships/{own.id}/remove", data={"csrf_token": token})
    assert response.location == "/backoffice/"
    assert _memberships(admin.id, org.id) == {Role.EXECUTOR}
    assert client.get("/admin/").status_code == 404


# --- CSRF ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "data"),
    [
        ("/admin/staff/new", {"identifier": "1000123456", "role": "executor"}),
        ("/backoffice/confirm", {"ready": "y", "training": "y"}),
    ],
)
def test_form_post_without_csrf_token_is_refused(client, url, data):
    org = factories.organization(ready=False)
    login_as(client, factories.staff(org, Role.ADMINISTRATOR))
    factories.user(esia_oid="1000123456")
    response = client.post(url, data=data)
    assert response.status_code == 400
    assert "Форма устарела" in _text(response)
    db.session.expire_all()
    assert db.session.get(Organization, org.id).ready_confirmed_at is None


# --- the home page's sections -------------------------------------------------------------------


def _sections_text(client) -> str:
    html = _text(client.get("/backoffice/"))
    part = html[html.index('id="sections-title"') :]
    part = part[: part.index("</section>")]
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", part))


def _persona(slug: str):
    from participation.core.users import User
    from participation.demo import data

    oid = data.PERSONAS[slug]["esia_oid"]
    return db.session.scalar(sa.select(User).where(User.esia_oid == oid))


def test_home_lists_every_section_the_roles_open_with_what_waits(app, client):
    from sqlalchemy import event

    from participation.demo.seed import seed_demo

    seed_demo()
    login_as(client, _persona("ufa-administrator"))
    text = _sections_text(client)
    for label in (
        "Сообщения жителей",
        "Слушания и обсуждения",
        "Голосования организации",
        "Опросы организации",
        "Сотрудники и роли",
        "Веб-виджет",
    ):
        assert label in text

    # The demo direct line has two questions waiting: the moderators see them counted.
    login_as(client, _persona("pos-moderator"))
    text = _sections_text(client)
    assert "Прямые линии" in text and "2 вопроса ждут модерации" in text
    assert "1 сообщение в папке «Новые»" in text

    login_as(client, _persona("ufa-curator"))
    assert "Контроль сроков и качества" in _sections_text(client)

    # Counting is done in SQL: a bounded number of statements for the whole page.
    statements: list[str] = []

    def count(conn, cursor, statement, *args):
        if not statement.lstrip().upper().startswith(("SAVEPOINT", "RELEASE", "ROLLBACK TO")):
            statements.append(statement)

    login_as(client, _persona("ufa-administrator"))
    event.listen(db.engine, "before_cursor_execute", count)
    try:
        assert client.get("/backoffice/").status_code == 200
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    assert len(statements) <= 12, statements
