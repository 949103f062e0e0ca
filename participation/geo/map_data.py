"""Map data: a region's public map of problems (points, counts, its settings) and the staff
inbox's map mode. Both read a bounding box of the visible map off ix_appeals_point and return at
most a capped number of points, saying when they capped.

The public map shows messages once they are public: past moderation (not on moderation, not
rejected, nor in any state added later unless listed here), of the region, with a point. Each
point carries its category, subcategory and a status group with its colour; never the author,
and the text and the address only when the region publishes texts (e-mails and phone numbers
in them masked). Its coordinates are rounded to 4 decimals (about 10 m): the place of a
problem, not of a doorway.

When the box holds more points than the cap, the public map spreads them: the box is cut into
SPREAD_GRID × SPREAD_GRID cells and each cell gives at most its share, each cell one short
index range scan (one UNION ALL statement), so a city-sized box costs the same at any data
size and the points are not all taken from one edge of the box. When some cells are sparse, a
second such statement gives the room left to the cells that held more.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from functools import lru_cache
from typing import Any

import sqlalchemy as sa
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from participation.appeals.classifier import Category, Subcategory
from participation.appeals.inbox import Filters, folder_query
from participation.appeals.models import Appeal
from participation.appeals.workflow import STATE_LABELS, AppealState
from participation.core import audit
from participation.core.errors import FieldError
from participation.core.organizations import Organization, OrganizationKind
from participation.core.territories import Territory, TerritoryLevel
from participation.extensions import db
from participation.geo.models import RegionMapSettings

MAP_POINT_LIMIT = 300  # a city map of clusters; at 1 M messages p95 ≈ 15 ms (500: ≈ 20 ms)
MAP_MAX_LIMIT = 2_000
INBOX_POINT_LIMIT = 500  # clustered; at 1 M messages 770 points took p95 25 ms
SPREAD_GRID = 3  # 3 × 3 cells: at 1 M messages p95 17 ms for 500 points, 4 × 4 cost 20 ms
_SIX_PLACES = Decimal("0.000001")
TEXT_LIMIT = 500

S = AppealState
# Public status groups, in the legend's order; a state not listed here is not on the map.
STATUS_GROUPS: dict[str, tuple[AppealState, ...]] = {
    "in_work": (S.COORDINATION, S.ASSIGNMENT, S.IN_WORK, S.APPROVAL),
    "postponed": (S.POSTPONED,),
    "answered": (S.ANSWERED, S.CLOSED),
    "escalated": (S.ESCALATED,),
}
STATUS_LABELS = {
    "in_work": _l("В работе"),
    "postponed": _l("Решение отложено"),
    "answered": _l("Дан ответ"),
    "escalated": _l("На рассмотрении вышестоящей организации"),
}
STATUS_OF = {state: group for group, states in STATUS_GROUPS.items() for state in states}
PUBLIC_STATES = frozenset(STATUS_OF)

_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(\.[\w-]+)+")
_PHONE = re.compile(r"(?<!\d)(\+?\d[\d\s()‐-]{8,}\d)(?!\d)")


# --- input ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class BBox:
    """The visible map: south, west, north, east in the columns' six decimals."""

    south: Decimal
    west: Decimal
    north: Decimal
    east: Decimal

    def clauses(self) -> list[Any]:
        return [
            Appeal.latitude.between(self.south, self.north),
            Appeal.longitude.between(self.west, self.east),
        ]


def parse_bbox(raw: Any) -> BBox:
    """«south,west,north,east» in degrees, or FieldError saying what is wrong (in Russian)."""
    message = _(
        "Область карты (bbox) — четыре числа через запятую: юг, запад, север, восток "
        "(широта от −90 до 90, долгота от −180 до 180, юг не севернее севера, запад не "
        "восточнее востока)."
    )
    parts = str(raw or "").split(",")
    if len(parts) != 4:
        raise FieldError("bbox", message)
    try:
        south, west, north, east = (float(p.strip()) for p in parts)
    except ValueError:
        raise FieldError("bbox", message) from None
    numbers = (south, west, north, east)
    if not all(math.isfinite(x) for x in numbers):
        raise FieldError("bbox", message)
    if not (-90 <= south <= north <= 90 and -180 <= west <= east <= 180):
        raise FieldError("bbox", message)

    def down(x: float) -> Decimal:
        return Decimal(repr(x)).quantize(_SIX_PLACES, rounding=ROUND_FLOOR)

    def up(x: float) -> Decimal:
        return Decimal(repr(x)).quantize(_SIX_PLACES, rounding=ROUND_CEILING)

    return BBox(down(south), down(west), up(north), up(east))


