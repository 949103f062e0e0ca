"""GET /api/v1/messages/nearby and /api/v1/geo/locate, checked against the OpenAPI document."""

from __future__ import annotations

from urllib.parse import urlencode

import pytest

from participation.appeals.workflow import AppealState
from tests.api.openapi_check import spec_document
from tests.geo.conftest import KAZAN, UFA, message, offset

PUBLIC_FIELDS = {
    "id",
    "number",
    "service_code",
    "service_name",
    "related",
    "state",
    "state_label",
    "distance",
    "registered_on",
}


def nearby_url(**params) -> str:
    return "/api/v1/messages/nearby?" + urlencode(params)


def test_the_endpoints_are_in_the_document(app):
    paths = spec_document()["paths"]
    assert "get" in paths["/api/v1/messages/nearby"]
    assert "get" in paths["/api/v1/geo/locate"]
    assert "security" not in paths["/api/v1/messages/nearby"]["get"]


def test_nearby_without_a_key_nothing_personal(client, geo):
    near = message(geo, offset(UFA, east_m=40), author=geo.other_resident)
    related = message(geo, offset(UFA, north_m=90), subcategory=geo.marking)
    message(geo, offset(UFA, east_m=20), state=AppealState.CLOSED)
    lat, lon = UFA
    response = client.get(nearby_url(lat=lat, lon=lon, service_code=geo.potholes.code))
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["radius"] == 150 and body["days"] == 30
    assert [m["id"] for m in body["messages"]] == [near.id, related.id]
    assert all(set(m) == PUBLIC_FIELDS for m in body["messages"])
    first = body["messages"][0]
    assert first["related"] is False and first["distance"] == 40
    assert first["state_label"] == "Проверяется модератором"
    assert body["messages"][1]["related"] is True
    text = response.get_data(as_text=True)
    assert geo.other_resident.last_name not in text and "яма" not in text.lower()
    # ETag: the same answer is a 304.
    again = client.get(
        nearby_url(lat=lat, lon=lon, service_code=geo.potholes.code),
        headers={"If-None-Match": response.headers["ETag"]},
    )
    assert again.status_code == 304


def test_nearby_radius(client, geo):
    message(geo, offset(UFA, east_m=400))
    lat, lon = UFA
    assert (
        client.get(nearby_url(lat=lat, lon=lon, service_code=geo.potholes.code)).get_json()[
            "messages"
        ]
        == []
    )
    wide = client.get(nearby_url(lat=lat, lon=lon, radius=500, service_code=geo.potholes.code))
    assert [m["distance"] for m in wide.get_json()["messages"]] == [400]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"radius": 2001}, "query.radius"),
        ({"radius": 0}, "query.radius"),
        ({"radius": "далеко"}, "query.radius"),
        ({"lat": "NaN"}, "query.lat"),
        ({"lat": "inf"}, "query.lat"),
        ({"lat": 91}, "query.lat"),
        ({"lon": -180.5}, "query.lon"),
        ({"service_code": "no.such.code"}, "query.service_code"),
        ({"service_code": None}, "query.service_code"),
        ({"extra": 1}, "query.extra"),
    ],
)
def test_nearby_bad_input_is_a_422_problem(client, geo, params, field):
    query = {"lat": UFA[0], "lon": UFA[1], "service_code": geo.potholes.code, **params}
    response = client.get(nearby_url(**{k: v for k, v in query.items() if v is not None}))
    assert response.status_code == 422, response.get_json()
    problem = response.get_json()
    assert response.mimetype == "application/problem+json"
    assert field in problem["errors"], problem


def test_locate_a_point(client, geo):
    point = offset(UFA, north_m=1500)
    response = client.get(
        "/api/v1/geo/locate?"
        + urlencode({"lat": point[0], "lon": point[1], "region": geo.region.id})
    )
    assert response.status_code == 200, response.get_json()
    assert response.get_json() == {
        "territory": {
            "id": geo.city.id,
            "name": geo.city.name,
            "oktmo": geo.city.oktmo,
            "municipality": {"id": geo.city.id, "name": geo.city.name},
        },
        "method": "nearest",
    }


def test_locate_a_settlement_names_its_municipality(client, geo):
    from tests.geo.conftest import BIRSK

    response = client.get(
        "/api/v1/geo/locate?"
        + urlencode({"lat": BIRSK[0], "lon": BIRSK[1], "region": geo.region.id})
    )
    territory = response.get_json()["territory"]
    assert territory["id"] == geo.birsk.id
    assert territory["municipality"] == {"id": geo.district.id, "name": geo.district.name}


def test_locate_outside_the_region_is_a_russian_422(client, geo):
    response = client.get(
        "/api/v1/geo/locate?"
        + urlencode({"lat": KAZAN[0], "lon": KAZAN[1], "region": geo.region.id})
    )
    assert response.status_code == 422
    problem = response.get_json()
    assert "за пределами региона «Республика Тест»" in problem["detail"]
    assert problem["errors"]["point"] == [problem["detail"]]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"lat": "nan"}, "query.lat"),
        ({"lon": 200}, "query.lon"),
        ({"region": None}, "query.region"),
        ({"region": 0}, "query.region"),
        ({"region": "city"}, "query.region"),
    ],
)
def test_locate_bad_input(client, geo, params, field):
    query = {"lat": UFA[0], "lon": UFA[1], "region": geo.region.id, **params}
    response = client.get(
        "/api/v1/geo/locate?" + urlencode({k: v for k, v in query.items() if v is not None})
    )
    assert response.status_code == 422
    assert field in response.get_json()["errors"]


def test_locate_with_a_territory_that_is_not_a_region(client, geo):
    response = client.get(
        "/api/v1/geo/locate?" + urlencode({"lat": UFA[0], "lon": UFA[1], "region": geo.city.id})
    )
    assert response.status_code == 422
    assert response.get_json()["errors"] == {"query.region": ["Такого региона нет."]}
