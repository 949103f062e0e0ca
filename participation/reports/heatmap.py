"""The analytics heat map: messages received in a scope and a period, counted per grid cell.

The same messages as the «Поступило» figure (`counted_messages`): registered in the period's
local days (the region's time zone), not rejected at moderation, in the scope (region,
municipality, organizations, category, subcategory, channel); those without a point are left
out. The cells come from participation.geo.cells (fixed grid, cells under 5 suppressed).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from participation.appeals.classifier import Subcategory
from participation.appeals.models import Appeal
from participation.core.territories import Territory
from participation.extensions import db
from participation.geo import cells as c
from participation.geo.services import distance_m
from participation.reports.heat_rollup import counted_messages, grid_of, rolled_up_cells
from participation.reports.rollup import descendants
from participation.reports.services import MAX_PERIOD_DAYS, Period, Scope, read

DASHBOARD_CELLS = 2_000  # the busiest cells drawn on a dashboard's map
BUSIEST_LISTED = 10  # rows of the table next to the map


def scope_where(scope: Scope, period: Period, timezone: str) -> list[Any]:
    """WHERE clauses on the messages table for the scope and the period's local days."""
    a = Appeal
    zone = ZoneInfo(timezone)
    start = datetime.combine(period.start, time(), zone).astimezone(UTC)
    end = datetime.combine(period.end + timedelta(days=1), time(), zone).astimezone(UTC)
    where = [
        *counted_messages(),
        a.region_id == scope.region_id,
        a.registered_at >= start,
        a.registered_at < end,
    ]
    if scope.municipality_id is not None:
        where.append(a.territory_id.in_(descendants(scope.municipality_id)))
    if scope.organization_ids is not None:
        where.append(a.executor_organization_id.in_(sorted(scope.organization_ids)))
    if scope.category_id is not None:
        where.append(
            a.subcategory_id.in_(
                sa.select(Subcategory.id).where(Subcategory.category_id == scope.category_id)
            )
        )
    if scope.subcategory_id is not None:
        where.append(a.subcategory_id == scope.subcategory_id)
    if scope.channel is not None:
        where.append(a.channel == scope.channel)
    return where


def _whole_region_months(scope: Scope, period: Period) -> bool:
    """Whether the rollup answers: the whole region (no narrowing filter), whole months."""
    narrowed = (
        scope.municipality_id,
        scope.organization_ids,
        scope.category_id,
        scope.subcategory_id,
        scope.channel,
    )
    return (
        all(x is None for x in narrowed)
        and period.start.day == 1
        and (period.end + timedelta(days=1)).day == 1
    )


@dataclass
class HeatMap:
    """The cells of a scope and period at one cell size, with their shades' legend."""

    grid: c.Grid
    cells: list[c.Cell]
    peak: int
    truncated: bool

    @property
    def legend(self) -> list[tuple[int, int, int]]:
        return c.legend(self.peak)

    def level(self, cell: c.Cell) -> int:
        return c.level(cell.count, self.peak)


def heat_cells(
    scope: Scope,
    period: Period,
    cell_m: Any = c.DEFAULT_CELL,
    box: c.Box | None = None,
    *,
    limit: int | None = None,
) -> HeatMap:
    """Messages of the scope and period per cell (`cell_m` metres, inside `box` when given):
    one GROUP BY in SQL; cells with fewer than 5 messages are not returned."""
    if period.end < period.start or period.days > MAX_PERIOD_DAYS:
        raise ValueError(f"bad report period {period}")
    size = c.check_cell_size(cell_m)
    region = db.session.get(Territory, scope.region_id)
    reference = float(region.latitude) if region and region.latitude is not None else None
    if reference is None and box is not None:
        reference = (box.south + box.north) / 2
    grid = c.Grid.of(size, reference)
    if box is not None:
        c.check_span(grid, box)
    fetch = None if limit is None else limit + 1
    if _whole_region_months(scope, period) and region is not None and grid_of(region, size):
        found = rolled_up_cells(region.id, grid, period.start, period.end, box, fetch, read)
    else:
        where = scope_where(scope, period, region.timezone if region else "UTC")
        found = c.count_cells(where, grid, box, limit=fetch, execute=read)
    truncated = limit is not None and len(found) > limit
    found = found[:limit] if limit is not None else found
    return HeatMap(grid, found, max((x.count for x in found), default=0), truncated)


@dataclass(frozen=True)
class BusyCell:
    """A row of the table of the busiest cells: the cell, its shade, the nearest centre."""

    cell: c.Cell
    level: int
    near: str | None
    near_km: float | None


def busiest(heat: HeatMap, centres: list[dict], limit: int = BUSIEST_LISTED) -> list[BusyCell]:
    """The busiest cells, each named by the nearest centre of the map (a table for those who
    do not see the map)."""
    rows = []
    for cell in heat.cells[:limit]:
        lat, lon = (cell.south + cell.north) / 2, (cell.west + cell.east) / 2
        nearest = min(
            ((distance_m(lat, lon, x["lat"], x["lon"]), x["name"]) for x in centres),
            default=None,
        )
        rows.append(
            BusyCell(
                cell,
                heat.level(cell),
                nearest[1] if nearest else None,
                nearest[0] / 1000 if nearest else None,
            )
        )
    return rows
