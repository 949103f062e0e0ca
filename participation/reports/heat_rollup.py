"""The heat map's rollup: messages per grid cell, local month and region, for every cell size.

A region's heat map over whole months without narrowing filters (the public endpoint, the
region's dashboards) sums these rows instead of grouping a year of points: at 1 000 000
messages a region's year at 4 km is a few thousand rows instead of a scan of the messages.
It is recounted by `rollup.rebuild` (every month) and by the sweep (`recount_recent_heat`,
every SWEEP_INTERVAL_SECONDS): the current and the previous month, where everything that moves a
heat map happens (registrations, rejections at moderation, merges of the last 30 days); ~0.5 s
a month at 1 000 000 messages a year (bench/geo_heatmap.py). Narrowed heat maps (an
organization, a category…) count the messages directly.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from participation.appeals.models import Appeal
from participation.appeals.workflow import AppealState
from participation.core.sqltime import cell_floor
from participation.core.territories import Territory
from participation.extensions import db
from participation.geo import cells as c
from participation.reports.models import COUNTED, NOT_THANKS, HeatCellRollup


def counted_messages() -> list[Any]:
    """WHERE clauses of the messages a heat map counts, once each: every registered message
    except those rejected at moderation, the duplicates following another one and thanks (as
    the «Поступило» counter)."""
    return [Appeal.state != AppealState.REJECTED, COUNTED, NOT_THANKS]


def grid_of(region: Territory, cell_m: int) -> c.Grid | None:
    """The region's fixed grid at this cell size (None: the region has no centre yet)."""
    if region.latitude is None:
        return None
    return c.Grid.of(cell_m, float(region.latitude))


def month_bounds(month: date, timezone: str) -> tuple[datetime, datetime]:
    """The UTC moments of the local month's start and of the next month's start."""
    zone = ZoneInfo(timezone)
    following = date(month.year + month.month // 12, month.month % 12 + 1, 1)
    return tuple(  # type: ignore[return-value]
        datetime.combine(day, time(), zone).astimezone(UTC) for day in (month, following)
    )


def recount_heat(months: Iterable[date]) -> None:
    """Replace the rollup rows of these local months (first days), every region."""
    for month in sorted({m.replace(day=1) for m in months}):
        db.session.execute(sa.delete(HeatCellRollup).where(HeatCellRollup.month == month))
        # The regions with messages near this month (a day either side covers every zone).
        start, end = month_bounds(month, "UTC")
        lo, hi = start - timedelta(days=1), end + timedelta(days=1)
        nearby = sa.select(Appeal.region_id).where(
            Appeal.registered_at >= lo, Appeal.registered_at < hi
        )
        regions = db.session.scalars(
            sa.select(Territory).where(Territory.id.in_(nearby.distinct()))
        ).all()
        for region in regions:
            start, end = month_bounds(month, region.timezone)
            for size in c.CELL_SIZES:
                grid = grid_of(region, size)
                if grid is None:
                    continue
                a = Appeal
                row = cell_floor(a.latitude / grid.dlat)
                col = cell_floor(a.longitude / grid.dlon)
                counted = (
                    sa.select(
                        sa.literal(region.id),
                        sa.literal(size),
                        sa.literal(month, sa.Date),
                        row,
                        col,
                        sa.func.count(),
                    )
                    .where(
                        a.region_id == region.id,
                        a.registered_at >= start,
                        a.registered_at < end,
                        a.latitude.is_not(None),
                        a.longitude.is_not(None),
                        *counted_messages(),
                    )
                    .group_by(row, col)
                )
                db.session.execute(
                    sa.insert(HeatCellRollup).from_select(
                        ["region_id", "cell_m", "month", "row", "col", "messages"], counted
                    )
                )


def recount_recent_heat(now: datetime | None = None) -> None:
    """The sweep's part: recount the months a change can still touch (this one, the one a
    zone east of UTC may already be in, and the previous one)."""
    today = (now or datetime.now(UTC)).date()
    previous = today.replace(day=1) - timedelta(days=1)
    recount_heat({today, today + timedelta(days=1), previous})


def rolled_up_cells(
    region_id: int,
    grid: c.Grid,
    first_month: date,
    last_month: date,
    box: c.Box | None,
    limit: int | None,
    execute: Any,
) -> list[c.Cell]:
    """The cells of whole local months first…last from the rollup (as geo.cells.count_cells)."""
    r = HeatCellRollup
    total = sa.func.sum(r.messages).label("n")
    conditions = [
        r.region_id == region_id,
        r.cell_m == grid.cell_m,
        r.month >= first_month,
        r.month <= last_month,
    ]
    rows = None
    if box is not None:
        rows = grid.rows(grid.snap(box))
        conditions += [r.row >= rows[0], r.row < rows[1], r.col >= rows[2], r.col < rows[3]]
    query = (
        sa.select(r.row, r.col, total)
        .where(*conditions)
        .group_by(r.row, r.col)
        .having(sa.func.sum(r.messages) >= c.MIN_COUNT)
        .order_by(total.desc(), r.row, r.col)
    )
    if limit is not None:
        query = query.limit(limit)
    return c.to_cells(execute(query), grid, rows)
