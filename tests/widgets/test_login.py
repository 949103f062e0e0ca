"""Logging in inside the widget: popup ticket → widget session; what is refused and why."""

from __future__ import annotations

import re
from datetime import timedelta
from urllib.parse import unquote

import sqlalchemy as sa
import time_machine

from participation.core.db import utcnow
from participation.extensions import db
from participation.widgets import services
from participation.widgets.models import WidgetSession, WidgetSiteDay
from tests.helpers import login_as
from tests.widgets.conftest import TICKET, enable, log_in, popup_ticket


def test_the_popup_sends_anonymous_visitors_to_esia_and_back(world, client):
    code = enable(world.city_admin, world.administrator)
    challenge = services.login_challenge("v" * 43)
    response = client.get(f"/widget/{code}/login", query_string={"challenge": challenge})
    assert response.status_code == 302
    location = unquote(response.headers["Location"])
    assert location.startswith("/login?next=")
    assert f"/widget/{code}/login?challenge={challenge}&fresh=1" in location


def test_a_login_made_in_the_popup_goes_straight_back_to_the_widget(world, client):
    code = enable(world.city_admin, world.administrator)
    challenge = services.login_challenge("v" * 43)
    login_as(client, world.resident)  # as /login/callback leaves it: logged in just now
    response = client.get(f"/widget/{code}/login?challenge={challenge}&fresh=1")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert TICKET.search(html)
    assert response.headers["Cache-Control"] == "no-store"


def test_someone_already_logged_in_on_this_computer_is_named_and_asked(world, client):
    code = enable(world.city_admin, world.administrator)
    challenge = services.login_challenge("v" * 43)
    login_as(client, world.resident)
    for query in (f"challenge={challenge}", f"challenge={challenge}&fresh=1"):
        with time_machine.travel(utcnow() + timedelta(minutes=11)):
            response = client.get(f"/widget/{code}/login?{query}")
        html = response.get_data(as_text=True)
        assert "уже вошли на платформу как Жительница" in html, query
        assert "Продолжить как" in html, query
        assert not TICKET.search(html), query  # nothing for the widget until confirmed
        login_as(client, world.resident)


def test_another_person_can_log_in_instead(world, client):
    code = enable(world.city_admin, world.administrator)
    challenge = services.login_challenge("v" * 43)
    login_as(client, world.resident)
    page = client.get(f"/widget/{code}/login?challenge={challenge}").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    version = world.resident.session_version
    response = client.post(
        f"/widget/{code}/login/switch?challenge={challenge}", data={"csrf_token": token}
    )
    assert response.status_code == 302
    assert "fresh%3D1" in response.headers["Location"]
    db.session.refresh(world.resident)
    assert world.resident.session_version == version + 1  # the previous person is logged out
    assert client.get("/my/profile").status_code == 302


def test_the_popup_refuses_a_bad_challenge_or_code(world, client):
    code = enable(world.city_admin, world.administrator)
    login_as(client, world.resident)
    assert client.get(f"/widget/{code}/login?challenge=short").status_code == 404
    good = services.login_challenge("v" * 43)
    assert client.get(f"/widget/NoSuchCode1234567890/login?challenge={good}").status_code == 404


def test_login_through_the_popup_gives_the_widget_a_session(app, world, frame_for):
    code = enable(world.city_admin, world.administrator)
    frame = log_in(app, frame_for(code), world.resident, origin="https://city.example.ru")
    assert "Вы вошли как Жительница" in frame.html
    assert "Отправить сообщение" in frame.html
    session = db.session.scalar(sa.select(WidgetSession))
    assert session.user_id == world.resident.id
    assert session.organization_id == world.city_admin.id
    assert session.site == "https://city.example.ru"
    # only the token's hash is stored; the token never appears in a link or a form action
    token = frame.fields["widget_token"]
    assert session.token_hash != token and token not in session.token_hash
    assert not re.search(r'(href|action|src)="[^"]*' + re.escape(token), frame.html)
    logins = db.session.scalar(
        sa.select(WidgetSiteDay.logins).where(WidgetSiteDay.site == "https://city.example.ru")
    )
    assert logins == 1


def _start(app, frame, user):
    frame.open()
    fields = frame.fields
    ticket = popup_ticket(app, user, frame.code, services.login_challenge(fields["verifier"]))
    return fields, ticket


