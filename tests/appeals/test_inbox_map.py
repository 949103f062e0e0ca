"""The inbox's map mode: the folder's points with the list's scope and filters, another
organization's messages never served, a bounded box (bad bbox → 422) and a capped count."""

from __future__ import annotations

import re
from urllib.parse import urlencode

import pytest

from participation.appeals.models import Channel
from participation.extensions import db
from participation.geo import map_data
from tests.appeals.test_lifecycle import to_work
from tests.geo.conftest import STERLITAMAK, UFA, geo, message, offset  # noqa: F401 (fixture)
from tests.helpers import login_as

POINTS = "/backoffice/map/inbox-points"
REGION_BOX = "53.0,54.0,56.5,58.0"


def numbers(html: str) -> set[int]:
    return set(map(int, re.findall(r'href="/backoffice/appeals/(\d+)"', html)))


def points(client, **params) -> dict:
    params.setdefault("bbox", REGION_BOX)
    response = client.get(f"{POINTS}?{urlencode(params)}")
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    return response.get_json()


@pytest.fixture
def inbox(geo):  # noqa: F811
    """Messages in work at the city administration (with and without a point), one by
    phone, and one at the neighbouring town's administration."""
    w = geo
    w.a = to_work(w, message(w, offset(UFA, east_m=100)))
    w.b = to_work(w, message(w, offset(UFA, north_m=200)))
    w.by_phone = to_work(w, message(w, offset(UFA, north_m=-300)))
    w.by_phone.channel = Channel.OPERATOR
    w.no_point = to_work(w, message(w, UFA))
    w.no_point.latitude = w.no_point.longitude = None
    # Benches are routed to the town administration: not the city's.
    w.foreign = message(w, STERLITAMAK, subcategory=w.benches)
    to_work_town(w, w.foreign)
    db.session.flush()
    return w


def to_work_town(w, appeal):
    from participation.appeals import services as s

    s.accept_appeal(appeal, w.moderator)
    s.confirm_addressee(appeal, w.cur_coordinator)
    s.assign_executor(appeal, w.town_coordinator, w.town_executor.id)


def test_the_folder_points_are_the_lists_and_never_another_organizations(client, inbox):
    w = inbox
    login_as(client, w.coordinator)
    body = points(client, bucket="in_work")
    ids = {p["id"] for p in body["points"]}
    assert ids == {w.a.id, w.b.id, w.by_phone.id}
    assert w.foreign.id not in ids and body["capped"] is False
    first = next(p for p in body["points"] if p["id"] == w.a.id)
    assert first["url"] == f"/backoffice/appeals/{w.a.id}" and first["number"] == str(w.a.id)
    assert first["subcategory"] == w.potholes.name and first["state_label"] == "В работе"
    # The other organization's staff do not get the city's points, even naming its folder.
    login_as(client, w.town_coordinator)
    assert {p["id"] for p in points(client, bucket="in_work")["points"]} == {w.foreign.id}
    # A resident or an anonymous visitor gets nothing.
    login_as(client, w.resident)
    assert client.get(f"{POINTS}?bbox={REGION_BOX}").status_code == 404


@pytest.mark.parametrize(
    "filters",
    [
        {"bucket": "in_work"},
        {"bucket": "in_work", "channel": "operator"},
        {"bucket": "in_work", "channel": "portal"},
        {"bucket": "in_work", "q": "zzz-nothing"},
        {"bucket": "new"},
        {"bucket": "redirected"},
        {"bucket": "done"},
        {"bucket": "sed_in_work"},
        {"bucket": "in_work", "sort": "received_desc", "overdue": "1"},
    ],
)
def test_filters_match_the_list(client, inbox, filters):
    w = inbox
    login_as(client, w.coordinator)
    listed = numbers(client.get("/backoffice/appeals/?" + urlencode(filters)).get_data(True))
    mapped = {p["id"] for p in points(client, **filters)["points"]}
    assert mapped == listed - {w.no_point.id}


def test_the_box_bounds_the_points_and_a_bad_box_is_422(client, inbox):
    w = inbox
    login_as(client, w.coordinator)
    north_only = f"{UFA[0] + 0.001},55.0,{UFA[0] + 0.01},57.0"
    assert {p["id"] for p in points(client, bucket="in_work", bbox=north_only)["points"]} == {
        w.b.id
    }
    for bad in ("", "1,2,3", "nan,1,2,3", "60,50,55,56", "54,55,56,200"):
        response = client.get(f"{POINTS}?" + urlencode({"bbox": bad, "bucket": "in_work"}))
        assert response.status_code == 422
        assert "юг, запад, север, восток" in response.get_json()["detail"]


def test_a_full_box_is_capped_and_says_so(client, inbox, monkeypatch):
    monkeypatch.setattr(map_data, "INBOX_POINT_LIMIT", 2)
    login_as(client, inbox.coordinator)
    body = points(client, bucket="in_work")
    assert body["capped"] is True and len(body["points"]) == 2 and body["limit"] == 2


def test_the_inbox_switches_between_list_and_map(client, inbox):
    w = inbox
    login_as(client, w.coordinator)
    html = client.get("/backoffice/appeals/?bucket=in_work&channel=portal").get_data(True)
    assert "view=map" in html and 'aria-current="page">Список' in html
    assert "data-points-url" not in html
    page = client.get("/backoffice/appeals/?bucket=in_work&channel=portal&view=map")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert 'aria-current="page">Карта' in html
    assert 'aria-label="Карта сообщений папки' in html  # the map's accessible name
    url = re.search(r'data-points-url="([^"]+)"', html).group(1).replace("&amp;", "&")
    assert url.startswith(POINTS) and "channel=portal" in url and "bucket=in_work" in url
    assert "leaflet.markercluster.js" in html
    # The filters form, the folders and «Сбросить» keep the map mode.
    assert '<input type="hidden" name="view" value="map">' in html
    assert 'href="/backoffice/appeals/?bucket=new&amp;view=map"' in html
    assert 'href="/backoffice/appeals/?bucket=in_work&amp;view=map">Сбросить' in html


def test_the_passed_on_folder_maps_what_the_organization_handed_over(client, inbox):
    """«Перенаправленные» reads the hand-off log: the ЦУР passed every message on."""
    w = inbox
    login_as(client, w.cur_coordinator)
    listed = numbers(client.get("/backoffice/appeals/?bucket=redirected").get_data(True))
    mapped = [p["id"] for p in points(client, bucket="redirected")["points"]]
    assert len(mapped) == len(set(mapped))  # a message passed on twice is one point
    assert set(mapped) == listed - {w.no_point.id}
    assert {w.a.id, w.foreign.id} <= set(mapped)
