"""Races an app (or a thief beside it) can start: the same code or the same refresh token sent
several times at once, over real HTTP. Exactly one exchange succeeds; the rest are refused as
reuse, which revokes the session (OAuth 2.0 Security BCP) — never two live token pairs."""

from __future__ import annotations

import threading
from types import SimpleNamespace

import pytest
import requests
import sqlalchemy as sa

from participation.api.oauth.models import AppSession, AppToken, RevokeReason
from participation.extensions import db, limiter
from tests.api.conftest import REDIRECT, get_code, new_pkce
from tests.browser import serve

ATTEMPTS = 8


def _race(url: str, data: dict) -> list[requests.Response]:
    barrier = threading.Barrier(ATTEMPTS)
    answers: list[requests.Response] = []

    def attempt() -> None:
        barrier.wait()
        answers.append(requests.post(url, data=data, timeout=60))

    threads = [threading.Thread(target=attempt) for _ in range(ATTEMPTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(90)
    return answers


@pytest.fixture
def registered(app, db_session, monkeypatch):
    """An app, a resident and a fresh code, all committed; the server sees them."""
    from participation.api.oauth.services import register_app
    from tests import factories as f

    monkeypatch.setitem(app.config, "OAUTH_TOKEN_RATE_LIMIT", "1000 per minute")
    oauth_app = register_app("Решаем вместе — тест", [REDIRECT])
    resident = f.user()
    db.session.commit()
    app_key = SimpleNamespace(client_id=oauth_app.client_id)
    resident_key = SimpleNamespace(get_id=lambda key=resident.get_id(): key)
    db.session.remove()  # SQLite: every transaction holds the write lock; end ours
    pkce = new_pkce()
    code = get_code(app.test_client(), resident_key, app_key, pkce)
    limiter.reset()
    client_id = app_key.client_id
    return client_id, code, pkce


@pytest.mark.committed
def test_one_code_sent_many_times_at_once_gives_one_session_then_revokes_it(app, registered):
    client_id, code, pkce = registered
    with serve(app) as port:
        answers = _race(
            f"http://127.0.0.1:{port}/oauth/token",
            {
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": REDIRECT,
                "client_id": client_id,
                "code_verifier": pkce.verifier,
            },
        )
    statuses = sorted(a.status_code for a in answers)
    assert statuses == [200] + [400] * (ATTEMPTS - 1), [a.text for a in answers]
    assert {a.json()["error"] for a in answers if a.status_code == 400} == {"invalid_grant"}
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AppSession)) == 1
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AppToken)) == 1
    assert db.session.scalar(sa.select(AppSession.revoked_reason)) == RevokeReason.CODE_REUSE
    db.session.remove()


@pytest.mark.committed
def test_one_refresh_token_sent_many_times_at_once_issues_one_pair_then_burns_all(app, registered):
    client_id, code, pkce = registered
    with serve(app) as port:
        url = f"http://127.0.0.1:{port}/oauth/token"
        first = requests.post(
            url,
            data={
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": REDIRECT,
                "client_id": client_id,
                "code_verifier": pkce.verifier,
            },
            timeout=30,
        ).json()
        answers = _race(
            url,
            {
                "grant_type": "refresh_token",
                "refresh_token": first["refresh_token"],
                "client_id": client_id,
            },
        )
        winner = next(a.json() for a in answers if a.status_code == 200)
        after = requests.get(
            f"http://127.0.0.1:{port}/oauth/userinfo",
            headers={"Authorization": f"Bearer {winner['access_token']}"},
            timeout=30,
        )
    statuses = sorted(a.status_code for a in answers)
    assert statuses == [200] + [400] * (ATTEMPTS - 1), [a.text for a in answers]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AppToken)) == 2
    assert db.session.scalar(sa.select(AppSession.revoked_reason)) == RevokeReason.REFRESH_REUSE
    assert after.status_code == 401  # the family is burnt, the winner's pair included
    db.session.remove()
