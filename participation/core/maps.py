"""What the map component (templates/core/map.html) is given: centres and points as plain dicts."""

from __future__ import annotations

import json
from collections.abc import Iterable
from decimal import Decimal

import sqlalchemy as sa
from shapely.geometry import mapping, shape

from participation.core.territories import Territory, TerritoryLevel
from participation.extensions import db

MUNICIPAL_LEVELS = (TerritoryLevel.URBAN_OKRUG, TerritoryLevel.MUNICIPAL_DISTRICT)
# A page carries the outline in an attribute: a boundary longer than this is simplified to
# about OUTLINE_TOLERANCE degrees (~50 m), plenty for a page's map of a whole municipality.
OUTLINE_MAX_CHARS = 60_000
OUTLINE_TOLERANCE = 0.0005


def map_point(
    latitude: Decimal | float | None,
    longitude: Decimal | float | None,
    label: str = "",
    *,
    url: str | None = None,
    tag: str | None = None,
):
    """One point for the map's data-points, or None when there is no point. With `url` the
    point opens a link to its page; `tag` is a short label shown next to it («№ 2»)."""
    if latitude is None or longitude is None:
        return None
    point = {"lat": float(latitude), "lon": float(longitude), "label": label}
    if url:
        point["url"] = url
    if tag:
        point["tag"] = tag
    return point


def territory_outline(territory: Territory) -> dict | None:
    """The territory's imported boundary as a GeoJSON geometry for the map, or None."""
    if not territory.boundary_geojson:
        return None
    geometry = json.loads(territory.boundary_geojson)
    if len(territory.boundary_geojson) > OUTLINE_MAX_CHARS:
        geometry = mapping(shape(geometry).simplify(OUTLINE_TOLERANCE, preserve_topology=True))
    return geometry


def territory_map(territory: Territory) -> dict | None:
    """What a page's map of one territory shows: its centre (labelled) and its outline, or
    None when neither is known."""
    name = short_name(territory.name)
    centre = map_point(territory.latitude, territory.longitude, name, tag=name)
    outline = territory_outline(territory)
    if centre is None and outline is None:
        return None
    return {"points": [centre] if centre else [], "outline": outline}


def short_name(name: str) -> str:
    """A map label: «городской округ город Уфа» → «город Уфа», «Бирский муниципальный район» →
    «Бирский район»."""
    return name.removeprefix("городской округ ").replace(" муниципальный район", " район")


def centres(territories: Iterable[Territory]) -> list[dict]:
    """The labelled centres of these territories (those whose centre is known)."""
    found = []
    for territory in territories:
        if territory.latitude is not None and territory.longitude is not None:
            found.append(
                {
                    "name": short_name(territory.name),
                    "lat": float(territory.latitude),
                    "lon": float(territory.longitude),
                    # Cities are labelled at every zoom, the rest once the map is close enough.
                    "major": territory.level == TerritoryLevel.URBAN_OKRUG,
                }
            )
    return found


def municipal_centres(region: Territory | None) -> list[dict]:
    """The region's municipal centres (городские округа, муниципальные районы) for its maps."""
    if region is None:
        return []
    below = db.session.scalars(
        sa.select(Territory)
        .where(Territory.parent_id == region.id, Territory.level.in_(MUNICIPAL_LEVELS))
        .order_by(Territory.name)
    )
    return centres(below)


def home_view(territory: Territory | None) -> dict | None:
    """Where a map opens for someone living in `territory`: the centre of their settlement or
    municipality (the nearest one up with a known centre), None when none is known."""
    if territory is None:
        return None
    for node in [territory, *territory.ancestors()]:
        if node.level in (TerritoryLevel.REGION, TerritoryLevel.COUNTRY):
            return None
        if node.latitude is not None and node.longitude is not None:
            return {"lat": float(node.latitude), "lon": float(node.longitude)}
    return None
