"""The vote's objects on the one map component: labelled points linking to each object."""

from __future__ import annotations

import html
import json
import re

from participation.extensions import db
from tests.voting.helpers import campaign


def _map_attrs(page: str, element_id: str) -> dict[str, str]:
    tag = re.search(rf'<div id="{element_id}"[^>]*>', page, re.S)
    assert tag, f"no map #{element_id}"
    return {k: html.unescape(v) for k, v in re.findall(r'([\w-]+)="([^"]*)"', tag[0])}


def test_the_vote_page_shows_its_objects_as_labelled_points_linking_to_them(town, client):
    vote = campaign(town)
    park, square, embankment = vote.objects[:3]
    park.latitude, park.longitude = 54.7631, 56.0196
    square.latitude, square.longitude = 54.7258, 55.9475
    embankment.latitude, embankment.longitude = None, None  # no point: listed, not on the map
    db.session.flush()
    page = client.get(f"/voting/{vote.id}").get_data(as_text=True)
    attrs = _map_attrs(page, "voting-map")
    assert attrs["role"] == "region" and "щёлкните по точке" in attrs["aria-label"]
    points = json.loads(attrs["data-points"])
    assert points == [
        {
            "lat": 54.7631,
            "lon": 56.0196,
            "label": "№ 1. Парк «Кашкадан»",
            "url": f"/voting/{vote.id}/objects/{park.id}",
            "tag": "№ 1",
        },
        {
            "lat": 54.7258,
            "lon": 55.9475,
            "label": "№ 2. Сквер на улице Ленина",
            "url": f"/voting/{vote.id}/objects/{square.id}",
            "tag": "№ 2",
        },
    ]
    assert "vendor/leaflet/leaflet.js" in page and "js/map.js" in page
    # The list below stays: every object, with or without a point, is a link (no JavaScript).
    assert f'href="/voting/{vote.id}/objects/{embankment.id}"' in page

    object_page = client.get(f"/voting/{vote.id}/objects/{park.id}").get_data(as_text=True)
    one = _map_attrs(object_page, "voting-object-map")
    assert json.loads(one["data-points"]) == [
        {"lat": 54.7631, "lon": 56.0196, "label": "Парк «Кашкадан»"}
    ]


def test_a_vote_without_points_has_no_map_and_loads_no_map_script(town, client):
    vote = campaign(town)
    page = client.get(f"/voting/{vote.id}").get_data(as_text=True)
    assert "data-map" not in page and "leaflet.js" not in page
    object_page = client.get(f"/voting/{vote.id}/objects/{vote.objects[0].id}")
    assert "data-map" not in object_page.get_data(as_text=True)
