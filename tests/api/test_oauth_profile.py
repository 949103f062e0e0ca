"""The resident's app sessions in «Мои данные»: listed with app, device and scopes, revoked at
once with «Отозвать» (the app's next call gets 401); nobody else's can be touched."""

from __future__ import annotations

import re

import sqlalchemy as sa

from participation.api.oauth.models import AppSession, RevokeReason
from participation.core.audit import AuditEntry
from participation.extensions import db
from tests import factories as f
from tests.api.conftest import exchange, get_code, new_pkce, refresh, userinfo
from tests.helpers import csrf_token, login_as

REVOKE = re.compile(r'action="(/my/apps/(\d+)/revoke)"')


def test_profile_lists_live_app_sessions_only(app, client, oauth_app, resident, tokens):
    pkce = new_pkce()
    code = get_code(
        app.test_client(), resident, oauth_app, pkce, device_name="Планшет", scope="votes"
    )
    second = exchange(app.test_client(), oauth_app, code, pkce.verifier).get_json()
    assert second["scope"] == "votes"
    login_as(client, resident)
    page = client.get("/my/profile").get_data(as_text=True)
    assert "Приложения с доступом к кабинету" in page
    assert page.count("<h3>Решаем вместе — тест</h3>") == 2
    assert "Устройство: Планшет" in page
    assert "Доступ: данные профиля, сообщения" in page
    assert "Доступ: голосования и опросы" in page
    assert len(REVOKE.findall(page)) == 2


def test_profile_without_apps_says_so(client, resident):
    login_as(client, resident)
    page = client.get("/my/profile").get_data(as_text=True)
    assert "Вы не давали доступ ни одному приложению" in page


def test_revoke_ends_the_session_at_once(client, oauth_app, resident, tokens):
    login_as(client, resident)
    page = client.get("/my/profile").get_data(as_text=True)
    action = REVOKE.search(page).group(1)
    response = client.post(action, data={"csrf_token": csrf_token(client, "/my/profile")})
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/my/profile#apps")
    page = client.get("/my/profile").get_data(as_text=True)
    assert "Доступ приложения «Решаем вместе — тест» отозван." in page
    assert "Вы не давали доступ ни одному приложению" in page
    app_session = db.session.scalar(sa.select(AppSession))
    assert app_session.revoked_reason == RevokeReason.RESIDENT
    fresh = client.application.test_client()
    gone = userinfo(fresh, tokens["access_token"])
    assert gone.status_code == 401 and gone.get_json()["error"] == "invalid_token"
    assert refresh(fresh, oauth_app, tokens["refresh_token"]).status_code == 400
    entry = db.session.scalar(
        sa.select(AuditEntry).where(AuditEntry.action == "oauth.session_revoked")
    )
    assert entry.actor_id == resident.id and entry.details["reason"] == "resident"


def test_revoke_needs_the_csrf_token(client, resident, tokens):
    login_as(client, resident)
    action = REVOKE.search(client.get("/my/profile").get_data(as_text=True)).group(1)
    assert client.post(action).status_code == 400
    assert db.session.scalar(sa.select(AppSession.revoked_at)) is None


def test_nobody_else_can_revoke_or_see_a_session(client, resident, tokens):
    app_session_id = db.session.scalar(sa.select(AppSession.id))
    stranger = f.user()
    login_as(client, stranger)
    token = csrf_token(client, "/my/profile")
    assert "Решаем вместе — тест" not in client.get("/my/profile").get_data(as_text=True)
    response = client.post(f"/my/apps/{app_session_id}/revoke", data={"csrf_token": token})
    assert response.status_code == 404
    assert client.post("/my/apps/999999/revoke", data={"csrf_token": token}).status_code == 404
    assert db.session.scalar(sa.select(AppSession.revoked_at)) is None
    assert userinfo(client.application.test_client(), tokens["access_token"]).status_code == 200


def test_revoke_needs_a_login(client, tokens):
    app_session_id = db.session.scalar(sa.select(AppSession.id))
    token = csrf_token(client, "/")
    response = client.post(f"/my/apps/{app_session_id}/revoke", data={"csrf_token": token})
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert db.session.scalar(sa.select(AppSession.revoked_at)) is None
