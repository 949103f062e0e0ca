"""The pages over HTTP: asking, supporting, privacy of unpublished questions, moderators' pages,
the live page with and without JavaScript, and permissions (others' objects answer 404)."""

import re

import pytest
import sqlalchemy as sa

from participation.appeals.models import Appeal
from participation.core.users import Role
from participation.directline import services
from participation.directline.models import Question, QuestionState, QuestionSupport
from participation.extensions import db
from tests import factories as f
from tests.directline.conftest import (
    AFTER,
    COLLECTING,
    LIVE,
    ask,
    category,
    make_event,
    published,
    travel,
)
from tests.helpers import csrf_token, login_as


def fresh(question) -> Question:
    """The row as the requests left it (they run in their own sessions)."""
    db.session.expire_all()
    return db.session.get(Question, question.id)


def html(response) -> str:
    return response.get_data(as_text=True)


def test_index_and_event_page_are_public(world, client):
    event = make_event(world)
    with travel(COLLECTING):
        q = published(event, world.resident, world.moderator, "Когда построят мост через реку?")
        hidden = ask(event, world.resident2, "Этот вопрос ещё на модерации, его не видно.")
        index = client.get("/directline/")
        page = client.get(f"/directline/{event.id}")
    assert index.status_code == 200 and event.title in html(index)
    body = html(page)
    assert page.status_code == 200
    assert q.text in body and hidden.text not in body
    assert "Идёт приём вопросов" in body
    assert "Глава Республики" in body
    # Times in the host's zone: 12:00 in Vladivostok, not the app default zone.
    assert "10.12.2026 12:00" in body


def test_unpublished_question_is_404_for_others_and_visible_to_its_author(world, client):
    event = make_event(world)
    with travel(COLLECTING):
        q = ask(event, world.resident)
    url = f"/directline/{event.id}/questions/{q.id}"
    assert client.get(url).status_code == 404
    login_as(client, world.resident2)
    assert client.get(url).status_code == 404
    login_as(client, world.resident)
    response = client.get(url)
    assert response.status_code == 200 and "На модерации" in html(response)


def test_question_of_another_event_is_404(world, client):
    event = make_event(world)
    other = make_event(world, title="Другая прямая линия")
    with travel(COLLECTING):
        q = published(event, world.resident, world.moderator)
    assert client.get(f"/directline/{other.id}/questions/{q.id}").status_code == 404
    assert client.get(f"/directline/{event.id}/questions/{q.id}").status_code == 200
    assert client.get("/directline/999999").status_code == 404


def test_ask_over_http_with_errors_then_success(world, client):
    event = make_event(world)
    url = f"/directline/{event.id}/ask"
    with travel(COLLECTING):
        login_as(client, world.resident)  # sessions expire by the (travelling) clock
        page = html(client.get(url))
        key = re.search(r'name="submission_key" type="hidden" value="([^"]+)"', page).group(1)
        bad = client.post(
            url,
            data={
                "csrf_token": csrf_token(client, url),
                "submission_key": key,
                "category_id": category(event).id,
                "text": "Коротко",
                "territory_id": "abc",
            },
        )
        assert bad.status_code == 400
        assert "Вопрос слишком короткий" in html(bad)
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Question)) == 0
        form = {
            "csrf_token": csrf_token(client, url),
            "submission_key": key,
            "category_id": category(event).id,
            "text": "Когда в нашем микрорайоне появится новая поликлиника?",
            "territory_id": world.city.id,
            "address": "ул. Садовая, 3",
        }
        ok = client.post(url, data=form)
        twice = client.post(url, data=form)
        my = html(client.get(f"/directline/{event.id}/my"))
    assert ok.status_code == 302 and twice.status_code == 302
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Question)) == 1
    assert "Когда в нашем микрорайоне" in my and "На модерации" in my


def test_ask_page_explains_why_one_cannot_ask(world, client):
    event = make_event(world)
    with travel(COLLECTING):
        login_as(client, world.simplified)
        page = html(client.get(f"/directline/{event.id}/ask"))
    assert "учётная запись" in page and 'name="text"' not in page
    with travel(AFTER):
        login_as(client, world.resident)
        page = html(client.get(f"/directline/{event.id}/ask"))
    assert "Сейчас вопросы не принимаются" in page


