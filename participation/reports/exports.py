"""The dashboards' tables as CSV and XLSX, and the statistics CSV for СЭД and open data.

A table is a header and rows of raw values (counts, shares 0…1, days); `table_csv` writes them
for people (decimal comma, shares in per cent) and `table_xlsx` as numbers with formats. The
statistics CSV is for machines: ISO dates, ОКТМО, topic and channel codes beside the names,
integer counts, read from the rollup in pages so memory does not grow with the period. It has
no person and no message text by construction: it reads only the rollup's counters. Its public
variant shows counts of 1–4 as «менее 5» (they could point at a person).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from flask_babel import gettext as _

from participation.appeals.classifier import Category
from participation.appeals.models import Channel
from participation.appeals.presenters import CHANNEL_LABELS
from participation.core.exports import safe_text, stream_csv, write_xlsx
from participation.core.i18n import number
from participation.core.territories import Territory
from participation.reports.definitions import BY_CODE, INDICATORS, Block, Indicator, Source, Unit
from participation.reports.models import AppealDayRollup
from participation.reports.services import (
    CUT_LABELS,
    Cut,
    Period,
    Row,
    Scope,
    breakdown,
    figures,
    read,
    scope_filter,
    trend,
)

# Counts of 1…4 on the public statistics could point at a person.
PUBLIC_THRESHOLD = 5
STAT_PAGE = 2000
TIME_CUTS = (Cut.DAY, Cut.WEEK, Cut.MONTH)
# The statistics CSV's counters: counts of messages only (no sums a reader could misread).
STAT_COUNTERS = (
    "received",
    "answered",
    "answered_on_time",
    "fast_track_answered",
    "fast_track_on_time",
    "returned_for_rework",
    "postponed",
    "redirected",
    "rejected_moderation",
    "thanks",
    "ratings",
    "rated_high",
    "rated_low",
    "escalated",
    "escalations_answered",
)


@dataclass(frozen=True)
class Table:
    """A table of a dashboard: its column indicators and rows, ready to be written."""

    title: str
    first_column: str
    indicators: tuple[Indicator, ...]
    rows: list[Row]
    total: Row | None = None

    def header(self) -> list[str]:
        return [self.first_column, *(column_title(i) for i in self.indicators)]

    def raw_rows(self) -> Iterator[list[Any]]:
        """The header, then each row's label and values (shares 0…1, None for «no data»)."""
        yield self.header()
        for row in [*self.rows, *([self.total] if self.total else [])]:
            yield [row.label, *(row.values.get(i.code) for i in self.indicators)]


def column_title(indicator: Indicator) -> str:
    """«Ответ в срок, %»: the indicator's name and, where the name does not say it, its unit."""
    name = str(indicator.name)
    if indicator.unit == Unit.SHARE:
        return f"{name}, %"
    if indicator.unit == Unit.SCORE:
        return _("%(name)s (от 1 до 5)", name=name)
    return name


def table_indicators(cut: Cut | None) -> tuple[Indicator, ...]:
    """Every messages and satisfaction indicator; «now» figures have no per-day value."""
    return tuple(
        i
        for i in INDICATORS
        if i.block in (Block.MESSAGES, Block.SATISFACTION)
        and (i.source == Source.ROLLUP or (i.source == Source.SNAPSHOT and cut not in TIME_CUTS))
    )


def breakdown_table(scope: Scope, period: Period, cut: Cut) -> Table:
    """The breakdown of a scope and period by a cut, with a total line."""
    total = figures(scope, period)
    total.label = _("Итого")
    return Table(
        title=_("Показатели: %(cut)s", cut=str(CUT_LABELS[cut]).lower()),
        first_column=str(CUT_LABELS[cut]),
        indicators=table_indicators(cut),
        rows=breakdown(scope, period, cut),
        total=total,
    )


def trend_table(scope: Scope, period: Period, cut: Cut = Cut.MONTH) -> Table:
    """The trend of a scope over a period by day, week or month."""
    if cut not in TIME_CUTS:
        raise ValueError(f"a trend steps by day, week or month, not {cut}")
    return Table(
        title=_("Динамика показателей"),
        first_column={
            Cut.DAY: _("День"),
            Cut.WEEK: _("Неделя (с понедельника)"),
            Cut.MONTH: _("Месяц"),
        }[cut],
        indicators=table_indicators(cut),
        rows=trend(scope, period, cut),
    )


# --- writing -----------------------------------------------------------------------------------


def _for_people(indicator: Indicator, value: Any) -> str:
    if value is None:
        return ""
    if indicator.unit == Unit.SHARE:
        return number(value * 100, 1, grouping=False)
    if indicator.unit in (Unit.DAYS, Unit.SCORE):
        return number(value, 2, grouping=False)
    return str(int(value))


