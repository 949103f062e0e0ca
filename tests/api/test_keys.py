"""Organization API keys: issued in the cabinet (shown once, hashed), revoked, expiring,
scoped, acting as a technical member; their creation, revocation and use are audited."""

from __future__ import annotations

import re
from datetime import timedelta

import sqlalchemy as sa
import time_machine

from participation.api import services
from participation.api.models import ApiKey, ApiScope
from participation.core.audit import AuditEntry
from participation.core.db import utcnow
from participation.core.users import Role, User, UserKind
from participation.extensions import db
from tests import factories as f
from tests.api.conftest import bearer, issue
from tests.api.openapi_check import check_problem
from tests.helpers import csrf_token, login_as

TOKEN = re.compile(r'value="(rvk_[0-9a-f]{8}_[A-Za-z0-9_-]+)"')


def create_in_cabinet(client, org, **fields):
    login_as(client, org.admin)
    form = {
        "csrf_token": csrf_token(client, "/admin/api-keys/new"),
        "name": "СЭД «Дело»",
        "scopes": ["messages:read", "messages:write"],
        "expires_on": (services.today() + timedelta(days=90)).isoformat(),
    }
    form.update(fields)
    return client.post("/admin/api-keys/new", data=form)


def actions(action: str) -> list[AuditEntry]:
    return list(db.session.scalars(sa.select(AuditEntry).where(AuditEntry.action == action)))


def test_the_administrator_creates_a_key_and_sees_it_once(client, org):
    response = create_in_cabinet(client, org)
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    html = response.get_data(as_text=True)
    assert "показывается только один раз" in html
    token = TOKEN.search(html).group(1)

    key = db.session.scalar(sa.select(ApiKey))
    assert key.name == "СЭД «Дело»"
    assert key.secret_hash == services.hash_token(token) and token not in key.secret_hash
    assert token.startswith(key.prefix + "_")
    assert key.created_by_id == org.admin.id
    assert key.scope_set == {ApiScope.MESSAGES_READ, ApiScope.MESSAGES_WRITE}
    row = db.session.execute(sa.select(ApiKey.__table__)).one()
    assert all(token not in str(value) for value in row)  # only the hash is stored

    listing = client.get("/admin/api-keys/").get_data(as_text=True)
    assert key.prefix in listing and token not in listing
    assert "действует" in listing
    [created] = actions("api_key.created")
    assert (created.actor_id, created.details["scopes"]) == (
        org.admin.id,
        ["messages:read", "messages:write"],
    )

    me = client.get("/api/v1/me", headers=bearer(token))
    assert me.status_code == 200
    assert me.get_json()["organization"]["id"] == org.organization.id


def test_the_key_is_a_technical_member_with_the_roles_its_scopes_allow(client, org):
    key, token = issue(org, ApiScope.MESSAGES_READ, ApiScope.MESSAGES_WRITE)
    member = db.session.get(User, key.user_id)
    assert member.kind == UserKind.TECHNICAL and member.esia_oid is None
    # messages:write includes Оператор приёма: Open311 POST files callers' messages, and the
    # СЭД's letters are filed on the operator channel.
    assert member.roles_in(org.organization.id) == {
        Role.CURATOR,
        Role.COORDINATOR,
        Role.EXECUTOR,
        Role.OPERATOR,
    }
    card = client.get("/api/v1/me", headers=bearer(token)).get_json()
    assert card["member"] == {
        "id": member.id,
        "name": "API-ключ СЭД Дело",
        "roles": ["coordinator", "curator", "executor", "operator"],
    }
    assert card["key"]["scopes"] == ["messages:read", "messages:write"]

    stats_key, _token = issue(org, ApiScope.STATISTICS_READ, name="Статистика")
    assert db.session.get(User, stats_key.user_id).roles_in(org.organization.id) == {Role.CURATOR}


def test_the_technical_member_is_not_in_the_staff_list_and_cannot_use_a_cookie(client, org):
    key, _token = issue(org)
    login_as(client, org.admin)
    staff = client.get("/admin/").get_data(as_text=True)
    assert "API-ключ СЭД Дело" not in staff and "Админов" in staff
    assert client.get(f"/admin/staff/{key.user_id}").status_code == 404

    other = client.application.test_client()
    login_as(other, key.user)
    assert other.get("/backoffice/").status_code == 302  # sent to the login page


def test_bad_input_is_explained_next_to_the_field_and_nothing_is_saved(client, org):
    users_before = db.session.scalar(sa.select(sa.func.count()).select_from(User))
    cases = [
        ({"name": "  "}, "Укажите название ключа"),
        ({"name": "x" * 101}, "Не длиннее 100 символов"),
        ({"scopes": []}, "Отметьте хотя бы одну область доступа"),
        ({"scopes": ["messages:delete"]}, "Неизвестная область доступа"),
        ({"expires_on": "2001-01-01"}, "не может быть в прошлом"),
        (
            {"expires_on": (services.today() + timedelta(days=1200)).isoformat()},
            "не больше чем на 3 года",
        ),
        ({"expires_on": "завтра"}, "Введите дату"),
    ]
    for fields, message in cases:
        response = create_in_cabinet(client, org, **fields)
        assert response.status_code == 400, fields
        html = response.get_data(as_text=True)
        assert message in html, fields
        assert 'class="error-text"' in html
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ApiKey)) == 0
    assert db.session.scalar(sa.select(sa.func.count()).select_from(User)) == users_before