def test_a_ticket_without_the_pages_verifier_is_refused(app, world, frame_for):
    frame = frame_for(enable(world.city_admin, world.administrator))
    fields, ticket = _start(app, frame, world.resident)
    frame.post("/session", {"verifier": "x" * 43, "ticket": ticket, "site": fields["site"]})
    assert frame.status == 400
    assert "Не удалось войти" in frame.html
    assert "widget_token" not in frame.fields
    assert db.session.scalar(sa.select(sa.func.count()).select_from(WidgetSession)) == 0


def test_a_ticket_works_once(app, world, frame_for):
    frame = frame_for(enable(world.city_admin, world.administrator))
    fields, ticket = _start(app, frame, world.resident)
    form = {"verifier": fields["verifier"], "ticket": ticket, "site": fields["site"]}
    frame.post("/session", form)
    assert frame.status == 200
    again = frame_for(frame.code)
    again.open()
    again.post("/session", form)
    assert again.status == 400
    assert "уже использован" in again.html


def test_a_ticket_for_another_organizations_widget_is_refused(app, world, frame_for):
    city = frame_for(enable(world.city_admin, world.administrator))
    school = frame_for(enable(world.school, world.school_admin))
    fields, ticket = _start(app, city, world.resident)
    school.open()
    school.post("/session", {"verifier": fields["verifier"], "ticket": ticket, "site": ""})
    assert school.status == 400
    assert "widget_token" not in school.fields


def test_a_late_ticket_is_refused(app, world, frame_for):
    frame = frame_for(enable(world.city_admin, world.administrator))
    fields, ticket = _start(app, frame, world.resident)
    with time_machine.travel(utcnow() + timedelta(minutes=3)):
        frame.post(
            "/session", {"verifier": fields["verifier"], "ticket": ticket, "site": fields["site"]}
        )
    assert frame.status == 400
    assert "слишком много времени" in frame.html


def test_logging_out_everywhere_ends_widget_sessions(app, world, frame_for):
    frame = log_in(app, frame_for(enable(world.city_admin, world.administrator)), world.resident)
    world.resident.session_version += 1  # what «Выйти» on the platform does
    db.session.flush()
    frame.post("")
    assert "Сеанс в виджете завершён" in frame.html
    assert "widget_token" not in frame.fields


def test_an_idle_widget_session_ends(app, world, frame_for):
    frame = log_in(app, frame_for(enable(world.city_admin, world.administrator)), world.resident)
    with time_machine.travel(utcnow() + timedelta(minutes=app.config["SESSION_IDLE_MINUTES"] + 1)):
        frame.post("")
    assert "Сеанс в виджете завершён" in frame.html
    assert db.session.scalar(sa.select(WidgetSession.ended_at)) is not None
    # the page still knows which site shows it: the next login is counted for that site
    assert frame.fields["site"] == "https://school1.example.ru"


def test_logging_out_of_the_widget(app, world, frame_for):
    frame = log_in(app, frame_for(enable(world.city_admin, world.administrator)), world.resident)
    token = frame.fields["widget_token"]
    frame.post("/logout")
    assert "Вы вышли из виджета" in frame.html
    assert "Войти через Госуслуги" in frame.html
    assert services.widget_session(world.city_admin, token) is None


def test_a_post_without_the_widget_csrf_token_is_refused(app, world, frame_for):
    frame = log_in(app, frame_for(enable(world.city_admin, world.administrator)), world.resident)
    token = frame.fields["widget_token"]
    response = frame.client.post(
        f"/widget/{frame.code}", data={"widget_token": token, "csrf_token": "forged"}
    )
    assert response.status_code == 400
    assert "Форма устарела" in response.get_data(as_text=True)


def test_a_csrf_token_of_another_session_is_refused(app, world, frame_for):
    code = enable(world.city_admin, world.administrator)
    mine = log_in(app, frame_for(code), world.resident)
    theirs = log_in(app, frame_for(code), world.neighbour)
    response = mine.client.post(
        f"/widget/{code}",
        data={
            "widget_token": mine.fields["widget_token"],
            "csrf_token": theirs.fields["csrf_token"],
        },
    )
    assert response.status_code == 400


def test_old_sessions_are_purged(app, world, frame_for):
    log_in(app, frame_for(enable(world.city_admin, world.administrator)), world.resident)
    assert services.purge_widget_sessions() == 0
    with time_machine.travel(utcnow() + timedelta(days=3)):
        assert services.purge_widget_sessions() == 1
