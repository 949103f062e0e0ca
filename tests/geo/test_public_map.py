"""A region's public map of problems: off by default (404), turned on by the region's curator
(CSRF, audit log), only public messages, nothing personal, texts only when published; its open
data endpoint GET /api/v1/geo/regions/<id>/map in the OpenAPI document, bad bbox → 422."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from participation.appeals.workflow import AppealState as S
from participation.core.audit import AuditEntry
from participation.extensions import db
from participation.geo.map_data import map_settings, mask_personal, set_public_map
from tests.api.openapi_check import spec_document
from tests.geo.conftest import STERLITAMAK, UFA, message, offset
from tests.helpers import csrf_token, login_as

POINT_FIELDS = {
    "id",
    "lat",
    "lon",
    "status",
    "status_label",
    "category",
    "subcategory",
    "text",
    "address",
}
CITY_BOX = "54.60,55.70,54.90,56.20"


def map_url(region, bbox=CITY_BOX, **params) -> str:
    query = "&".join([f"bbox={bbox}", *(f"{k}={v}" for k, v in params.items())])
    return f"/api/v1/geo/regions/{region.id}/map?{query}"


def turn_on(w, *, texts=False):
    set_public_map(w.region, enabled=True, publish_texts=texts, actor_id=w.cur_curator.id)
    db.session.flush()


@pytest.fixture
def problems(geo):
    """Messages in every public situation, and some that must never show."""
    w = geo
    w.working = message(w, offset(UFA, east_m=100), state=S.IN_WORK, author=w.other_resident)
    w.closed = message(w, offset(UFA, north_m=300), state=S.CLOSED)
    w.postponed = message(w, offset(UFA, north_m=-500), state=S.POSTPONED)
    w.on_moderation = message(w, offset(UFA, east_m=-200))  # not public yet
    w.rejected = message(w, offset(UFA, east_m=-400), state=S.REJECTED)
    w.far = message(w, STERLITAMAK, state=S.IN_WORK)  # outside the city box
    w.foreign = message(w, offset(UFA, east_m=50), state=S.IN_WORK)
    w.foreign.region_id = w.other_region.id  # another region's message in the same box
    db.session.flush()
    return w


def test_the_endpoint_is_in_the_document(app):
    operation = spec_document()["paths"]["/api/v1/geo/regions/{region_id}/map"]["get"]
    assert "security" not in operation
    assert {"200", "404", "422"} <= set(operation["responses"])


def test_off_by_default_the_page_and_the_endpoint_are_404(client, problems):
    w = problems
    assert map_settings(w.region.id) is None
    response = client.get(map_url(w.region))
    assert response.status_code == 404
    assert "не включена" in response.get_json()["detail"]
    page = client.get(f"/map/{w.region.oktmo}")
    assert page.status_code == 404
    assert "не опубликована" in page.get_data(as_text=True)
    # Turned on, then off again by the curator: 404 again.
    turn_on(w)
    assert client.get(map_url(w.region)).status_code == 200
    set_public_map(w.region, enabled=False, publish_texts=False, actor_id=w.cur_curator.id)
    assert client.get(map_url(w.region)).status_code == 404


def test_only_public_messages_of_the_region_in_the_box_and_nothing_personal(client, problems):
    w = problems
    turn_on(w)
    response = client.get(map_url(w.region))
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["capped"] is False and body["texts_published"] is False
    assert {p["id"] for p in body["points"]} == {w.working.id, w.closed.id, w.postponed.id}
    assert all(set(p) == POINT_FIELDS for p in body["points"])
    assert all(p["text"] is None and p["address"] is None for p in body["points"])
    by_id = {p["id"]: p for p in body["points"]}
    assert by_id[w.working.id]["status"] == "in_work"
    assert by_id[w.closed.id]["status"] == "answered"
    assert by_id[w.postponed.id]["status"] == "postponed"
    assert by_id[w.working.id]["category"] == w.roads.name
    assert by_id[w.working.id]["subcategory"] == w.potholes.name
    # Coordinates rounded to 4 decimals (~10 m).
    assert by_id[w.working.id]["lat"] == round(float(w.working.latitude), 4)
    text = response.get_data(as_text=True)
    for personal in (w.other_resident.last_name, w.resident.last_name, "Ленина", "яма"):
        assert personal.lower() not in text.lower()
    # The legend's statuses come with the answer.
    assert [s["code"] for s in body["statuses"]] == [
        "in_work",
        "postponed",
        "answered",
        "escalated",
    ]


def test_texts_only_when_published_with_e_mails_and_phones_masked(client, problems):
    w = problems
    w.working.text = "Яма у подъезда. Пишите ivanov@example.ru или звоните +7 (917) 123-45-67."
    db.session.flush()
    turn_on(w, texts=True)
    body = client.get(map_url(w.region)).get_json()
    assert body["texts_published"] is True
    point = next(p for p in body["points"] if p["id"] == w.working.id)
    assert point["address"] == "г. Тестовск, ул. Ленина, д. 5"
    assert "Яма у подъезда" in point["text"]
    assert "ivanov@example.ru" not in point["text"] and "123-45-67" not in point["text"]
    assert point["text"].count("[скрыто]") == 2
    assert w.other_resident.last_name not in str(body)


def test_mask_personal_keeps_house_numbers_and_dates():
    assert mask_personal("дом 12, 05.06.2026") == "дом 12, 05.06.2026"
    assert mask_personal("тел. 8 917 123 45 67") == "тел. [скрыто]"


@pytest.mark.parametrize(
    "bbox",
    [
        "abc",
        "54,55,56",
        "54,55,56,57,58",
        "nan,55,56,57",
        "54,55,inf,57",
        "91,55,92,57",
        "54,-181,55,57",
        "56,55,54,57",  # south north of north
        "54,57,56,55",  # west east of east
        "",
    ],
)
def test_a_bad_bbox_is_422_with_a_russian_reason(client, problems, bbox):
    turn_on(problems)
    response = client.get(map_url(problems.region, bbox=bbox))
    assert response.status_code == 422
    body = response.get_json()
    assert response.headers["Content-Type"].startswith("application/problem+json")
    assert "bbox" in str(body["errors"]) and "юг" in str(body)


def test_bad_limit_is_422_and_a_full_box_says_it_capped(client, problems):
    w = problems
    turn_on(w)
    assert client.get(map_url(w.region, limit=0)).status_code == 422
    assert client.get(map_url(w.region, limit=100_000)).status_code == 422
    body = client.get(map_url(w.region, limit=2)).get_json()
    assert body["capped"] is True and len(body["points"]) == 2 and body["limit"] == 2
    assert client.get(map_url(w.region, limit=3)).get_json()["capped"] is False


def test_an_unknown_region_or_a_territory_that_is_not_a_region_is_404(client, problems):
    turn_on(problems)
    assert client.get(map_url(problems.city)).status_code == 404
    assert client.get("/api/v1/geo/regions/999999/map?bbox=" + CITY_BOX).status_code == 404


def test_the_public_page_shows_legend_table_and_link_from_statistics(client, problems):
    w = problems
    turn_on(w)
    page = client.get(f"/map/{w.region.oktmo}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'data-points-url="/api/v1/geo/regions/' in html
    assert "Карта проблем региона Республика Тест" in html  # the map's accessible name
    for label in ("В работе", "Решение отложено", "Дан ответ"):
        assert label in html
    # The table alternative, for the whole region: per category and status (4 public messages
    # of roads: 2 in work, one in Стерлитамак; 1 postponed, 1 answered, none escalated).
    row = html[html.index(f'<th scope="row">{w.roads.name}</th>') :].split("</tr>")[0]
    assert row.count("<td>") == 5
    assert [c.split("</td>")[0] for c in row.split("<td>")[1:]] == ["2", "1", "1", "0", "4"]
    assert w.other_resident.last_name not in html and "Ленина" not in html
    statistics = client.get(f"/statistics/{w.region.oktmo}").get_data(as_text=True)
    assert f'href="/map/{w.region.oktmo}"' in statistics


# --- the curator's switch ---------------------------------------------------------------------

SETTINGS = "/backoffice/map/public"


def test_the_region_curator_turns_the_map_on_and_off_with_csrf_and_audit(client, geo):
    w = geo
    login_as(client, w.cur_curator)
    curator_page = client.get("/backoffice/appeals/curator").get_data(as_text=True)
    assert SETTINGS in curator_page
    # Without the CSRF token nothing is saved.
    refused = client.post(SETTINGS, data={"public_map": "y"})
    assert refused.status_code == 400
    assert map_settings(w.region.id) is None
    token = csrf_token(client, SETTINGS)
    response = client.post(SETTINGS, data={"csrf_token": token, "public_map": "y"})
    assert response.status_code == 302
    page = client.get(SETTINGS).get_data(as_text=True)
    assert "Публичная карта проблем включена." in page
    saved = map_settings(w.region.id)
    assert saved.public_map is True and saved.publish_texts is False
    entry = db.session.scalars(
        sa.select(AuditEntry).where(AuditEntry.action == "geo.public_map_changed")
    ).one()
    assert entry.actor_id == w.cur_curator.id and entry.details["public_map"] is True
    assert client.get(f"/map/{w.region.oktmo}").status_code == 200
    # Off again (an unticked box is not sent).
    assert client.post(SETTINGS, data={"csrf_token": token}).status_code == 302
    db.session.expire_all()
    assert map_settings(w.region.id).public_map is False
    assert "выключена" in client.get(SETTINGS).get_data(as_text=True)
    assert client.get(f"/map/{w.region.oktmo}").status_code == 404


@pytest.mark.parametrize("who", ["cur_coordinator", "curator", "moderator", "coordinator"])
def test_only_the_curator_of_the_regional_centre_may_switch_it(client, geo, who):
    login_as(client, getattr(geo, who))
    assert client.get(SETTINGS).status_code == 404
    assert client.post(SETTINGS, data={"public_map": "y"}).status_code in (400, 404)
    assert map_settings(geo.region.id) is None
    curator_page = client.get("/backoffice/appeals/curator").get_data(as_text=True)
    assert SETTINGS not in curator_page


def _queries(client, url: str) -> int:
    from sqlalchemy import event

    statements: list[str] = []

    def count(conn, cursor, statement, parameters, context, executemany):
        if not statement.lstrip().upper().startswith(("SAVEPOINT", "RELEASE", "ROLLBACK")):
            statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        response = client.get(url)
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    assert response.status_code == 200
    return len(statements)


def test_the_map_data_costs_the_same_few_queries_for_few_or_many_points(client, problems):
    w = problems
    turn_on(w)
    few = _queries(client, map_url(w.region))
    for i in range(40):
        message(w, offset(UFA, north_m=20 * i, east_m=-30 * (i % 7)), state=S.IN_WORK)
    many = _queries(client, map_url(w.region, limit=10))  # capped: the second pass runs too
    assert few <= 5 and many <= few + 1, (few, many)
