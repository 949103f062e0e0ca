"""Local calendar days in SQL: the same expression on PostgreSQL and on SQLite.

A message registered at 23:30 in Уфа belongs to that day in Уфа, whatever UTC says. Reports
group by `local_day(timestamp, zone)`; SQLite gets a Python function of the same name
(registered by `configure_sqlite`), PostgreSQL converts with `timezone()`.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement


class local_day(FunctionElement):
    """The calendar date of a UTC timestamp in a time zone (a column or a literal name)."""

    type = sa.Date()
    inherit_cache = True
    name = "local_day"


@compiles(local_day, "postgresql")
def _local_day_pg(element: local_day, compiler: Any, **kw: Any) -> str:
    ts, tz = list(element.clauses)
    return f"CAST(timezone({compiler.process(tz, **kw)}, {compiler.process(ts, **kw)}) AS DATE)"


@compiles(local_day)
def _local_day_default(element: local_day, compiler: Any, **kw: Any) -> str:
    ts, tz = list(element.clauses)
    return f"local_day({compiler.process(ts, **kw)}, {compiler.process(tz, **kw)})"


class days_between(FunctionElement):
    """Whole days from the first date to the second (dates, not timestamps)."""

    type = sa.Integer()
    inherit_cache = True
    name = "days_between"


@compiles(days_between, "postgresql")
def _days_between_pg(element: days_between, compiler: Any, **kw: Any) -> str:
    start, end = list(element.clauses)
    return f"({compiler.process(end, **kw)} - {compiler.process(start, **kw)})"


@compiles(days_between)
def _days_between_default(element: days_between, compiler: Any, **kw: Any) -> str:
    start, end = list(element.clauses)
    return (
        f"CAST(julianday({compiler.process(end, **kw)}) - "
        f"julianday({compiler.process(start, **kw)}) AS INTEGER)"
    )


@lru_cache(maxsize=64)
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def sqlite_local_day(value: str | None, zone: str | None) -> str | None:
    """SQLite's `local_day(ts, zone)`: ts is naive UTC text as UTCDateTime stores it."""
    if value is None or zone is None:
        return None
    moment = datetime.fromisoformat(value).replace(tzinfo=UTC)
    return moment.astimezone(_zone(zone)).date().isoformat()


def day_in_zone(moment: datetime, zone: str) -> date:
    """The same rule in Python (for tests and for turning dates into UTC bounds)."""
    return moment.astimezone(_zone(zone)).date()


class month_start(FunctionElement):
    """The first day of a date's month."""

    type = sa.Date()
    inherit_cache = True
    name = "month_start"


@compiles(month_start, "postgresql")
def _month_start_pg(element: month_start, compiler: Any, **kw: Any) -> str:
    (day,) = list(element.clauses)
    return f"CAST(date_trunc('month', {compiler.process(day, **kw)}) AS DATE)"


@compiles(month_start)
def _month_start_default(element: month_start, compiler: Any, **kw: Any) -> str:
    (day,) = list(element.clauses)
    return f"date({compiler.process(day, **kw)}, 'start of month')"


class cell_floor(FunctionElement):
    """FLOOR(x) as an integer, the same on PostgreSQL and SQLite."""

    type = sa.BigInteger()
    inherit_cache = True
    name = "cell_floor"


@compiles(cell_floor, "postgresql")
def _cell_floor_pg(element: cell_floor, compiler: Any, **kw: Any) -> str:
    (x,) = list(element.clauses)
    return f"CAST(FLOOR({compiler.process(x, **kw)}) AS BIGINT)"


@compiles(cell_floor)
def _cell_floor_default(element: cell_floor, compiler: Any, **kw: Any) -> str:
    # CAST(… AS INTEGER) truncates toward zero on SQLite: one less for a negative fraction.
    x = compiler.process(element.clauses.clauses[0], **kw)
    return f"(CAST({x} AS INTEGER) - (({x}) < CAST({x} AS INTEGER)))"
