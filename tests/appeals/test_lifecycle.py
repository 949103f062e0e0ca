"""Every branch of the message lifecycle through the services, with events and notices checked."""

from datetime import timedelta

import pytest
import sqlalchemy as sa
import time_machine

from participation.appeals import services as s
from participation.appeals.classifier import TopicCorrection
from participation.appeals.models import (
    AnswerStatus,
    AppealEvent,
    AppealHandoff,
    AppealRating,
    Arrival,
    HandoffKind,
    Relation,
)
from participation.appeals.workflow import AppealState as S
from participation.appeals.workflow import Bucket
from participation.core.db import utcnow
from participation.core.errors import Conflict, FieldError
from participation.core.moderation import RejectionReason
from participation.core.outbox import OutboxMessage
from participation.core.users import Role
from participation.core.workflow import InvalidTransition
from participation.extensions import db
from tests import factories as f
from tests.appeals.conftest import submit


def _events(appeal):
    return [
        (e.action, e.actor_role, e.from_state, e.to_state)
        for e in db.session.scalars(
            sa.select(AppealEvent)
            .where(AppealEvent.appeal_id == appeal.id)
            .order_by(AppealEvent.id)
        )
    ]


def _outbox(user=None, email=None):
    query = sa.select(OutboxMessage)
    if user is not None:
        query = query.where(OutboxMessage.user_id == user.id)
    if email is not None:
        query = query.where(OutboxMessage.email == email)
    return list(db.session.scalars(query.order_by(OutboxMessage.id)))


def to_work(w, appeal):
    s.accept_appeal(appeal, w.moderator)
    s.confirm_addressee(appeal, w.cur_coordinator)
    s.assign_executor(appeal, w.coordinator, w.executor.id)
    return appeal


def to_answered(w, appeal):
    to_work(w, appeal)
    s.submit_draft(appeal, w.executor, "Яму заделали 12 мая, фото прилагаем.")
    s.approve_answer(appeal, w.head)
    return appeal


def test_registration_routes_by_rule_and_sets_deadlines(world):
    w = world
    appeal = submit(w)
    assert appeal.state == S.MODERATION and appeal.bucket == Bucket.NEW
    assert appeal.holder_organization_id == w.operator.id
    assert appeal.executor_organization_id == w.city_admin.id and appeal.auto_routed
    # Potholes are fast-track: 10 days to answer, 5 to coordinate.
    assert appeal.fast_track and appeal.term_days == 10
    assert appeal.answer_due_at - appeal.registered_at == timedelta(days=10)
    assert appeal.coordination_due_at - appeal.registered_at == timedelta(days=5)
    assert appeal.applicant_region_id == w.region.id
    assert _events(appeal) == [("submit", "author", None, "moderation")]
    [notice] = _outbox(w.resident)
    assert f"№ {appeal.number}" in notice.subject and "зарегистрировано" in notice.subject


def test_topic_without_rule_goes_to_the_regional_centre(world):
    appeal = submit(world, subcategory_id=world.marking.id)
    assert appeal.executor_organization_id == world.cur.id and not appeal.auto_routed
    assert not appeal.fast_track and appeal.term_days == 30


