"""The public map of problems of a region (no login), when the region has turned it on."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, abort, render_template

from participation.core.maps import municipal_centres
from participation.core.territories import Territory, TerritoryLevel
from participation.extensions import db
from participation.geo.map_data import (
    STATUS_GROUPS,
    STATUS_LABELS,
    public_map_counts,
    public_map_region,
)

bp = Blueprint("geo", __name__, url_prefix="/map")


@bp.get("/<oktmo>")
def public_map(oktmo: str):
    region = db.session.scalar(
        sa.select(Territory).where(
            Territory.oktmo == oktmo, Territory.level == TerritoryLevel.REGION
        )
    )
    if region is None:
        abort(404)
    found = public_map_region(region.id)
    if found is None:
        return render_template("geo/map_off.html", region=region), 404
    _region, settings = found
    return render_template(
        "geo/public_map.html",
        region=region,
        settings=settings,
        centres=municipal_centres(region),
        statuses=[(g, STATUS_LABELS[g]) for g in STATUS_GROUPS],
        counts=public_map_counts(region),
    )