def test_ask_needs_login(world, client):
    event = make_event(world)
    response = client.get(f"/directline/{event.id}/ask")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_support_over_http_once(world, client):
    event = make_event(world)
    with travel(COLLECTING):
        q = published(event, world.resident, world.moderator)
        login_as(client, world.resident2)
        token = csrf_token(client, f"/directline/{event.id}")
        url = f"/directline/{event.id}/questions/{q.id}/support"
        first = client.post(url, data={"csrf_token": token})
        second = client.post(url, data={"csrf_token": token}, follow_redirects=True)
    assert first.status_code == 302
    assert "уже поддержали" in html(second)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(QuestionSupport)) == 1


def test_support_of_an_unpublished_question_is_404(world, client):
    event = make_event(world)
    with travel(COLLECTING):
        q = ask(event, world.resident)
        login_as(client, world.resident2)
        token = csrf_token(client, f"/directline/{event.id}")
        response = client.post(
            f"/directline/{event.id}/questions/{q.id}/support", data={"csrf_token": token}
        )
    assert response.status_code == 404


@pytest.mark.parametrize("who", ["resident", "host_executor", "foreign_moderator"])
def test_moderation_pages_are_404_for_others(world, client, who):
    event = make_event(world)
    with travel(COLLECTING):
        q = ask(event, world.resident)
    login_as(client, getattr(world, who))
    base = f"/backoffice/directline/{event.id}"
    for path in ("", "/broadcast", "/results", "/edit"):
        assert client.get(base + path).status_code == 404, path
    token = csrf_token(client, "/")
    response = client.post(
        f"{base}/questions/{q.id}/publish", data={"csrf_token": token, "state": "new"}
    )
    assert response.status_code == 404
    assert fresh(q).state == QuestionState.NEW


@pytest.mark.parametrize("who", ["moderator", "host_moderator", "host_authorized"])
def test_moderators_of_the_operator_and_of_the_host_may_moderate(world, client, who):
    event = make_event(world)
    with travel(COLLECTING):
        q = ask(event, world.resident)
        login_as(client, getattr(world, who))
        page = client.get(f"/backoffice/directline/{event.id}")
        assert page.status_code == 200 and q.text in html(page)
        token = csrf_token(client, f"/backoffice/directline/{event.id}")
        response = client.post(
            f"/backoffice/directline/{event.id}/questions/{q.id}/publish",
            data={"csrf_token": token, "state": "new"},
        )
    assert response.status_code == 302
    assert fresh(q).state == QuestionState.PUBLISHED


def test_question_of_another_event_cannot_be_moderated_through_this_one(world, client):
    event = make_event(world)
    other = make_event(world, host=world.other_gov, territory_id=None)
    with travel(COLLECTING):
        foreign = ask(other, world.outsider)
        login_as(client, world.host_moderator)
        token = csrf_token(client, f"/backoffice/directline/{event.id}")
        response = client.post(
            f"/backoffice/directline/{event.id}/questions/{foreign.id}/publish",
            data={"csrf_token": token, "state": "new"},
        )
    assert response.status_code == 404
    assert fresh(foreign).state == QuestionState.NEW


def test_unknown_action_is_404(world, client):
    event = make_event(world)
    with travel(COLLECTING):
        q = ask(event, world.resident)
    login_as(client, world.moderator)
    token = csrf_token(client, f"/backoffice/directline/{event.id}")
    response = client.post(
        f"/backoffice/directline/{event.id}/questions/{q.id}/destroy", data={"csrf_token": token}
    )
    assert response.status_code == 404


def test_reject_without_reason_over_http_says_so(world, client):
    event = make_event(world)
    with travel(COLLECTING):
        q = ask(event, world.resident)
        login_as(client, world.moderator)
        token = csrf_token(client, f"/backoffice/directline/{event.id}")
        response = client.post(
            f"/backoffice/directline/{event.id}/questions/{q.id}/reject",
            data={"csrf_token": token, "state": "new"},
            follow_redirects=True,
        )
    assert "Выберите причину отклонения" in html(response)
    assert fresh(q).state == QuestionState.NEW