def check_limit(raw: Any, default: int = MAP_POINT_LIMIT) -> int:
    """The number of points asked for, 1 … MAP_MAX_LIMIT, or FieldError."""
    if raw is None or raw == "":
        return default
    text = str(raw).strip()
    if not text.isdecimal() or not 1 <= int(text) <= MAP_MAX_LIMIT:
        raise FieldError(
            "limit", _("Число точек (limit) — целое от 1 до %(max)d.", max=MAP_MAX_LIMIT)
        )
    return int(text)


def mask_personal(text: str) -> str:
    """The text with e-mail addresses and phone numbers replaced by «[скрыто]»."""
    hidden = _("[скрыто]")
    return _PHONE.sub(hidden, _EMAIL.sub(hidden, text))


# --- the region's settings --------------------------------------------------------------------


def map_settings(region_id: int) -> RegionMapSettings | None:
    """The region's saved settings, None when its curator never saved them (both off)."""
    return db.session.scalar(
        sa.select(RegionMapSettings).where(RegionMapSettings.territory_id == region_id)
    )


def curated_region(organization: Organization) -> Territory | None:
    """The region whose public map this organization's curators decide on: a ЦУР's own."""
    if organization.kind != OrganizationKind.REGIONAL_CENTRE:
        return None
    region = organization.territory
    return region if region.level == TerritoryLevel.REGION else None


def set_public_map(
    region: Territory, *, enabled: bool, publish_texts: bool, actor_id: int | None
) -> RegionMapSettings:
    """Turn the region's public map (and its texts) on or off; audit-logged when it changes."""
    if region.level != TerritoryLevel.REGION:
        raise FieldError("region", _("Публичная карта включается для субъекта РФ."))
    row = map_settings(region.id)
    before = (row.public_map, row.publish_texts) if row else (False, False)
    if row is None:
        row = RegionMapSettings(territory_id=region.id)
        db.session.add(row)
    row.public_map, row.publish_texts = bool(enabled), bool(publish_texts)
    row.updated_by_id = actor_id
    db.session.flush()
    if before != (row.public_map, row.publish_texts):
        audit.record(
            "geo.public_map_changed",
            row,
            actor_id=actor_id,
            region_id=region.id,
            public_map=row.public_map,
            publish_texts=row.publish_texts,
            before={"public_map": before[0], "publish_texts": before[1]},
        )
    return row


def public_map_region(region_id: int) -> tuple[Territory, RegionMapSettings] | None:
    """The region and its settings when its public map is on; None otherwise (→ 404)."""
    found = db.session.execute(
        sa.select(Territory, RegionMapSettings)
        .join(RegionMapSettings, RegionMapSettings.territory_id == Territory.id)
        .where(
            Territory.id == region_id,
            Territory.level == TerritoryLevel.REGION,
            RegionMapSettings.public_map.is_(True),
        )
    ).first()
    return None if found is None else (found[0], found[1])


# --- points -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class MapPoint:
    """One point: on the public map nothing of its author; text and address only if published."""

    id: int
    lat: float
    lon: float
    status: str  # a STATUS_GROUPS key on the public map, the state itself for staff
    status_label: str
    category: str
    subcategory: str
    text: str | None = None
    address: str | None = None


@dataclass(frozen=True)
class MapPoints:
    points: list[MapPoint]
    capped: bool  # the box holds more than `limit`: zoom in or narrow the filters
    limit: int


