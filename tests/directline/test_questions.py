"""Asking questions: the window in the host's time zone, eligibility, bad input, double submit."""

from datetime import timedelta

import pytest
import sqlalchemy as sa

from participation.core.errors import DomainError, FieldError
from participation.core.users import AccountLevel
from participation.directline import services
from participation.directline.models import DirectLine, Phase, Question, QuestionState
from participation.extensions import db
from tests.directline.conftest import (
    AFTER,
    COLLECTING,
    LIVE,
    ask,
    category,
    local,
    make_event,
    naive,
    new_key,
    travel,
)


def count_questions() -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(Question))


def test_times_entered_as_local_wall_clock_are_kept_in_utc(world):
    event = make_event(world)
    # 1 Dec 09:00 in Vladivostok (UTC+10) is 1 Dec 00:00 UTC (not the app's default zone).
    assert event.questions_open_at == local(2026, 12, 1, 9, 0)
    assert event.questions_open_at.hour == 23 and event.questions_open_at.day == 30
    assert event.timezone == "Asia/Vladivostok"


@pytest.mark.parametrize(
    ("moment", "accepted"),
    [
        (local(2026, 12, 1, 8, 59, 59), False),  # one second before the window opens
        (local(2026, 12, 1, 9, 0, 0), True),  # the opening moment itself
        (local(2026, 12, 10, 13, 59, 59), True),  # during the broadcast, last second
        (local(2026, 12, 10, 14, 0, 0), False),  # the closing moment: closed
    ],
)
def test_window_boundaries_in_the_hosts_time_zone(world, moment, accepted):
    event = make_event(world)
    with travel(moment):
        if accepted:
            question = ask(event, world.resident)
            assert question.state == QuestionState.NEW
        else:
            with pytest.raises(DomainError, match="Приём вопросов"):
                ask(event, world.resident)
            assert count_questions() == 0


def test_phases_follow_the_clock(world):
    event = make_event(world)
    assert event.phase(local(2026, 11, 30, 12, 0)) == Phase.ANNOUNCED
    assert event.phase(COLLECTING) == Phase.COLLECTING
    assert event.phase(local(2026, 12, 10, 12, 0)) == Phase.LIVE
    assert event.phase(LIVE) == Phase.LIVE
    assert event.phase(local(2026, 12, 10, 14, 0)) == Phase.FINISHED


def test_window_closing_before_the_broadcast_ends(world):
    event = make_event(world, questions_close_at=naive(2026, 12, 10, 12, 30))
    with travel(local(2026, 12, 10, 12, 29)):
        ask(event, world.resident)
    with travel(local(2026, 12, 10, 12, 30)), pytest.raises(DomainError, match="закончился"):
        ask(event, world.resident2)


def test_window_not_yet_open_says_so(world):
    event = make_event(world)
    with travel(local(2026, 11, 30, 12, 0)), pytest.raises(DomainError, match="ещё не начался"):
        ask(event, world.resident)


@pytest.mark.parametrize(
    ("who", "message"),
    [
        ("simplified", "учётная запись"),
        ("outsider", "вне территории"),
    ],
)
def test_eligibility_is_checked(world, who, message):
    event = make_event(world)
    with travel(COLLECTING), pytest.raises(DomainError, match=message):
        ask(event, getattr(world, who))
    assert count_questions() == 0


def test_level_is_the_events_choice(world):
    event = make_event(world, min_account_level=AccountLevel.SIMPLIFIED)
    with travel(COLLECTING):
        assert ask(event, world.simplified).author_id == world.simplified.id


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"text": ""}, "text", "Напишите вопрос"),
        ({"text": None}, "text", "Напишите вопрос"),
        ({"text": "   \n "}, "text", "Напишите вопрос"),
        ({"text": "Почему?"}, "text", "слишком короткий"),
        ({"text": "а" * 2001}, "text", "слишком длинный"),
        ({"category_id": None}, "category_id", "Выберите тему"),
        ({"category_id": -1}, "category_id", "Выберите тему"),
        ({"territory_id": None}, "territory_id", "муниципальное образование"),
        ({"address": "ул. " + "д" * 600}, "address", "Адрес не длиннее"),
        ({"submission_key": "short"}, "submission_key", "Форма устарела"),
    ],
)
def test_bad_input_is_refused_with_a_russian_message_and_nothing_saved(
    world, change, field, message
):
    event = make_event(world)
    with travel(COLLECTING), pytest.raises(FieldError, match=message) as caught:
        services.submit_question(
            event,
            world.resident,
            **{
                "submission_key": new_key(),
                "category_id": category(event).id,
                "text": "Когда отремонтируют дорогу на улице Ленина?",
                "territory_id": world.city.id,
                **change,
            },
        )
    assert caught.value.field == field
    assert count_questions() == 0


