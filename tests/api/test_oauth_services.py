"""The interface other parts of the API call (resolve_access_token, resident_for_access_token),
registering apps (service, CLI, demo seed), redirect URI rules, settings and housekeeping."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
import time_machine

from participation.api.oauth.demo import DEMO_CLIENT_ID, seed_oauth_demo
from participation.api.oauth.models import (
    AppSession,
    AppToken,
    AuthorizationCode,
    OAuthClient,
    RevokeReason,
    redirect_uri_matches,
    redirect_uri_problem,
)
from participation.api.oauth.services import (
    AccessGrant,
    purge_expired,
    register_app,
    resident_for_access_token,
    resolve_access_token,
    revoke_app_session,
)
from participation.config import ConfigError, load_config
from participation.core.errors import FieldError
from participation.extensions import db
from tests.api.conftest import refresh


def test_resolve_access_token_gives_the_resident_and_the_scopes(oauth_app, resident, tokens):
    grant = resolve_access_token(tokens["access_token"])
    assert isinstance(grant, AccessGrant)
    assert grant.user.id == resident.id
    assert grant.scopes == frozenset({"appeals", "profile"})
    assert grant.has_scope("appeals") and not grant.has_scope("votes")
    assert grant.client_id == oauth_app.client_id and grant.client_name == oauth_app.name
    assert grant.app_session_id == db.session.scalar(sa.select(AppSession.id))
    assert resident_for_access_token(tokens["access_token"]).id == resident.id


@pytest.mark.parametrize("raw", [None, "", "nonsense", "x" * 500])
def test_resolve_access_token_refuses_what_is_not_a_token(raw, tokens):
    assert resolve_access_token(raw) is None
    assert resident_for_access_token(raw) is None


def test_resolve_access_token_refuses_a_refresh_token(tokens):
    assert resolve_access_token(tokens["refresh_token"]) is None


def test_resolve_access_token_refuses_revoked_expired_spent_and_blocked(
    client, oauth_app, resident, tokens
):
    now = datetime.now(UTC)
    with time_machine.travel(now + timedelta(minutes=16), tick=False):
        assert resolve_access_token(tokens["access_token"]) is None
    new = refresh(client, oauth_app, tokens["refresh_token"]).get_json()
    assert resolve_access_token(tokens["access_token"]) is None  # spent by the refresh
    assert resolve_access_token(new["access_token"]) is not None
    resident.is_active_account = False
    db.session.flush()
    assert resolve_access_token(new["access_token"]) is None
    resident.is_active_account = True
    oauth_app.is_active = False
    db.session.flush()
    assert resolve_access_token(new["access_token"]) is None
    oauth_app.is_active = True
    revoke_app_session(db.session.scalar(sa.select(AppSession)), RevokeReason.RESIDENT)
    assert resolve_access_token(new["access_token"]) is None


def test_last_used_is_stamped_at_most_once_a_minute(tokens):
    app_session = db.session.scalar(sa.select(AppSession))
    first_use = app_session.last_used_at
    later = datetime.now(UTC) + timedelta(minutes=5)
    with time_machine.travel(later, tick=False):
        resolve_access_token(tokens["access_token"])
        db.session.expire_all()
        stamped = db.session.scalar(sa.select(AppSession.last_used_at))
        assert stamped > first_use
    with time_machine.travel(later + timedelta(seconds=30), tick=False):
        resolve_access_token(tokens["access_token"])
        db.session.expire_all()
        assert db.session.scalar(sa.select(AppSession.last_used_at)) == stamped


def test_the_grant_answers_authlib_questions(tokens):
    grant = resolve_access_token(tokens["access_token"])
    assert grant.get_scope() == "profile appeals"
    assert not grant.is_expired() and not grant.is_revoked()


# --- redirect URIs -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "uri",
    [
        "ru.participation.app:/oauth",
        "ru.participation.app://oauth/callback",
        "https://app.example.ru/oauth/callback",
        "http://127.0.0.1/callback",
        "http://127.0.0.1:8765/callback",
        "http://[::1]/callback",
    ],
)
def test_acceptable_redirect_uris(uri):
    assert redirect_uri_problem(uri) is None


@pytest.mark.parametrize(
    ("uri", "words"),
    [
        ("", "пуст"),
        ("http://example.com/cb", "только для 127.0.0.1"),
        ("http://localhost/cb", "только для 127.0.0.1"),
        ("http://127.0.0.2/cb", "только для 127.0.0.1"),
        ("https://app.example.ru/cb#frag", "фрагмент"),
        ("javascript:alert(1)", "собственная схема"),
        ("myapp:/oauth", "собственная схема"),
        ("https:///nohost", "имени сервера"),
        ("ru.app:/a b", "пробелы"),
        ("http://127.0.0.1:99999/cb", "не разбирается"),
        ("https://x.ru/" + "a" * 500, "слишком длинный"),
    ],
)
def test_unacceptable_redirect_uris(uri, words):
    assert words in redirect_uri_problem(uri)


def test_redirect_matching_is_exact_except_the_loopback_port():
    registered = ["ru.participation.app:/oauth", "http://127.0.0.1/callback", "http://[::1]/cb"]
    assert redirect_uri_matches(registered, "ru.participation.app:/oauth")
    assert redirect_uri_matches(registered, "http://127.0.0.1:5555/callback")
    assert redirect_uri_matches(registered, "http://[::1]:5555/cb")
    for uri in (
        "ru.participation.app:/oauth/",
        "RU.participation.app:/oauth",
        "http://127.0.0.1:5555/callback/",
        "http://127.0.0.1:5555/callback?x=1",
        "http://localhost:5555/callback",
        "https://127.0.0.1/callback",
    ):
        assert not redirect_uri_matches(registered, uri), uri
    assert not redirect_uri_matches(
        ["http://127.0.0.1:8000/callback"], "http://127.0.0.1:9/callback"
    )


# --- registering apps --------------------------------------------------------------------------


def test_register_app_refuses_bad_input(db_session):
    with pytest.raises(FieldError, match="название"):
        register_app("  ", ["ru.app.x:/oauth"])
    with pytest.raises(FieldError, match="хотя бы один"):
        register_app("Приложение", [])
    with pytest.raises(FieldError, match=r"только для 127\.0\.0\.1"):
        register_app("Приложение", ["http://evil.example/cb"])
    with pytest.raises(FieldError, match="Неизвестные области доступа: admin"):
        register_app("Приложение", ["ru.app.x:/oauth"], scopes=["admin"])
    register_app("Приложение", ["ru.app.x:/oauth"], client_id="fixed-id")
    with pytest.raises(FieldError, match="уже есть"):
        register_app("Приложение", ["ru.app.x:/oauth"], client_id="fixed-id")
    with pytest.raises(FieldError, match="латинские буквы"):
        register_app("Приложение", ["ru.app.x:/oauth"], client_id="имя")
    assert db.session.scalar(sa.select(sa.func.count()).select_from(OAuthClient)) == 1


def test_cli_registers_an_app_and_lists_it(app, db_session):
    runner = app.test_cli_runner()
    result = runner.invoke(
        args=[
            "api", "register-app", "Мобильное приложение",
            "--redirect-uri", "ru.participation.app:/oauth",
            "--redirect-uri", "http://127.0.0.1/callback",
            "--scope", "appeals", "--scope", "profile",
        ]
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    client = db.session.scalar(sa.select(OAuthClient))
    assert f"client_id: {client.client_id}" in result.output
    assert client.name == "Мобильное приложение" and client.scope == "profile appeals"
    assert client.redirect_uris == ["ru.participation.app:/oauth", "http://127.0.0.1/callback"]
    listed = runner.invoke(args=["api", "list-apps"])
    assert client.client_id in listed.output and "Мобильное приложение" in listed.output


def test_cli_refuses_a_bad_redirect_uri(app, db_session):
    result = app.test_cli_runner().invoke(
        args=["api", "register-app", "X", "--redirect-uri", "http://example.com/cb"]
    )
    assert result.exit_code != 0 and "только для 127.0.0.1" in result.output
    assert db.session.scalar(sa.select(sa.func.count()).select_from(OAuthClient)) == 0


def test_demo_seed_registers_the_demo_app_once(db_session):
    seed_oauth_demo()
    seed_oauth_demo()
    apps = db.session.scalars(sa.select(OAuthClient)).all()
    assert [a.client_id for a in apps] == [DEMO_CLIENT_ID]
    assert "ru.participation.app:/oauth" in apps[0].redirect_uris


# --- settings and housekeeping ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("env", "words"),
    [
        ({"OAUTH_ACCESS_TOKEN_MINUTES": "90"}, "не больше 60 минут"),
        ({"OAUTH_CODE_SECONDS": "3600"}, "не больше 600 секунд"),
        ({"OAUTH_REFRESH_TOKEN_DAYS": "0"}, "больше нуля"),
        ({"OAUTH_TOKEN_RATE_LIMIT": "often"}, "30 per minute"),
    ],
)
def test_oauth_settings_are_checked(tmp_path, env, words):
    with pytest.raises(ConfigError, match=words):
        load_config(env, tmp_path)


def test_oauth_settings_defaults(tmp_path):
    config = load_config({}, tmp_path)
    assert config["OAUTH_ACCESS_TOKEN_MINUTES"] == 15
    assert config["OAUTH_REFRESH_TOKEN_DAYS"] == 30
    assert config["OAUTH_CODE_SECONDS"] == 60
    assert config["OAUTH_TOKEN_RATE_LIMIT"] == "30 per minute"


def test_purge_removes_only_long_dead_codes_and_tokens(tokens):
    assert purge_expired() == {"codes": 0, "tokens": 0}
    later = datetime.now(UTC) + timedelta(days=32)
    assert purge_expired(later) == {"codes": 1, "tokens": 1}
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AppSession)) == 1
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AuthorizationCode)) == 0
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AppToken)) == 0
