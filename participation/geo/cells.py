"""Heat-map cells: messages counted per cell of a fixed grid, in SQL, small cells suppressed.

The grid is fixed per cell size and reference latitude: a cell is `dlat` degrees high
(CELL_SIZES metres) and `dlon` wide, `dlon = dlat / cos(reference latitude)` so that cells are
about square in the region (the reference is the region's centre latitude rounded to a whole
degree, so every request about the region gets the same grid). Cell (i, j) spans latitudes
i·dlat … (i+1)·dlat and longitudes j·dlon … (j+1)·dlon; the indices are FLOOR(latitude / dlat)
and FLOOR(longitude / dlon), grouped on in SQL (PostgreSQL's FLOOR; on SQLite, whose FLOOR is
not always compiled in, the same through CAST).

Privacy: a cell holding fewer than MIN_COUNT (5) messages is not returned at all, and a box
asked for is widened to whole cells, so that moving it never cuts a cell and no difference of
two answers isolates a point: nothing finer than a cell is ever told.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from typing import Any

import sqlalchemy as sa
from flask_babel import gettext as _

from participation.appeals.models import Appeal
from participation.core.errors import FieldError
from participation.core.sqltime import cell_floor
from participation.extensions import db
from participation.geo.services import METRES_PER_DEGREE

CELL_SIZES = (250, 1_000, 4_000)  # metres: a street block, a neighbourhood, a district
DEFAULT_CELL = 1_000
MIN_COUNT = 5  # a cell with fewer messages is suppressed (could point at one resident)
MAX_SPAN_CELLS = 256  # a box may be at most this many cells high and wide
LEVELS = 5  # shades of the layer (and of its legend)


@dataclass(frozen=True)
class Grid:
    """A cell size in metres and its degrees at the reference latitude."""

    cell_m: int
    dlat: float
    dlon: float

    @classmethod
    def of(cls, cell_m: int, reference_latitude: float | None) -> Grid:
        dlat = cell_m / METRES_PER_DEGREE
        whole = round(reference_latitude or 0.0)
        return cls(cell_m, dlat, dlat / math.cos(math.radians(max(-80, min(80, whole)))))

    def rows(self, box: Box) -> tuple[int, int, int, int]:
        """First and past-the-last cell indices (south–north, west–east) of a snapped box."""
        return (
            round(box.south / self.dlat),
            round(box.north / self.dlat),
            round(box.west / self.dlon),
            round(box.east / self.dlon),
        )

    def snap(self, box: Box) -> Box:
        """The box widened to whole cells."""
        return Box(
            south=math.floor(box.south / self.dlat) * self.dlat,
            west=math.floor(box.west / self.dlon) * self.dlon,
            north=(math.floor(box.north / self.dlat) + 1) * self.dlat,
            east=(math.floor(box.east / self.dlon) + 1) * self.dlon,
        )


@dataclass(frozen=True)
class Box:
    """A bounding box in degrees."""

    south: float
    west: float
    north: float
    east: float


@dataclass(frozen=True)
class Cell:
    """One cell of the grid and how many messages lie in it (MIN_COUNT or more)."""

    south: float
    west: float
    north: float
    east: float
    count: int


def check_cell_size(cell_m: Any) -> int:
    """The cell size in metres, one of CELL_SIZES, or FieldError."""
    if isinstance(cell_m, bool) or cell_m not in CELL_SIZES:
        raise FieldError(
            "cell",
            _(
                "Размер ячейки — %(sizes)s метров.",
                sizes=", ".join(str(size) for size in CELL_SIZES),
            ),
        )
    return int(cell_m)


def parse_box(text: Any) -> Box:
    """«west,south,east,north» in degrees (as Leaflet's toBBoxString gives it), or FieldError."""
    message = _(
        "Область (bbox) — четыре числа через запятую: запад, юг, восток, север в градусах "
        "(долгота от −180 до 180, широта от −90 до 90), запад меньше востока, юг меньше севера."
    )
    parts = str(text).split(",") if isinstance(text, str) else []
    if len(parts) != 4:
        raise FieldError("bbox", message)
    try:
        west, south, east, north = (float(part) for part in parts)
    except ValueError:
        raise FieldError("bbox", message) from None
    numbers = (west, south, east, north)
    if not all(math.isfinite(x) for x in numbers) or not (
        -180 <= west < east <= 180 and -90 <= south < north <= 90
    ):
        raise FieldError("bbox", message)
    return Box(south=south, west=west, north=north, east=east)


def check_span(grid: Grid, box: Box) -> None:
    """FieldError when the box holds more than MAX_SPAN_CELLS cells across or down."""
    high = (box.north - box.south) / grid.dlat
    wide = (box.east - box.west) / grid.dlon
    if max(high, wide) > MAX_SPAN_CELLS + 1:
        raise FieldError(
            "bbox",
            _(
                "Область слишком велика для ячеек по %(size)s м: не больше %(n)d ячеек по "
                "каждой стороне. Уменьшите область или возьмите ячейки крупнее.",
                size=grid.cell_m,
                n=MAX_SPAN_CELLS,
            ),
        )


def count_cells(
    where: Iterable[Any],
    grid: Grid,
    box: Box | None = None,
    *,
    limit: int | None = None,
    execute: Callable[[Any], Any] | None = None,
) -> list[Cell]:
    """Messages (Appeal rows matching `where`, with a point) per cell of the grid, inside the
    box widened to whole cells; cells under MIN_COUNT left out; the busiest first. `execute`
    runs the query (the reports pass theirs, which reads from the replica when there is one)."""
    a = Appeal
    row = cell_floor(a.latitude / grid.dlat).label("row")
    column = cell_floor(a.longitude / grid.dlon).label("col")
    conditions = [a.latitude.is_not(None), a.longitude.is_not(None), *where]
    rows = None
    if box is not None:
        whole = grid.snap(box)
        # The index range of the box's whole cells; the range on the indexed columns, in
        # their own six decimals (a float would cast the column and miss ix_appeals_point).
        rows = grid.rows(whole)
        conditions += [
            a.latitude >= _six(whole.south, ROUND_FLOOR),
            a.latitude <= _six(whole.north, ROUND_CEILING),
            a.longitude >= _six(whole.west, ROUND_FLOOR),
            a.longitude <= _six(whole.east, ROUND_CEILING),
        ]
    counted = sa.func.count().label("n")
    query = (
        sa.select(row, column, counted)
        .where(*conditions)
        .group_by(row, column)
        .having(sa.func.count() >= MIN_COUNT)
        .order_by(counted.desc(), row, column)
    )
    if limit is not None:
        query = query.limit(limit)
    return to_cells((execute or db.session.execute)(query), grid, rows)


def to_cells(
    counted: Iterable[tuple[int, int, int]], grid: Grid, rows: tuple[int, int, int, int] | None
) -> list[Cell]:
    """(row, column, count) results as cells; with `rows` (the box's index range) only those
    inside it: a cell the margin reached into is not one of the box's (and would be partial)."""
    cells = []
    for i, j, n in counted:
        if rows is None or (rows[0] <= i < rows[1] and rows[2] <= j < rows[3]):
            cells.append(
                Cell(
                    south=round(i * grid.dlat, 6),
                    west=round(j * grid.dlon, 6),
                    north=round((i + 1) * grid.dlat, 6),
                    east=round((j + 1) * grid.dlon, 6),
                    count=int(n),
                )
            )
    return cells


def _six(x: float, rounding: str) -> Decimal:
    return Decimal(repr(x)).quantize(Decimal("0.000001"), rounding=rounding)


def level(count: int, peak: int) -> int:
    """1 … LEVELS: the cell's shade (fifths of the busiest cell), 0 for none."""
    if not count or not peak:
        return 0
    return max(1, min(LEVELS, -(-count * LEVELS // peak)))


def legend(peak: int) -> list[tuple[int, int, int]]:
    """(level, from, to) counts of each shade that can occur (from MIN_COUNT up to the peak)."""
    out = []
    for shade in range(1, LEVELS + 1):
        low = max(MIN_COUNT, (shade - 1) * peak // LEVELS + 1)
        high = shade * peak // LEVELS
        if low <= high:
            out.append((shade, low, high))
    return out