def test_category_and_territory_of_another_event_are_refused(world):
    event = make_event(world)
    other = make_event(world, host=world.other_gov, territory_id=None)
    with travel(COLLECTING):
        with pytest.raises(FieldError, match="Выберите тему"):
            ask(event, world.resident, category_id=category(other).id)
        with pytest.raises(FieldError, match="муниципальное"):
            ask(event, world.resident, territory_id=world.other_city.id)
    assert count_questions() == 0


def test_the_same_form_sent_twice_makes_one_question(world):
    event = make_event(world)
    key = new_key()
    with travel(COLLECTING):
        first = ask(event, world.resident, submission_key=key)
        second = services.submit_question(
            event,
            world.resident,
            submission_key=key,
            category_id=category(event).id,
            text="Совсем другой текст, но та же форма.",
            territory_id=world.city.id,
        )
    assert second.created is False and second.question.id == first.id
    assert count_questions() == 1


def test_author_is_told_the_question_was_received(world):
    from participation.core.outbox import OutboxMessage

    event = make_event(world)
    with travel(COLLECTING):
        question = ask(event, world.resident)
    notes = db.session.scalars(
        sa.select(OutboxMessage).where(OutboxMessage.user_id == world.resident.id)
    ).all()
    assert any(f"№ {question.id}" in n.subject for n in notes)


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"title": " "}, "title", "Укажите название"),
        ({"speaker": ""}, "speaker", "кто отвечает"),
        ({"questions_open_at": None}, "questions_open_at", "начать приём"),
        ({"ends_at": naive(2026, 12, 10, 11, 0)}, "ends_at", "закончиться позже"),
        ({"questions_open_at": naive(2026, 12, 11, 9, 0)}, "questions_open_at", "не позже начала"),
        (
            {"questions_close_at": naive(2026, 12, 10, 15, 0)},
            "questions_close_at",
            "не позже конца",
        ),
        ({"stream_url": "javascript:alert(1)"}, "stream_url", "http"),
        ({"stream_url": ""}, "stream_url", "трансляцию"),
        ({"categories": []}, "categories", "хотя бы одну"),
        ({"categories": ["roads", "nonsense"]}, "categories", "из списка"),
        ({"min_account_level": "gold"}, "min_account_level", "уровень"),
    ],
)
def test_event_form_errors(world, change, field, message):
    with pytest.raises(FieldError, match=message) as caught:
        make_event(world, **change)
    assert caught.value.field == field
    assert db.session.scalar(sa.select(sa.func.count()).select_from(DirectLine)) == 0


def test_eligibility_territory_must_be_the_hosts(world):
    with pytest.raises(FieldError, match="территорию из списка"):
        make_event(world, territory_id=world.other_region.id)


def test_update_keeps_topics_used_in_questions(world):
    event = make_event(world)
    with travel(COLLECTING):
        ask(event, world.resident, key="health")
    data = services.EventInput(
        title=event.title,
        speaker=event.speaker,
        description=None,
        questions_open_at=event.questions_open_at,
        questions_close_at=event.questions_close_at,
        starts_at=event.starts_at,
        ends_at=event.ends_at + timedelta(hours=1),
        stream_url=event.stream_url,
        recording_url="https://tv.example/rec/1",
        categories=["roads"],
        min_account_level=AccountLevel.STANDARD,
        territory_id=None,
    )
    with pytest.raises(FieldError, match="уже выбрали"):
        services.update_event(event, world.host_authorized, data)
    data = services.EventInput(**{**data.__dict__, "categories": ["roads", "health", "waste"]})
    services.update_event(event, world.host_authorized, data)
    assert [c.name for c in event.categories] == ["Дороги", "Мусор", "Здравоохранение"]
    assert event.recording_url == "https://tv.example/rec/1"
    assert event.phase(AFTER - timedelta(minutes=1)) == Phase.LIVE  # now ends at 15:00
