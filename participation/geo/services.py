"""Where a point lies (a territory by its boundary or the nearest centre) and messages nearby.

Coordinates are WGS 84 degrees; distances are great-circle (haversine) metres on a sphere of the
Earth's mean radius — within a few metres of the ellipsoid at the radii used here.

Assignment (`locate_point`): the municipality (городской округ or муниципальный район) whose
imported boundary covers the point; without one, the municipality with the nearest centre in
the region. Inside it, the settlement whose boundary covers the point, else a settlement whose
centre is within SETTLEMENT_REACH_M (3 km), else the municipality itself. A point outside the
region is refused: outside the region's boundary when it is imported; without a boundary, when
it is farther than REGION_REACH_M (150 km) from every centre of the region (the region's own,
its municipalities' and settlements'). A reach from the nearest centre rather than from the
capital: Bashkortostan is 550 km from north to south (Акъяр is 350 km from Уфа), while Казань
is 300 km from the nearest Bashkortostan centre.

Nearby (`nearby_appeals`): open messages (workflow.OPEN_STATES: from moderation to postponed;
rejected, answered, closed and escalated ones are left out) of the same subcategory or a
related one — "related" is another subcategory of the same category — registered in the last
NEARBY_DAYS (30) days, within the radius (the subcategory's own `nearby_radius_m`, set in the
classifier administration, else NEARBY_RADIUS_M = 150 m; at most NEARBY_MAX_RADIUS_M = 2 km),
nearest first. A bounding box on
the indexed point (ix_appeals_point) finds the candidates, the exact distance filters them.
Nothing personal is returned: number, topic, state, distance and the registration date.
"""

from __future__ import annotations

import json
import math
import threading
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from typing import Any
from zoneinfo import ZoneInfo

import shapely
import sqlalchemy as sa
from flask_babel import gettext as _
from shapely.geometry import Point, mapping, shape
from shapely.prepared import PreparedGeometry, prep

from participation.appeals.classifier import Subcategory
from participation.appeals.models import Appeal
from participation.appeals.workflow import OPEN_STATES, RESIDENT_STATE_LABELS, AppealState
from participation.core import audit
from participation.core.db import utcnow
from participation.core.errors import FieldError
from participation.core.territories import Territory, TerritoryLevel
from participation.extensions import db

EARTH_RADIUS_M = 6_371_008.8
METRES_PER_DEGREE = math.pi * EARTH_RADIUS_M / 180
NEARBY_RADIUS_M = 150
NEARBY_MAX_RADIUS_M = 2_000
NEARBY_DAYS = 30
NEARBY_LIMIT = 20
REGION_REACH_M = 150_000
SETTLEMENT_REACH_M = 3_000
MUNICIPAL_LEVELS = frozenset({TerritoryLevel.URBAN_OKRUG, TerritoryLevel.MUNICIPAL_DISTRICT})
POLYGONAL = frozenset({"Polygon", "MultiPolygon"})
_SIX_PLACES = Decimal("0.000001")


# --- points and distances ---------------------------------------------------------------------


def check_point(latitude: Any, longitude: Any) -> tuple[float, float]:
    """The point as two floats, or FieldError: a number each, finite and within range."""
    lat = _degrees(latitude, "latitude", 90, _("Широта — число от −90 до 90 градусов."))
    lon = _degrees(longitude, "longitude", 180, _("Долгота — число от −180 до 180 градусов."))
    return lat, lon


def _degrees(value: Any, name: str, limit: int, message: str) -> float:
    if isinstance(value, bool) or value is None:
        raise FieldError(name, message)
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise FieldError(name, message) from None
    if not math.isfinite(number) or not -limit <= number <= limit:
        raise FieldError(name, message)
    return number


def distance_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in metres (haversine)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(h)))


