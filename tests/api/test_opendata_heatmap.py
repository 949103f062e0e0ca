"""GET /api/v1/open/statistics/regions/{id}/heatmap: cells with their counts, cells under 5
never returned, the period and category filters, bad input → 422 problem+json in Russian;
every answer checked against the OpenAPI document."""

from __future__ import annotations

from urllib.parse import urlencode

import pytest

from tests.api.openapi_check import spec_document
from tests.geo.conftest import UFA
from tests.reports.test_heatmap import GRID, HOME, geo, heat  # noqa: F401  (the fixtures)

PATH = "/api/v1/open/statistics/regions/{id}/heatmap"
CITY = f"{UFA[1] - 0.15},{UFA[0] - 0.09},{UFA[1] + 0.15},{UFA[0] + 0.09}"  # west,south,east,north


def url(region_id: int, **params) -> str:
    query = {"grain": "month", "day": "2026-03-15", **params}
    return PATH.format(id=region_id) + "?" + urlencode(query)


def test_the_endpoint_is_public_and_in_the_document(app):
    operation = spec_document()["paths"][PATH.replace("{id}", "{region_id}")]["get"]
    assert "security" not in operation
    names = {p.get("name") for p in operation["parameters"]}
    assert {"format", "grain", "day", "cell", "bbox", "category"} <= names
    assert {"200", "404", "422"} <= set(operation["responses"])


def test_cells_of_a_city_box(client, heat):  # noqa: F811
    response = client.get(url(heat.region.id, bbox=CITY))
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["grid"]["cell"] == 1000 and body["min_count"] == 5
    assert sorted(x["count"] for x in body["cells"]) == [5, 7]  # the cell of 4 is not there
    assert set(body["cells"][0]) == {"south", "west", "north", "east", "count"}
    home = body["cells"][0]
    assert home["count"] == 7
    assert home["south"] == pytest.approx(HOME[0] * GRID.dlat, abs=1e-6)
    west, _south, _east, north = body["bbox"]
    assert west <= UFA[1] - 0.15 and north >= UFA[0] + 0.09
    text = response.get_data(as_text=True)
    assert heat.resident.last_name not in text and "яма" not in text.lower()
    again = client.get(
        url(heat.region.id, bbox=CITY), headers={"If-None-Match": response.headers["ETag"]}
    )
    assert again.status_code == 304


def test_the_cells_as_csv(client, heat):  # noqa: F811
    response = client.get(url(heat.region.id, bbox=CITY, format="csv"))
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    lines = response.get_data(as_text=True).lstrip("\ufeff").splitlines()
    assert lines[0] == "Юг;Запад;Север;Восток;Сообщений"
    assert [line.rsplit(";", 1)[1] for line in lines[1:]] == ["7", "5"]
    assert ".csv" in response.headers["Content-Disposition"]


def test_whole_region_in_big_cells_period_and_category(client, heat):  # noqa: F811
    whole = client.get(url(heat.region.id)).get_json()
    assert whole["grid"]["cell"] == 4000 and whole["bbox"] is None
    assert sum(x["count"] for x in whole["cells"]) == 16
    april = client.get(url(heat.region.id, day="2026-04-10", cell=4000)).get_json()
    assert [x["count"] for x in april["cells"]] == [6]
    yards = client.get(url(heat.region.id, bbox=CITY, category=heat.yards.id)).get_json()
    assert [x["count"] for x in yards["cells"]] == [5]
    small = client.get(url(heat.region.id, bbox=CITY, cell=250)).get_json()
    assert [x["count"] for x in small["cells"]] == [5]


@pytest.mark.parametrize(
    ("params", "field", "words"),
    [
        ({"cell": 500, "bbox": CITY}, "query.cell", "Размер ячейки"),
        ({"cell": "много", "bbox": CITY}, "query.cell", "Размер ячейки"),
        ({"bbox": "55,54,56"}, "query.bbox", "четыре числа"),
        ({"bbox": "56,54,55,55"}, "query.bbox", "запад меньше востока"),
        ({"bbox": "nan,54,56,55"}, "query.bbox", "четыре числа"),
        ({"bbox": "40,40,70,70", "cell": 250}, "query.bbox", "слишком велика"),
        ({"cell": 250}, "query.bbox", "Укажите область"),
        ({"grain": "week"}, "query.grain", "month, quarter, year"),
        ({"day": "2026-13-01"}, "query.day", None),
        ({"category": 999_999}, "query.category", "Категории с таким номером нет"),
    ],
)
def test_bad_input_is_a_problem_in_russian(client, heat, params, field, words):  # noqa: F811
    response = client.get(url(heat.region.id, **params))
    assert response.status_code == 422
    assert response.mimetype == "application/problem+json"
    body = response.get_json()
    assert body["status"] == 422 and any("а" <= ch <= "я" for ch in body["detail"].lower())
    assert field in body["errors"], body
    if words:
        assert words in " ".join(body["errors"][field]), body


def test_an_unknown_region_is_not_found(client, heat):  # noqa: F811
    assert client.get(url(heat.city.id)).status_code == 404
    assert client.get(url(999_999)).status_code == 404
