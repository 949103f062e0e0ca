"""Login through ESIA over real HTTP: the app (emulator included) served on a loopback port."""

from __future__ import annotations

import re
from http.cookiejar import CookieJar
from urllib.error import HTTPError
from urllib.parse import parse_qs, urlencode, urlsplit
from urllib.request import HTTPCookieProcessor, HTTPRedirectHandler, Request, build_opener

import pytest
import sqlalchemy as sa

from participation.auth.models import EmulatorClient
from participation.core.audit import AuditEntry
from participation.core.territories import Territory, TerritoryLevel
from participation.core.users import AccountLevel, User
from participation.extensions import db
from tests.browser import serve_platform

HIDDEN = re.compile(r'name="(csrf_token|request_token)" type="hidden" value="([^"]*)"')
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


class _NoRedirect(HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None  # let the test see every 302


class Browser:
    """A tiny browser: cookies kept, redirects shown rather than followed."""

    def __init__(self) -> None:
        self.cookies = CookieJar()
        self.opener = build_opener(HTTPCookieProcessor(self.cookies), _NoRedirect())

    def open(self, url: str, form: dict | None = None) -> tuple[int, dict, str]:
        data = urlencode(form).encode() if form is not None else None
        try:
            with self.opener.open(Request(url, data=data), timeout=15) as response:
                return response.status, dict(response.headers), response.read().decode()
        except HTTPError as exc:  # 3xx and 4xx arrive here when not followed
            return exc.code, dict(exc.headers), exc.read().decode()


@pytest.fixture
def served(app, db_session, monkeypatch, tmp_path):
    """The app on 127.0.0.1:<free port> in a thread, pointed at its own emulator over HTTP."""
    with serve_platform(app, monkeypatch, tmp_path) as base:
        yield base


@pytest.mark.committed
def test_login_round_trip_over_real_http(served, db_session):
    country = Territory(
        oktmo="00", name="Российская Федерация", level=TerritoryLevel.COUNTRY, timezone="UTC"
    )
    region = Territory(
        oktmo="80000000",
        name="Республика Башкортостан",
        level=TerritoryLevel.REGION,
        parent=country,
        timezone="Asia/Yekaterinburg",
    )
    ufa = Territory(
        oktmo="80701000",
        name="городской округ город Уфа",
        level=TerritoryLevel.URBAN_OKRUG,
        parent=region,
        timezone="Asia/Yekaterinburg",
    )
    db.session.add_all([country, region, ufa])
    db.session.commit()
    ufa_id = ufa.id
    db.session.close()  # hold no lock while the server works (SQLite)

    browser = Browser()
    status, headers, _ = browser.open(f"{served}/login?next=/my/profile")
    assert status == 302
    authorize_url = headers["Location"]
    assert authorize_url.startswith(f"{served}/esia/aas/oauth2/ac?")
    state = parse_qs(urlsplit(authorize_url).query)["state"][0]

    status, _, page = browser.open(authorize_url)
    assert status == 200
    assert "Иванова Мария Петровна" in page
    fields = dict(HIDDEN.findall(page))
    status, headers, _ = browser.open(
        f"{served}/esia/aas/oauth2/ac",
        {**fields, "persona": "resident-confirmed-ufa", "action": "login"},
    )
    assert status == 302
    callback = headers["Location"]
    assert callback.startswith(f"{served}/login/callback?")
    assert parse_qs(urlsplit(callback).query)["state"] == [state]

    status, headers, body = browser.open(callback)
    assert status == 302, body
    assert headers["Location"] == "/my/profile"

    status, _, profile = browser.open(f"{served}/my/profile")
    assert status == 200
    assert "Иванова Мария Петровна" in profile and "подтверждённая" in profile

    # A copy of the session cookie stops working once its owner logs out.
    thief = Browser()
    for cookie in browser.cookies:
        thief.cookies.set_cookie(cookie)
    assert thief.open(f"{served}/my/profile")[0] == 200
    status, _, _ = browser.open(f"{served}/logout", {"csrf_token": CSRF.search(profile).group(1)})
    assert status == 302
    assert thief.open(f"{served}/my/profile")[0] == 302

    user = db.session.scalar(sa.select(User).where(User.esia_oid == "2000001"))
    assert user.account_level == AccountLevel.CONFIRMED
    assert user.registration_territory_id == ufa_id
    assert user.session_version == 2
    client = db.session.scalar(sa.select(EmulatorClient))
    assert client.client_id == "PARTICIPATION"
    assert client.redirect_uris == [f"{served}/login/callback"]  # registered on first use
    actions = [e.action for e in db.session.scalars(sa.select(AuditEntry).order_by(AuditEntry.id))]
    assert actions == ["auth.login", "auth.logout"]
    db.session.close()


@pytest.mark.committed
def test_forged_client_secret_is_refused_over_real_http(served, db_session):
    browser = Browser()
    _, headers, _ = browser.open(f"{served}/login")
    parts = urlsplit(headers["Location"])
    params = {k: v[0] for k, v in parse_qs(parts.query).items()}
    params["client_secret"] = params["client_secret"][:-8] + "AAAAAAAA"
    status, headers, _ = browser.open(f"{served}{parts.path}?{urlencode(params)}")
    assert status == 302
    assert "error=invalid_client" in headers["Location"]
    status, _, page = browser.open(headers["Location"])
    assert status == 400
    assert "Вход не выполнен" in page
    assert db.session.scalar(sa.select(sa.func.count()).select_from(User)) == 0
    assert browser.open(f"{served}/my/profile")[0] == 302
    db.session.close()