def bounding_box(
    lat: float, lon: float, radius_m: float
) -> tuple[Decimal, Decimal, Decimal, Decimal]:
    """(south, north, west, east) in the columns' six decimals, enclosing the circle."""
    dlat = radius_m / METRES_PER_DEGREE
    widest = min(89.9, abs(lat) + dlat)  # the circle is widest at its edge nearest the pole
    dlon = min(180.0, dlat / math.cos(math.radians(widest)))

    def down(x: float) -> Decimal:
        return Decimal(repr(x)).quantize(_SIX_PLACES, rounding=ROUND_FLOOR)

    def up(x: float) -> Decimal:
        return Decimal(repr(x)).quantize(_SIX_PLACES, rounding=ROUND_CEILING)

    return down(lat - dlat), up(lat + dlat), down(lon - dlon), up(lon + dlon)


# --- territories' shapes ----------------------------------------------------------------------


@dataclass(frozen=True)
class _Place:
    id: int
    parent_id: int | None
    level: TerritoryLevel
    latitude: float | None
    longitude: float | None
    stamp: datetime | None  # boundary_updated_at: None when there is no boundary

    def distance_to(self, lat: float, lon: float) -> float:
        assert self.latitude is not None and self.longitude is not None
        return distance_m(lat, lon, self.latitude, self.longitude)


