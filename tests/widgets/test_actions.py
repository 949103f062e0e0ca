"""Residents acting inside widgets: messages, survey answers, ballots, and what is counted."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from participation.appeals.inbox import Filters, load_inbox
from participation.appeals.models import Appeal, Channel
from participation.appeals.services import accept_appeal, confirm_addressee
from participation.appeals.workflow import Bucket
from participation.core.users import AccountLevel, Role
from participation.extensions import db
from participation.polls.models import SurveyParticipant, SurveyResponse
from participation.voting.models import Channel as VotingChannel
from participation.voting.models import RegisterEntry
from participation.widgets import services
from participation.widgets.models import COUNTERS, WidgetKind, WidgetSiteDay
from tests import factories as f
from tests.widgets.conftest import enable, flush_views, log_in, open_campaign, open_survey

SITE = "https://school1.example.ru"


def message_form(frame, world, **changes):
    key = re.search(r'name="submission_key" type="hidden" value="([^"]+)"', frame.html).group(1)
    data = {
        "submission_key": key,
        "subcategory_id": str(world.potholes.id),
        "text": "Яма на дороге у дома 5 по улице Ленина, машины объезжают по встречной полосе.",
        "territory_id": str(world.city.id),
        "address": "г. Тестовск, ул. Ленина, д. 5",
    }
    data.update(changes)
    return data


def counts(organization, site=SITE) -> dict[str, int]:
    flush_views()
    row = db.session.execute(
        sa.select(WidgetSiteDay).where(
            WidgetSiteDay.organization_id == organization.id, WidgetSiteDay.site == site
        )
    ).scalar_one_or_none()
    if row is None:
        return {}
    return {k: getattr(row, k) for k in COUNTERS}


def test_a_message_sent_from_the_widget_reaches_the_organizations_inbox(app, world, frame_for):
    cur_coordinator = f.staff(world.cur, Role.COORDINATOR, last_name="Цуров")
    frame = log_in(app, frame_for(enable(world.city_admin, world.administrator)), world.resident)
    frame.post("/message", message_form(frame, world))
    assert frame.status == 200, frame.html[:3000]
    appeal = db.session.scalar(sa.select(Appeal))
    assert f"зарегистрировано под номером {appeal.number}" in frame.html
    assert appeal.channel == Channel.WIDGET
    assert appeal.widget_organization_id == world.city_admin.id
    assert appeal.author_id == world.resident.id
    assert appeal.executor_organization_id == world.city_admin.id
    assert counts(world.city_admin) == {
        "views": 1,
        "logins": 1,
        "messages": 1,
        "survey_responses": 0,
        "ballots": 0,
    }
    # moderation, then the regional centre confirms: the city administration has it in «Новые»
    accept_appeal(appeal, world.moderator)
    confirm_addressee(appeal, cur_coordinator)
    db.session.flush()
    inbox = load_inbox(
        world.coordinator, world.city_admin, Filters(bucket=Bucket.NEW, channel=Channel.WIDGET)
    )
    assert [item.appeal.id for item in inbox.page.items] == [appeal.id]


def test_the_organization_is_the_codes_owner_whatever_site_shows_it(app, world, frame_for):
    code = enable(world.city_admin, world.administrator, site_url="https://city.example.ru")
    frame = log_in(app, frame_for(code), world.resident, origin="https://someone-else.example.org")
    frame.post("/message", message_form(frame, world))
    appeal = db.session.scalar(sa.select(Appeal))
    assert appeal.widget_organization_id == world.city_admin.id
    assert counts(world.city_admin, "https://someone-else.example.org")["messages"] == 1
    assert counts(world.town_admin, "https://someone-else.example.org") == {}


def test_the_form_offers_only_the_organizations_topics(app, world, frame_for):
    frame = log_in(app, frame_for(enable(world.school, world.school_admin)), world.resident)
    assert "Питание в школе (тест)" in frame.html
    assert "Ямы и выбоины (тест)" not in frame.html
    frame.post("/message", message_form(frame, world))  # potholes: not a school topic
    assert frame.status == 400
    assert "Эта тема здесь не принимается" in frame.html
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Appeal)) == 0
    frame.post("/message", message_form(frame, world, subcategory_id=str(world.school_food.id)))
    assert frame.status == 200
    assert db.session.scalar(sa.select(Appeal.executor_organization_id)) == world.school.id


def test_wrong_input_is_refused_next_to_the_field_and_nothing_is_saved(app, world, frame_for):
    frame = log_in(app, frame_for(enable(world.city_admin, world.administrator)), world.resident)
    for changes, message in [
        ({"text": ""}, "Опишите проблему."),
        ({"text": "x" * 2001}, "Текст слишком длинный"),
        ({"subcategory_id": ""}, "Выберите тему сообщения."),
        ({"subcategory_id": "abc"}, "Выберите тему сообщения."),
        ({"territory_id": str(world.region.id)}, "Выберите муниципальное образование"),
        ({"address": ""}, "Укажите адрес проблемы"),
    ]:
        frame.post("/message", message_form(frame, world, **changes))
        assert frame.status == 400, changes
        assert message in frame.html, changes
        assert 'class="error-text"' in frame.html
        assert "widget_token" in frame.fields  # still logged in
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Appeal)) == 0


def test_sending_the_same_form_twice_makes_one_message(app, world, frame_for):
    frame = log_in(app, frame_for(enable(world.city_admin, world.administrator)), world.resident)
    form = message_form(frame, world)
    tokens = {k: frame.fields[k] for k in ("csrf_token", "widget_token")}
    frame.post("/message", form)
    frame.client.post(f"/widget/{frame.code}/message", data={**tokens, **form})
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Appeal)) == 1
    assert counts(world.city_admin)["messages"] == 1


def test_without_login_the_message_form_asks_to_log_in(app, world, frame_for):
    frame = frame_for(enable(world.city_admin, world.administrator))
    frame.open()
    assert 'name="text"' not in frame.html
    frame.post("/message", message_form_without_key(world))
    assert frame.status == 401
    assert "Войдите через Госуслуги" in frame.html
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Appeal)) == 0


def message_form_without_key(world):
    return {"submission_key": "k" * 32, "subcategory_id": str(world.potholes.id), "text": "яма"}


def test_a_resident_who_may_not_send_messages_is_told_why(app, world, frame_for):
    app.config["APPEALS_MIN_ACCOUNT_LEVEL"] = AccountLevel.CONFIRMED.value
    try:
        simple = f.user(AccountLevel.SIMPLIFIED, registration_territory=world.city)
        frame = log_in(app, frame_for(enable(world.city_admin, world.administrator)), simple)
        assert 'name="text"' not in frame.html
        assert "подтвержд" in frame.html
    finally:
        app.config.pop("APPEALS_MIN_ACCOUNT_LEVEL")


# --- «Участвовать»: surveys and votes -----------------------------------------------------------


def participate(app, world, frame_for, user=None):
    code = enable(world.city_admin, world.administrator, kind=WidgetKind.PARTICIPATE)
    return log_in(app, frame_for(code), user or world.resident)


def test_the_list_holds_the_organizations_and_territorys_open_surveys_and_votes(
    app, world, frame_for
):
    mine = open_survey(world, title="Опрос администрации")
    regional = open_survey(world, world.government, world.region, title="Опрос республики")
    elsewhere = open_survey(world, world.town_admin, title="Опрос соседей")
    vote = open_campaign(world, title="Голосование в Тестовске")
    other_vote = open_campaign(world, world.town_admin, title="Голосование соседей")
    frame = participate(app, world, frame_for)
    for shown in (mine, regional, vote):
        assert shown.title in frame.html
    for hidden in (elsewhere, other_vote):
        assert hidden.title not in frame.html
    # the neighbours' survey cannot be reached through this widget by its id either
    frame.post(f"/surveys/{elsewhere.id}")
    assert frame.status == 404


def test_answering_a_survey_inside_the_widget(app, world, frame_for):
    survey = open_survey(world)
    frame = participate(app, world, frame_for)
    frame.post(f"/surveys/{survey.id}")
    assert frame.status == 200
    assert "Какой парк благоустроить первым?" in frame.html
    name = re.search(r'name="(q\d+)" value="(\d+)"', frame.html)
    frame.post(f"/surveys/{survey.id}/answer", {"section": "0", "action": "submit"})
    assert frame.status == 400  # the required question was not answered
    assert db.session.scalar(sa.select(sa.func.count()).select_from(SurveyResponse)) == 0
    frame.post(
        f"/surveys/{survey.id}/answer",
        {"section": "0", "action": "submit", name.group(1): name.group(2)},
    )
    assert frame.status == 200, frame.html[:2000]
    assert "Спасибо за ответы" in frame.html
    assert db.session.get(SurveyParticipant, (survey.id, world.resident.id)) is not None
    assert counts(world.city_admin)["survey_responses"] == 1
    frame.post(f"/surveys/{survey.id}")  # a second time: refused with the reason
    assert frame.status == 403
    assert "Вы уже ответили на этот опрос" in frame.html


def test_voting_inside_the_widget(app, world, frame_for):
    campaign = open_campaign(world)
    frame = participate(app, world, frame_for)
    frame.post(f"/votes/{campaign.id}")
    assert frame.status == 200
    assert "Набережная" in frame.html
    embankment = campaign.objects[1]
    frame.post(f"/votes/{campaign.id}/confirm")
    assert frame.status == 400 and "Выберите один объект" in frame.html
    frame.post(f"/votes/{campaign.id}/confirm", {"choices": str(embankment.id)})
    assert frame.status == 200 and "Подтвердите выбор" in frame.html
    frame.post(f"/votes/{campaign.id}/cast", {"choices": str(embankment.id)})
    assert frame.status == 200, frame.html[:2000]
    assert "Голос принят" in frame.html
    entry = db.session.scalar(sa.select(RegisterEntry))
    assert entry.user_id == world.resident.id and entry.channel == VotingChannel.WIDGET
    assert counts(world.city_admin)["ballots"] == 1
    frame.post(f"/votes/{campaign.id}/cast", {"choices": str(embankment.id)})
    assert frame.status == 409
    assert "уже проголосовали" in frame.html
    assert counts(world.city_admin)["ballots"] == 1


def test_a_resident_of_another_town_is_refused_with_the_reason(app, world, frame_for):
    campaign = open_campaign(world)
    frame = participate(app, world, frame_for, user=world.neighbour)
    frame.post(f"/votes/{campaign.id}")
    assert frame.status == 403
    assert "Голосование" in frame.html  # back on the list, with the notice above it
    assert db.session.scalar(sa.select(sa.func.count()).select_from(RegisterEntry)) == 0


def test_a_message_widget_does_not_take_votes(app, world, frame_for):
    campaign = open_campaign(world)
    frame = log_in(app, frame_for(enable(world.city_admin, world.administrator)), world.resident)
    frame.post(f"/votes/{campaign.id}/cast", {"choices": str(campaign.objects[0].id)})
    assert frame.status == 404
    assert db.session.scalar(sa.select(sa.func.count()).select_from(RegisterEntry)) == 0


# --- what is counted ------------------------------------------------------------------------------


def test_views_are_counted_per_site_from_the_origin_parameter_or_the_referrer(world, frame_for):
    frame = frame_for(enable(world.city_admin, world.administrator))
    frame.open("https://school1.example.ru/some/page?x=1")
    frame.open("HTTPS://School1.Example.RU:443")
    frame.open(None, Referer="http://other.example.org:8080/news")
    frame.open("javascript:alert(1)")
    frame.open(None, Referer="http://localhost/admin/widget/")  # the admin's own preview
    flush_views()
    stats = {s.site: s.views for s in services.site_statistics(world.city_admin)}
    assert stats == {
        "https://school1.example.ru": 2,
        "http://other.example.org:8080": 1,
        "": 1,
    }


def test_site_statistics_group_in_sql_and_filter_by_period(world):
    from datetime import timedelta

    from participation.core.db import utcnow

    today = utcnow().date()
    for day in (today, today, today - timedelta(days=40)):
        services.record_use(world.city_admin.id, SITE, "views", on=day)
    services.record_use(world.city_admin.id, SITE, "ballots", on=today)
    services.record_use(world.school.id, SITE, "views", on=today)
    (row,) = services.site_statistics(world.city_admin)
    assert (row.views, row.ballots, row.first_day) == (3, 1, today - timedelta(days=40))
    (recent,) = services.site_statistics(world.city_admin, since=today - timedelta(days=29))
    assert recent.views == 2


def test_site_addresses_are_normalized_or_dropped():
    assert services.normalize_site("https://Школа.example") == ""  # not punycode: dropped
    assert services.normalize_site("https://xn--80ajghhoc2aj1c.xn--p1ai/x") == (
        "https://xn--80ajghhoc2aj1c.xn--p1ai"
    )
    assert services.normalize_site("http://127.0.0.1:8000/") == "http://127.0.0.1:8000"
    assert services.normalize_site("http://user:pw@example.org") == ""
    assert services.normalize_site("ftp://example.org") == ""
    assert services.normalize_site("https://example.org:99999") == ""
    assert services.normalize_site("https://" + "a" * 250 + ".ru") == ""


def test_the_widget_page_costs_the_same_number_of_queries_for_long_lists(world, client):
    from sqlalchemy import event

    from tests.widgets.conftest import open_campaign, open_survey

    code = enable(world.city_admin, world.administrator, kind=WidgetKind.PARTICIPATE)

    def queries() -> int:
        statements = []

        def count(conn, cursor, statement, *args):
            statements.append(statement)

        event.listen(db.engine, "before_cursor_execute", count)
        try:
            response = client.get(f"/widget/{code}", query_string={"origin": SITE})
        finally:
            event.remove(db.engine, "before_cursor_execute", count)
        assert response.status_code == 200
        return len(statements)

    def add(n: int) -> None:
        for i in range(n):
            # each from another body of the region: the page must not load them one by one
            body = f.organization(territory_=world.region, name=f"Ведомство {i}")
            open_survey(world, body, world.region, title=f"Опрос {i}")
            open_campaign(world, body, world.region, title=f"Голосование {i}")

    add(2)
    few = queries()
    add(12)
    many = queries()
    assert many == few
    assert many <= 6  # widget, surveys, votes, the view counter (+ the savepoint pair)


def test_with_redis_views_are_buffered_and_added_by_the_sweep(app, world, frame_for):
    if not app.config["REDIS_URL"]:
        pytest.skip("буфер просмотров работает через Redis: задайте TEST_REDIS_URL")
    from participation.core.jobs import run_sweeps

    frame = frame_for(enable(world.city_admin, world.administrator))
    for _ in range(3):
        frame.open()
    assert services.site_statistics(world.city_admin) == []  # no database write per view
    run_sweeps()
    (row,) = services.site_statistics(world.city_admin)
    assert (row.site, row.views) == (SITE, 3)
    frame.open()
    run_sweeps()
    assert services.site_statistics(world.city_admin)[0].views == 4  # nothing counted twice


def test_photos_sent_from_the_widget_are_kept_after_an_error(app, world, frame_for):
    import io

    from participation.core.files import Attachment
    from tests.appeals.test_submit import PNG

    frame = log_in(app, frame_for(enable(world.city_admin, world.administrator)), world.resident)
    form = message_form(frame, world)
    frame.post(
        "/message",
        {**form, "text": "", "attachments": [(io.BytesIO(PNG), "яма.png")]},
        content_type="multipart/form-data",
    )
    assert frame.status == 400 and "яма.png" in frame.html and "убрать" in frame.html
    staged = re.findall(r'name="staged_files" value="([^"]+)"', frame.html)
    frame.post("/message", {**form, "staged_files": staged})
    assert frame.status == 200, frame.html[:3000]
    appeal = db.session.scalar(sa.select(Appeal))
    photo = db.session.scalars(sa.select(Attachment)).one()
    assert (photo.attached_to_type, photo.attached_to_id) == ("appeal", str(appeal.id))