def test_two_live_keys_cannot_share_a_name(client, org):
    issue(org, name="СЭД Дело")
    response = create_in_cabinet(client, org, name="сэд  дело")
    assert response.status_code == 400
    assert "Действующий ключ с таким названием уже есть" in response.get_data(as_text=True)


def test_the_form_needs_its_csrf_token(client, org):
    response = create_in_cabinet(client, org, csrf_token="forged")
    assert response.status_code == 400
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ApiKey)) == 0


def test_only_the_administrator_opens_the_pages_and_the_cabinet_line(client, org):
    coordinator = f.staff(org.organization, Role.COORDINATOR)
    db.session.commit()
    login_as(client, coordinator)
    assert client.get("/admin/api-keys/").status_code == 404
    assert client.get("/admin/api-keys/new").status_code == 404
    assert "API-ключи" not in client.get("/backoffice/").get_data(as_text=True)
    login_as(client, org.admin)
    home = client.get("/backoffice/").get_data(as_text=True)
    assert "API-ключи" in home and "/admin/api-keys/" in home
    page = client.get("/admin/api-keys/new").get_data(as_text=True)
    for label in ("Название ключа", "Области доступа", "Действует по"):
        assert label in page
    assert '<label for="expires_on">' in page and "<legend>" in page


def test_revoking_stops_the_key_with_its_own_problem(client, org):
    key, token = issue(org)
    login_as(client, org.admin)
    response = client.post(
        f"/admin/api-keys/{key.id}/revoke",
        data={"csrf_token": csrf_token(client, "/admin/api-keys/")},
    )
    assert response.status_code == 302
    db.session.refresh(key)
    assert key.revoked_at is not None and key.revoked_by_id == org.admin.id
    assert not db.session.get(User, key.user_id).is_active
    assert actions("api_key.revoked")[0].actor_id == org.admin.id

    refused = client.get("/api/v1/me", headers=bearer(token))
    body = check_problem(refused)
    assert (body["status"], body["title"], body["detail"]) == (401, "Ключ отозван", "Ключ отозван.")
    assert 'error="invalid_token"' in refused.headers["WWW-Authenticate"]
    assert "отозван" in client.get("/admin/api-keys/").get_data(as_text=True)


def test_another_organizations_administrator_cannot_revoke(client, org):
    key, token = issue(org)
    stranger_org = f.organization()
    stranger = f.staff(stranger_org, Role.ADMINISTRATOR)
    db.session.commit()
    login_as(client, stranger)
    response = client.post(
        f"/admin/api-keys/{key.id}/revoke",
        data={"csrf_token": csrf_token(client, "/admin/api-keys/")},
    )
    assert response.status_code == 404
    db.session.refresh(key)
    assert key.revoked_at is None
    assert client.get("/api/v1/me", headers=bearer(token)).status_code == 200


def test_an_expired_key_gets_its_own_problem(client, org):
    _key, token = issue(org, days=0)  # valid through today
    assert client.get("/api/v1/me", headers=bearer(token)).status_code == 200
    with time_machine.travel(utcnow() + timedelta(days=2), tick=False):
        body = check_problem(client.get("/api/v1/me", headers=bearer(token)))
    assert (body["status"], body["detail"]) == (401, "Срок действия ключа истёк.")
    assert body["type"].endswith("#problem-key-expired")


def test_an_unknown_token_is_401(client, org):
    issue(org)
    body = check_problem(client.get("/api/v1/me", headers=bearer("rvk_00000000_nope")))
    assert (body["status"], body["title"]) == (401, "Неверный токен")


def test_authenticate_api_key(org):
    key, token = issue(org)
    assert services.authenticate_api_key(token) == key
    assert services.authenticate_api_key(token + "x") is None
    assert services.authenticate_api_key("not a key") is None
    with time_machine.travel(key.expires_at + timedelta(seconds=1), tick=False):
        assert services.authenticate_api_key(token) is None
    services.revoke_api_key(key, org.admin)
    assert services.authenticate_api_key(token) is None
    assert services.find_api_key(token) == key


def test_use_stamps_last_used_and_audits_at_most_hourly(client, org):
    key, token = issue(org)
    assert key.last_used_at is None
    start = utcnow()
    with time_machine.travel(start, tick=False):
        for _ in range(3):
            assert client.get("/api/v1/me", headers=bearer(token)).status_code == 200
    db.session.refresh(key)
    assert key.last_used_at == start.replace(microsecond=key.last_used_at.microsecond)
    assert len(actions("api_key.used")) == 1
    with time_machine.travel(start + timedelta(minutes=30), tick=False):
        client.get("/api/v1/me", headers=bearer(token))
    db.session.refresh(key)
    assert key.last_used_at > start and len(actions("api_key.used")) == 1
    with time_machine.travel(start + timedelta(minutes=61), tick=False):
        client.get("/api/v1/me", headers=bearer(token))
    used = actions("api_key.used")
    assert len(used) == 2 and used[0].actor_id == key.user_id
    listing_client = client.application.test_client()
    login_as(listing_client, org.admin)
    assert "не использовался" not in listing_client.get("/admin/api-keys/").get_data(as_text=True)


def test_the_cli_lists_live_keys_only(app, org):
    live, _token = issue(org, name="Живой")
    gone, _token = issue(org, name="Отозванный")
    services.revoke_api_key(gone, org.admin)
    db.session.commit()
    output = app.test_cli_runner().invoke(args=["api", "keys"]).output
    assert live.prefix in output and "Живой" in output
    assert gone.prefix not in output
