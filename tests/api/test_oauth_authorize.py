"""/oauth/authorize: the ESIA login on the way, the consent page, and every refusal — shown to the
resident when the app cannot be trusted with a redirect, sent to the app (with its state) when
it can (RFC 6749 4.1.2.1); no code is ever issued on a refusal."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
import sqlalchemy as sa

from participation.api.oauth.models import AuthorizationCode
from participation.core.audit import AuditEntry
from participation.core.organizations import OrganizationKind
from participation.core.users import Role, User
from participation.extensions import db
from tests import factories as f
from tests.api.conftest import (
    APP_REDIRECT,
    CSRF,
    REDIRECT,
    authorize_query,
    consent,
    new_pkce,
    query_of,
)
from tests.helpers import login_as


def _codes() -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(AuthorizationCode))


def test_anonymous_resident_is_sent_to_the_esia_login_and_back(client, oauth_app):
    query = authorize_query(oauth_app)
    response = client.get(f"/oauth/authorize?{query}")
    assert response.status_code == 302
    location = urlsplit(response.headers["Location"])
    assert location.path == "/login"
    assert parse_qs(location.query)["next"] == [f"/oauth/authorize?{query}"]


def test_consent_page_names_the_app_the_scopes_and_the_device(client, oauth_app, resident):
    login_as(client, resident)
    query = authorize_query(oauth_app, scope="appeals votes", device_name="iPhone Марии\x07")
    page = client.get(f"/oauth/authorize?{query}").get_data(as_text=True)
    assert "Приложение «Решаем вместе — тест» запрашивает доступ к вашему кабинету" in page
    assert "Вы вошли как Иванова Мария Петровна" in page
    assert "отправлять сообщения о проблемах" in page and "голосовать" in page
    assert "данные из профиля" not in page  # profile was not asked for
    assert "Устройство: iPhone Марии" in page and "\x07" not in page
    assert "Разрешить" in page and "Отказать" in page
    assert _codes() == 0


def test_allow_issues_a_short_single_use_code_bound_to_the_request(
    client, app, oauth_app, resident
):
    pkce = new_pkce()
    response = consent(client, resident, authorize_query(oauth_app, pkce, device_name="Pixel"))
    assert response.status_code == 302
    params = query_of(response.headers["Location"])
    assert response.headers["Location"].startswith(f"{REDIRECT}?")
    assert params["state"] == "state-123" and len(params["code"]) >= 43
    code = db.session.scalar(sa.select(AuthorizationCode))
    assert code.code_hash != params["code"]  # only the hash is stored
    assert code.code_challenge == pkce.challenge and code.code_challenge_method == "S256"
    assert code.redirect_uri == REDIRECT and code.scope == "profile appeals"
    assert code.device_name == "Pixel" and code.used_at is None
    lifetime = (code.expires_at - code.issued_at).total_seconds()
    assert lifetime == app.config["OAUTH_CODE_SECONDS"] == 60
    entry = db.session.scalar(sa.select(AuditEntry).where(AuditEntry.action == "oauth.authorized"))
    assert entry.actor_id == resident.id and entry.details["scope"] == "profile appeals"


def test_deny_sends_access_denied_to_the_app_and_issues_nothing(client, oauth_app, resident):
    response = consent(client, resident, authorize_query(oauth_app), decision="deny")
    assert response.status_code == 302
    assert query_of(response.headers["Location"]) == {
        "error": "access_denied",
        "error_description": "The resource owner or authorization server denied the request",
        "state": "state-123",
    }
    assert _codes() == 0
    actions = db.session.scalars(sa.select(AuditEntry.action)).all()
    assert "oauth.denied" in actions and "oauth.authorized" not in actions


def test_consent_without_csrf_token_is_refused(client, oauth_app, resident):
    login_as(client, resident)
    query = authorize_query(oauth_app)
    response = client.post(f"/oauth/authorize?{query}", data={"allow": "1"})
    assert response.status_code == 400
    assert "Форма устарела" in response.get_data(as_text=True)
    assert _codes() == 0


def test_no_button_pressed_shows_the_page_again(client, oauth_app, resident):
    login_as(client, resident)
    query = authorize_query(oauth_app)
    token = CSRF.search(client.get(f"/oauth/authorize?{query}").get_data(as_text=True)).group(1)
    response = client.post(f"/oauth/authorize?{query}", data={"csrf_token": token})
    assert response.status_code == 200 and _codes() == 0


def test_the_app_custom_scheme_and_any_loopback_port_are_accepted(client, oauth_app, resident):
    for redirect in (APP_REDIRECT, "http://127.0.0.1:51234/callback"):
        response = consent(client, resident, authorize_query(oauth_app, redirect_uri=redirect))
        assert response.status_code == 302
        assert response.headers["Location"].startswith(f"{redirect}?code=")


def test_a_staff_member_is_a_resident_too(client, oauth_app):
    org = f.organization(OrganizationKind.MUNICIPAL)
    official = f.staff(org, Role.COORDINATOR)
    response = consent(client, official, authorize_query(oauth_app))
    assert response.status_code == 302 and "code=" in response.headers["Location"]


def test_a_technical_user_without_esia_account_may_not_authorise(client, oauth_app):
    robot = User(last_name="Ключ", first_name="API", esia_oid=None)
    db.session.add(robot)
    db.session.flush()
    login_as(client, robot)
    response = client.get(f"/oauth/authorize?{authorize_query(oauth_app)}")
    assert response.status_code == 403
    assert _codes() == 0


# --- refusals the resident sees (no trusted redirect) ------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "words"),
    [
        ({"client_id": "no-such-app"}, "Приложение с таким client_id не зарегистрировано"),
        ({"client_id": None}, "Не указан client_id"),
        ({"redirect_uri": "https://evil.example/cb"}, "не зарегистрирован для приложения"),
        ({"redirect_uri": f"{REDIRECT}/more"}, "не зарегистрирован для приложения"),
        ({"redirect_uri": "http://localhost/callback"}, "не зарегистрирован для приложения"),
        ({"redirect_uri": "http://127.0.0.1:8000/callback?x=1"}, "не зарегистрирован"),
        ({"redirect_uri": None}, "Не указан redirect_uri"),
    ],
)
def test_untrusted_requests_are_shown_to_the_resident_not_redirected(
    client, oauth_app, resident, overrides, words
):
    login_as(client, resident)
    response = client.get(f"/oauth/authorize?{authorize_query(oauth_app, **overrides)}")
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "Приложение не может войти" in page and words in page
    assert "Location" not in response.headers
    assert _codes() == 0


def test_a_disabled_app_is_unknown(client, oauth_app, resident):
    oauth_app.is_active = False
    db.session.flush()
    login_as(client, resident)
    response = client.get(f"/oauth/authorize?{authorize_query(oauth_app)}")
    assert response.status_code == 400


# --- refusals sent back to the app (the client and its redirect URI are known) ------------------


@pytest.mark.parametrize(
    ("overrides", "error"),
    [
        ({"code_challenge_method": "plain"}, "invalid_request"),
        ({"code_challenge_method": None}, "invalid_request"),  # RFC 7636: defaults to plain
        ({"code_challenge_method": "S512"}, "invalid_request"),
        ({"code_challenge": None, "code_challenge_method": None}, "invalid_request"),
        ({"code_challenge": "short"}, "invalid_request"),
        ({"state": None}, "invalid_request"),
        ({"state": "s" * 501}, "invalid_request"),
        ({"scope": "appeals admin"}, "invalid_scope"),
        ({"response_type": "token"}, "unsupported_response_type"),
    ],
)
def test_bad_requests_of_a_known_app_go_back_to_it_with_the_rfc_error(
    client, oauth_app, resident, overrides, error
):
    login_as(client, resident)
    response = client.get(f"/oauth/authorize?{authorize_query(oauth_app, **overrides)}")
    assert response.status_code == 302
    assert response.headers["Location"].startswith(f"{REDIRECT}?")
    params = query_of(response.headers["Location"])
    assert params["error"] == error
    assert "code" not in params
    if overrides.get("state", "state-123") == "state-123":
        assert params["state"] == "state-123"
    assert _codes() == 0


def test_plain_pkce_is_refused_even_when_the_consent_form_is_forged(client, oauth_app, resident):
    login_as(client, resident)
    good = authorize_query(oauth_app)
    token = CSRF.search(client.get(f"/oauth/authorize?{good}").get_data(as_text=True)).group(1)
    bad = authorize_query(oauth_app, code_challenge_method="plain")
    response = client.post(f"/oauth/authorize?{bad}", data={"csrf_token": token, "allow": "1"})
    assert response.status_code == 302
    assert query_of(response.headers["Location"])["error"] == "invalid_request"
    assert _codes() == 0


def test_repeated_parameters_are_refused(client, oauth_app, resident):
    login_as(client, resident)
    query = authorize_query(oauth_app) + f"&redirect_uri={APP_REDIRECT}"
    response = client.get(f"/oauth/authorize?{query}")
    assert response.status_code == 400
    assert "Параметр redirect_uri указан несколько раз" in response.get_data(as_text=True)
    assert _codes() == 0