def _topics(subcategory_ids: set[int]) -> dict[int, tuple[str, str]]:
    if not subcategory_ids:
        return {}
    rows = db.session.execute(
        sa.select(Subcategory.id, Subcategory.name, Category.name.label("category"))
        .join(Category, Category.id == Subcategory.category_id)
        .where(Subcategory.id.in_(sorted(subcategory_ids)))
    )
    return {r.id: (r.category, r.name) for r in rows}


def _edges(bbox: BBox) -> dict[str, Decimal]:
    """The parameters of the cells' edges: s0 … sN (latitudes), w0 … wN (longitudes)."""

    def edges(low: Decimal, high: Decimal) -> list[Decimal]:
        step = (high - low) / SPREAD_GRID
        inner = [(low + step * k).quantize(_SIX_PLACES) for k in range(1, SPREAD_GRID)]
        return [low, *inner, high]

    lats, lons = edges(bbox.south, bbox.north), edges(bbox.west, bbox.east)
    return {
        **{f"s{k}": v for k, v in enumerate(lats)},
        **{f"w{k}": v for k, v in enumerate(lons)},
    }


@lru_cache(maxsize=128)  # the first pass is one shape; the second, a few per box
def _cells_statement(grid: int, cells: tuple[int, ...], texts: bool) -> Any:
    """One UNION ALL of a LIMIT query per cell (half-open cells: no point falls in two),
    built once per shape and bound with _edges(), region and share_and_one."""
    a = Appeal
    # Rounded to 4 decimals (~10 m) and made double precision by the database: no Decimal per row.
    columns = [
        a.id,
        sa.cast(sa.func.round(a.latitude, 4), sa.Float).label("lat"),
        sa.cast(sa.func.round(a.longitude, 4), sa.Float).label("lon"),
        a.state,
        a.subcategory_id,
    ]
    if texts:
        columns += [a.text, a.address]

    def band(column: Any, prefix: str, k: int) -> list[Any]:
        low = sa.bindparam(f"{prefix}{k}", type_=column.type)
        high = sa.bindparam(f"{prefix}{k + 1}", type_=column.type)
        return [column >= low, column <= high if k == grid - 1 else column < high]

    common = [
        a.region_id == sa.bindparam("region"),
        a.state.in_(sorted(PUBLIC_STATES)),
        a.merged_into_id.is_(None),  # a duplicate is the main message's point, shown once
    ]
    parts = []
    for k in cells:
        i, j = divmod(k, grid)
        query = (
            sa.select(*columns, sa.literal(k).label("cell"))
            .where(*band(a.latitude, "s", i), *band(a.longitude, "w", j), *common)
            .limit(sa.bindparam("share_and_one"))
        )
        parts.append(sa.select(query.subquery()))
    return sa.union_all(*parts) if len(parts) > 1 else parts[0]


def _take(
    region: Territory,
    texts: bool,
    bbox: BBox,
    cells: tuple[int, ...],
    fetch: int,
    skip: frozenset[int] = frozenset(),
) -> tuple[list[Any], list[int]]:
    """Up to `fetch` rows from each cell (one UNION ALL of short index range scans) less those
    in `skip`, and the cells that hold more than `fetch`."""
    statement = _cells_statement(SPREAD_GRID, cells, texts)
    params = {**_edges(bbox), "region": region.id, "share_and_one": fetch + 1}
    rows = db.session.execute(statement, params).all()
    per_cell = Counter(r.cell for r in rows)
    counted: Counter = Counter()
    kept = []
    for row in rows:
        counted[row.cell] += 1
        if counted[row.cell] <= fetch and row.id not in skip:
            kept.append(row)
    return kept, sorted(k for k, n in per_cell.items() if n > fetch)