class _ShapeCache:
    """Parsed, prepared boundaries per process, keyed by territory and boundary_updated_at.

    A new import changes the stamp, so a stale shape is never used; one entry per territory
    (a region's few hundred municipalities and settlements), parsed on first use.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._shapes: dict[int, tuple[datetime, PreparedGeometry]] = {}

    def get(self, place: _Place) -> PreparedGeometry:
        assert place.stamp is not None
        cached = self._shapes.get(place.id)
        if cached is not None and cached[0] == place.stamp:
            return cached[1]
        text = db.session.scalar(
            sa.select(Territory.boundary_geojson).where(Territory.id == place.id)
        )
        prepared = prep(shape(json.loads(text)))
        with self._lock:
            self._shapes[place.id] = (place.stamp, prepared)
        return prepared

    def clear(self) -> None:
        with self._lock:
            self._shapes.clear()


shapes = _ShapeCache()


def _covers(place: _Place, point: Point) -> bool:
    return place.stamp is not None and shapes.get(place).covers(point)


def _subtree(region_id: int) -> dict[int, _Place]:
    """The region, its municipalities and their settlements (three levels of the OKTMO tree)."""
    t = Territory
    children = sa.select(t.id).where(t.parent_id == region_id).scalar_subquery()
    rows = db.session.execute(
        sa.select(t.id, t.parent_id, t.level, t.latitude, t.longitude, t.boundary_updated_at)
        .where(sa.or_(t.id == region_id, t.parent_id == region_id, t.parent_id.in_(children)))
        .order_by(t.id)
    )
    return {
        r.id: _Place(
            r.id,
            r.parent_id,
            r.level,
            None if r.latitude is None else float(r.latitude),
            None if r.longitude is None else float(r.longitude),
            r.boundary_updated_at,
        )
        for r in rows
    }


# --- locating a point -------------------------------------------------------------------------


@dataclass(frozen=True)
class Location:
    """Where a point lies: the territory to file a message under and its municipality."""

    territory: Territory
    municipality: Territory | None  # None when the region has no municipalities
    method: str  # "boundary" or "nearest"
    distance_m: float | None = field(default=None)  # to the chosen centre, for "nearest"


def locate_point(latitude: Any, longitude: Any, region_id: int) -> Location:
    """The territory of the region where the point lies, or FieldError saying why not."""
    lat, lon = check_point(latitude, longitude)
    region = db.session.get(Territory, region_id) if isinstance(region_id, int) else None
    if region is None or region.level != TerritoryLevel.REGION:
        raise FieldError("region", _("Такого региона нет."))
    places = _subtree(region.id)
    point = Point(lon, lat)
    outside = FieldError(
        "point",
        _(
            "Точка находится за пределами региона «%(region)s». Отметьте место в этом регионе "
            "или выберите другой регион.",
            region=region.name,
        ),
    )
    region_place = places[region.id]
    inside_region = _covers(region_place, point) if region_place.stamp else None
    if inside_region is False:
        raise outside
    municipalities = [p for p in places.values() if p.level in MUNICIPAL_LEVELS]
    centred = [p for p in places.values() if p.latitude is not None]
    if inside_region is None and (
        not centred or min(p.distance_to(lat, lon) for p in centred) > REGION_REACH_M
    ):
        raise outside

    method, reach = "boundary", None
    municipality = next((m for m in municipalities if _covers(m, point)), None)
    if municipality is None:
        candidates = [m for m in municipalities if m.latitude is not None]
        if not candidates:
            return Location(region, None, "nearest")
        municipality = min(candidates, key=lambda m: (m.distance_to(lat, lon), m.id))
        method, reach = "nearest", municipality.distance_to(lat, lon)

    chosen = municipality
    settlements = [p for p in places.values() if p.parent_id == municipality.id]
    hit = next((s for s in settlements if _covers(s, point)), None)
    if hit is not None:
        chosen, method, reach = hit, "boundary", None
    else:
        near = [
            (s.distance_to(lat, lon), s.id, s)
            for s in settlements
            if s.latitude is not None and s.distance_to(lat, lon) <= SETTLEMENT_REACH_M
        ]
        if near:
            reach, _id, chosen = min(near)
            method = "nearest"
    return Location(
        db.session.get(Territory, chosen.id),
        db.session.get(Territory, municipality.id),
        method,
        reach,
    )


# --- messages nearby --------------------------------------------------------------------------


@dataclass(frozen=True)
class NearbyAppeal:
    """One open message near the point: nothing about its author, no text."""

    id: int
    number: str
    subcategory_id: int
    subcategory_code: str
    subcategory_name: str
    same_subcategory: bool
    state: AppealState
    state_label: str
    distance_m: int
    registered_on: date


def check_radius(radius_m: Any) -> int:
    """The radius in whole metres, 1 … NEARBY_MAX_RADIUS_M, or FieldError."""
    if (
        isinstance(radius_m, bool)
        or not isinstance(radius_m, int)
        or not 1 <= radius_m <= NEARBY_MAX_RADIUS_M
    ):
        raise FieldError(
            "radius", _("Радиус — целое число метров от 1 до %(max)d.", max=NEARBY_MAX_RADIUS_M)
        )
    return radius_m


def nearby_radius_of(subcategory: Subcategory) -> int:
    """The radius of the subcategory's nearby search: its own, else the default (150 m)."""
    return subcategory.nearby_radius_m or NEARBY_RADIUS_M


def set_nearby_radius(subcategory: Subcategory, raw: Any, actor: Any) -> Subcategory:
    """Set (or, with an empty value, reset to the default) a subcategory's nearby radius."""
    text = "" if raw is None else str(raw).strip()
    radius = None
    if text:
        error = FieldError(
            "nearby_radius_m",
            _(
                "Радиус — целое число метров от 1 до %(max)d, или оставьте поле пустым "
                "(по умолчанию %(default)d м).",
                max=NEARBY_MAX_RADIUS_M,
                default=NEARBY_RADIUS_M,
            ),
        )
        if not text.isdigit() or not text.isascii():
            raise error
        radius = int(text)
        if not 1 <= radius <= NEARBY_MAX_RADIUS_M:
            raise error
    if radius != subcategory.nearby_radius_m:
        old, subcategory.nearby_radius_m = subcategory.nearby_radius_m, radius
        db.session.flush()
        audit.record(
            "classifier.subcategory_nearby_radius",
            subcategory,
            actor_id=actor.id,
            old_radius_m=old,
            new_radius_m=radius,
        )
    return subcategory


