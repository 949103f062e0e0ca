"""What the map component (templates/core/map.html) is given: centres and points as plain dicts."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

import sqlalchemy as sa

from participation.core.territories import Territory, TerritoryLevel
from participation.extensions import db

MUNICIPAL_LEVELS = (TerritoryLevel.URBAN_OKRUG, TerritoryLevel.MUNICIPAL_DISTRICT)


def map_point(latitude: Decimal | float | None, longitude: Decimal | float | None, label: str = ""):
    """One point for the map's data-points, or None when there is no point."""
    if latitude is None or longitude is None:
        return None
    return {"lat": float(latitude), "lon": float(longitude), "label": label}


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
