"""Indicator definitions against hand-counted messages, local-day boundaries, and the rollup
kept equal to a recount of the base tables through random lifecycle steps."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta

import pytest
import sqlalchemy as sa
import time_machine

from participation.appeals import services as s
from participation.appeals.models import Appeal
from participation.appeals.workflow import AppealState
from participation.core.errors import Conflict, FieldError
from participation.core.moderation import RejectionReason
from participation.core.workflow import InvalidTransition
from participation.extensions import db
from participation.reports import services as r
from participation.reports.definitions import INDICATORS, ROLLUP_COUNTERS, Source
from participation.reports.models import AppealDayRollup, StaleAppeal
from participation.reports.rollup import rebuild, refresh_stale
from tests.appeals.conftest import submit

START = datetime(2026, 3, 2, 6, 0, tzinfo=UTC)  # 11:00 in Yekaterinburg time (the fixtures' zone)
YEAR = r.Period(date(2026, 1, 1), date(2026, 12, 31))


def to_work(w, appeal):
    s.accept_appeal(appeal, w.moderator)
    s.confirm_addressee(appeal, w.cur_coordinator)
    s.assign_executor(appeal, w.coordinator, w.executor.id)


def answer(w, appeal, executor=None, head=None):
    s.submit_draft(appeal, executor or w.executor, "Яму заделали, фото прилагаем.")
    s.approve_answer(appeal, head or w.head)


def counters(scope, period=YEAR, cut=None):
    refresh_stale()
    return r.rollup_counters(scope, period, cut)


@pytest.fixture
def story(world):
    """Seven messages, each an edge case of the definitions, written down as they happen."""
    w = world
    cases = {}
    with time_machine.travel(START, tick=False) as clock:
        # on time: the answer lands exactly at the deadline
        cases["exact"] = a = submit(w)
        to_work(w, a)
        clock.move_to(a.answer_due_at)
        answer(w, a)
        s.rate_appeal(a, w.resident, 5)
        # late: one second after the deadline
        clock.move_to(START)
        cases["late"] = b = submit(w)
        to_work(w, b)
        clock.move_to(b.answer_due_at + timedelta(seconds=1))
        answer(w, b)
        # rejected at moderation: counted apart, not received
        clock.move_to(START)
        cases["rejected"] = c = submit(w)
        s.reject_appeal(c, w.moderator, RejectionReason.OBSCENE)
        # redirected by the city to the town: received by the town, redirected by the city
        cases["redirected"] = d = submit(w)
        s.accept_appeal(d, w.moderator)
        s.confirm_addressee(d, w.cur_coordinator)
        s.redirect_appeal(d, w.coordinator, w.town_admin.id, "Это дорога соседнего города")
        # postponed to a later date, answered after the first deadline but before the new one
        cases["postponed"] = e = submit(w)
        to_work(w, e)
        s.postpone_appeal(
            e, w.executor, (e.answer_due_at + timedelta(days=20)).date(), "Нужен подрядчик"
        )
        clock.move_to(e.original_answer_due_at + timedelta(days=3))
        answer(w, e)
        # rated 2: escalated to the government, which answers the review
        clock.move_to(START)
        cases["escalated"] = g = submit(w)
        to_work(w, g)
        clock.shift(timedelta(days=2))
        answer(w, g)
        s.rate_appeal(g, w.resident, 2, "Яма осталась")
        review = db.session.scalar(sa.select(Appeal).where(Appeal.review_of_id == g.id))
        s.assign_executor(review, w.gov_coordinator, w.gov_executor.id)
        answer(w, review, w.gov_executor, w.gov_head)
        cases["review"] = review
        # returned for rework, answered again: answered once, on its last day
        clock.move_to(START)
        cases["rework"] = h = submit(w)
        to_work(w, h)
        answer(w, h)
        s.return_for_rework(h, w.resident, "Не ответили про сроки")
        clock.shift(timedelta(days=1))
        answer(w, h)
        s.rate_appeal(h, w.resident, 4)
    db.session.flush()
    return w, cases


def test_definitions_against_hand_counts(story):
    w, _ = story
    city = r.Scope(w.region.id, organization_ids=frozenset({w.city_admin.id}))
    got = counters(city)["all"]
    # received: exact, late, postponed, escalated, rework (the redirected one went to the town,
    # the rejected one was never received)
    assert got["received"] == 5
    assert got["rejected_moderation"] == 1
    assert got["redirected"] == 1
    assert got["answered"] == 5 and got["answered_on_time"] == 4  # only "late" missed
    assert got["postponed"] == 1 and got["returned_for_rework"] == 1
    assert (got["ratings"], got["rating_sum"], got["rated_high"], got["rated_low"]) == (3, 11, 2, 1)
    assert got["escalated"] == 1 and got["escalations_answered"] == 1
    # pothole topics are fast-track: all five answers were fast-track, four in term
    assert (got["fast_track_answered"], got["fast_track_on_time"]) == (5, 4)

    town = counters(r.Scope(w.region.id, organization_ids=frozenset({w.town_admin.id})))["all"]
    assert town["received"] == 1 and town["redirected"] == 0
    government = counters(r.Scope(w.region.id, organization_ids=frozenset({w.government.id})))
    assert government["all"]["received"] == 1 and government["all"]["answered"] == 1

    values = r.figures(city, YEAR).values
    assert values["answered_on_time_share"] == pytest.approx(0.8)
    assert values["rating_avg"] == pytest.approx(11 / 3)
    assert values["rated_low_share"] == pytest.approx(1 / 3)
    # days from registration to answer, in local days: exact 10, late 10, postponed 13,
    # escalated 2, rework 1 → mean 7.2, median 10
    assert values["answer_days_avg"] == pytest.approx(7.2)
    assert values["answer_days_median"] == 10
    assert values["in_work_now"] == 0  # the redirected one is the town's now
    assert (
        r.figures(r.Scope(w.region.id, organization_ids=frozenset({w.town_admin.id})), YEAR).values[
            "in_work_now"
        ]
        == 1
    )


def test_every_rollup_indicator_reads_counters_that_exist():
    for indicator in INDICATORS:
        if indicator.source == Source.ROLLUP and indicator.numerator:
            assert indicator.numerator in ROLLUP_COUNTERS
            assert indicator.denominator in (None, *ROLLUP_COUNTERS)


def test_messages_behind_a_figure_are_the_ones_counted(story):
    w, cases = story
    city = r.Scope(w.region.id, organization_ids=frozenset({w.city_admin.id}))
    rows = db.session.execute(r.appeals_behind("answered_on_time_share", city, YEAR)).all()
    behind = {row.appeal_id: row.answered_on_time for row in rows}
    expected = {cases[k].id for k in ("exact", "late", "postponed", "escalated", "rework")}
    assert set(behind) == expected
    assert [i for i, on_time in behind.items() if not on_time] == [cases["late"].id]
    rejected = db.session.execute(r.appeals_behind("rejected_moderation", city, YEAR)).all()
    assert [row.appeal_id for row in rejected] == [cases["rejected"].id]
    town = r.Scope(w.region.id, organization_ids=frozenset({w.town_admin.id}))
    open_now = db.session.execute(r.appeals_behind("in_work_now", town, YEAR)).all()
    assert [row.appeal_id for row in open_now] == [cases["redirected"].id]


def test_a_message_belongs_to_its_local_day(world):
    w = world  # Asia/Yekaterinburg, UTC+5
    late_evening = datetime(2026, 5, 10, 18, 30, tzinfo=UTC)  # 23:30 on 10 May in Уфа
    after_midnight = datetime(2026, 5, 10, 19, 30, tzinfo=UTC)  # 00:30 on 11 May
    for moment in (late_evening, after_midnight):
        with time_machine.travel(moment, tick=False):
            submit(w)
    db.session.flush()
    scope = r.Scope(w.region.id)
    by_day = counters(scope, r.Period(date(2026, 5, 9), date(2026, 5, 12)), r.Cut.DAY)
    assert {day: c["received"] for day, c in by_day.items()} == {
        date(2026, 5, 10): 1,
        date(2026, 5, 11): 1,
    }


def test_rollup_equals_recount_through_random_lifecycle_steps(world):
    """Property-style: whatever happens to messages, in any order, over weeks, the kept
    rollup equals a recount of the base tables, in every cut."""
    w = world
    rng = random.Random(20261205)
    moment = START
    appeals: list[Appeal] = []
    steps = {
        AppealState.MODERATION: [
            lambda a: s.accept_appeal(a, w.moderator),
            lambda a: s.reject_appeal(a, w.moderator, RejectionReason.UNCLEAR),
        ],
        AppealState.COORDINATION: [lambda a: s.confirm_addressee(a, w.cur_coordinator)],
        AppealState.ASSIGNMENT: [
            lambda a: s.assign_executor(a, *_assigner(w, a)),
            lambda a: s.redirect_appeal(a, *_redirect(w, a)),
        ],
        AppealState.IN_WORK: [
            lambda a: s.submit_draft(a, _executor(w, a), "Сделано."),
            lambda a: s.postpone_appeal(
                a, _executor(w, a), (a.answer_due_at + timedelta(days=7)).date(), "Ждём подрядчика"
            ),
        ],
        AppealState.POSTPONED: [lambda a: s.resume_appeal(a, _executor(w, a))],
        AppealState.APPROVAL: [lambda a: s.approve_answer(a, _head(w, a))],
        AppealState.ANSWERED: [
            lambda a: s.rate_appeal(a, w.resident, rng.randint(1, 5)),
            lambda a: s.return_for_rework(a, w.resident, "Ещё раз, пожалуйста"),
        ],
    }
    for round_ in range(60):
        moment += timedelta(hours=rng.randint(1, 40))
        with time_machine.travel(moment, tick=False):
            if rng.random() < 0.35 or not appeals:
                subcategory = rng.choice([w.potholes.id, w.benches.id])
                appeals.append(
                    submit(w, subcategory_id=subcategory, suggested_subcategory_id=subcategory)
                )
            candidates = [a for a in appeals if a.state in steps]
            for appeal in rng.sample(candidates, k=min(3, len(candidates))):
                db.session.refresh(appeal)
                if appeal.state in steps:
                    step = rng.choice(steps[appeal.state])
                    try:  # a step the rules refuse (a postponement too long…) changes nothing
                        with db.session.begin_nested():
                            step(appeal)
                    except (InvalidTransition, FieldError, Conflict):
                        db.session.refresh(appeal)
            for review in db.session.scalars(
                sa.select(Appeal).where(Appeal.review_of_id.is_not(None))
            ):
                if review not in appeals:
                    appeals.append(review)
            db.session.flush()
        if round_ % 15 == 14:
            refresh_stale()
            period = r.Period(date(2026, 2, 1), date(2026, 8, 1))
            for cut in (
                None,
                r.Cut.MUNICIPALITY,
                r.Cut.ORGANIZATION,
                r.Cut.SUBCATEGORY,
                r.Cut.DAY,
                r.Cut.CHANNEL,
            ):
                scope = r.Scope(w.region.id)
                assert r.rollup_counters(scope, period, cut) == r.recount(scope, period, cut), cut
    assert db.session.scalar(sa.select(sa.func.count()).select_from(StaleAppeal)) == 0
    states = {a.state for a in appeals}
    assert {AppealState.CLOSED, AppealState.REJECTED} & states  # the walk went somewhere


def _assigner(w, appeal):
    if appeal.holder_organization_id == w.town_admin.id:
        return w.town_coordinator, w.town_executor.id
    if appeal.holder_organization_id == w.government.id:
        return w.gov_coordinator, w.gov_executor.id
    return w.coordinator, w.executor.id


def _redirect(w, appeal):
    if appeal.holder_organization_id == w.city_admin.id:
        return w.coordinator, w.town_admin.id, "Не наш участок"
    if appeal.holder_organization_id == w.town_admin.id:
        return w.town_coordinator, w.city_admin.id, "Не наш участок"
    return w.gov_coordinator, w.city_admin.id, "Не наш участок"


def _executor(w, appeal):
    return {w.town_admin.id: w.town_executor, w.government.id: w.gov_executor}.get(
        appeal.holder_organization_id, w.executor
    )


def _head(w, appeal):
    return {w.town_admin.id: w.town_head, w.government.id: w.gov_head}.get(
        appeal.holder_organization_id, w.head
    )


def test_rebuild_is_idempotent_and_equals_the_kept_rollup(story):
    refresh_stale()

    def snapshot():
        columns = [c for c in AppealDayRollup.__table__.c if c.name != "id"]
        return sorted(tuple(str(v) for v in row) for row in db.session.execute(sa.select(*columns)))

    kept = snapshot()
    assert kept
    rebuild()
    assert snapshot() == kept
    rebuild()
    assert snapshot() == kept
    rebuild(since=date(2026, 3, 10))
    assert snapshot() == kept


def test_a_bad_period_is_refused(world):
    with pytest.raises(ValueError):
        r.figures(r.Scope(world.region.id), r.Period(date(2026, 5, 2), date(2026, 5, 1)))
    with pytest.raises(ValueError):
        r.figures(r.Scope(world.region.id), r.Period(date(2019, 1, 1), date(2026, 1, 1)))


@pytest.mark.parametrize(
    ("grain", "day", "start", "end", "previous_start"),
    [
        (r.Grain.DAY, date(2026, 3, 1), date(2026, 3, 1), date(2026, 3, 1), date(2026, 2, 28)),
        (
            r.Grain.WEEK,
            date(2026, 12, 5),
            date(2026, 11, 30),
            date(2026, 12, 6),
            date(2026, 11, 23),
        ),
        (r.Grain.MONTH, date(2026, 3, 31), date(2026, 3, 1), date(2026, 3, 31), date(2026, 2, 1)),
        (r.Grain.QUARTER, date(2026, 5, 5), date(2026, 4, 1), date(2026, 6, 30), date(2026, 1, 1)),
        (r.Grain.YEAR, date(2026, 5, 5), date(2026, 1, 1), date(2026, 12, 31), date(2025, 1, 1)),
    ],
)
def test_calendar_periods_and_the_one_before(grain, day, start, end, previous_start):
    period = r.Period.containing(grain, day)
    assert (period.start, period.end) == (start, end)
    assert period.previous(today=end + timedelta(days=1)).start == previous_start
    assert period.previous(today=end + timedelta(days=1)).end == start - timedelta(days=1)


def test_a_running_period_is_compared_with_as_many_days_before():
    december = r.Period.containing(r.Grain.MONTH, date(2026, 12, 5))
    assert december.previous(today=date(2026, 12, 5)) == r.Period(
        date(2026, 11, 1), date(2026, 11, 5), r.Grain.MONTH
    )
    # 31 March: the whole of February, which is shorter
    march = r.Period.containing(r.Grain.MONTH, date(2026, 3, 1))
    assert march.previous(today=date(2026, 3, 30)).end == date(2026, 2, 28)
    week = r.Period.containing(r.Grain.WEEK, date(2026, 12, 2))  # Monday 30 Nov … 6 Dec
    assert week.previous(today=date(2026, 12, 2)) == r.Period(
        date(2026, 11, 23), date(2026, 11, 25), r.Grain.WEEK
    )


def test_a_merged_duplicate_counts_once_and_its_authors_rating_counts(world):
    """Three residents, one pothole: the main message, one who joined, one merged by staff. The
    city received and answered one message; three authors rated the one answer."""
    from participation.appeals.services.merging import join_appeal, merge_appeals
    from tests.appeals.conftest import new_key
    from tests.factories import user

    w = world
    with time_machine.travel(START, tick=False):
        main = submit(w)
        to_work(w, main)
        duplicate = submit(w, author=w.other_resident)
        to_work(w, duplicate)
        merge_appeals(duplicate, main, w.coordinator)
        third = user(registration_territory=w.city)
        joined = join_appeal(main, third, submission_key=new_key())
        answer(w, main)
        for appeal, author, score in ((main, w.resident, 5), (duplicate, w.other_resident, 4)):
            s.rate_appeal(appeal, author, score)
        s.rate_appeal(joined, third, 3)
    db.session.flush()
    got = counters(r.Scope(w.region.id, organization_ids=frozenset({w.city_admin.id})))["all"]
    assert (got["received"], got["answered"]) == (1, 1)
    assert (got["ratings"], got["rating_sum"]) == (3, 12)


@pytest.mark.parametrize("cut", [r.Cut.MUNICIPALITY, r.Cut.ORGANIZATION, r.Cut.SUBCATEGORY])
def test_a_total_folded_from_a_breakdown_in_the_request_equals_the_total_read_alone(
    app, story, cut
):
    w, _cases = story
    refresh_stale()
    scope = r.Scope(w.region.id)
    with app.test_request_context("/"):
        alone = r.figures(scope, YEAR)
    with app.test_request_context("/"):
        rows = r.breakdown(scope, YEAR, cut)
        folded = r.figures(scope, YEAR)
    assert alone.values["received"] == sum(row.values["received"] for row in rows) > 0
    assert folded.values == alone.values
    assert folded.counters == alone.counters
