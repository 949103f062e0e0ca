"""API tests: the validating client, an organization with its administrator, issued keys, and
the OAuth helpers (a registered app, PKCE pairs, the flow driven through the test client; the
real-HTTP flow through the ESIA emulator lives in test_oauth_http.py)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from authlib.common.security import generate_token
from authlib.oauth2.rfc7636 import create_s256_code_challenge

from participation.api import services
from participation.api.models import ApiKey, ApiScope
from participation.api.oauth.services import register_app
from participation.core.users import Role, User
from participation.extensions import db
from tests import factories as f
from tests.api.openapi_check import ValidatingClient
from tests.helpers import login_as

REDIRECT = "http://127.0.0.1/callback"
APP_REDIRECT = "ru.participation.app:/oauth"
CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


@dataclass
class Pkce:
    verifier: str
    challenge: str


def new_pkce() -> Pkce:
    verifier = generate_token(64)
    return Pkce(verifier, create_s256_code_challenge(verifier))


@pytest.fixture
def oauth_app(db_session):
    return register_app("Решаем вместе — тест", [REDIRECT, APP_REDIRECT])


@pytest.fixture
def resident(db_session):
    return f.user(last_name="Иванова", first_name="Мария", middle_name="Петровна")


def authorize_query(oauth_app, pkce: Pkce | None = None, **overrides) -> str:
    """The query string an app sends to /oauth/authorize (None values are left out)."""
    params = {
        "response_type": "code",
        "client_id": oauth_app.client_id,
        "redirect_uri": REDIRECT,
        "scope": "appeals profile",
        "state": "state-123",
        "code_challenge": (pkce or new_pkce()).challenge,
        "code_challenge_method": "S256",
    }
    params.update(overrides)
    return urlencode({k: v for k, v in params.items() if v is not None})


def query_of(location: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


def consent(client, user, query: str, decision: str = "allow"):
    """Log `user` in, open the consent page and press a button; the response (a 302)."""
    login_as(client, user)
    page = client.get(f"/oauth/authorize?{query}")
    assert page.status_code == 200, page.get_data(as_text=True)
    token = CSRF.search(page.get_data(as_text=True)).group(1)
    return client.post(f"/oauth/authorize?{query}", data={"csrf_token": token, decision: "1"})


def get_code(client, user, oauth_app, pkce: Pkce, **overrides) -> str:
    response = consent(client, user, authorize_query(oauth_app, pkce, **overrides))
    assert response.status_code == 302, response.get_data(as_text=True)
    params = query_of(response.headers["Location"])
    assert params["state"] == overrides.get("state", "state-123")
    return params["code"]


def exchange(client, oauth_app, code: str, verifier: str, /, **overrides):
    """POST the code to /oauth/token from an app (a fresh client: no cookies)."""
    data = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": REDIRECT,
        "client_id": oauth_app.client_id,
        "code_verifier": verifier,
    }
    data.update(overrides)
    return client.post("/oauth/token", data={k: v for k, v in data.items() if v is not None})


def refresh(client, oauth_app, refresh_token: str, /, **overrides):
    data = {
        "grant_type": "refresh_token",
        "refresh_token": refresh_token,
        "client_id": oauth_app.client_id,
    }
    data.update(overrides)
    return client.post("/oauth/token", data={k: v for k, v in data.items() if v is not None})


def userinfo(client, access_token: str):
    return client.get("/oauth/userinfo", headers={"Authorization": f"Bearer {access_token}"})


@pytest.fixture
def tokens(app, oauth_app, resident):
    """A full authorisation of `oauth_app` by `resident`: the token response's JSON."""
    browser = app.test_client()
    pkce = new_pkce()
    code = get_code(browser, resident, oauth_app, pkce)
    response = exchange(app.test_client(), oauth_app, code, pkce.verifier)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


@pytest.fixture
def client(app):
    """Every /api/v1 response of the test is validated against the OpenAPI document."""
    return ValidatingClient(app, app.response_class, use_cookies=True)


@dataclass
class Org:
    organization: object
    admin: User


@pytest.fixture
def org(db_session) -> Org:
    organization = f.organization(name="Администрация города Уфы")
    admin = f.staff(organization, Role.ADMINISTRATOR, last_name="Админов")
    db.session.commit()
    return Org(organization, admin)


def issue(
    org: Org, *scopes: ApiScope, name: str = "СЭД Дело", days: int = 30
) -> tuple[ApiKey, str]:
    """A key of `org` with `scopes` (all of them by default), committed; returns key and token."""
    from datetime import timedelta

    issued = services.create_api_key(
        org.organization,
        name,
        [s.value for s in (scopes or tuple(ApiScope))],
        services.today() + timedelta(days=days),
        org.admin,
    )
    db.session.commit()
    return issued.key, issued.token


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
