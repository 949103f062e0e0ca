"""/oauth/token and /oauth/revoke as an app calls them: the code exchange with PKCE, refresh with
rotation and reuse detection, revocation (RFC 7009), and every bad request → the RFC error code
with a Russian `detail`, nothing issued."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
import time_machine
from authlib.oauth2.rfc8414 import AuthorizationServerMetadata

from participation.api.oauth.models import AppSession, AppToken, RevokeReason
from participation.api.oauth.services import register_app
from participation.core.tokens import token_hash
from participation.extensions import db
from tests.api.conftest import (
    APP_REDIRECT,
    exchange,
    get_code,
    new_pkce,
    refresh,
    userinfo,
)


def _count(model) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def _assert_error(response, status: int, error: str, detail: str | None = None) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)
    body = response.get_json()
    assert body["error"] == error
    assert body["error_description"].isascii()  # RFC 6749 5.2
    assert body["detail"] and not body["detail"].isascii()  # the Russian words
    if detail:
        assert detail in body["detail"], body["detail"]
    assert response.headers["Cache-Control"] == "no-store"
    assert "Set-Cookie" not in response.headers
    return body


@pytest.fixture
def code_and_pkce(app, oauth_app, resident):
    pkce = new_pkce()
    return get_code(app.test_client(), resident, oauth_app, pkce), pkce


# --- the code exchange ------------------------------------------------------------------------


def test_exchange_gives_a_short_access_token_and_a_refresh_token(client, oauth_app, code_and_pkce):
    code, pkce = code_and_pkce
    response = exchange(client, oauth_app, code, pkce.verifier)
    assert response.status_code == 200
    body = response.get_json()
    assert set(body) == {"access_token", "refresh_token", "token_type", "expires_in", "scope"}
    assert body["token_type"] == "Bearer" and body["expires_in"] == 900
    assert body["scope"] == "profile appeals"
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["Pragma"] == "no-cache"
    assert "Set-Cookie" not in response.headers
    token = db.session.scalar(sa.select(AppToken))
    assert token.access_token_hash == token_hash(body["access_token"])
    assert token.refresh_token_hash == token_hash(body["refresh_token"])
    assert (token.access_expires_at - token.issued_at) == timedelta(minutes=15)
    assert (token.refresh_expires_at - token.issued_at) == timedelta(days=30)
    app_session = db.session.scalar(sa.select(AppSession))
    assert app_session.scope == "profile appeals" and app_session.revoked_at is None
    assert userinfo(client, body["access_token"]).status_code == 200


@pytest.mark.parametrize(
    ("overrides", "status", "error", "detail"),
    [
        ({"code_verifier": "x" * 64}, 400, "invalid_grant", "не соответствует code_challenge"),
        ({"code_verifier": None}, 400, "invalid_request", "Не указан code_verifier"),
        ({"code_verifier": "short"}, 400, "invalid_request", "от 43 до 128"),
        ({"code": "not-a-code"}, 400, "invalid_grant", "Код авторизации недействителен"),
        ({"code": None}, 400, "invalid_request", "Не указан code"),
        ({"redirect_uri": APP_REDIRECT}, 400, "invalid_grant", "redirect_uri не совпадает"),
        ({"redirect_uri": None}, 400, "invalid_grant", "redirect_uri не совпадает"),
        ({"client_id": "no-such-app"}, 400, "invalid_client", "не зарегистрировано"),
        ({"client_id": None}, 400, "invalid_client", "Приложение не опознано"),
        ({"client_secret": "guess"}, 400, "invalid_client", "без client_secret"),
        ({"grant_type": "password"}, 400, "unsupported_grant_type", "authorization_code"),
        ({"grant_type": "client_credentials"}, 400, "unsupported_grant_type", None),
        ({"grant_type": None}, 400, "unsupported_grant_type", None),
    ],
)
def test_bad_exchanges_get_the_rfc_error_and_nothing_is_issued(
    client, oauth_app, code_and_pkce, overrides, status, error, detail
):
    code, pkce = code_and_pkce
    response = exchange(client, oauth_app, code, pkce.verifier, **overrides)
    _assert_error(response, status, error, detail)
    assert _count(AppToken) == 0 and _count(AppSession) == 0


def test_a_code_of_another_app_is_refused(client, oauth_app, code_and_pkce):
    other = register_app("Другое приложение", ["http://127.0.0.1/callback"])
    code, pkce = code_and_pkce
    response = exchange(client, other, code, pkce.verifier)
    _assert_error(response, 400, "invalid_grant")
    assert _count(AppToken) == 0


def test_a_failed_exchange_leaves_the_code_usable_by_its_app(client, oauth_app, code_and_pkce):
    code, pkce = code_and_pkce
    assert exchange(client, oauth_app, code, "y" * 64).status_code == 400
    assert exchange(client, oauth_app, code, pkce.verifier).status_code == 200


def test_an_expired_code_is_refused(client, oauth_app, code_and_pkce):
    code, pkce = code_and_pkce
    with time_machine.travel(datetime.now(UTC) + timedelta(seconds=61), tick=False):
        response = exchange(client, oauth_app, code, pkce.verifier)
    _assert_error(response, 400, "invalid_grant", "просрочен")
    assert _count(AppToken) == 0


def test_a_reused_code_is_refused_and_revokes_what_it_gave(client, oauth_app, code_and_pkce):
    code, pkce = code_and_pkce
    first = exchange(client, oauth_app, code, pkce.verifier).get_json()
    again = exchange(client, oauth_app, code, pkce.verifier)
    _assert_error(again, 400, "invalid_grant", "уже использован")
    assert _count(AppToken) == 1  # nothing new
    assert db.session.scalar(sa.select(AppSession.revoked_reason)) == RevokeReason.CODE_REUSE
    assert userinfo(client, first["access_token"]).status_code == 401
    _assert_error(refresh(client, oauth_app, first["refresh_token"]), 400, "invalid_grant")


def test_parameters_in_the_query_string_are_refused(client, oauth_app, code_and_pkce):
    code, pkce = code_and_pkce
    response = client.post(
        f"/oauth/token?code={code}&code_verifier={pkce.verifier}",
        data={"grant_type": "authorization_code", "client_id": oauth_app.client_id},
    )
    _assert_error(response, 400, "invalid_request", "только в теле POST-запроса")
    assert _count(AppToken) == 0


def test_a_json_body_is_not_understood(client, oauth_app, code_and_pkce):
    code, pkce = code_and_pkce
    response = client.post(
        "/oauth/token",
        json={"grant_type": "authorization_code", "code": code, "code_verifier": pkce.verifier},
    )
    _assert_error(response, 400, "unsupported_grant_type")
    assert _count(AppToken) == 0


def test_the_token_endpoint_takes_no_session_cookie_and_no_csrf(app, oauth_app, code_and_pkce):
    code, pkce = code_and_pkce
    fresh = app.test_client()  # an app: no cookie, no CSRF token, just the form
    assert exchange(fresh, oauth_app, code, pkce.verifier).status_code == 200
    assert not list(fresh._cookies)


def test_a_blocked_resident_gets_no_tokens(client, oauth_app, resident, code_and_pkce):
    code, pkce = code_and_pkce
    resident.is_active_account = False
    db.session.flush()
    _assert_error(exchange(client, oauth_app, code, pkce.verifier), 400, "invalid_grant")
    assert _count(AppToken) == 0


# --- refresh: rotation and reuse detection ----------------------------------------------------


def test_refresh_rotates_both_tokens(client, oauth_app, tokens):
    response = refresh(client, oauth_app, tokens["refresh_token"])
    assert response.status_code == 200
    new = response.get_json()
    assert new["refresh_token"] != tokens["refresh_token"]
    assert new["access_token"] != tokens["access_token"]
    assert new["expires_in"] == 900 and new["scope"] == "profile appeals"
    assert userinfo(client, new["access_token"]).status_code == 200
    assert userinfo(client, tokens["access_token"]).status_code == 401  # the old pair is spent
    assert _count(AppSession) == 1 and _count(AppToken) == 2
    # The new refresh token works in turn.
    assert refresh(client, oauth_app, new["refresh_token"]).status_code == 200


def test_a_spent_refresh_token_revokes_the_whole_family(client, oauth_app, tokens):
    new = refresh(client, oauth_app, tokens["refresh_token"]).get_json()
    newer = refresh(client, oauth_app, new["refresh_token"]).get_json()
    reuse = refresh(client, oauth_app, tokens["refresh_token"])  # the first one, again
    _assert_error(reuse, 400, "invalid_grant", "уже был использован")
    assert db.session.scalar(sa.select(AppSession.revoked_reason)) == RevokeReason.REFRESH_REUSE
    assert userinfo(client, newer["access_token"]).status_code == 401
    _assert_error(refresh(client, oauth_app, newer["refresh_token"]), 400, "invalid_grant")
    assert _count(AppToken) == 3  # nothing issued by the refused requests


def test_refresh_may_narrow_the_scope_never_widen_it(client, oauth_app, tokens):
    narrowed = refresh(client, oauth_app, tokens["refresh_token"], scope="profile")
    assert narrowed.status_code == 200 and narrowed.get_json()["scope"] == "profile"
    wider = refresh(client, oauth_app, narrowed.get_json()["refresh_token"], scope="votes")
    _assert_error(wider, 400, "invalid_scope")


def test_refresh_by_another_app_is_refused_and_spends_nothing(client, oauth_app, tokens):
    other = register_app("Другое приложение", ["http://127.0.0.1/callback"])
    response = refresh(client, other, tokens["refresh_token"])
    _assert_error(response, 400, "invalid_grant")
    assert refresh(client, oauth_app, tokens["refresh_token"]).status_code == 200


@pytest.mark.parametrize(
    ("overrides", "error"),
    [
        ({"refresh_token": "nonsense"}, "invalid_grant"),
        ({"refresh_token": None}, "invalid_request"),
        ({"client_id": None}, "invalid_client"),
        ({"scope": "appeals admin"}, "invalid_scope"),
    ],
)
def test_bad_refreshes_are_refused(client, oauth_app, tokens, overrides, error):
    _assert_error(refresh(client, oauth_app, tokens["refresh_token"], **overrides), 400, error)
    assert _count(AppToken) == 1


def test_the_access_token_expires_after_its_minutes(client, oauth_app, tokens):
    with time_machine.travel(datetime.now(UTC) + timedelta(minutes=15, seconds=1), tick=False):
        expired = userinfo(client, tokens["access_token"])
        _assert_error(expired, 401, "invalid_token")
        renewed = refresh(client, oauth_app, tokens["refresh_token"])
        assert renewed.status_code == 200
        assert userinfo(client, renewed.get_json()["access_token"]).status_code == 200


def test_an_unused_refresh_token_runs_out_after_its_days(client, oauth_app, tokens):
    with time_machine.travel(datetime.now(UTC) + timedelta(days=30, seconds=1), tick=False):
        response = refresh(client, oauth_app, tokens["refresh_token"])
    _assert_error(response, 400, "invalid_grant")
    assert db.session.scalar(sa.select(AppSession.revoked_at)) is None  # expiry, not reuse


# --- RFC 7009 revocation -----------------------------------------------------------------------


@pytest.mark.parametrize("which", ["refresh_token", "access_token"])
def test_revoking_either_token_ends_the_app_session(client, oauth_app, tokens, which):
    response = client.post(
        "/oauth/revoke",
        data={"token": tokens[which], "token_type_hint": which, "client_id": oauth_app.client_id},
    )
    assert response.status_code == 200 and "Set-Cookie" not in response.headers
    assert db.session.scalar(sa.select(AppSession.revoked_reason)) == RevokeReason.CLIENT
    assert userinfo(client, tokens["access_token"]).status_code == 401
    _assert_error(refresh(client, oauth_app, tokens["refresh_token"]), 400, "invalid_grant")


def test_revoking_an_unknown_token_or_with_an_odd_hint_is_fine(client, oauth_app, tokens):
    for data in (
        {"token": "unknown", "client_id": oauth_app.client_id},
        {"token": "unknown", "token_type_hint": "id_token", "client_id": oauth_app.client_id},
    ):
        assert client.post("/oauth/revoke", data=data).status_code == 200
    assert db.session.scalar(sa.select(AppSession.revoked_at)) is None


def test_bad_revocations_are_refused(client, oauth_app, tokens):
    other = register_app("Другое приложение", ["http://127.0.0.1/callback"])
    foreign = client.post(
        "/oauth/revoke", data={"token": tokens["refresh_token"], "client_id": other.client_id}
    )
    _assert_error(foreign, 400, "invalid_grant")
    missing = client.post("/oauth/revoke", data={"client_id": oauth_app.client_id})
    _assert_error(missing, 400, "invalid_request", "Не указан token")
    anonymous = client.post("/oauth/revoke", data={"token": tokens["refresh_token"]})
    _assert_error(anonymous, 400, "invalid_client")
    in_query = client.post(
        f"/oauth/revoke?token={tokens['refresh_token']}", data={"client_id": oauth_app.client_id}
    )
    _assert_error(in_query, 400, "invalid_request")
    assert db.session.scalar(sa.select(AppSession.revoked_at)) is None


# --- the resource side --------------------------------------------------------------------------


def test_userinfo_wants_the_header_and_the_profile_scope(app, client, oauth_app, resident):
    missing = client.get("/oauth/userinfo")
    _assert_error(missing, 401, "missing_authorization")
    assert missing.headers["WWW-Authenticate"].lower().startswith("bearer ")
    pkce = new_pkce()
    code = get_code(app.test_client(), resident, oauth_app, pkce, scope="appeals")
    narrow = exchange(client, oauth_app, code, pkce.verifier).get_json()
    _assert_error(userinfo(client, narrow["access_token"]), 403, "insufficient_scope")
    in_query = client.get(f"/oauth/userinfo?access_token={narrow['access_token']}")
    _assert_error(in_query, 400, "invalid_request", "в адресе запроса не принимается")
    _assert_error(userinfo(client, "made-up"), 401, "invalid_token")
    basic = client.get("/oauth/userinfo", headers={"Authorization": "Basic YTpi"})
    _assert_error(basic, 401, "unsupported_token_type")


def test_a_blocked_resident_token_stops_working(client, resident, tokens):
    resident.is_active_account = False
    db.session.flush()
    _assert_error(userinfo(client, tokens["access_token"]), 401, "invalid_token")


# --- the rate limit -----------------------------------------------------------------------------


def test_the_token_endpoint_is_rate_limited(app, client, oauth_app, monkeypatch):
    monkeypatch.setitem(app.config, "OAUTH_TOKEN_RATE_LIMIT", "2 per minute")
    for _ in range(2):
        assert refresh(client, oauth_app, "nonsense").status_code == 400
    limited = refresh(client, oauth_app, "nonsense")
    body = _assert_error(limited, 429, "temporarily_unavailable", "Слишком много запросов")
    assert body["error_description"] == "Too many requests."
    assert int(limited.headers["Retry-After"]) > 0


def test_userinfo_sets_no_cookie(client, tokens):
    response = userinfo(client, tokens["access_token"])
    assert response.status_code == 200 and "Set-Cookie" not in response.headers
    assert response.headers["Cache-Control"] == "no-store"


def test_server_metadata_is_valid_rfc_8414(client):
    response = client.get("/.well-known/oauth-authorization-server")
    assert response.status_code == 200
    metadata = AuthorizationServerMetadata(response.get_json())
    metadata.validate()
    assert metadata["code_challenge_methods_supported"] == ["S256"]
    assert metadata["token_endpoint_auth_methods_supported"] == ["none"]
    assert metadata["token_endpoint"] == "http://localhost/oauth/token"
