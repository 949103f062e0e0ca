"""The demo's year of message history: the same every time, consistent with the lifecycle,
varied enough for every dashboard, and the rollup exact over it."""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import date, datetime, timedelta

import pytest
import sqlalchemy as sa

from participation.appeals.models import (
    AnswerStatus,
    Appeal,
    AppealAnswer,
    AppealEvent,
    AppealHandoff,
    AppealRating,
    Channel,
    HandoffKind,
)
from participation.appeals.workflow import OPEN_STATES, WORKFLOW, Action, AppealState
from participation.core.organizations import Organization
from participation.core.territories import territory_by_oktmo
from participation.core.users import User
from participation.demo import data
from participation.demo.seed import seed_demo
from participation.extensions import db
from participation.reports import services
from participation.reports.demo import KEY_PREFIX, seed_history
from participation.reports.demo_data import PLACES
from participation.widgets.models import WidgetSiteDay

pytestmark = pytest.mark.usefixtures("app", "db_session")

TODAY = date(2026, 3, 15)  # a fixed day: the same history whatever the clock says


def _history() -> list[Appeal]:
    """The history's messages (review cycles included), oldest first."""
    first = sa.select(Appeal.id).where(Appeal.submission_key.like(f"{KEY_PREFIX}%"))
    query = sa.select(Appeal).where(sa.or_(Appeal.id.in_(first), Appeal.review_of_id.in_(first)))
    return list(db.session.scalars(query.order_by(Appeal.registered_at, Appeal.id)))


def _fingerprint() -> list[tuple]:
    """What the history is, without database ids (which differ between databases)."""
    appeals = _history()
    ratings = dict(db.session.execute(sa.select(AppealRating.appeal_id, AppealRating.score)).all())
    events: dict[int, Counter] = defaultdict(Counter)
    for appeal_id, action in db.session.execute(
        sa.select(AppealEvent.appeal_id, AppealEvent.action)
    ):
        events[appeal_id][action] += 1
    keys = {a.id: a.submission_key for a in appeals}
    return [
        (
            a.submission_key if a.review_of_id is None else f"review:{keys[a.review_of_id]}",
            a.state.value,
            a.registered_at,
            a.answered_at,
            a.closed_at,
            a.answer_due_at,
            a.executor_organization_id,
            a.territory_id,
            a.subcategory_id,
            a.channel.value,
            a.text,
            ratings.get(a.id),
            sorted(events[a.id].items()),
        )
        for a in appeals
    ]


def test_two_seeds_make_the_same_history() -> None:
    seed_demo()
    first = db.session.begin_nested()
    counts = seed_history(TODAY, per_year=600)  # fewer than the demo's: quicker, as telling
    once = _fingerprint()
    first.rollback()
    assert not _history()

    second = db.session.begin_nested()
    again = seed_history(TODAY, per_year=600)
    twice = _fingerprint()
    second.rollback()

    assert counts == again
    assert 500 <= counts["history_appeals"] <= 700
    assert len(once) == counts["history_appeals"] + counts["history_reviews"]
    assert once == twice
    # The year ends where the day began in Уфа, and starts a year before.
    tz = territory_by_oktmo(data.BASHKORTOSTAN).tz
    days = {a[2].astimezone(tz).date() for a in once}
    assert max(days) < TODAY
    assert min(days) >= TODAY - timedelta(days=365)


def _events_by_appeal(ids: list[int]) -> dict[int, list[AppealEvent]]:
    found: dict[int, list[AppealEvent]] = defaultdict(list)
    query = sa.select(AppealEvent).where(AppealEvent.appeal_id.in_(ids))
    for event in db.session.scalars(query.order_by(AppealEvent.id)):
        found[event.appeal_id].append(event)
    return found


def _check_life(appeal: Appeal, events: list[AppealEvent]) -> None:
    """The events chain from the first state to the message's state, each allowed by the table,
    in time order, and the message's timestamps agree with them."""
    first, *steps = events
    if appeal.review_of_id is None:
        assert (first.action, first.from_state, first.to_state) == ("submit", None, "moderation")
        assert first.at == appeal.registered_at
    else:
        assert (first.action, first.to_state) == ("escalation_received", "assignment")
        assert first.organization_id == appeal.executor_organization_id
    state = first.to_state
    for before, event in zip(events, steps, strict=False):
        assert event.at >= before.at, appeal.id
        assert event.from_state == state, (appeal.id, event.action)
        row = WORKFLOW.get(AppealState(state), Action(event.action))
        assert row is not None and row.target == event.to_state, (appeal.id, event.action)
        assert event.actor_role in {str(r) for r in row.roles}
        state = event.to_state
    assert state == appeal.state.value, appeal.id
    if appeal.answered_at is not None:
        approvals = [e.at for e in events if e.action == Action.APPROVE]
        assert appeal.answered_at == approvals[-1]
        assert appeal.registered_at < appeal.answered_at
    if appeal.closed_at is not None:
        assert appeal.closed_at == events[-1].at
        assert appeal.closed_at >= appeal.registered_at
    if appeal.postponement_count == 0 and appeal.rework_count == 0:
        term = timedelta(days=appeal.term_days)
        assert appeal.answer_due_at == appeal.original_answer_due_at
        assert appeal.answer_due_at == appeal.registered_at + term
        assert appeal.coordination_due_at == appeal.registered_at + term / 2


