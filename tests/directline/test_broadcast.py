"""Moderation and the broadcast: the workflow table, shortlist order, on air, answered order."""

from datetime import timedelta

import pytest
import sqlalchemy as sa

from participation.core.errors import Conflict, FieldError
from participation.core.workflow import InvalidTransition
from participation.directline import queries, services
from participation.directline.models import Question, QuestionState
from participation.directline.workflow import WORKFLOW, Action, Actor
from participation.extensions import db
from tests.directline.conftest import AFTER, COLLECTING, LIVE, ask, make_event, published, travel

S = QuestionState


@pytest.mark.parametrize(
    ("state", "allowed"),
    [
        (S.NEW, {Action.PUBLISH, Action.REJECT, Action.MERGE}),
        (S.PUBLISHED, {Action.REJECT, Action.MERGE, Action.SHORTLIST, Action.ON_AIR}),
        (S.SHORTLISTED, {Action.UNSHORTLIST, Action.REJECT, Action.MERGE, Action.ON_AIR}),
        (S.ON_AIR, {Action.ANSWER, Action.OFF_AIR}),
        (S.ANSWERED, set()),
        (S.REJECTED, set()),
        (S.MERGED, set()),
    ],
)
def test_workflow_table(state, allowed):
    assert set(WORKFLOW.actions(state, [Actor.MODERATOR])) == allowed


def test_reject_needs_a_reason_and_tells_the_author(world):
    from participation.core.outbox import OutboxMessage

    event = make_event(world)
    with travel(COLLECTING):
        q = ask(event, world.resident)
        with pytest.raises(FieldError, match="причину"):
            services.reject_question(q, world.moderator, None)
        with pytest.raises(FieldError, match="причину"):
            services.reject_question(q, world.moderator, "rude")
        assert q.state == S.NEW
        services.reject_question(q, world.moderator, "third_party_data")
    assert q.state == S.REJECTED and q.moderated_by_id == world.moderator.id
    body = db.session.scalars(
        sa.select(OutboxMessage.body).where(OutboxMessage.user_id == world.resident.id)
    ).all()
    assert any("Персональные данные третьих лиц" in b for b in body)


def test_stale_form_is_refused(world):
    event = make_event(world)
    with travel(COLLECTING):
        q = ask(event, world.resident)
        services.publish_question(q, world.moderator, expected_state="new")
        with pytest.raises(InvalidTransition, match="уже обработан"):
            services.publish_question(q, world.moderator, expected_state="new")


def test_shortlist_order_and_moves(world):
    event = make_event(world)
    with travel(COLLECTING):
        a, b, c = (published(event, world.resident, world.moderator) for _ in range(3))
        for q in (a, b, c):
            services.shortlist_question(q, world.moderator)
        assert [q.id for q in queries.shortlist(event)] == [a.id, b.id, c.id]
        services.move_in_shortlist(c, world.moderator, "up")
        assert [q.id for q in queries.shortlist(event)] == [a.id, c.id, b.id]
        services.move_in_shortlist(a, world.moderator, "up")  # already first: nothing moves
        services.move_in_shortlist(a, world.moderator, "down")
        assert [q.id for q in queries.shortlist(event)] == [c.id, a.id, b.id]
        services.unshortlist_question(a, world.moderator)
        assert a.shortlist_position is None and a.state == S.PUBLISHED
        assert [q.id for q in queries.shortlist(event)] == [c.id, b.id]
        with pytest.raises(FieldError):
            services.move_in_shortlist(b, world.moderator, "sideways")


def test_on_air_only_during_the_broadcast(world):
    event = make_event(world)
    with travel(COLLECTING):
        q = published(event, world.resident, world.moderator)
        with pytest.raises(Conflict, match="во время трансляции"):
            services.put_on_air(q, world.moderator)
    with travel(AFTER), pytest.raises(Conflict, match="во время трансляции"):
        services.put_on_air(q, world.moderator)
    assert q.state == S.PUBLISHED