def test_live_page_works_without_javascript_and_json_updates(world, client):
    event = make_event(world)
    with travel(COLLECTING):
        q = published(event, world.resident, world.moderator, "Вопрос, который прозвучит в эфире.")
    with travel(LIVE):
        services.put_on_air(q, world.moderator)
        page = client.get(f"/directline/{event.id}/live")
        data = client.get(f"/directline/{event.id}/live.json").get_json()
    body = html(page)
    assert "Вопрос, который прозвучит в эфире." in body
    assert ">Обновить</a>" in body
    assert 'http-equiv="refresh"' not in body
    assert "<script>" not in body and "js/directline.js" in body
    assert data["phase"] == "live" and data["current"]["id"] == q.id and data["answered"] == []
    with travel(LIVE):
        services.mark_answered(q, world.moderator, answer_text="Ответ дан.", answer_url=None)
        data = client.get(f"/directline/{event.id}/live.json").get_json()
    assert data["current"] is None
    assert [a["id"] for a in data["answered"]] == [q.id]
    assert data["answered"][0]["answer_text"] == "Ответ дан."


def test_live_json_shows_nothing_unpublished_or_personal(world, client):
    event = make_event(world)
    with travel(COLLECTING):
        published(event, world.resident, world.moderator)
        ask(event, world.resident2, "Секретный вопрос на модерации.")
    with travel(LIVE):
        raw = client.get(f"/directline/{event.id}/live.json").get_data(as_text=True)
    assert "Секретный" not in raw and world.resident.last_name not in raw


def test_convert_twice_over_http_makes_one_message(world, client):
    event = make_event(world)
    with travel(COLLECTING):
        q = published(event, world.resident, world.moderator)
    with travel(AFTER):
        login_as(client, world.moderator)
        token = csrf_token(client, f"/backoffice/directline/{event.id}/results")
        url = f"/backoffice/directline/{event.id}/questions/{q.id}/convert"
        client.post(url, data={"csrf_token": token})
        second = client.post(url, data={"csrf_token": token}, follow_redirects=True)
    assert "уже передан как сообщение" in html(second)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Appeal)) == 1


def test_create_event_over_http(world, client):
    login_as(client, world.host_authorized)
    url = "/backoffice/directline/new"
    token = csrf_token(client, url)
    form = {
        "csrf_token": token,
        "host_id": world.government.id,
        "title": "Прямая линия с Главой",
        "speaker": "Глава Республики",
        "questions_open_at": "2026-12-01T09:00",
        "questions_close_at": "10.12.2026 14:00",
        "starts_at": "2026-12-10T12:00",
        "ends_at": "2026-12-10T11:00",  # before the start
        "stream_url": "https://tv.example/live",
        "categories": ["roads", "health"],
        "min_account_level": "confirmed",
        "territory_id": world.region.id,
    }
    bad = client.post(url, data=form)
    assert bad.status_code == 400 and "Эфир должен закончиться позже" in html(bad)
    nonsense = client.post(url, data={**form, "starts_at": "завтра"})
    assert nonsense.status_code == 400 and "Введите дату и время" in html(nonsense)
    ok = client.post(url, data={**form, "ends_at": "2026-12-10T14:00"})
    assert ok.status_code == 302
    from participation.directline.models import DirectLine

    event = db.session.scalar(sa.select(DirectLine))
    assert event.starts_at.isoformat() == "2026-12-10T02:00:00+00:00"  # 12:00 UTC+10
    assert [c.name for c in event.categories] == ["Дороги", "Здравоохранение"]
    # A host the person does not work for is refused.
    foreign = client.post(url, data={**form, "host_id": world.other_gov.id})
    assert foreign.status_code == 400 and "Выберите организацию" in html(foreign)


def test_resident_cannot_open_staff_pages(world, client):
    login_as(client, world.resident)
    assert client.get("/backoffice/directline/").status_code == 404
    assert client.get("/backoffice/directline/new").status_code == 404


def test_event_page_bounds_its_queries(world, client):
    """The public page costs the same number of queries with 3 or 30 questions."""
    event = make_event(world)

    def queries_for_page() -> int:
        counter = {"n": 0}

        def count(*_args, **_kw):
            counter["n"] += 1

        engine = db.session.get_bind()
        sa.event.listen(engine, "before_cursor_execute", count)
        try:
            with travel(COLLECTING):
                assert client.get(f"/directline/{event.id}?size=50").status_code == 200
        finally:
            sa.event.remove(engine, "before_cursor_execute", count)
        return counter["n"]

    with travel(COLLECTING):
        for _ in range(3):
            published(event, world.resident, world.moderator)
    few = queries_for_page()
    with travel(COLLECTING):
        for _ in range(27):
            q = published(event, world.resident2, world.moderator)
            services.support_question(q, world.resident3)
    assert queries_for_page() == few