def test_happy_path_to_a_good_rating(world):
    w = world
    appeal = submit(w)
    s.accept_appeal(appeal, w.moderator, "Всё верно")
    assert (appeal.state, appeal.holder_organization_id) == (S.COORDINATION, w.cur.id)
    assert appeal.arrival == Arrival.AFTER_MODERATION
    s.confirm_addressee(appeal, w.cur_coordinator)
    assert (appeal.state, appeal.holder_organization_id) == (S.ASSIGNMENT, w.city_admin.id)
    assert any("ждёт координации" in m.body for m in _outbox(w.coordinator))
    s.assign_executor(appeal, w.coordinator, w.executor.id)
    assert appeal.state == S.IN_WORK and appeal.executor_id == w.executor.id
    assert any("назначено" in m.subject for m in _outbox(w.executor))
    s.submit_draft(appeal, w.executor, "Яму заделали.")
    assert appeal.state == S.APPROVAL and appeal.bucket == Bucket.APPROVAL
    assert any("согласование" in m.subject for m in _outbox(w.head))
    s.approve_answer(appeal, w.head)
    assert appeal.state == S.ANSWERED and appeal.answered_at is not None
    mails = _outbox(email=w.resident.email)
    assert any("/appeals/rate/" in (m.link or "") and "Яму заделали." in m.body for m in mails)
    s.rate_appeal(appeal, w.resident, 5, "Спасибо")
    assert appeal.state == S.CLOSED and appeal.bucket == Bucket.DONE
    assert [e[0] for e in _events(appeal)] == [
        "submit",
        "accept",
        "confirm",
        "assign",
        "submit_draft",
        "approve",
        "rate",
    ]
    handoffs = db.session.scalars(
        sa.select(AppealHandoff.kind).where(AppealHandoff.appeal_id == appeal.id)
    ).all()
    assert handoffs == [HandoffKind.FORWARD, HandoffKind.FORWARD]


def test_every_event_records_actor_role_time_and_comment(world):
    w = world
    appeal = submit(w)
    before = utcnow()
    s.accept_appeal(appeal, w.moderator, "Проверено")
    event = db.session.scalars(sa.select(AppealEvent).where(AppealEvent.action == "accept")).one()
    assert event.actor_id == w.moderator.id and event.actor_role == "moderator"
    assert event.organization_id == w.operator.id
    assert event.comment == "Проверено" and event.at >= before
    assert (event.from_state, event.to_state) == ("moderation", "coordination")


def test_rejection_tells_the_reason_and_where_to_go(world):
    w = world
    appeal = submit(w)
    s.reject_appeal(appeal, w.moderator, RejectionReason.SEVERAL_PROBLEMS)
    assert appeal.state == S.REJECTED and appeal.bucket == Bucket.DONE and appeal.closed_at
    notice = _outbox(email=w.resident.email)[-1]
    assert "отклонено" in notice.subject
    assert "Несколько проблем" in notice.body and "одно сообщение — одна проблема" in notice.body
    with pytest.raises(FieldError):
        s.reject_appeal(submit(w), w.moderator, "rude")


def test_moderator_changes_topic_recomputes_term_and_stores_the_correction(world):
    w = world
    appeal = submit(w, text="Стёрлась разметка на пешеходном переходе у школы, зебры не видно.")
    s.change_topic(appeal, w.moderator, w.marking.id)
    assert appeal.subcategory_id == w.marking.id
    assert appeal.term_days == 30 and not appeal.fast_track
    assert appeal.answer_due_at - appeal.registered_at == timedelta(days=30)
    assert appeal.executor_organization_id == w.cur.id  # no rule for marking
    correction = db.session.scalars(
        sa.select(TopicCorrection).where(TopicCorrection.appeal_id == appeal.id)
    ).one()
    assert correction.chosen_subcategory_id == w.marking.id
    assert correction.user_id == w.moderator.id
    s.change_addressee(appeal, w.moderator, w.city_admin.id)
    assert appeal.executor_organization_id == w.city_admin.id and not appeal.auto_routed
    assert appeal.state == S.MODERATION


def test_redirect_to_a_non_subordinate_organization_is_recorded_with_reason(world):
    w = world
    appeal = submit(w)
    s.accept_appeal(appeal, w.moderator)
    with pytest.raises(FieldError, match="причину"):
        s.redirect_appeal(appeal, w.cur_coordinator, w.federal.id, "")
    s.redirect_appeal(appeal, w.cur_coordinator, w.federal.id, "Дорога федеральная")
    assert appeal.state == S.ASSIGNMENT and appeal.holder_organization_id == w.federal.id
    assert appeal.arrival == Arrival.FROM_NON_SUBORDINATE
    handoff = db.session.scalars(
        sa.select(AppealHandoff).where(AppealHandoff.kind == HandoffKind.REDIRECT)
    ).one()
    assert handoff.relation == Relation.NON_SUBORDINATE
    assert handoff.from_organization_id == w.cur.id and handoff.reason == "Дорога федеральная"
    # The federal body's coordinator now holds it; the city admin no longer can act.
    with pytest.raises(InvalidTransition):
        s.assign_executor(appeal, w.coordinator, w.executor.id)
    s.redirect_appeal(appeal, w.federal_coordinator, w.city_admin.id, "Это городская дорога")
    assert appeal.arrival == Arrival.FROM_NON_SUBORDINATE