def nearby_appeals(
    latitude: Any,
    longitude: Any,
    subcategory_id: int,
    *,
    radius_m: Any = None,
    days: int = NEARBY_DAYS,
    limit: int = NEARBY_LIMIT,
    now: datetime | None = None,
) -> list[NearbyAppeal]:
    """Open messages of the same or a related subcategory within the radius (None: the
    subcategory's own), nearest first."""
    lat, lon = check_point(latitude, longitude)
    if radius_m is not None:
        check_radius(radius_m)
    category = (
        sa.select(Subcategory.category_id).where(Subcategory.id == subcategory_id).scalar_subquery()
    )
    related = {
        r.id: r
        for r in db.session.execute(
            sa.select(
                Subcategory.id, Subcategory.code, Subcategory.name, Subcategory.nearby_radius_m
            ).where(Subcategory.category_id == category)
        )
    }
    if subcategory_id not in related:
        raise FieldError("subcategory", _("Такой подкатегории нет."))
    own = related[subcategory_id].nearby_radius_m or NEARBY_RADIUS_M
    radius = check_radius(own if radius_m is None else radius_m)
    south, north, west, east = bounding_box(lat, lon, radius)
    since = (now or utcnow()) - timedelta(days=days)
    a = Appeal
    rows = db.session.execute(
        sa.select(a.id, a.subcategory_id, a.state, a.registered_at, a.latitude, a.longitude).where(
            a.latitude.between(south, north),
            a.longitude.between(west, east),
            a.state.in_(sorted(OPEN_STATES)),
            a.registered_at >= since,
            a.subcategory_id.in_(sorted(related)),
        )
    ).all()
    found = []
    for row in rows:
        metres = distance_m(lat, lon, float(row.latitude), float(row.longitude))
        if metres <= radius:
            found.append((metres, row.id, row))
    found.sort(key=lambda item: (item[0], item[1]))
    found = found[:limit]
    zones = _zones_of([row.id for _m, _i, row in found])
    result = []
    for metres, _id, row in found:
        sub = related[row.subcategory_id]
        result.append(
            NearbyAppeal(
                id=row.id,
                number=str(row.id),
                subcategory_id=sub.id,
                subcategory_code=sub.code,
                subcategory_name=sub.name,
                same_subcategory=sub.id == subcategory_id,
                state=AppealState(row.state),
                state_label=str(RESIDENT_STATE_LABELS[AppealState(row.state)]),
                distance_m=round(metres),
                registered_on=row.registered_at.astimezone(zones[row.id]).date(),
            )
        )
    return result


def _zones_of(appeal_ids: list[int]) -> dict[int, ZoneInfo]:
    """Each message's region's time zone (its registration date is the region's date)."""
    if not appeal_ids:
        return {}
    rows = db.session.execute(
        sa.select(Appeal.id, Territory.timezone)
        .join(Territory, Territory.id == Appeal.region_id)
        .where(Appeal.id.in_(appeal_ids))
    )
    return {r.id: ZoneInfo(r.timezone) for r in rows}


# --- importing boundaries ---------------------------------------------------------------------

OKTMO_KEYS = ("oktmo", "ref:oktmo", "oktmo:user", "ref:oktmo:user")
NAME_KEYS = ("name", "name:ru", "official_name")


@dataclass
class ImportLine:
    """One feature of the file: what it was matched to, or why it was not."""

    label: str
    territory: Territory | None = None
    reason: str | None = None
    repaired: bool = False


def features_of(document: Any) -> list[dict]:
    """The features of a GeoJSON FeatureCollection (or of one Feature), or ValueError."""
    if isinstance(document, dict) and document.get("type") == "FeatureCollection":
        features = document.get("features")
        if isinstance(features, list):
            return features
    if isinstance(document, dict) and document.get("type") == "Feature":
        return [document]
    raise ValueError(_("Ожидается GeoJSON: FeatureCollection или Feature."))


