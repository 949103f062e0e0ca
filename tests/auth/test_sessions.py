"""Sessions: login stamps, idle and absolute time-outs, renewal on activity, logout."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
import time_machine
from flask import session
from flask_login import current_user

from participation.auth.sessions import LOGIN_AT, SEEN_AT, end_session, start_session
from participation.config import ConfigError, load_config
from participation.core.audit import AuditEntry
from participation.extensions import db
from tests import factories
from tests.helpers import csrf_token, login_as

START = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)
PAGE = "/my/notifications"  # any page that needs a logged-in user


@pytest.fixture
def clock():
    with time_machine.travel(START, tick=False) as traveller:
        yield traveller


def _flashes(client) -> list[str]:
    with client.session_transaction() as s:
        return [message for _category, message in s.get("_flashes", [])]


def _logged_in(client) -> bool:
    with client.session_transaction() as s:
        return "_user_id" in s


def _audit(action: str, user_id: int) -> list[AuditEntry]:
    return list(
        db.session.scalars(
            sa.select(AuditEntry).where(AuditEntry.action == action, AuditEntry.actor_id == user_id)
        )
    )


def test_settings_have_defaults_and_are_validated(tmp_path):
    config = load_config({}, tmp_path)
    assert config["SESSION_IDLE_MINUTES"] == 30
    assert config["SESSION_ABSOLUTE_HOURS"] == 12
    for name in ("SESSION_IDLE_MINUTES", "SESSION_ABSOLUTE_HOURS"):
        with pytest.raises(ConfigError, match=name):
            load_config({name: "0"}, tmp_path)
        with pytest.raises(ConfigError, match=name):
            load_config({name: "полчаса"}, tmp_path)


def test_active_session_goes_on(client, clock):
    login_as(client, factories.user())
    assert client.get(PAGE).status_code == 200
    clock.shift(timedelta(minutes=29))
    assert client.get(PAGE).status_code == 200


def test_idle_timeout_logs_out_and_returns_to_the_page(client, clock):
    person = factories.user()
    login_as(client, person)
    assert client.get(PAGE).status_code == 200
    clock.shift(timedelta(minutes=31))
    response = client.get(PAGE + "?page=2")
    assert response.status_code == 302
    assert response.location == PAGE + "?page=2"
    assert not _logged_in(client)
    assert _flashes(client) == ["Сеанс завершён из-за бездействия. Войдите снова."]
    assert [e.details for e in _audit("auth.session_expired", person.id)] == [{"reason": "idle"}]
    # The page itself now asks for a login.
    assert client.get(PAGE).status_code == 302


def test_activity_renews_the_session(client, clock):
    login_as(client, factories.user())
    for _ in range(4):  # 80 minutes in all, never 30 minutes idle
        clock.shift(timedelta(minutes=20))
        assert client.get(PAGE).status_code == 200
    with client.session_transaction() as s:
        assert s[SEEN_AT] == int((START + timedelta(minutes=80)).timestamp())
        assert s[LOGIN_AT] == int(START.timestamp())


def test_absolute_timeout_ends_even_an_active_session(client, clock):
    person = factories.user()
    login_as(client, person)
    for _ in range(int(12 * 60 / 25)):  # active every 25 minutes for almost 12 hours
        clock.shift(timedelta(minutes=25))
        assert client.get(PAGE).status_code == 200
    clock.shift(timedelta(minutes=25))  # now past 12 hours since login
    response = client.get(PAGE)
    assert response.status_code == 302
    assert response.location == PAGE
    assert not _logged_in(client)
    assert "Сеанс завершён" in _flashes(client)[0]
    assert "бездействия" not in _flashes(client)[0]
    assert [e.details for e in _audit("auth.session_expired", person.id)] == [
        {"reason": "absolute"}
    ]


def test_expired_form_post_goes_home(client, clock):
    login_as(client, factories.user())
    token = csrf_token(client, PAGE)
    clock.shift(timedelta(minutes=45))
    response = client.post(PAGE + "/read", data={"csrf_token": token})
    assert response.status_code == 302
    assert response.location == "/"
    assert not _logged_in(client)


def test_session_without_stamps_starts_counting_now(client, clock):
    person = factories.user()
    with client.session_transaction() as s:
        s["_user_id"] = person.get_id()
        s["_fresh"] = True
    assert client.get(PAGE).status_code == 200
    with client.session_transaction() as s:
        assert s[LOGIN_AT] == s[SEEN_AT] == int(START.timestamp())


def test_start_session_clears_old_data_and_stamps(app, clock):
    person = factories.user()
    with app.test_request_context("/"):
        session["lang"] = "en"
        session["something_from_before"] = "x"
        start_session(person)
        assert current_user.id == person.id
        assert session["_user_id"] == person.get_id()
        assert session[LOGIN_AT] == session[SEEN_AT] == int(START.timestamp())
        assert "something_from_before" not in session
        assert session["lang"] == "en"  # the page language survives login


def test_end_session_bumps_version_and_audits(app, client):
    person = factories.user()
    version = person.session_version
    login_as(client, person)
    with app.test_request_context("/"):
        start_session(person)
        end_session(person)
        assert not current_user.is_authenticated
        assert "_user_id" not in session
    assert person.session_version == version + 1
    assert [e.details for e in _audit("auth.logout", person.id)] == [{"reason": "logout"}]
    # The old cookie (carrying the previous version) no longer logs anyone in.
    assert client.get(PAGE).status_code == 302