def test_redirect_to_subordinate_and_higher(world):
    w = world
    appeal = submit(w)
    s.accept_appeal(appeal, w.moderator)
    s.confirm_addressee(appeal, w.cur_coordinator)
    s.redirect_appeal(appeal, w.coordinator, w.school.id, "Территория школы")
    assert appeal.arrival == Arrival.FROM_HIGHER
    s.redirect_appeal(appeal, w.school_coordinator, w.city_admin.id, "Не наша территория")
    assert appeal.arrival == Arrival.FROM_LOWER


def test_head_returns_the_draft_then_approves(world):
    w = world
    appeal = to_work(w, submit(w))
    s.submit_draft(appeal, w.executor, "Черновик")
    with pytest.raises(FieldError, match="замечания"):
        s.return_draft(appeal, w.head, " ")
    s.return_draft(appeal, w.head, "Приложите фото")
    assert appeal.state == S.IN_WORK and appeal.bucket == Bucket.RETURNED
    draft = s.answers_of(appeal)[0]
    assert draft.status == AnswerStatus.RETURNED and draft.remarks == "Приложите фото"
    assert any("возвращён" in m.subject for m in _outbox(w.executor))
    s.submit_draft(appeal, w.executor, "Исправленный ответ с фото")
    assert appeal.bucket == Bucket.APPROVAL
    s.approve_answer(appeal, w.head)
    assert s.approved_answer(appeal).text == "Исправленный ответ с фото"


def test_postponement_moves_the_due_date_within_the_regions_limit(world):
    w = world
    appeal = to_work(w, submit(w))
    s.set_max_postponement_days(w.region, 20)
    local_due = appeal.original_answer_due_at.astimezone(w.city.tz).date()
    with pytest.raises(FieldError, match="не более чем на 20 дней"):
        s.postpone_appeal(appeal, w.executor, local_due + timedelta(days=25), "Нужен подрядчик")
    with pytest.raises(FieldError, match="позже текущего срока"):
        s.postpone_appeal(appeal, w.executor, local_due - timedelta(days=1), "Нужен подрядчик")
    with pytest.raises(FieldError, match="почему"):
        s.postpone_appeal(appeal, w.executor, local_due + timedelta(days=5), "")
    s.postpone_appeal(appeal, w.executor, local_due + timedelta(days=15), "Нужен подрядчик")
    assert appeal.state == S.POSTPONED and appeal.bucket == Bucket.POSTPONED
    assert appeal.answer_due_at.astimezone(w.city.tz).date() == local_due + timedelta(days=15)
    assert appeal.postponement_count == 1
    notice = _outbox(email=w.resident.email)[-1]
    assert "отложено" in notice.subject and "Нужен подрядчик" in notice.body
    s.submit_draft(appeal, w.executor, "Сделали")
    assert appeal.state == S.APPROVAL


