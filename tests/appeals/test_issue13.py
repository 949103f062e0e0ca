"""Defects of issue #13: the escalated message's history, territories offered, weak suggestions,
the answer term of rejected messages, and one local time everywhere."""

from __future__ import annotations

import re

import pytest

from participation.appeals import services as s
from participation.core.moderation import RejectionReason
from tests.appeals.conftest import submit
from tests.helpers import login_as


def _page(client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return response.get_data(as_text=True)


@pytest.mark.parametrize("who", ["resident", "moderator"])
def test_a_rejected_message_shows_no_answer_term(client, world, who):
    w = world
    appeal = submit(w)
    s.reject_appeal(appeal, w.moderator, RejectionReason.SEVERAL_PROBLEMS)
    login_as(client, getattr(w, who))
    url = f"/my/appeals/{appeal.id}" if who == "resident" else f"/backoffice/appeals/{appeal.id}"
    html = _page(client, url)
    assert "Отклонено" in html
    assert "Срок ответа" not in html


# --- 5. a weak topic suggestion is listed, not chosen -------------------------------------------

VAGUE = "Разметка стёрлась, и скамейка сломана, и яма"  # no topic above 35 % in this world
CLEAR = "На дороге огромная яма, пробил колесо, прошу заделать выбоину."


@pytest.fixture
def autoselect_min(app, monkeypatch):
    monkeypatch.setitem(app.config, "SUGGEST_AUTOSELECT_MIN", 0.5)


def _suggest_form(client, world, text: str) -> str:
    from tests.appeals.test_submit import _form

    data = _form(client, world, subcategory_id="", text=text, suggest="1")
    return client.post("/appeals/new", data=data).get_data(as_text=True)


def test_the_form_preselects_only_a_confident_suggestion(client, world, autoselect_min):
    login_as(client, world.resident)
    weak = _suggest_form(client, world, VAGUE)
    assert "Похоже, это:" in weak and "уверенность" in weak
    topics = weak.split('name="subcategory_id"')[1].split("</select>")[0]
    assert not re.search(r'<option selected value="\d', topics)
    box = weak.split('id="suggestions"')[1].split("</div>")[0]
    assert "Первая тема выбрана" not in box and "Выберите тему в списке ниже" in box
    strong = _suggest_form(client, world, CLEAR)
    assert f'<option selected value="{world.potholes.id}">' in strong
    assert "Первая тема выбрана" in strong.split('id="suggestions"')[1].split("</div>")[0]


def test_the_suggest_api_says_which_topic_to_preselect(client, world, autoselect_min):
    login_as(client, world.resident)
    weak = client.get("/api/appeals/suggest", query_string={"text": VAGUE}).json
    assert weak["suggestions"] and weak["selected"] is None
    strong = client.get("/api/appeals/suggest", query_string={"text": CLEAR}).json
    assert strong["selected"] == world.potholes.id == strong["suggestions"][0]["subcategory_id"]


# --- 1. the escalated message arrives with its history ------------------------------------------


def _photo(name: str):
    import io

    from werkzeug.datastructures import FileStorage

    from tests.appeals.test_submit import PNG

    return FileStorage(io.BytesIO(PNG), filename=name, content_type="image/png")


def _escalated(w):
    from tests.appeals.test_lifecycle import to_work

    appeal = submit(w, files=[_photo("яма-у-дома.png")])
    to_work(w, appeal)
    s.submit_draft(appeal, w.executor, "Яму засыпали щебнем 12 мая.", [_photo("щебень.png")])
    s.approve_answer(appeal, w.head)
    s.rate_appeal(appeal, w.resident, 2, "Щебень размыло через день, яма снова на месте.")
    review = s.review_cycle_of(appeal)
    s.assign_executor(review, w.gov_coordinator, w.gov_executor.id)
    return appeal, review


def test_the_review_card_shows_the_earlier_case(client, world):
    import sqlalchemy as sa

    from participation.core.outbox import OutboxMessage
    from participation.extensions import db

    w = world
    appeal, review = _escalated(w)
    login_as(client, w.gov_executor)
    html = _page(client, f"/backoffice/appeals/{review.id}")
    assert f'href="/backoffice/appeals/{appeal.id}"' in html
    for seen in (
        "Яму засыпали щебнем 12 мая.",  # the answer that was rated
        "Щебень размыло через день, яма снова на месте.",  # the resident's comment
        "2 из 5",
        "Исполнителев",  # who answered
        "Администрация г. Тестовска",
        "яма-у-дома.png",  # the resident's photo
        "щебень.png",  # the answer's photo
    ):
        assert seen in html, seen
    # The coordinator's notice already says how it was rated and why.
    notice = db.session.scalars(
        sa.select(OutboxMessage).where(OutboxMessage.user_id == w.gov_coordinator.id)
    ).first()
    assert "2 из 5" in notice.body and "Щебень размыло" in notice.body
    # The reviewer may open the earlier card and its files.
    earlier = _page(client, f"/backoffice/appeals/{appeal.id}")
    assert "Яму засыпали щебнем 12 мая." in earlier
    for link in re.findall(r'href="(/files/[^"]+)"', html):
        assert client.get(link).status_code == 200, link


@pytest.mark.parametrize("who", ["other_gov_executor", "town_coordinator", "other_resident"])
def test_the_earlier_case_opens_to_no_one_new(client, world, who):
    from participation.core.users import Role
    from tests import factories as f

    w = world
    appeal, review = _escalated(w)
    w.other_gov_executor = f.staff(w.government, Role.EXECUTOR, last_name="Другой")
    login_as(client, getattr(w, who))
    assert client.get(f"/backoffice/appeals/{review.id}").status_code == 404
    assert client.get(f"/backoffice/appeals/{appeal.id}").status_code == 404


# --- 4. one local time everywhere ---------------------------------------------------------------


def test_the_feed_and_the_mail_show_the_answer_time_of_the_message_page(
    app, client, world, monkeypatch
):
    from datetime import UTC, datetime
    from email.utils import parsedate_to_datetime

    import sqlalchemy as sa
    import time_machine

    from participation.core.outbox import Channel, OutboxMessage, build_email, relay_outbox
    from participation.extensions import db
    from tests.appeals.test_lifecycle import to_answered

    w = world
    # The platform's default zone (Moscow) is not the city's (Yekaterinburg, UTC+5).
    monkeypatch.setitem(app.config, "DEFAULT_TIMEZONE", "Europe/Moscow")
    with time_machine.travel(datetime(2026, 12, 5, 11, 45, tzinfo=UTC), tick=False):
        appeal = to_answered(w, submit(w))
        relay_outbox()
        login_as(client, w.resident)
        page = _page(client, f"/my/appeals/{appeal.id}")
        feed = _page(client, "/my/notifications")
    assert "05.12.2026 16:45" in page  # the answer, in the city's time
    assert "05.12.2026 16:45" in feed and "14:45" not in feed
    mail = db.session.scalars(
        sa.select(OutboxMessage)
        .where(OutboxMessage.channel == Channel.EMAIL, OutboxMessage.subject.contains("Ответ"))
        .order_by(OutboxMessage.id.desc())
    ).first()
    built = build_email(mail)
    assert "05.12.2026 16:45" in built.get_content()
    sent = parsedate_to_datetime(built["Date"])
    assert (sent.hour, sent.minute, sent.utcoffset().total_seconds()) == (16, 45, 5 * 3600)


# --- 2. the form offers only territories someone serves -----------------------------------------


@pytest.fixture
def kazan(world):
    """A region with no ЦУР and no rules (nobody serves it), and one served only for benches."""
    from participation.core.organizations import OrganizationKind as K
    from participation.core.territories import TerritoryLevel as L
    from tests import factories as f

    region = f.territory(L.REGION, parent=world.country, name="Республика Татарстан (тест)")
    kazan = f.territory(L.URBAN_OKRUG, parent=region, name="городской округ город Казань (тест)")
    chistopol = f.territory(L.URBAN_OKRUG, parent=region, name="город Чистополь (тест)")
    parks = f.organization(K.MUNICIPAL, chistopol, name="Чистопольские парки")
    from participation.appeals.routing import add_routing_rule

    add_routing_rule(world.benches.id, chistopol, parks)
    return kazan, chistopol


def _territory_options(html: str) -> str:
    return html.split('name="territory_id"')[1].split("</select>")[0]


def test_the_form_lists_only_served_territories(client, world, kazan):
    kazan, _ = kazan
    login_as(client, world.resident)
    options = _territory_options(_page(client, "/appeals/new"))
    assert "город Тестовск" in options  # the resident's own, served by rule and ЦУР
    assert re.search(rf'<option selected value="{world.city.id}">', options)
    assert "Чистополь" in options  # served for one topic
    assert "Казань" not in options  # served for none


def test_a_topic_narrows_the_territories_and_the_server_says_why(client, world, kazan):
    from participation.appeals.models import Appeal
    from tests.appeals.test_submit import _count, _form

    kazan, chistopol = kazan
    login_as(client, world.resident)
    data = _form(
        client, world, subcategory_id=str(world.potholes.id), territory_id=str(chistopol.id)
    )
    response = client.post("/appeals/new", data=data)
    assert response.status_code == 400 and _count(Appeal) == 0
    html = response.get_data(as_text=True)
    assert "нет исполнителя" in html and "Ямы и выбоины (тест)" in html
    options = _territory_options(html)  # the list now fits the chosen topic
    assert "город Тестовск" in options and "Чистополь" not in options
    # The small JSON endpoint the page's script narrows the list with.
    served = client.get(f"/appeals/new/territories?subcategory_id={world.benches.id}").json
    assert chistopol.id in served["territories"] and kazan.id not in served["territories"]
    served = client.get(f"/appeals/new/territories?subcategory_id={world.potholes.id}").json
    assert world.city.id in served["territories"] and chistopol.id not in served["territories"]
    assert client.get("/appeals/new/territories?subcategory_id=x").status_code == 400


def test_the_offered_territories_are_exactly_where_routing_finds_someone(world, kazan):
    from participation.appeals.routing import find_route, submission_territories
    from participation.core.errors import DomainError

    for topic in (world.potholes, world.marking, world.benches):
        offered = {t.id for t in submission_territories(subcategory_id=topic.id)}
        for territory in (world.city, world.town, *kazan):
            try:
                find_route(topic.id, territory)
                routed = True
            except DomainError:
                routed = False
            assert (territory.id in offered) == routed, (topic.name, territory.name)


# --- 7. the letters read aloud ------------------------------------------------------------------


@pytest.mark.parametrize(("days", "words"), [(30, "30 дней"), (21, "21 день"), (3, "3 дня")])
def test_the_answer_letter_agrees_with_any_organization_and_counts_days_in_russian(
    app, world, monkeypatch, days, words
):
    import sqlalchemy as sa

    from participation.core.outbox import Channel, OutboxMessage
    from participation.extensions import db
    from tests.appeals.test_lifecycle import to_answered

    monkeypatch.setitem(app.config, "APPEALS_RATING_DAYS", days)
    appeal = to_answered(world, submit(world))
    letter = db.session.scalars(
        sa.select(OutboxMessage).where(
            OutboxMessage.channel == Channel.EMAIL,
            OutboxMessage.subject == f"Ответ на сообщение № {appeal.number}",
        )
    ).one()
    org = appeal.executor_organization.display_name
    # No verb agreeing with the organization's name («Минстрой РБ ответила» read wrongly).
    assert f"получен ответ на ваше сообщение № {appeal.number}.\nОтвечает: {org}." in letter.body
    assert f"{org} ответила" not in letter.body
    assert f"(она действует {words})" in letter.body