def import_boundaries(features: list[Any], *, now: datetime | None = None) -> list[ImportLine]:
    """Store the polygons of the features on the territories they name (by OKTMO or name)."""
    now = now or utcnow()
    lines: list[ImportLine] = []
    taken: dict[int, str] = {}
    for index, feature in enumerate(features, start=1):
        props = (feature.get("properties") if isinstance(feature, dict) else None) or {}
        props = {str(k).lower(): v for k, v in props.items()} if isinstance(props, dict) else {}
        oktmo = next((str(props[k]).strip() for k in OKTMO_KEYS if props.get(k)), None)
        name = next((str(props[k]).strip() for k in NAME_KEYS if props.get(k)), None)
        line = ImportLine(" ".join(x for x in (f"#{index}", oktmo, name) if x))
        lines.append(line)
        territory, line.reason = _match(oktmo, name)
        if territory is None:
            continue
        if territory.id in taken:
            line.reason = _(
                "территория уже получила границу из %(other)s", other=taken[territory.id]
            )
            continue
        geometry, line.reason, line.repaired = _polygon(feature.get("geometry"))
        if geometry is None:
            continue
        territory.boundary_geojson = json.dumps(mapping(geometry), separators=(",", ":"))
        territory.boundary_updated_at = now
        if territory.latitude is None:
            centre = geometry.representative_point()
            territory.latitude = Decimal(repr(centre.y)).quantize(_SIX_PLACES)
            territory.longitude = Decimal(repr(centre.x)).quantize(_SIX_PLACES)
        taken[territory.id] = line.label
        line.territory = territory
    db.session.flush()
    return lines


def _match(oktmo: str | None, name: str | None) -> tuple[Territory | None, str | None]:
    if oktmo:
        territory = db.session.scalar(sa.select(Territory).where(Territory.oktmo == oktmo))
        if territory is not None:
            return territory, None
        if not name:
            return None, _("нет территории с ОКТМО %(code)s", code=oktmo)
    if not name:
        return None, _("в свойствах нет ни ОКТМО (oktmo), ни названия (name)")
    found = db.session.scalars(
        sa.select(Territory).where(sa.func.lower(Territory.name) == name.lower()).limit(2)
    ).all()
    if not found:  # SQLite lowers ASCII only: compare Cyrillic names in Python
        wanted = name.casefold()
        found = [
            t for t in db.session.scalars(sa.select(Territory)) if t.name.casefold() == wanted
        ][:2]
    if len(found) > 1:
        return None, _("название «%(name)s» носят несколько территорий; укажите ОКТМО", name=name)
    if not found:
        return None, _("нет территории с названием «%(name)s»", name=name)
    return found[0], None


def _polygon(geometry: Any) -> tuple[Any, str | None, bool]:
    if not isinstance(geometry, dict) or geometry.get("type") not in POLYGONAL:
        return None, _("геометрия — не Polygon и не MultiPolygon"), False
    try:
        parsed = shape(geometry)
    except (ValueError, TypeError, AttributeError, IndexError, shapely.errors.ShapelyError):
        return None, _("геометрию не удалось прочитать"), False
    if parsed.is_empty:
        return None, _("геометрия пуста"), False
    west, south, east, north = parsed.bounds
    if not (-180 <= west <= east <= 180 and -90 <= south <= north <= 90):
        return None, _("координаты вне диапазона градусов WGS 84 (долгота, широта)"), False
    repaired = False
    if not parsed.is_valid:
        parsed = shapely.make_valid(parsed)
        parsed = shapely.union_all(
            [g for g in getattr(parsed, "geoms", [parsed]) if g.geom_type in POLYGONAL]
        )
        repaired = True
        if parsed.is_empty or parsed.geom_type not in POLYGONAL:
            return None, _("геометрия некорректна и не исправляется"), False
    return parsed, None, repaired
