"""The daily rollup of messages: what each counter counts (`facts`), and keeping it current.

Every counter is a fact about one message on one local day (registered, answered, rated…).
`facts()` counts them on the base tables for a run of days; the rollup stores its result per
day × key. A lifecycle step writes an AppealEvent; a flush listener marks that message stale,
and `refresh_stale()` (a job after the commit, and the sweep) recounts every day the message
has a fact on: whole days, so a message that moved to another organization or topic leaves
its old row as exactly as it enters the new one. `rebuild()` recounts from scratch.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session, aliased

from participation.appeals.classifier import Subcategory
from participation.appeals.models import (
    Appeal,
    AppealEvent,
    AppealHandoff,
    AppealRating,
    HandoffKind,
)
from participation.appeals.workflow import Action, AppealState
from participation.core.db import AppSession
from participation.core.jobs import enqueue_after_commit
from participation.core.sqltime import days_between, local_day, month_start
from participation.core.territories import Territory, TerritoryLevel
from participation.extensions import db
from participation.reports.definitions import ROLLUP_COUNTERS
from participation.reports.heat_rollup import recount_heat
from participation.reports.models import (
    ANSWER_SUMMARY_TABLES,
    COUNTED,
    IS_THANKS,
    NOT_THANKS,
    SUMMARY_TABLES,
    AppealAnswerDays,
    AppealDayRollup,
    HeatCellRollup,
    StaleAppeal,
)
from participation.reports.reference import MUNICIPAL_LEVELS, topics

KEY = ("day", "territory_id", "organization_id", "subcategory_id", "channel")
REFRESH_JOB = "participation.reports.tasks:refresh_rollup"
REFRESH_LOCK = 7_140_001  # any constant no other advisory lock uses


def _utc_bounds(first: date, last: date) -> tuple[datetime, datetime]:
    """A UTC window surely holding every moment of local days first…last, in any zone."""
    start = datetime.combine(first - timedelta(days=1), time(), UTC)
    return start, datetime.combine(last + timedelta(days=2), time(), UTC)


def _one(condition: Any) -> Any:
    return sa.case((condition, 1), else_=0)


def _fact_selects(first: date, last: date) -> list[sa.Select]:
    """One SELECT per kind of fact, each with the key and every counter (0 where not its)."""
    lo, hi = _utc_bounds(first, last)
    a, t = Appeal, Territory

    def fact(ts: Any, organization: Any, counters: dict[str, Any], source: Any = a) -> sa.Select:
        """Facts dated `ts`, counted for `organization`; `source` joins what they come from
        to the message (`a`, whose territory, topic and channel make the key)."""
        day = local_day(ts, t.timezone)
        columns = [
            a.id.label("appeal_id"),
            a.region_id.label("message_region_id"),
            day.label("day"),
            a.territory_id.label("territory_id"),
            organization.label("organization_id"),
            a.subcategory_id.label("subcategory_id"),
            a.channel.label("channel"),
        ]
        for name in ROLLUP_COUNTERS:
            value = counters.get(name, 0)
            columns.append(
                (sa.literal_column(str(value)) if isinstance(value, int) else value).label(name)
            )
        return (
            sa.select(*columns)
            .select_from(sa.join(source, t, t.id == a.territory_id))
            .where(ts >= lo, ts < hi, day >= first, day <= last)
        )

    on_time = a.answered_at <= a.answer_due_at
    # A duplicate that follows a main message (joined or merged) is the same message: its
    # receipt and answer are counted once, on the main one; its author's rating counts.
    answered = fact(
        a.answered_at,
        a.executor_organization_id,
        {
            "answered": 1,
            "answered_on_time": _one(on_time),
            "answer_days_sum": days_between(
                local_day(a.registered_at, t.timezone), local_day(a.answered_at, t.timezone)
            ),
            "fast_track_answered": _one(a.fast_track),
            "fast_track_on_time": _one(sa.and_(a.fast_track, on_time)),
        },
    ).where(COUNTED, NOT_THANKS)
    received = fact(a.registered_at, a.executor_organization_id, {"received": 1}).where(
        a.state != AppealState.REJECTED, COUNTED, NOT_THANKS
    )
    # A thanks is routed as any message but needs no answer: counted apart, on its day.
    thanks = fact(a.registered_at, a.executor_organization_id, {"thanks": 1}).where(
        a.state != AppealState.REJECTED, COUNTED, IS_THANKS
    )
    rejected = fact(a.closed_at, a.executor_organization_id, {"rejected_moderation": 1}).where(
        a.state == AppealState.REJECTED
    )
    with_events = sa.join(AppealEvent, a, a.id == AppealEvent.appeal_id)
    events = [
        fact(AppealEvent.at, a.executor_organization_id, {counter: 1}, with_events).where(
            AppealEvent.action == action
        )
        for action, counter in (
            (Action.RETURN_FOR_REWORK, "returned_for_rework"),
            (Action.POSTPONE, "postponed"),
        )
    ]
    redirected = fact(
        AppealHandoff.at,
        AppealHandoff.from_organization_id,
        {"redirected": 1},
        sa.join(AppealHandoff, a, a.id == AppealHandoff.appeal_id),
    ).where(AppealHandoff.kind == HandoffKind.REDIRECT)
    r = AppealRating
    rated = fact(
        r.created_at,
        r.organization_id,
        {
            "ratings": 1,
            "rating_sum": r.score,
            "rated_high": _one(r.score >= 4),
            "rated_low": _one(r.score <= 2),
        },
        sa.join(r, a, a.id == r.appeal_id),
    )
    review = aliased(Appeal)
    with_review = sa.join(review, a, a.id == review.review_of_id)
    escalated = fact(
        review.registered_at, a.executor_organization_id, {"escalated": 1}, with_review
    )
    reviewed = fact(
        review.answered_at, a.executor_organization_id, {"escalations_answered": 1}, with_review
    )
    return [answered, received, thanks, rejected, *events, redirected, rated, escalated, reviewed]


def fact_rows(first: date, last: date) -> sa.Subquery:
    """Every fact of local days first…last, one row per message and fact, with its key."""
    return sa.union_all(*_fact_selects(first, last)).subquery("facts")


def facts(first: date, last: date) -> sa.Select:
    """The counters of local days first…last per day × key, straight from the base tables."""
    union = fact_rows(first, last)
    return sa.select(
        *(union.c[name] for name in KEY),
        *(sa.func.sum(union.c[name]).label(name) for name in ROLLUP_COUNTERS),
    ).group_by(*(union.c[name] for name in KEY))


def answer_day_facts(first: date, last: date) -> sa.Select:
    """Answers of local days first…last per day × key × days taken (for medians)."""
    lo, hi = _utc_bounds(first, last)
    a, t = Appeal, Territory
    day = local_day(a.answered_at, t.timezone)
    took = days_between(local_day(a.registered_at, t.timezone), day)
    return (
        sa.select(
            day.label("day"),
            a.territory_id,
            a.executor_organization_id.label("organization_id"),
            a.subcategory_id,
            a.channel,
            took.label("answer_days"),
            sa.func.count().label("answers"),
        )
        .join(t, t.id == a.territory_id)
        .where(
            a.answered_at >= lo,
            a.answered_at < hi,
            day >= first,
            day <= last,
            COUNTED,
            NOT_THANKS,
        )
        .group_by(
            day, a.territory_id, a.executor_organization_id, a.subcategory_id, a.channel, took
        )
    )


# --- where a key sits: region, municipality, category --------------------------------------


class Placement:
    """Territory → (region, municipality) and subcategory → category for one run; loads only
    the territories it is asked about (and their ancestors), not the whole OKTMO tree."""

    def __init__(self) -> None:
        self._node: dict[int, tuple[int | None, str]] = {}
        self._cache: dict[int, tuple[int, int | None]] = {}
        self.category = topics().category_of

    def load(self, territory_ids: Iterable[int]) -> None:
        """Fetch these territories and their ancestors, a level per query."""
        wanted = {i for i in territory_ids if i not in self._node}
        while wanted:
            rows = db.session.execute(
                sa.select(Territory.id, Territory.parent_id, Territory.level).where(
                    Territory.id.in_(sorted(wanted))
                )
            ).all()
            self._node.update({tid: (parent, level) for tid, parent, level in rows})
            wanted = {p for _, p, _ in rows if p is not None and p not in self._node}

    def of(self, territory_id: int) -> tuple[int, int | None]:
        """(region id, municipality id or None) of a territory."""
        if territory_id not in self._cache:
            self.load([territory_id])
            region = municipality = None
            node: int | None = territory_id
            while node is not None:
                parent, level = self._node[node]
                if level in MUNICIPAL_LEVELS and municipality is None:
                    municipality = node
                if level == TerritoryLevel.REGION:
                    region = node
                    break
                node = parent
            self._cache[territory_id] = (
                region if region is not None else territory_id,
                municipality,
            )
        return self._cache[territory_id]

    def place_all(self, rows: Iterable[Any]) -> list[dict[str, Any]]:
        """Rows of facts with their region, municipality and category added."""
        rows = list(rows)
        self.load({row.territory_id for row in rows})
        return [self.place(row) for row in rows]

    def place(self, row: Any) -> dict[str, Any]:
        values = dict(row._mapping)
        values["day"] = _as_date(values["day"])
        values["region_id"], values["municipality_id"] = self.of(values["territory_id"])
        values["category_id"] = self.category[values["subcategory_id"]]
        return values


def descendants(territory_id: int) -> list[int]:
    """A territory and every territory inside it."""
    found, frontier = [territory_id], [territory_id]
    while frontier:
        frontier = list(
            db.session.scalars(sa.select(Territory.id).where(Territory.parent_id.in_(frontier)))
        )
        found += frontier
    return found


def _as_date(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(value)


# --- writing the rollup ---------------------------------------------------------------------


def _runs(days: Iterable[date]) -> Iterator[tuple[date, date]]:
    """Consecutive runs of days: 1, 2, 3, 7 → (1, 3), (7, 7)."""
    ordered = sorted(set(days))
    while ordered:
        first = last = ordered.pop(0)
        while ordered and ordered[0] == last + timedelta(days=1):
            last = ordered.pop(0)
        yield first, last


def _placed(counted: sa.Select, extra: tuple[str, ...]) -> sa.Select:
    """`counted` (day × key rows) with the region, municipality and category of each key, in
    SQL: a territory is a region, a municipality or a settlement, so two parents suffice."""
    rows = counted.subquery()
    t, parent, grand = aliased(Territory), aliased(Territory), aliased(Territory)
    region, municipal = TerritoryLevel.REGION, MUNICIPAL_LEVELS
    return (
        sa.select(
            rows.c.day,
            sa.case(
                (t.level == region, t.id),
                (parent.level == region, parent.id),
                (grand.level == region, grand.id),
                else_=t.id,
            ).label("region_id"),
            sa.case((t.level.in_(municipal), t.id), (parent.level.in_(municipal), parent.id)).label(
                "municipality_id"
            ),
            rows.c.territory_id,
            rows.c.organization_id,
            Subcategory.category_id,
            rows.c.subcategory_id,
            rows.c.channel,
            *(rows.c[name] for name in extra),
        )
        .join(t, t.id == rows.c.territory_id)
        .outerjoin(parent, parent.id == t.parent_id)
        .outerjoin(grand, grand.id == parent.parent_id)
        .join(Subcategory, Subcategory.id == rows.c.subcategory_id)
    )


PLACED = ("day", "region_id", "municipality_id", *KEY[1:3], "category_id", *KEY[3:])


def recount_days(first: date, last: date) -> int:
    """Replace the rollup rows of local days first…last by a fresh count (in SQL)."""
    for model in (AppealDayRollup, AppealAnswerDays):
        db.session.execute(sa.delete(model).where(model.day >= first, model.day <= last))
    db.session.execute(
        sa.insert(AppealDayRollup).from_select(
            [*PLACED, *ROLLUP_COUNTERS], _placed(facts(first, last), ROLLUP_COUNTERS)
        )
    )
    extra = ("answer_days", "answers")
    db.session.execute(
        sa.insert(AppealAnswerDays).from_select(
            [*PLACED, *extra], _placed(answer_day_facts(first, last), extra)
        )
    )
    return db.session.scalar(
        sa.select(sa.func.count())
        .select_from(AppealDayRollup)
        .where(AppealDayRollup.day >= first, AppealDayRollup.day <= last)
    )


def _first_of_month(day: date) -> date:
    return day.replace(day=1)


def _next_month(day: date) -> date:
    return (day.replace(day=28) + timedelta(days=4)).replace(day=1)


def recount_summaries(first: date, last: date) -> None:
    """Replace the summary tables' rows of days first…last (and of the months they fall in)
    by sums of the day tables."""
    for source, summaries, sums, extra in (
        (AppealDayRollup, SUMMARY_TABLES, ROLLUP_COUNTERS, ()),
        (AppealAnswerDays, ANSWER_SUMMARY_TABLES, ("answers",), ("answer_days",)),
    ):
        d = source.__table__.c
        for model, dated, keys in summaries:
            if dated == "month":
                lo, hi, when = _first_of_month(first), _next_month(last), month_start(d.day)
            else:
                lo, hi, when = first, last + timedelta(days=1), d.day
            date_column = getattr(model, dated)
            db.session.execute(sa.delete(model).where(date_column >= lo, date_column < hi))
            groups = (when, d.region_id, *(d[k] for k in (*keys, *extra)))
            db.session.execute(
                sa.insert(model).from_select(
                    [dated, "region_id", *keys, *extra, *sums],
                    sa.select(*groups, *(sa.func.sum(d[n]) for n in sums))
                    .where(d.day >= lo, d.day < hi)
                    .group_by(*groups),
                )
            )


def days_of(appeal_ids: Iterable[int]) -> set[date]:
    """Every local day on which these messages have a fact (and so a rollup row)."""
    ids = list(appeal_ids)
    if not ids:
        return set()
    a, t = Appeal, Territory
    review = aliased(Appeal)
    moments = sa.union_all(
        *(
            sa.select(a.id.label("appeal_id"), column.label("at")).where(a.id.in_(ids))
            for column in (a.registered_at, a.answered_at, a.closed_at)
        ),
        sa.select(AppealEvent.appeal_id, AppealEvent.at).where(AppealEvent.appeal_id.in_(ids)),
        sa.select(AppealRating.appeal_id, AppealRating.created_at).where(
            AppealRating.appeal_id.in_(ids)
        ),
        sa.select(AppealHandoff.appeal_id, AppealHandoff.at).where(
            AppealHandoff.appeal_id.in_(ids)
        ),
        # An escalation is counted on the review message's days, against the rated message.
        *(
            sa.select(review.review_of_id, column).where(review.review_of_id.in_(ids))
            for column in (review.registered_at, review.answered_at)
        ),
    ).subquery()
    day = local_day(moments.c.at, t.timezone)
    query = (
        sa.select(day)
        .distinct()
        .select_from(moments)
        .join(a, a.id == moments.c.appeal_id)
        .join(t, t.id == a.territory_id)
        .where(moments.c.at.is_not(None))
    )
    return {_as_date(d) for d in db.session.scalars(query)}


def _one_refresh_at_a_time() -> None:
    """Two refreshes recounting the same day would both insert its rows: queue them
    (PostgreSQL; SQLite's BEGIN IMMEDIATE already lets one writer in at a time)."""
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(sa.select(sa.func.pg_advisory_xact_lock(REFRESH_LOCK)))


def refresh_stale(limit: int = 5000) -> int:
    """Recount the days of messages changed since the last refresh; how many were stale."""
    _one_refresh_at_a_time()
    stale = db.session.execute(
        sa.select(StaleAppeal.id, StaleAppeal.appeal_id).order_by(StaleAppeal.id).limit(limit)
    ).all()
    if not stale:
        return 0
    ids = sorted({appeal_id for _, appeal_id in stale})
    days = set().union(*(days_of(ids[i : i + 1000]) for i in range(0, len(ids), 1000)))
    for first, last in _runs(days):
        recount_days(first, last)
        recount_summaries(first, last)
    done = [i for i, _ in stale]
    for i in range(0, len(done), 1000):
        db.session.execute(sa.delete(StaleAppeal).where(StaleAppeal.id.in_(done[i : i + 1000])))
    return len(stale)


def rebuild(since: date | None = None, chunk_days: int = 31) -> int:
    """Recount the rollup from `since` (or the first message) to today; rows written."""
    _one_refresh_at_a_time()
    first_moment = db.session.scalar(sa.select(sa.func.min(Appeal.registered_at)))
    db.session.execute(sa.delete(StaleAppeal))
    if first_moment is None:
        summaries = (*SUMMARY_TABLES, *ANSWER_SUMMARY_TABLES)
        for model in (
            AppealDayRollup,
            AppealAnswerDays,
            HeatCellRollup,
            *(t for t, _, _ in summaries),
        ):
            db.session.execute(sa.delete(model))
        return 0
    start = since or (first_moment - timedelta(days=1)).date()
    if since is None:
        for model in (AppealDayRollup, AppealAnswerDays):
            db.session.execute(sa.delete(model).where(model.day < start))
        db.session.execute(
            sa.delete(HeatCellRollup).where(HeatCellRollup.month < _first_of_month(start))
        )
        for model, dated, _keys in (*SUMMARY_TABLES, *ANSWER_SUMMARY_TABLES):
            date_column = getattr(model, dated)
            db.session.execute(sa.delete(model).where(date_column < _first_of_month(start)))
    end = (datetime.now(UTC) + timedelta(days=1)).date()
    written, day = 0, start
    while day <= end:
        last = min(day + timedelta(days=chunk_days - 1), end)
        written += recount_days(day, last)
        day = last + timedelta(days=1)
    recount_summaries(start, end)
    recount_heat(_months(start, end))
    _analyze_rewritten()
    return written


def _months(first: date, last: date) -> Iterator[date]:
    month = _first_of_month(first)
    while month <= last:
        yield month
        month = _next_month(month)


def _analyze_rewritten() -> None:
    """PostgreSQL plans from statistics taken before the rewrite until autovacuum comes round;
    a plan for an empty table reads millions of rows (16 ms instead of 0.2 at 1 M messages)."""
    if db.session.get_bind().dialect.name != "postgresql":
        return
    summaries = (*SUMMARY_TABLES, *ANSWER_SUMMARY_TABLES)
    for model in (AppealDayRollup, AppealAnswerDays, HeatCellRollup, *(t for t, _, _ in summaries)):
        db.session.execute(sa.text(f"ANALYZE {model.__tablename__}"))


# --- noticing changes -------------------------------------------------------------------------


def _mark_stale(session: Session, _flush_context: Any) -> None:
    ids = {obj.appeal_id for obj in session.new if isinstance(obj, AppealEvent)}
    if not ids:
        return
    session.connection().execute(
        sa.insert(StaleAppeal), [{"appeal_id": i, "at": datetime.now(UTC)} for i in sorted(ids)]
    )
    if not session.info.get("reports_refresh_queued"):
        session.info["reports_refresh_queued"] = True
        enqueue_after_commit(REFRESH_JOB)


def _forget_queued(session: Session, *_: Any) -> None:
    session.info.pop("reports_refresh_queued", None)


def watch_appeal_changes() -> None:
    """Mark messages stale whenever a lifecycle step is written (wired by the factory)."""
    if not sa.event.contains(AppSession, "after_flush", _mark_stale):
        sa.event.listen(AppSession, "after_flush", _mark_stale)
        sa.event.listen(AppSession, "after_commit", _forget_queued)
        sa.event.listen(AppSession, "after_soft_rollback", _forget_queued)
