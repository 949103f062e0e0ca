"""Figures for a scope and a period: totals, breakdowns by a cut, trends, and the recount.

Everything reads through `read()`, which goes to the replica when DATABASE_REPLICA_URL is set.
`figures()`/`breakdown()` sum the rollup; `recount()` computes the same from the base tables
(tests and the benchmark compare the two); snapshot indicators (in work, overdue) and today's
state always come from the base tables.
"""

from __future__ import annotations

import copy
import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import current_app, g, has_app_context, has_request_context
from flask_babel import lazy_gettext as _l

from participation.appeals.models import Appeal, Channel
from participation.appeals.presenters import CHANNEL_LABELS
from participation.appeals.workflow import OPEN_BUCKETS
from participation.core.db import utcnow
from participation.core.organizations import Organization
from participation.core.territories import Territory
from participation.extensions import db
from participation.reports import reference
from participation.reports.definitions import BY_CODE, INDICATORS, ROLLUP_COUNTERS, Source
from participation.reports.models import (
    ANSWER_SUMMARY_TABLES,
    NOT_THANKS,
    SUMMARY_TABLES,
    AppealAnswerDays,
    AppealDayRollup,
)
from participation.reports.rollup import Placement, descendants, fact_rows, facts

MAX_PERIOD_DAYS = 5 * 366


def read(statement: Any) -> sa.Result:
    """Run a read-only report query, on the replica when one is configured."""
    if current_app.config.get("DATABASE_REPLICA_URL"):
        return db.session.execute(statement, bind_arguments={"bind": db.engines["replica"]})
    return db.session.execute(statement)


# --- periods ----------------------------------------------------------------------------------


class Grain(enum.StrEnum):
    DAY = "day"
    WEEK = "week"
    MONTH = "month"
    QUARTER = "quarter"
    YEAR = "year"
    RANGE = "range"  # any dates


GRAIN_LABELS = {
    Grain.DAY: _l("День"),
    Grain.WEEK: _l("Неделя"),
    Grain.MONTH: _l("Месяц"),
    Grain.QUARTER: _l("Квартал"),
    Grain.YEAR: _l("Год"),
    Grain.RANGE: _l("Свои даты"),
}


def platform_today() -> date:
    """The latest date anywhere (UTC+14): a running period stops here, so that no
    territory's today is cut off, wherever it is."""
    return datetime.now(ZoneInfo("Etc/GMT-14")).date()