def test_ask_after_the_window_closed_says_so_and_saves_nothing(world, client):
    event = make_event(world)
    url = f"/directline/{event.id}/ask"
    with travel(COLLECTING):
        login_as(client, world.resident)
        token = csrf_token(client, url)
    with travel(AFTER):
        login_as(client, world.resident)
        response = client.post(
            url,
            data={
                "csrf_token": token,
                "submission_key": "k" * 32,
                "category_id": category(event).id,
                "text": "Вопрос, отправленный после окончания приёма.",
                "territory_id": world.city.id,
            },
        )
    assert response.status_code == 400
    assert "Приём вопросов закончился" in html(response)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Question)) == 0


def test_live_json_answers_not_modified_until_something_changes(world, client):
    event = make_event(world)
    with travel(COLLECTING):
        q = published(event, world.resident, world.moderator)
        other = published(event, world.resident2, world.moderator)
    url = f"/directline/{event.id}/live.json"
    with travel(LIVE):
        first = client.get(url)
        etag = first.headers["ETag"]
        same = client.get(url, headers={"If-None-Match": etag})
        assert same.status_code == 304 and same.get_data() == b""
        services.shortlist_question(other, world.moderator)  # not shown live: no change
        assert client.get(url, headers={"If-None-Match": etag}).status_code == 304
        services.put_on_air(q, world.moderator)
        changed = client.get(url, headers={"If-None-Match": etag})
        assert changed.status_code == 200 and changed.get_json()["current"]["id"] == q.id
        etag = changed.headers["ETag"]
        services.mark_answered(q, world.moderator, answer_text="Да.", answer_url=None)
        answered = client.get(url, headers={"If-None-Match": etag})
        assert answered.status_code == 200 and answered.get_json()["answered"][0]["id"] == q.id
        etag = answered.headers["ETag"]
        services.update_answer(q, world.moderator, answer_text="Да, в мае.", answer_url=None)
        corrected = client.get(url, headers={"If-None-Match": etag})
        assert corrected.get_json()["answered"][0]["answer_text"] == "Да, в мае."
        etag = corrected.headers["ETag"]
    with travel(AFTER):  # the phase changed by the clock alone
        finished = client.get(url, headers={"If-None-Match": etag})
    assert finished.status_code == 200 and finished.get_json()["phase"] == "finished"


def test_visitors_are_invited_to_log_in_to_support(world, client):
    event = make_event(world)
    with travel(COLLECTING):
        q = published(event, world.resident, world.moderator)
        page = html(client.get(f"/directline/{event.id}"))
        detail = html(client.get(f"/directline/{event.id}/questions/{q.id}"))
    assert "Войдите, чтобы поддержать" in page and "/support" not in page
    assert "Войдите, чтобы поддержать вопрос" in detail


def test_the_regional_centre_moderates_its_region_s_direct_lines(world, client):
    """ЦУР's coordinator runs the region head's direct line, not another region's."""
    coordinator = f.staff(world.cur, Role.COORDINATOR, last_name="Координатор ЦУР")
    event = make_event(world)
    foreign = make_event(
        world, host=world.other_gov, title="Прямая линия области", territory_id=None
    )
    with travel(COLLECTING):
        q = ask(event, world.resident)
        login_as(client, coordinator)
        listing = html(client.get("/backoffice/directline/"))
        assert event.title in listing and foreign.title not in listing
        assert client.get(f"/backoffice/directline/{foreign.id}").status_code == 404
        token = csrf_token(client, f"/backoffice/directline/{event.id}")
        response = client.post(
            f"/backoffice/directline/{event.id}/questions/{q.id}/publish",
            data={"csrf_token": token, "state": "new"},
        )
    assert response.status_code == 302
    assert fresh(q).state == QuestionState.PUBLISHED


def test_broadcast_times_name_the_zone_as_residents_say_it(world, client):
    event = make_event(world)
    with travel(COLLECTING):
        for page in ("/directline/", f"/directline/{event.id}"):
            text = html(client.get(page))
            assert "владивостокское время (МСК+7)" in text, page
            assert "время местное" not in text and "Asia/Vladivostok" not in text