def test_history_follows_the_lifecycle_and_varies() -> None:
    counts = seed_demo(history=True)
    appeals = _history()
    ids = [a.id for a in appeals]
    events = _events_by_appeal(ids)
    answers: dict[int, list[AppealAnswer]] = defaultdict(list)
    for answer in db.session.scalars(
        sa.select(AppealAnswer).where(AppealAnswer.appeal_id.in_(ids))
    ):
        answers[answer.appeal_id].append(answer)
    ratings = {
        r.appeal_id: r
        for r in db.session.scalars(sa.select(AppealRating).where(AppealRating.appeal_id.in_(ids)))
    }
    handoffs: dict[int, list[AppealHandoff]] = defaultdict(list)
    for h in db.session.scalars(
        sa.select(AppealHandoff).where(AppealHandoff.appeal_id.in_(ids)).order_by(AppealHandoff.id)
    ):
        handoffs[h.appeal_id].append(h)
    reviews = {a.review_of_id: a for a in appeals if a.review_of_id is not None}
    parents = dict(db.session.execute(sa.select(Organization.id, Organization.parent_id)).all())

    for appeal in appeals:
        _check_life(appeal, events[appeal.id])
        actions = [e.action for e in events[appeal.id]]
        if appeal.answered_at is not None:
            approved = [a for a in answers[appeal.id] if a.status == AnswerStatus.APPROVED]
            # the last approved answer (after a rework there are two) is the one sent
            assert approved and max(a.decided_at for a in approved) == appeal.answered_at
        if "rate" in actions or "escalate" in actions:
            assert ratings[appeal.id].organization_id == appeal.executor_organization_id
        else:
            assert appeal.id not in ratings
        if appeal.state == AppealState.ESCALATED:
            review = reviews[appeal.id]
            assert review.cycle == appeal.cycle + 1 == 2
            assert review.executor_organization_id == parents[appeal.executor_organization_id]
            assert ratings[appeal.id].score <= 2
            escalation = [h for h in handoffs[appeal.id] if h.kind == HandoffKind.ESCALATION]
            assert [h.to_organization_id for h in escalation] == [review.executor_organization_id]
        if "redirect" in actions:
            redirect = [h for h in handoffs[appeal.id] if h.kind == HandoffKind.REDIRECT]
            assert redirect[-1].to_organization_id == appeal.executor_organization_id

    # What the dashboards need to show something worth looking at.
    first_cycle = [a for a in appeals if a.review_of_id is None]
    assert counts["history_appeals"] == len(first_cycle)
    answered = [a for a in appeals if a.answered_at is not None]
    late = [a for a in answered if a.answered_at > a.answer_due_at]
    late_ids = {a.id for a in late}
    assert 0.05 < len(late) / len(answered) < 0.35
    scores = Counter(r.score for r in ratings.values())
    assert scores[1] + scores[2] > 50 and scores[5] > scores[1]
    states = Counter(a.state for a in appeals)
    for state in (AppealState.REJECTED, AppealState.ESCALATED, AppealState.CLOSED):
        assert states[state] > 20, state
    now = datetime.now(tz=appeals[0].registered_at.tzinfo)
    open_now = [a for a in appeals if a.state in OPEN_STATES]
    assert open_now and any(a.answer_due_at < now for a in open_now)
    actions = Counter(e.action for evs in events.values() for e in evs)
    for action in ("redirect", "postpone", "return_draft", "return_for_rework", "close_unrated"):
        assert actions[action] > 10, action
    # Good and bad organizations: the share answered late differs widely between them.
    late_share = {}
    for org_id in {a.executor_organization_id for a in answered}:
        mine = [a for a in answered if a.executor_organization_id == org_id]
        if len(mine) >= 40:
            late_share[org_id] = sum(a.id in late_ids for a in mine) / len(mine)
    assert min(late_share.values()) < 0.08 and max(late_share.values()) > 0.25
    # Every place of the demo region has messages; snow is a winter topic.
    assert {a.territory_id for a in appeals} == {territory_by_oktmo(p.oktmo).id for p in PLACES}
    by_month = Counter(
        a.registered_at.month
        for a in appeals
        if a.subcategory.code in ("roads.snow", "yards.yard_snow")
    )
    assert by_month[1] > 10 * max(1, by_month[7])
    # The authors are the history's own residents: the personas' cabinets stay as they were.
    persona_ids = set(
        db.session.scalars(
            sa.select(User.id).where(User.esia_oid.in_([u["esia_oid"] for u in data.USERS]))
        )
    )
    assert not {a.author_id for a in appeals} & persona_ids

    # The widgets' daily counts agree with the messages sent through them.
    through_widgets = [a for a in first_cycle if a.channel == Channel.WIDGET]
    assert through_widgets and all(a.widget_organization_id for a in through_widgets)
    sent = db.session.scalar(sa.select(sa.func.sum(WidgetSiteDay.messages)))
    assert sent == len(through_widgets)

    # The rollup is ready and exact over the year.
    region = territory_by_oktmo(data.BASHKORTOSTAN)
    today = now.astimezone(region.tz).date()
    period = services.Period(today - timedelta(days=366), today)
    scope = services.Scope(region_id=region.id)
    rollup = services.rollup_counters(scope, period)
    assert rollup["all"]["received"] > 2500
    assert services.recount(scope, period) == rollup
    by_municipality = services.recount(scope, period, services.Cut.MUNICIPALITY)
    assert by_municipality == services.rollup_counters(scope, period, services.Cut.MUNICIPALITY)

    # A second run adds nothing.
    before = {
        model: db.session.scalar(sa.select(sa.func.count()).select_from(model))
        for model in (Appeal, AppealEvent, AppealAnswer, AppealRating, AppealHandoff, User)
    }
    again = seed_demo(history=True)
    assert again["history_appeals"] == 0
    assert not any(again.values())
    assert before == {
        model: db.session.scalar(sa.select(sa.func.count()).select_from(model)) for model in before
    }
