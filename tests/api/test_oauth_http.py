"""The mobile app's login end to end over real HTTP: the app served on a loopback port with its
ESIA emulator, a browser that logs in as an ESIA persona and consents, the app's loopback
redirect receiver, and Authlib's own OAuth 2.0 client (PKCE S256) as the third-party app."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.cookiejar import CookieJar
from http.server import BaseHTTPRequestHandler, HTTPServer
from urllib.error import HTTPError
from urllib.parse import parse_qs, urlencode, urljoin, urlsplit
from urllib.request import HTTPCookieProcessor, HTTPRedirectHandler, Request, build_opener

import pytest
import requests
import sqlalchemy as sa
from authlib.common.security import generate_token
from authlib.integrations.requests_client import OAuth2Session, OAuthError

from participation.api.oauth.models import AppSession, AppToken, RevokeReason
from participation.api.oauth.services import register_app
from participation.core.audit import AuditEntry
from participation.core.tokens import token_hash
from participation.extensions import db
from tests.browser import serve_platform

HIDDEN = re.compile(r'name="(csrf_token|request_token)" type="hidden" value="([^"]*)"')
CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
REVOKE_FORM = re.compile(r'action="(/my/apps/\d+/revoke)"')


class _NoRedirect(HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


class Browser:
    """The resident's browser: keeps cookies, shows each redirect to the test."""

    def __init__(self) -> None:
        self.cookies = CookieJar()
        self.opener = build_opener(HTTPCookieProcessor(self.cookies), _NoRedirect())

    def open(self, url: str, form: dict | None = None) -> tuple[int, dict, str]:
        data = urlencode(form).encode() if form is not None else None
        try:
            with self.opener.open(Request(url, data=data), timeout=15) as response:
                return response.status, dict(response.headers), response.read().decode()
        except HTTPError as exc:
            return exc.code, dict(exc.headers), exc.read().decode()

    def follow(self, url: str, stop_at: str | None = None, limit: int = 10):
        """GET `url` and follow redirects (relative ones against the last URL) until a page,
        or until a Location starts with `stop_at`; returns (url, status, headers, body)."""
        for _ in range(limit):
            status, headers, body = self.open(url)
            if status not in (301, 302, 303) or "Location" not in headers:
                return url, status, headers, body
            url = urljoin(url, headers["Location"])
            if stop_at and url.startswith(stop_at):
                return url, status, headers, body
        raise AssertionError("too many redirects")


@contextmanager
def loopback_receiver() -> Iterator[tuple[int, list[str]]]:
    """What a native app listens with (RFC 8252 7.3): a one-page server on 127.0.0.1."""
    received: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            received.append(self.path)
            body = "Можно вернуться в приложение.".encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/plain; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_port, received
    finally:
        server.shutdown()
        thread.join(timeout=10)


@pytest.fixture
def served(app, db_session, monkeypatch, tmp_path):
    with serve_platform(app, monkeypatch, tmp_path) as base:
        yield base


def _consent(browser: Browser, base: str, authorize_url: str, receiver: str) -> str:
    """From the app's authorisation URL to the code at the loopback receiver (the resident is
    logged in already or logs in through ESIA on the way); returns the redirect URL."""
    url, status, _, page = browser.follow(authorize_url)
    if url.startswith(f"{base}/esia/"):
        assert status == 200 and "Иванова Мария Петровна" in page
        fields = dict(HIDDEN.findall(page))
        status, headers, _ = browser.open(
            f"{base}/esia/aas/oauth2/ac",
            {**fields, "persona": "resident-confirmed-ufa", "action": "login"},
        )
        assert status == 302 and headers["Location"].startswith(f"{base}/login/callback?")
        url, status, _, page = browser.follow(headers["Location"])
    assert url.startswith(f"{base}/oauth/authorize?"), url
    assert status == 200, page
    assert "Приложение «Решаем вместе — тест» запрашивает доступ к вашему кабинету" in page
    status, headers, _ = browser.open(
        url, {"csrf_token": CSRF.search(page).group(1), "allow": "Разрешить"}
    )
    assert status == 302
    callback = headers["Location"]
    assert callback.startswith(receiver), callback
    status, _, body = browser.open(callback)  # the browser lands on the app's receiver
    assert status == 200 and "вернуться в приложение" in body
    return callback


