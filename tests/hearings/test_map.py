"""A hearing's territory on the one map component: its centre and, when imported, boundary."""

from __future__ import annotations

import html
import json
import re
from decimal import Decimal

from participation.core.maps import OUTLINE_MAX_CHARS, territory_outline
from participation.extensions import db
from participation.geo.services import import_boundaries

SQUARE = {
    "type": "Polygon",
    "coordinates": [[[55.8, 54.6], [56.2, 54.6], [56.2, 54.9], [55.8, 54.9], [55.8, 54.6]]],
}


def _map_attrs(page: str) -> dict[str, str]:
    tag = re.search(r'<div id="hearing-map"[^>]*>', page, re.S)
    assert tag, "no hearing map"
    return {k: html.unescape(v) for k, v in re.findall(r'([\w-]+)="([^"]*)"', tag[0])}


def test_the_hearing_page_shows_its_territory_centre_and_boundary(client, discussion, world):
    world.ufa.latitude, world.ufa.longitude = Decimal("54.7348"), Decimal("55.9579")
    db.session.flush()
    page = client.get(f"/hearings/{discussion.id}").get_data(as_text=True)
    attrs = _map_attrs(page)
    assert "городской округ город Уфа" in attrs["aria-label"]
    assert json.loads(attrs["data-points"]) == [
        {"lat": 54.7348, "lon": 55.9579, "label": "город Уфа", "tag": "город Уфа"}
    ]
    assert "data-outline" not in attrs  # no boundary imported yet

    (line,) = import_boundaries(
        [{"type": "Feature", "properties": {"name": world.ufa.name}, "geometry": SQUARE}]
    )
    assert line.territory == world.ufa
    attrs = _map_attrs(client.get(f"/hearings/{discussion.id}").get_data(as_text=True))
    assert json.loads(attrs["data-outline"]) == SQUARE
    assert "vendor/leaflet/leaflet.js" in page


def test_a_territory_without_centre_or_boundary_has_no_map(client, discussion):
    page = client.get(f"/hearings/{discussion.id}").get_data(as_text=True)
    assert "data-map" not in page and "leaflet.js" not in page


def test_a_long_boundary_is_simplified_for_the_page(world):
    # A detailed ring (a circle of 20 000 vertices) is cut down, and stays a polygon.
    import math

    ring = [
        [
            55.95 + 0.2 * math.cos(2 * math.pi * i / 20000),
            54.73 + 0.1 * math.sin(2 * math.pi * i / 20000),
        ]
        for i in range(20000)
    ]
    ring.append(ring[0])
    import_boundaries(
        [
            {
                "type": "Feature",
                "properties": {"name": world.ufa.name},
                "geometry": {"type": "Polygon", "coordinates": [ring]},
            }
        ]
    )
    assert len(world.ufa.boundary_geojson) > OUTLINE_MAX_CHARS
    outline = territory_outline(world.ufa)
    assert outline["type"] == "Polygon"
    assert 10 < len(outline["coordinates"][0]) < 2000