def test_one_question_on_air_and_answers_in_the_order_given(world):
    event = make_event(world)
    with travel(COLLECTING):
        first, second, third = (published(event, world.resident, world.moderator) for _ in range(3))
        services.shortlist_question(second, world.moderator)
    with travel(LIVE):
        services.put_on_air(second, world.moderator)
        assert queries.on_air(event).id == second.id
        with pytest.raises(Conflict, match=f"№ {second.id}"):
            services.put_on_air(first, world.moderator)
        services.mark_answered(
            second, world.moderator, answer_text="Отремонтируем в мае.", answer_url=""
        )
    with travel(LIVE + timedelta(minutes=5)):
        services.put_on_air(third, world.moderator)
        services.mark_answered(
            third, world.moderator, answer_text=None, answer_url="https://tv.example/rec#t=1200"
        )
    with travel(LIVE + timedelta(minutes=10)):
        services.put_on_air(first, world.moderator)
        services.mark_answered(first, world.moderator, answer_text="Да.", answer_url=None)
    assert [q.id for q in queries.answered(event)] == [second.id, third.id, first.id]
    assert queries.on_air(event) is None
    snapshot = queries.live_snapshot(event)
    assert [a["id"] for a in snapshot["answered"]] == [second.id, third.id, first.id]
    assert snapshot["answered"][1]["answer_url"] == "https://tv.example/rec#t=1200"
    assert second.shortlist_position is None


def test_database_keeps_one_question_on_air(world):
    event = make_event(world)
    with travel(COLLECTING):
        a = published(event, world.resident, world.moderator)
        b = published(event, world.resident, world.moderator)
    with travel(LIVE):
        services.put_on_air(a, world.moderator)
    # Even bypassing the service (as two racing requests would), the index refuses a second.
    with pytest.raises(sa.exc.IntegrityError), db.session.begin_nested():
        db.session.execute(
            sa.update(Question).where(Question.id == b.id).values(state=S.ON_AIR.value)
        )


def test_answer_needs_text_or_a_web_link(world):
    event = make_event(world)
    with travel(COLLECTING):
        q = published(event, world.resident, world.moderator)
    with travel(LIVE):
        services.put_on_air(q, world.moderator)
        with pytest.raises(FieldError, match="Кратко запишите"):
            services.mark_answered(q, world.moderator, answer_text="  ", answer_url="")
        with pytest.raises(FieldError, match="http"):
            services.mark_answered(q, world.moderator, answer_text="", answer_url="javascript:x")
        with pytest.raises(FieldError, match="не длиннее"):
            services.mark_answered(q, world.moderator, answer_text="я" * 2001, answer_url=None)
        assert q.state == S.ON_AIR


def test_off_air_returns_to_the_top_of_the_shortlist(world):
    event = make_event(world)
    with travel(COLLECTING):
        a = published(event, world.resident, world.moderator)
        b = published(event, world.resident, world.moderator)
        services.shortlist_question(a, world.moderator)
        services.shortlist_question(b, world.moderator)
    with travel(LIVE):
        services.put_on_air(b, world.moderator)
        services.take_off_air(b, world.moderator)
    assert b.state == S.SHORTLISTED and b.on_air_at is None
    assert [q.id for q in queries.shortlist(event)] == [b.id, a.id]


def test_start_and_finish_the_broadcast_by_hand(world):
    event = make_event(world)
    with travel(COLLECTING):
        services.start_broadcast(event, world.moderator)
        assert event.is_live()
        q = published(event, world.resident, world.moderator)
        services.put_on_air(q, world.moderator)
        with pytest.raises(Conflict, match="отметьте ответ"):
            services.finish_broadcast(event, world.moderator)
        services.mark_answered(q, world.moderator, answer_text="Ответили.", answer_url=None)
    with travel(COLLECTING + timedelta(minutes=30)):
        services.finish_broadcast(event, world.moderator)
        assert event.is_finished()
        assert event.questions_close_at == COLLECTING + timedelta(minutes=30)
        with pytest.raises(Conflict):
            services.finish_broadcast(event, world.moderator)


def test_answer_can_be_corrected_after_the_broadcast(world):
    event = make_event(world)
    with travel(COLLECTING):
        q = published(event, world.resident, world.moderator)
    with travel(LIVE):
        services.put_on_air(q, world.moderator)
        services.mark_answered(q, world.moderator, answer_text="Да.", answer_url=None)
    with travel(AFTER):
        services.update_answer(
            q, world.moderator, answer_text="Да.", answer_url="https://tv.example/rec#t=600"
        )
    assert q.answer_url == "https://tv.example/rec#t=600"


def test_finishing_right_after_starting_finishes_at_once(world):
    """Even in the same instant: the event is over, its questions may become messages."""
    event = make_event(world)
    with travel(COLLECTING):
        q = published(event, world.resident, world.moderator)
        services.start_broadcast(event, world.moderator)
        services.finish_broadcast(event, world.moderator)
        assert event.is_finished()
        assert event.questions_open_at <= event.starts_at < event.ends_at
        assert services.convert_question(q, world.moderator).created