def _bearer_get(url: str, access_token: str) -> requests.Response:
    return requests.get(url, headers={"Authorization": f"Bearer {access_token}"}, timeout=15)


@pytest.mark.committed
def test_pkce_flow_refresh_rotation_reuse_and_revocation_over_real_http(served, db_session):
    client_id = register_app("Решаем вместе — тест", ["http://127.0.0.1/callback"]).client_id
    db.session.commit()
    db.session.close()  # hold no lock while the server works (SQLite)
    token_url = f"{served}/oauth/token"
    userinfo_url = f"{served}/oauth/userinfo"
    browser = Browser()

    with loopback_receiver() as (port, received):
        receiver = f"http://127.0.0.1:{port}/callback"

        # 1. The app opens the browser at /oauth/authorize with an S256 challenge; the resident
        # is not logged in, goes through the ESIA login (emulator), comes back, consents.
        app = OAuth2Session(
            client_id, scope="appeals profile", redirect_uri=receiver, code_challenge_method="S256"
        )
        verifier = generate_token(64)
        authorize_url, state = app.create_authorization_url(
            f"{served}/oauth/authorize", code_verifier=verifier, device_name="Pixel 8"
        )
        assert "code_challenge_method=S256" in authorize_url
        status, headers, _ = browser.open(authorize_url)
        assert status == 302 and urlsplit(headers["Location"]).path == "/login"
        callback = _consent(browser, served, authorize_url, receiver)
        assert received == [urlsplit(callback).path + "?" + urlsplit(callback).query]
        assert parse_qs(urlsplit(callback).query)["state"] == [state]

        # 2. The app exchanges the code with its verifier: a short-lived access token and a
        # refresh token, never cached, with no cookie set.
        token = app.fetch_token(token_url, authorization_response=callback, code_verifier=verifier)
        assert token["token_type"] == "Bearer" and token["expires_in"] == 15 * 60
        assert set(token["scope"].split()) == {"appeals", "profile"}
        me = app.get(userinfo_url, timeout=15)
        assert me.status_code == 200
        assert me.json()["name"] == "Иванова Мария Петровна"
        assert me.json()["territory"] is None  # no territories in this test's database

        # The same code a second time: refused, and the tokens it gave are revoked.
        again = requests.post(
            token_url,
            data={
                "grant_type": "authorization_code",
                "code": parse_qs(urlsplit(callback).query)["code"][0],
                "redirect_uri": receiver,
                "client_id": client_id,
                "code_verifier": verifier,
            },
            timeout=15,
        )
        assert again.status_code == 400 and again.json()["error"] == "invalid_grant"
        assert "уже использован" in again.json()["detail"]
        assert app.get(userinfo_url, timeout=15).status_code == 401

        # 3. A new authorisation (the resident is logged in now: straight to the consent page).
        app = OAuth2Session(
            client_id, scope="appeals profile", redirect_uri=receiver, code_challenge_method="S256"
        )
        verifier = generate_token(64)
        authorize_url, _state = app.create_authorization_url(
            f"{served}/oauth/authorize", code_verifier=verifier, device_name="Pixel 8"
        )
        callback = _consent(browser, served, authorize_url, receiver)
        first = dict(
            app.fetch_token(token_url, authorization_response=callback, code_verifier=verifier)
        )

        # 4. Refresh: a new pair each time; the old refresh and access tokens stop working.
        second = dict(app.refresh_token(token_url))
        assert second["refresh_token"] != first["refresh_token"]
        assert second["access_token"] != first["access_token"]
        assert _bearer_get(userinfo_url, second["access_token"]).status_code == 200
        old = _bearer_get(userinfo_url, first["access_token"])
        assert old.status_code == 401 and old.json()["error"] == "invalid_token"
        assert 'Bearer error="invalid_token"' in old.headers["WWW-Authenticate"]

        # 5. Reuse detection: the spent refresh token comes back (a thief or a confused app);
        # the whole session is revoked, the live tokens included.
        thief = OAuth2Session(client_id)
        with pytest.raises(OAuthError) as refused:
            thief.refresh_token(token_url, refresh_token=first["refresh_token"])
        assert refused.value.error == "invalid_grant"
        assert _bearer_get(userinfo_url, second["access_token"]).status_code == 401
        with pytest.raises(OAuthError):
            app.refresh_token(token_url)

        # 6. A third authorisation, revoked by the resident in the profile: the next API call
        # with its access token gets 401.
        app = OAuth2Session(
            client_id, scope="profile", redirect_uri=receiver, code_challenge_method="S256"
        )
        verifier = generate_token(64)
        authorize_url, _state = app.create_authorization_url(
            f"{served}/oauth/authorize", code_verifier=verifier, device_name="Pixel 8"
        )
        callback = _consent(browser, served, authorize_url, receiver)
        third = app.fetch_token(token_url, authorization_response=callback, code_verifier=verifier)
        assert app.get(userinfo_url, timeout=15).status_code == 200
        status, _, profile = browser.open(f"{served}/my/profile")
        assert status == 200
        assert "Приложения с доступом к кабинету" in profile
        assert profile.count("<h3>Решаем вместе — тест</h3>") == 1  # revoked ones are gone
        assert "Pixel 8" in profile and "данные профиля" in profile
        status, headers, _ = browser.open(
            urljoin(served, REVOKE_FORM.search(profile).group(1)),
            {"csrf_token": CSRF.search(profile).group(1)},
        )
        assert status == 302
        _, _, _, profile = browser.follow(urljoin(served, headers["Location"]))
        assert "Доступ приложения «Решаем вместе — тест» отозван." in profile
        assert "Вы не давали доступ ни одному приложению" in profile
        gone = app.get(userinfo_url, timeout=15)
        assert gone.status_code == 401 and gone.json()["error"] == "invalid_token"
        with pytest.raises(OAuthError):
            app.refresh_token(token_url)

        # 7. A fourth, ended by the app itself through RFC 7009 (its «Выйти»).
        app = OAuth2Session(
            client_id, scope="profile", redirect_uri=receiver, code_challenge_method="S256"
        )
        verifier = generate_token(64)
        authorize_url, _state = app.create_authorization_url(
            f"{served}/oauth/authorize", code_verifier=verifier
        )
        callback = _consent(browser, served, authorize_url, receiver)
        fourth = app.fetch_token(token_url, authorization_response=callback, code_verifier=verifier)
        revoked = app.revoke_token(
            f"{served}/oauth/revoke", token=fourth["refresh_token"], token_type_hint="refresh_token"
        )
        assert revoked.status_code == 200
        assert app.get(userinfo_url, timeout=15).status_code == 401

    sessions = db.session.scalars(sa.select(AppSession).order_by(AppSession.id)).all()
    assert [s.revoked_reason for s in sessions] == [
        RevokeReason.CODE_REUSE,
        RevokeReason.REFRESH_REUSE,
        RevokeReason.RESIDENT,
        RevokeReason.CLIENT,
    ]
    assert {s.device_name for s in sessions} == {"Pixel 8", None}
    # Only hashes are kept: no raw token is anywhere in the table.
    stored = db.session.scalars(sa.select(AppToken.access_token_hash)).all()
    assert third["access_token"] not in stored and token_hash(third["access_token"]) in stored
    actions = db.session.scalars(
        sa.select(AuditEntry.action).where(AuditEntry.action.like("oauth.%"))
    ).all()
    assert actions.count("oauth.authorized") == 4
    assert actions.count("oauth.session_started") == 4
    assert actions.count("oauth.session_revoked") == 4
    db.session.close()