def _people_rows(table: Table) -> Iterator[list[str]]:
    rows = table.raw_rows()
    yield next(rows)
    for label, *values in rows:
        yield [
            safe_text(str(label)),
            *(_for_people(i, v) for i, v in zip(table.indicators, values, strict=True)),
        ]


def table_csv(table: Table) -> Iterator[str]:
    """The table as CSV chunks: BOM, «;», Russian headers, «56,2» for 56.2 %."""
    return stream_csv(_people_rows(table), cell=str)


def table_xlsx(table: Table, path: Path) -> int:
    """The table as XLSX at `path`: numbers stay numbers, shares formatted as per cent."""
    formats = {}
    for col, indicator in enumerate(table.indicators, 1):
        formats[col] = {
            Unit.SHARE: "0.0%",
            Unit.DAYS: "0.0",
            Unit.SCORE: "0.00",
            Unit.COUNT: "0",
        }[indicator.unit]
    return write_xlsx(table.raw_rows(), path, table.title, column_formats=formats)


# --- the statistics CSV for СЭД and open data --------------------------------------------------


def stat_header() -> list[str]:
    names = {
        "answered_on_time": _("Ответ в срок"),
        "fast_track_answered": _("Ускоренные: дан ответ"),
        "fast_track_on_time": _("Ускоренные: ответ в срок"),
        "ratings": _("Получено оценок"),
        "rated_high": _("Оценки 4–5"),
        "rated_low": _("Оценки 1–2"),
    }
    return [
        _("Дата"),
        _("ОКТМО муниципального образования"),
        _("Муниципальное образование"),
        _("Код категории"),
        _("Категория"),
        _("Код источника"),
        _("Источник поступления"),
        *(str(names.get(c) or BY_CODE[c].name) for c in STAT_COUNTERS),
    ]


def _small(value: int) -> int | str:
    return _("менее 5") if 0 < value < PUBLIC_THRESHOLD else value


def stat_rows(scope: Scope, period: Period, *, public: bool) -> Iterator[list[Any]]:
    """The header, then counts per day × municipality × category × channel, oldest first.

    Read by keyset over the grouped key a page at a time; lines with nothing counted are left
    out. Takes ids and values only: the streamed response runs it after the view returned.
    """
    r = AppealDayRollup.__table__.c
    region = read(sa.select(Territory.oktmo, Territory.name).where(Territory.id == scope.region_id))
    region_oktmo, region_name = region.one()
    municipality = sa.func.coalesce(r.municipality_id, 0)
    key = (r.day, municipality, r.category_id, r.channel)
    sums = [sa.func.sum(r[c]) for c in STAT_COUNTERS]
    where = scope_filter(r, scope, period.start, period.end)
    territories = {
        i: (oktmo, name)
        for i, oktmo, name in read(
            sa.select(Territory.id, Territory.oktmo, Territory.name).where(
                Territory.id.in_(sa.select(r.municipality_id).where(*where).distinct())
            )
        )
    }
    categories = {
        i: (code, name)
        for i, code, name in read(sa.select(Category.id, Category.code, Category.name))
    }
    yield stat_header()
    after: tuple | None = None
    while True:
        query = sa.select(*key, *sums).where(*where)
        if after is not None:
            query = query.where(
                sa.tuple_(*key)
                > sa.tuple_(*(sa.literal(v, type_=k.type) for k, v in zip(key, after, strict=True)))
            )
        query = query.group_by(*key).order_by(*key).limit(STAT_PAGE)
        page = read(query).all()
        if not page:
            return
        for day, municipality_id, category_id, channel, *counts in page:
            counts = [int(c or 0) for c in counts]
            if not any(counts):
                continue
            if municipality_id:
                oktmo, name = territories.get(municipality_id, ("", str(municipality_id)))
            else:
                oktmo, name = (
                    region_oktmo,
                    _("%(region)s (без муниципального образования)", region=region_name),
                )
            code, category = categories.get(category_id, ("", ""))
            channel_value = getattr(channel, "value", channel)
            yield [
                day if isinstance(day, date) else date.fromisoformat(str(day)),
                oktmo,
                name,
                code,
                category,
                channel_value,
                str(CHANNEL_LABELS.get(Channel(channel_value), channel_value)),
                *(_small(c) if public else c for c in counts),
            ]
        last = page[-1]
        after = (last[0], last[1], last[2], getattr(last[3], "value", last[3]))


def _stat_cell(value: Any) -> str:
    if isinstance(value, date):
        return value.isoformat()  # machines read ISO dates
    return "" if value is None else safe_text(str(value))


def stat_csv(scope: Scope, period: Period, *, public: bool) -> Iterable[str]:
    """The statistics CSV as chunks (BOM, «;»): for СЭД, or public open data with «менее 5»."""
    return stream_csv(stat_rows(scope, period, public=public), cell=_stat_cell)