def _month_start(day: date, months_back: int = 0) -> date:
    index = day.year * 12 + day.month - 1 - months_back
    return date(index // 12, index % 12 + 1, 1)


@dataclass(frozen=True)
class Period:
    """Local calendar days start…end, both included."""

    start: date
    end: date
    grain: Grain = Grain.RANGE

    @classmethod
    def containing(cls, grain: Grain, day: date) -> Period:
        """The day, week (Monday first), month, quarter or year around `day`."""
        if grain == Grain.DAY:
            return cls(day, day, grain)
        if grain == Grain.WEEK:
            start = day - timedelta(days=day.weekday())
            return cls(start, start + timedelta(days=6), grain)
        months = {Grain.MONTH: 1, Grain.QUARTER: 3, Grain.YEAR: 12}.get(grain)
        if months is None:
            raise ValueError(f"no calendar period for {grain}")
        first_month = (day.month - 1) // months * months + 1
        start = date(day.year, first_month, 1)
        return cls(start, _month_start(start, -months) - timedelta(days=1), grain)

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def previous(self, today: date | None = None) -> Period:
        """The period just before: the previous calendar one, or as many days before.

        A period still running is compared like for like: 1–5 December with 1–5 November,
        not with the whole of November (`today` defaults to `platform_today()`).
        """
        if self.grain in (Grain.MONTH, Grain.QUARTER, Grain.YEAR):
            before = Period.containing(self.grain, self.start - timedelta(days=1))
        else:
            before = Period(
                self.start - timedelta(days=self.days), self.start - timedelta(days=1), self.grain
            )
        today = today or platform_today()
        if self.start <= today < self.end:
            end = min(before.end, before.start + (today - self.start))
            return Period(before.start, end, before.grain)
        return before

    def __contains__(self, day: date) -> bool:
        return self.start <= day <= self.end


# --- scopes and cuts ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Scope:
    """Which messages a figure is about: a region, optionally narrowed."""

    region_id: int
    municipality_id: int | None = None
    organization_ids: frozenset[int] | None = None  # an organization and those below it
    category_id: int | None = None
    subcategory_id: int | None = None
    channel: Channel | None = None

    def narrowed(self, **changes: Any) -> Scope:
        return replace(self, **changes)


class Cut(enum.StrEnum):
    MUNICIPALITY = "municipality"
    ORGANIZATION = "organization"
    TERRITORY = "territory"
    CATEGORY = "category"
    SUBCATEGORY = "subcategory"
    CHANNEL = "channel"
    DAY = "day"
    WEEK = "week"
    MONTH = "month"


CUT_LABELS = {
    Cut.MUNICIPALITY: _l("Муниципальное образование"),
    Cut.ORGANIZATION: _l("Организация"),
    Cut.TERRITORY: _l("Территория"),
    Cut.CATEGORY: _l("Категория"),
    Cut.SUBCATEGORY: _l("Подкатегория"),
    Cut.CHANNEL: _l("Источник поступления"),
    Cut.DAY: _l("День"),
    Cut.WEEK: _l("Неделя"),
    Cut.MONTH: _l("Месяц"),
}

_CUT_COLUMN = {
    Cut.MUNICIPALITY: "municipality_id",
    Cut.ORGANIZATION: "organization_id",
    Cut.TERRITORY: "territory_id",
    Cut.CATEGORY: "category_id",
    Cut.SUBCATEGORY: "subcategory_id",
    Cut.CHANNEL: "channel",
    Cut.DAY: "day",
}


def scope_filter(
    columns: Any, scope: Scope, first: date, last: date, dated: str = "day"
) -> list[Any]:
    """WHERE clauses of a rollup table (day or month) for the scope and the dates."""
    where = [columns.region_id == scope.region_id, columns[dated] >= first, columns[dated] <= last]
    if scope.municipality_id is not None:
        where.append(columns.municipality_id == scope.municipality_id)
    if scope.organization_ids is not None:
        where.append(columns.organization_id.in_(sorted(scope.organization_ids)))
    for column in ("category_id", "subcategory_id", "channel"):
        if getattr(scope, column) is not None:
            where.append(columns[column] == getattr(scope, column))
    return where


# --- values ------------------------------------------------------------------------------------


@dataclass
class Row:
    """One line of a breakdown: the cut's key, its label, and the indicators' values."""

    key: Any
    label: str
    values: dict[str, float | int | None] = field(default_factory=dict)
    counters: dict[str, int] = field(default_factory=dict)


def values_from_counters(counters: Mapping[str, int | None]) -> dict[str, float | int | None]:
    """Rollup indicators from summed counters: a count, or a quotient (None when 0 / 0)."""
    values: dict[str, float | int | None] = {}
    for indicator in INDICATORS:
        if indicator.source != Source.ROLLUP or indicator.numerator is None:
            continue
        top = int(counters.get(indicator.numerator) or 0)
        if indicator.denominator is None:
            values[indicator.code] = top
        else:
            bottom = int(counters.get(indicator.denominator) or 0)
            values[indicator.code] = top / bottom if bottom else None
    return values


def median_from_spread(spread: Iterable[tuple[int, int]]) -> float | None:
    """The median of a value → count list (the lower and upper middle averaged)."""
    pairs = sorted((int(v), int(n)) for v, n in spread if n)
    total = sum(n for _, n in pairs)
    if not total:
        return None
    wanted = [(total - 1) // 2, total // 2]
    found, seen = [], 0
    for value, n in pairs:
        while wanted and wanted[0] < seen + n:
            found.append(value)
            wanted.pop(0)
        seen += n
    return sum(found) / 2


def _bucket(cut: Cut | None, key: Any) -> Any:
    if cut == Cut.WEEK:
        day = key if isinstance(key, date) else date.fromisoformat(key)
        return day - timedelta(days=day.weekday())
    if cut == Cut.MONTH:
        day = key if isinstance(key, date) else date.fromisoformat(key)
        return day.replace(day=1)
    if cut == Cut.DAY and not isinstance(key, date):
        return date.fromisoformat(key)
    return key


# A cut or a filter needs these rollup columns; a month table serves it when it has them all.
_DIMENSION = {**_CUT_COLUMN, Cut.WEEK: "day", Cut.MONTH: "month"}


def _dimensions(scope: Scope, cuts: Iterable[Cut | None]) -> set[str]:
    needed = {_DIMENSION[cut] for cut in cuts if cut is not None}
    for column, value in (
        ("municipality_id", scope.municipality_id),
        ("organization_id", scope.organization_ids),
        ("category_id", scope.category_id),
        ("subcategory_id", scope.subcategory_id),
        ("channel", scope.channel),
    ):
        if value is not None:
            needed.add(column)
    return needed


def _whole_months(period: Period) -> tuple[list[Period], tuple[date, date] | None]:
    """The period as the calendar months wholly inside it (first and last month's first
    days) and the days left at either edge."""
    first = period.start if period.start.day == 1 else _month_start(period.start, -1)
    after = _month_start(period.end + timedelta(days=1))  # the month after the last whole one
    if first >= after:
        return [period], None
    edges = [
        Period(a, b)
        for a, b in ((period.start, first - timedelta(days=1)), (after, period.end))
        if a <= b
    ]
    return edges, (first, _month_start(after, 1))


def _grouped(
    table: sa.Table, dated: str, scope: Scope, first: date, last: date, cuts, counters, extra
):
    c = table.c
    keys = [
        sa.literal("all")
        if cut is None
        else c[dated]  # days, weeks and months are bucketed in Python (SQLite has no weeks)
        if cut in (Cut.DAY, Cut.WEEK, Cut.MONTH)
        else c[_DIMENSION[cut]]
        for cut in cuts
    ] + [c[name] for name in extra]
    where = scope_filter(c, scope, first, last, dated)
    return (
        sa.select(*keys, *(sa.func.sum(c[name]) for name in counters)).where(*where).group_by(*keys)
    )


def _sums(
    scope: Scope,
    period: Period,
    cuts: list[Cut | None],
    counters: Iterable[str] = ROLLUP_COUNTERS,
    *,
    summaries: tuple = SUMMARY_TABLES,
    base: type = AppealDayRollup,
    extra: tuple[str, ...] = (),
) -> dict[tuple, dict[str, int]]:
    """Rollup counters summed per combination of `cuts` (and `extra` columns): whole calendar
    months from a summary table that has every column the cuts and the scope need, the rest
    from the smallest day table that has them (`base`, the full day table, at the last).

    Within a request each sum is read once, and a total (`cuts` = [None]) is folded from a
    breakdown of the same scope and period already read: a page showing the municipalities
    and their region's total reads the rollup once for both."""
    counters = list(counters)
    memo = g.setdefault("reports_sums", {}) if has_request_context() else {}
    shape = (scope, period, tuple(counters), summaries, base, extra)
    if (shape, tuple(cuts)) not in memo:
        folded = _folded_total(memo, shape) if cuts == [None] else None
        memo[(shape, tuple(cuts))] = (
            folded
            if folded is not None
            else _read_sums(scope, period, cuts, counters, summaries, base, extra)
        )
    return {key: dict(numbers) for key, numbers in memo[(shape, tuple(cuts))].items()}


# Cuts that put every message of a scope under exactly one key (None included).
_PARTITIONS = frozenset(
    {Cut.MUNICIPALITY, Cut.ORGANIZATION, Cut.TERRITORY, Cut.CATEGORY, Cut.SUBCATEGORY, Cut.CHANNEL}
)


def _folded_total(memo: dict, shape: tuple) -> dict[tuple, dict[str, int]] | None:
    for (made, cuts), found in memo.items():
        if made == shape and len(cuts) == 1 and cuts[0] in _PARTITIONS:
            total: dict[tuple, dict[str, int]] = {}
            for key, numbers in found.items():
                into = total.setdefault(("all", *key[1:]), dict.fromkeys(numbers, 0))
                for name, n in numbers.items():
                    into[name] += n
            return total
    return None


def _read_sums(scope, period, cuts, counters, summaries, base, extra):
    needed = _dimensions(scope, cuts)
    keys_needed = needed - {"day", "month"}

    def first_fit(kind: str) -> sa.Table:
        for model, dated, keys in summaries:
            if (
                dated == kind
                and keys_needed <= set(keys)
                and (kind == "day" or "day" not in needed)
            ):
                return model.__table__
        return base.__table__

    parts: list[tuple[sa.Table, str, date, date]] = []
    edges = [period]
    monthly = first_fit("month")
    if monthly is not base.__table__:
        edges, months = _whole_months(period)
        if months is not None:
            parts.append((monthly, "month", *months))
    daily = first_fit("day")
    parts += [(daily, "day", edge.start, edge.end) for edge in edges]
    out: dict[tuple, dict[str, int]] = {}
    for table, dated, first, last in parts:
        for row in read(_grouped(table, dated, scope, first, last, cuts, counters, extra)):
            width = len(cuts) + len(extra)
            key = tuple(_bucket(cut, value) for cut, value in zip(cuts, row, strict=False))
            key += tuple(row[len(cuts) : width])
            into = out.setdefault(key, dict.fromkeys(counters, 0))
            for name, value in zip(counters, row[width:], strict=True):
                into[name] += int(value or 0)
    return out


def _rollup_sums(scope: Scope, period: Period, cut: Cut | None) -> dict[Any, dict[str, int]]:
    return {key: counters for (key,), counters in _sums(scope, period, [cut]).items()}


def _spreads(scope: Scope, period: Period, cut: Cut | None) -> dict[Any, list[tuple[int, int]]]:
    """Days taken to answer → how many answers, per cut key (for exact medians)."""
    spreads: dict[Any, list[tuple[int, int]]] = {}
    summed = _sums(
        scope,
        period,
        [cut],
        ["answers"],
        summaries=ANSWER_SUMMARY_TABLES,
        base=AppealAnswerDays,
        extra=("answer_days",),
    )
    for (key, days), counted in summed.items():
        spreads.setdefault(key, []).append((days, counted["answers"]))
    return spreads


def _placement() -> Placement:
    """One Placement per request (territories and topics do not change within one)."""
    if not has_app_context():
        return Placement()
    if "reports_placement" not in g:
        g.reports_placement = Placement()
    return g.reports_placement


def _snapshot(scope: Scope, cut: Cut | None) -> dict[Any, dict[str, int]]:
    """In work and overdue now, from the messages table (keys as in the rollup); counted
    once per request (a page compares two periods, the state now is the same for both)."""
    if cut in (Cut.DAY, Cut.WEEK, Cut.MONTH):
        return {}
    cache = g.setdefault("reports_snapshots", {}) if has_app_context() else {}
    # The total and the municipalities are folded from one count by territory; the total
    # from any count of the same scope already made (an organization's page counts by topic).
    source = Cut.TERRITORY if cut in (None, Cut.MUNICIPALITY) else cut
    if cut is None:
        source = next((made for (of, made) in cache if of == scope), source)
    if (scope, source) not in cache:
        cache[(scope, source)] = _count_open(scope, source)
    counted = cache[(scope, source)]
    if source == cut:
        return copy.deepcopy(counted)
    placement = _placement()
    if cut is not None:
        placement.load(counted)
    folded: dict[Any, dict[str, int]] = {}
    for source_key, numbers in counted.items():
        key = "all" if cut is None else placement.of(source_key)[1]
        into = folded.setdefault(key, {"in_work_now": 0, "overdue_now": 0})
        for name, n in numbers.items():
            into[name] += n
    return folded


def _count_open(scope: Scope, cut: Cut | None) -> dict[Any, dict[str, int]]:
    a = Appeal
    placement = _placement()
    # Group only by what the cut and the filters need: the open messages of a region can be
    # many, their territories, organizations and topics few.
    needed = _dimensions(scope, [cut])
    columns = {
        "territory_id": a.territory_id,
        "organization_id": a.executor_organization_id,
        "subcategory_id": a.subcategory_id,
        "channel": a.channel,
    }
    wanted = {
        "territory_id": bool(needed & {"territory_id", "municipality_id"}),
        "organization_id": "organization_id" in needed,
        "subcategory_id": bool(needed & {"subcategory_id", "category_id"}),
        "channel": "channel" in needed,
    }
    groups = [
        (column if wanted[name] else sa.literal(None)).label(name)
        for name, column in columns.items()
    ]
    query = (
        sa.select(
            *groups,
            sa.func.count(),
            sa.func.sum(sa.case((sa.and_(a.answer_due_at < utcnow(), NOT_THANKS), 1), else_=0)),
        )
        .where(a.bucket.in_(OPEN_BUCKETS), a.region_id == scope.region_id)
        .group_by(*(column for name, column in columns.items() if wanted[name]))
    )
    if scope.organization_ids is not None:
        query = query.where(a.executor_organization_id.in_(sorted(scope.organization_ids)))
    if scope.subcategory_id is not None:
        query = query.where(a.subcategory_id == scope.subcategory_id)
    if scope.channel is not None:
        query = query.where(a.channel == scope.channel)
    out: dict[Any, dict[str, int]] = {}
    rows = read(query).all()
    placement.load({row[0] for row in rows if row[0] is not None})
    for territory_id, organization_id, subcategory_id, channel, n, late in rows:
        municipality_id = placement.of(territory_id)[1] if territory_id is not None else None
        if scope.municipality_id is not None and municipality_id != scope.municipality_id:
            continue
        category_id = placement.category.get(subcategory_id)
        if scope.category_id is not None and category_id != scope.category_id:
            continue
        key = {
            None: "all",
            Cut.MUNICIPALITY: municipality_id,
            Cut.ORGANIZATION: organization_id,
            Cut.TERRITORY: territory_id,
            Cut.CATEGORY: category_id,
            Cut.SUBCATEGORY: subcategory_id,
            Cut.CHANNEL: channel,
        }[cut]
        into = out.setdefault(key, {"in_work_now": 0, "overdue_now": 0})
        into["in_work_now"] += n
        into["overdue_now"] += int(late or 0)
    return out


def _assemble(
    sums: dict[Any, dict[str, int]],
    spreads: dict[Any, list[tuple[int, int]]],
    snapshot: dict[Any, dict[str, int]],
    cut: Cut | None,
) -> dict[Any, Row]:
    rows: dict[Any, Row] = {}
    for key in [*sums, *(k for k in snapshot if k not in sums)]:
        counters = sums.get(key, dict.fromkeys(ROLLUP_COUNTERS, 0))
        values = values_from_counters(counters)
        values["answer_days_median"] = median_from_spread(spreads.get(key, []))
        if cut not in (Cut.DAY, Cut.WEEK, Cut.MONTH):
            values.update(snapshot.get(key, {"in_work_now": 0, "overdue_now": 0}))
        rows[key] = Row(key=key, label="", values=values, counters=counters)
    return rows


def _check_period(period: Period) -> None:
    if period.end < period.start or period.days > MAX_PERIOD_DAYS:
        raise ValueError(f"bad report period {period}")


def figures(scope: Scope, period: Period) -> Row:
    """Every messages and satisfaction indicator of the scope over the period."""
    _check_period(period)
    rows = _assemble(
        _rollup_sums(scope, period, None),
        _spreads(scope, period, None),
        _snapshot(scope, None),
        None,
    )
    return rows.get("all") or _assemble({"all": {}}, {}, {}, None)["all"]


def breakdown(scope: Scope, period: Period, cut: Cut, *, medians: bool = True) -> list[Row]:
    """The indicators per municipality, organization, topic, channel or day (labelled);
    without `medians` the median time to answer is left out (None), and its query with it."""
    _check_period(period)
    spreads = _spreads(scope, period, cut) if medians else {}
    rows = _assemble(_rollup_sums(scope, period, cut), spreads, _snapshot(scope, cut), cut)
    label_rows(cut, rows.values())
    return sorted(rows.values(), key=lambda row: (str(row.label), str(row.key)))


def trend(scope: Scope, period: Period, cut: Cut = Cut.MONTH, *, medians: bool = True) -> list[Row]:
    """The period's indicators per day, week or month, every step up to today present,
    oldest first."""
    rows = {row.key: row for row in breakdown(scope, period, cut, medians=medians)}
    steps, day, last = [], period.start, min(period.end, max(platform_today(), period.start))
    while day <= last:
        key = _bucket(cut, day)
        if not steps or steps[-1] != key:
            steps.append(key)
        day += timedelta(days=1)
    out = []
    for key in steps:
        row = rows.get(key) or _assemble({key: {}}, {}, {}, cut)[key]
        row.label = key.strftime("%d.%m.%Y") if cut != Cut.MONTH else key.strftime("%m.%Y")
        out.append(row)
    return out


def recount(scope: Scope, period: Period, cut: Cut | None = None) -> dict[Any, dict[str, int]]:
    """The rollup counters of the scope and period, recomputed from the base tables."""
    placement = Placement()
    summed: dict[Any, dict[str, int]] = {}
    for values in placement.place_all(read(facts(period.start, period.end))):
        if values["region_id"] != scope.region_id:
            continue
        if any(
            want is not None and values[name] != want
            for name, want in (
                ("municipality_id", scope.municipality_id),
                ("category_id", scope.category_id),
                ("subcategory_id", scope.subcategory_id),
                ("channel", scope.channel),
            )
        ):
            continue
        if (
            scope.organization_ids is not None
            and values["organization_id"] not in scope.organization_ids
        ):
            continue
        key = (
            "all"
            if cut is None
            else _bucket(
                cut,
                values["day"]
                if cut in (Cut.DAY, Cut.WEEK, Cut.MONTH)
                else values[_CUT_COLUMN[cut]],
            )
        )
        into = summed.setdefault(key, dict.fromkeys(ROLLUP_COUNTERS, 0))
        for name in ROLLUP_COUNTERS:
            into[name] += int(values[name] or 0)
    return summed


def rollup_counters(
    scope: Scope, period: Period, cut: Cut | None = None
) -> dict[Any, dict[str, int]]:
    """The summed rollup counters (what `recount` must equal)."""
    return _rollup_sums(scope, period, cut)


def appeals_behind(code: str, scope: Scope, period: Period) -> sa.Select:
    """The messages a figure counts: (appeal id, local day, the indicator's counters) rows.

    For a share or an average, the rows are its denominator's, with the numerator beside
    (e.g. every answered message, and whether it was on time); for a snapshot figure, the
    messages open (or overdue) now. Order: newest day first.
    """
    definition = BY_CODE[code]
    placement = Placement()
    subcategories = (
        [s for s, c in placement.category.items() if c == scope.category_id]
        if scope.category_id is not None
        else None
    )
    if definition.source == Source.SNAPSHOT:
        a = Appeal
        query = sa.select(
            a.id.label("appeal_id"),
            a.registered_at.label("day"),
            sa.case((sa.and_(a.answer_due_at < utcnow(), NOT_THANKS), 1), else_=0).label(
                "overdue_now"
            ),
        ).where(a.bucket.in_(OPEN_BUCKETS), a.region_id == scope.region_id)
        if code == "overdue_now":
            query = query.where(a.answer_due_at < utcnow(), NOT_THANKS)
        columns = a
        organization = a.executor_organization_id
        order = a.answer_due_at
    elif definition.source == Source.ROLLUP:
        rows = fact_rows(period.start, period.end)
        counted = definition.denominator or definition.numerator or "answered"
        shown = [name for name in (definition.numerator, definition.denominator) if name]
        query = sa.select(
            rows.c.appeal_id, rows.c.day, *(rows.c[name] for name in shown or [counted])
        ).where(rows.c[counted] > 0, rows.c.message_region_id == scope.region_id)
        columns = rows.c
        organization = rows.c.organization_id
        order = rows.c.day.desc()
    else:
        raise ValueError(f"{code}: the messages behind it are not messages")
    if scope.municipality_id is not None:
        query = query.where(columns.territory_id.in_(descendants(scope.municipality_id)))
    if scope.organization_ids is not None:
        query = query.where(organization.in_(sorted(scope.organization_ids)))
    if subcategories is not None:
        query = query.where(columns.subcategory_id.in_(subcategories))
    if scope.subcategory_id is not None:
        query = query.where(columns.subcategory_id == scope.subcategory_id)
    if scope.channel is not None:
        query = query.where(columns.channel == scope.channel)
    return query.order_by(order, columns.appeal_id if columns is not Appeal else Appeal.id)


# --- labels ------------------------------------------------------------------------------------


def label_rows(cut: Cut, rows: Iterable[Row]) -> None:
    """Give each row the name of its municipality, organization, topic, channel or date."""
    rows = list(rows)
    keys = [row.key for row in rows if row.key is not None]
    names: dict[Any, str] = {}
    if cut in (Cut.MUNICIPALITY, Cut.TERRITORY) and keys:
        names = dict(
            read(sa.select(Territory.id, Territory.name).where(Territory.id.in_(keys))).all()
        )
    elif cut == Cut.ORGANIZATION and keys:
        names = {
            i: short or name
            for i, name, short in read(
                sa.select(Organization.id, Organization.name, Organization.short_name).where(
                    Organization.id.in_(keys)
                )
            )
        }
    elif cut == Cut.CATEGORY:
        names = reference.topics().category_name
    elif cut == Cut.SUBCATEGORY:
        names = reference.topics().subcategory_name
    elif cut == Cut.CHANNEL:
        names = {key: str(CHANNEL_LABELS.get(Channel(key), key)) for key in keys}
    for row in rows:
        if row.key is None:
            row.label = str(_l("Без муниципального образования"))
        elif isinstance(row.key, date):
            row.label = row.key.strftime("%d.%m.%Y")
        else:
            row.label = names.get(row.key, str(row.key))


# --- «Проблемные точки»: what is frequent, what grows, where --------------------------------------


@dataclass
class Hotspot:
    """A subcategory or territory with its count in the period and the period before."""

    key: Any
    label: str
    count: int
    previous: int

    @property
    def growth(self) -> float | None:
        """The change against the previous period as a fraction (None when it had none)."""
        return (self.count - self.previous) / self.previous if self.previous else None


def _counts(scope: Scope, period: Period, cut: Cut, counter: str) -> dict[Any, int]:
    return {key: c[counter] for (key,), c in _sums(scope, period, [cut], [counter]).items()}


def hotspots(
    scope: Scope, period: Period, cut: Cut, limit: int = 10, counter: str = "received"
) -> list[Hotspot]:
    """The most frequent subcategories (or territories, municipalities…) of the period, with
    their count in the previous period; ties broken by the growth, then the name."""
    _check_period(period)
    now = _counts(scope, period, cut, counter)
    before = _counts(scope, period.previous(), cut, counter)
    rows = [Row(key=k, label="") for k, n in now.items() if n]
    label_rows(cut, rows)
    spots = [Hotspot(r.key, r.label, now[r.key], before.get(r.key, 0)) for r in rows]
    spots.sort(key=lambda s: (-s.count, -(s.count - s.previous), s.label))
    return spots[:limit]


@dataclass
class Matrix:
    """Counts of a territory × category grid (rows and columns labelled, busiest first)."""

    rows: list[Row]
    columns: list[Row]
    cells: dict[tuple[Any, Any], int]
    peak: int

    def cell(self, row_key: Any, column_key: Any) -> int:
        return self.cells.get((row_key, column_key), 0)


def heat_matrix(
    scope: Scope,
    period: Period,
    rows: Cut = Cut.MUNICIPALITY,
    columns: Cut = Cut.CATEGORY,
    counter: str = "received",
) -> Matrix:
    """One GROUP BY over the rollup: the counter per territory (or municipality) × category
    (or subcategory). The same aggregate serves the page's table and the map layer."""
    _check_period(period)
    cells = {
        key: c[counter]
        for key, c in _sums(scope, period, [rows, columns], [counter]).items()
        if c[counter]
    }
    row_totals: dict[Any, int] = {}
    column_totals: dict[Any, int] = {}
    for (r, c), n in cells.items():
        row_totals[r] = row_totals.get(r, 0) + n
        column_totals[c] = column_totals.get(c, 0) + n
    row_list = [Row(key=k, label="", counters={counter: n}) for k, n in row_totals.items()]
    column_list = [Row(key=k, label="", counters={counter: n}) for k, n in column_totals.items()]
    label_rows(rows, row_list)
    label_rows(columns, column_list)
    for listed in (row_list, column_list):
        listed.sort(key=lambda r: (-r.counters[counter], r.label))
    return Matrix(row_list, column_list, cells, max(cells.values(), default=0))