def public_map_points(
    region: Territory, settings: RegionMapSettings, bbox: BBox, limit: int = MAP_POINT_LIMIT
) -> MapPoints:
    """The region's public messages with a point in the box, spread over it, at most `limit`."""
    texts = settings.publish_texts
    cells = tuple(range(SPREAD_GRID**2))
    share = max(1, -(-limit // len(cells)))
    kept, full = _take(region, texts, bbox, cells, share)
    if full and len(kept) < limit:
        # Some cells hold more than their share while others are empty or sparse: the room left
        # goes to the full cells, asked again for their first share + extra rows (the rows
        # already taken are skipped by id; no NOT IN list goes to the database).
        extra = -(-(limit - len(kept)) // len(full))
        taken = frozenset(r.id for r in kept)
        more, full = _take(region, texts, bbox, tuple(full), share + extra, taken)
        kept += more
    capped = bool(full) or len(kept) > limit
    kept = kept[:limit]
    topics = _topics({r.subcategory_id for r in kept})
    labels = {group: str(label) for group, label in STATUS_LABELS.items()}  # translated once
    points = []
    for row in kept:
        group = STATUS_OF[row.state]  # a StrEnum: its value is its key
        category, subcategory = topics[row.subcategory_id]
        text = address = None
        if texts:
            text = mask_personal(row.text)[:TEXT_LIMIT]
            address = mask_personal(row.address) if row.address else None
        points.append(
            MapPoint(
                id=row.id,
                lat=row.lat,
                lon=row.lon,
                status=group,
                status_label=labels[group],
                category=category,
                subcategory=subcategory,
                text=text,
                address=address,
            )
        )
    return MapPoints(points, capped, limit)


@dataclass(frozen=True)
class CountRow:
    category: str
    counts: dict[str, int]  # status group → messages
    total: int


def public_map_counts(region: Territory) -> list[CountRow]:
    """The table next to the public map: public messages with a point, per category and status."""
    a = Appeal
    rows = db.session.execute(
        sa.select(Category.name, a.state, sa.func.count())
        .join(Subcategory, Subcategory.id == a.subcategory_id)
        .join(Category, Category.id == Subcategory.category_id)
        .where(
            a.region_id == region.id,
            a.state.in_(sorted(PUBLIC_STATES)),
            a.latitude.is_not(None),
            a.merged_into_id.is_(None),
        )
        .group_by(Category.name, a.state)
    )
    table: dict[str, Counter] = {}
    for name, state, n in rows:
        table.setdefault(name, Counter())[STATUS_OF[AppealState(state)]] += n
    return [
        CountRow(name, {g: counts.get(g, 0) for g in STATUS_GROUPS}, sum(counts.values()))
        for name, counts in sorted(table.items())
    ]


def inbox_map_points(
    user: Any,
    organization: Organization,
    filters: Filters,
    bbox: BBox,
    limit: int | None = None,
) -> MapPoints:
    """The inbox folder's messages with a point in the box — the list's scope and filters — at
    most `limit` (INBOX_POINT_LIMIT; when capped, any of them: the map says so)."""
    limit = limit or INBOX_POINT_LIMIT
    a = Appeal
    query = (
        folder_query(user, organization, filters)
        .with_only_columns(a.id, a.latitude, a.longitude, a.state, a.subcategory_id)
        .where(a.latitude.is_not(None), *bbox.clauses())
        # No order: the database stops at the first limit + 1 rows of the box, whichever index
        # it reads (the list's order would read and sort the whole folder of a large body).
        .order_by(None)
        .limit(limit + 1)
    )
    rows, seen = [], set()
    for row in db.session.execute(query):
        if row.id not in seen:  # «Перенаправленные» may list a message twice
            seen.add(row.id)
            rows.append(row)
    capped = len(rows) > limit
    rows = rows[:limit]
    topics = _topics({r.subcategory_id for r in rows})
    labels = {state: str(label) for state, label in STATE_LABELS.items()}  # translated once
    return MapPoints(
        [
            MapPoint(
                id=row.id,
                lat=float(row.latitude),
                lon=float(row.longitude),
                status=AppealState(row.state).value,
                status_label=labels[AppealState(row.state)],
                category=topics[row.subcategory_id][0],
                subcategory=topics[row.subcategory_id][1],
            )
            for row in rows
        ],
        capped,
        limit,
    )