def test_rating_two_opens_a_review_cycle_at_the_higher_organization(world):
    w = world
    appeal = to_answered(w, submit(w))
    s.rate_appeal(appeal, w.resident, 2, "Ничего не сделано")
    assert appeal.state == S.ESCALATED and appeal.bucket == Bucket.DONE
    review = s.review_cycle_of(appeal)
    assert review.cycle == 2 and review.review_of_id == appeal.id
    assert review.holder_organization_id == w.government.id == review.executor_organization_id
    assert review.state == S.ASSIGNMENT and review.arrival == Arrival.FROM_LOWER
    assert review.answer_due_at - review.registered_at == timedelta(days=appeal.term_days)
    assert any("На рассмотрение" in m.subject for m in _outbox(w.gov_coordinator))
    assert "вышестоящую" in _outbox(email=w.resident.email)[-1].body
    # The review cycle runs to its own end.
    s.assign_executor(review, w.gov_coordinator, w.gov_executor.id)
    s.submit_draft(review, w.gov_executor, "Министерство проверило: яму заделают до 1 июня.")
    s.approve_answer(review, w.gov_head)
    s.rate_appeal(review, w.resident, 4)
    assert review.state == S.CLOSED


def test_rating_is_once_and_within_range(world):
    w = world
    appeal = to_answered(w, submit(w))
    for bad in (0, 6, "abc", None, 2.5):
        with pytest.raises(FieldError, match="от 1 до 5"):
            s.rate_appeal(appeal, w.resident, bad)
    with pytest.raises(InvalidTransition):
        s.rate_appeal(appeal, w.other_resident, 5)
    s.rate_appeal(appeal, w.resident, 5)
    with pytest.raises(Conflict, match="уже оценили"):
        s.rate_appeal(appeal, w.resident, 4)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AppealRating)) == 1


def test_rating_twice_is_refused_by_the_database(world):
    w = world
    appeal = to_answered(w, submit(w))
    s.rate_appeal(appeal, w.resident, 5)
    with pytest.raises(sa.exc.IntegrityError), db.session.begin_nested():
        db.session.add(
            AppealRating(appeal_id=appeal.id, organization_id=w.city_admin.id, score=1, via="link")
        )
        db.session.flush()


def test_return_for_rework_then_rate(world):
    w = world
    appeal = to_answered(w, submit(w))
    with pytest.raises(FieldError):
        s.return_for_rework(appeal, w.resident, "")
    s.return_for_rework(appeal, w.resident, "Яма осталась")
    assert appeal.state == S.IN_WORK and appeal.bucket == Bucket.RETURNED
    assert appeal.executor_id == w.executor.id
    assert any("доработку" in m.subject for m in _outbox(w.executor))
    s.submit_draft(appeal, w.executor, "Заделали повторно")
    s.approve_answer(appeal, w.head)
    with pytest.raises(Conflict):
        s.return_for_rework(appeal, w.resident, "Ещё раз")
    s.rate_appeal(appeal, w.resident, 3)
    assert appeal.state == S.CLOSED


def test_stale_form_is_refused(world):
    w = world
    appeal = submit(w)
    s.accept_appeal(appeal, w.moderator)
    with pytest.raises(InvalidTransition, match="уже обработано"):
        s.reject_appeal(appeal, w.moderator, RejectionReason.UNCLEAR, expected_state=S.MODERATION)


def test_answered_and_unrated_closes_after_the_rating_period(world):
    from participation.appeals.tasks import sweep_appeal_deadlines

    w = world
    appeal = to_answered(w, submit(w))
    with time_machine.travel(utcnow() + timedelta(days=31)):
        sweep_appeal_deadlines()
    assert appeal.state == S.CLOSED
    assert _events(appeal)[-1] == ("close_unrated", "system", "answered", "closed")


def test_low_rating_without_a_higher_organization_closes(world):
    w = world
    appeal = submit(w)
    s.accept_appeal(appeal, w.moderator)
    s.redirect_appeal(appeal, w.cur_coordinator, w.federal.id, "Федеральная трасса")
    federal_executor = f.staff(w.federal, Role.EXECUTOR)
    federal_head = f.staff(w.federal, Role.HEAD)
    s.assign_executor(appeal, w.federal_coordinator, federal_executor.id)
    s.submit_draft(appeal, federal_executor, "Ответ")
    s.approve_answer(appeal, federal_head)
    event = s.rate_appeal(appeal, w.resident, 1)
    assert appeal.state == S.CLOSED and event.details["no_higher_organization"] is True
    assert s.review_cycle_of(appeal) is None
