"""The map component without a browser (issue #16): settings, CSP, the form's and the cards'
map blocks, and the form working without JavaScript (the coordinate fields stay)."""

from __future__ import annotations

import html
import json
import re
from decimal import Decimal

import pytest
import sqlalchemy as sa

from participation.appeals.models import Appeal
from participation.config import ConfigError, load_config
from participation.core.maps import home_view, municipal_centres, short_name
from participation.core.territories import TerritoryLevel
from participation.core.users import Role
from participation.extensions import db
from tests import factories as f
from tests.appeals.conftest import submit
from tests.appeals.test_submit import _form
from tests.helpers import login_as


def _map_attrs(page: str, element_id: str = "appeal-map") -> dict[str, str]:
    tag = re.search(rf'<div id="{element_id}"[^>]*>', page, re.S)
    assert tag, f"no map #{element_id}"
    return {k: html.unescape(v) for k, v in re.findall(r'([\w-]+)="([^"]*)"', tag[0])}


# --- settings and CSP -----------------------------------------------------------------------


def test_no_tile_source_by_default_and_a_bad_one_is_refused(tmp_path):
    config = load_config({}, tmp_path)
    assert config["MAP_TILE_URL"] == "" and config["MAP_TILE_ORIGIN"] == ""
    assert config["MAP_MAX_ZOOM"] == 18
    config = load_config(
        {
            "MAP_TILE_URL": "https://{s}.tiles.example.ru/{z}/{x}/{y}.png",
            "MAP_ATTRIBUTION": "© участники OpenStreetMap",
            "MAP_MAX_ZOOM": "17",
        },
        tmp_path,
    )
    assert config["MAP_TILE_ORIGIN"] == "https://*.tiles.example.ru"
    assert config["MAP_MAX_ZOOM"] == 17
    for env, fragment in [
        ({"MAP_TILE_URL": "ftp://tiles.example.ru/{z}/{x}/{y}.png"}, "MAP_TILE_URL"),
        ({"MAP_TILE_URL": "https://tiles.example.ru/tile.png"}, "{z}, {x} и {y}"),
        ({"MAP_MAX_ZOOM": "30"}, "MAP_MAX_ZOOM"),
        ({"MAP_MAX_ZOOM": "много"}, "MAP_MAX_ZOOM"),
    ]:
        with pytest.raises(ConfigError, match=re.escape(fragment)):
            load_config(env, tmp_path)


def test_the_csp_lets_in_only_the_configured_tile_server(app, client, world, monkeypatch):
    login_as(client, world.resident)
    response = client.get("/appeals/new")
    csp = response.headers["Content-Security-Policy"]
    assert "img-src 'self' data:;" in csp and "script-src 'self'" in csp
    page = response.get_data(as_text=True)
    assert "Подложка карты не настроена" in page
    assert "data-tile-url" not in page
    # The vendored library is served by the app itself, with its licence.
    assert client.get("/static/vendor/leaflet/leaflet.js").status_code == 200
    assert b"BSD" in client.get("/static/vendor/leaflet/LICENSE").data

    for name, value in [
        ("MAP_TILE_URL", "https://tiles.example.ru/{z}/{x}/{y}.png"),
        ("MAP_TILE_ORIGIN", "https://tiles.example.ru"),
        ("MAP_ATTRIBUTION", "© OSM <b>"),
    ]:
        monkeypatch.setitem(app.config, name, value)
    response = client.get("/appeals/new")
    assert (
        "img-src 'self' data: https://tiles.example.ru;"
        in (response.headers["Content-Security-Policy"])
    )
    attrs = _map_attrs(response.get_data(as_text=True))
    assert attrs["data-tile-url"] == "https://tiles.example.ru/{z}/{x}/{y}.png"
    assert attrs["data-attribution"] == "© OSM <b>"  # escaped in the page, text for the script
    assert "Подложка карты не настроена" not in response.get_data(as_text=True)


# --- the form ----------------------------------------------------------------------------------


def test_the_form_map_is_configured_for_the_residents_region(client, world):
    world.city.latitude, world.city.longitude = Decimal("54.7348"), Decimal("55.9579")
    world.town.latitude, world.town.longitude = Decimal("53.6305"), Decimal("55.9316")
    db.session.flush()
    login_as(client, world.resident)
    page = client.get("/appeals/new").get_data(as_text=True)
    # Hidden until the script draws it: without JavaScript the fields below do the work.
    assert re.search(r'<div class="map-block [^"]*" hidden>', page)
    attrs = _map_attrs(page)
    assert attrs["data-region"] == str(world.region.id)
    assert attrs["data-locate-url"] == "/api/v1/geo/locate"
    assert attrs["data-lat-input"] == "latitude" and attrs["data-lon-input"] == "longitude"
    assert attrs["data-territory-select"] == "territory_id"
    assert attrs["role"] == "application" and attrs["tabindex"] == "0"
    assert attrs["aria-label"] and attrs["aria-describedby"] == "appeal-map-help"
    centres = json.loads(attrs["data-centres"])
    assert {"name": "город Тестовск", "lat": 54.7348, "lon": 55.9579, "major": True} in centres
    assert centres == municipal_centres(world.region)
    assert json.loads(attrs["data-home"]) == {"lat": 54.7348, "lon": 55.9579}  # the city's
    assert 'id="latitude"' in page and 'id="longitude"' in page and 'id="address"' in page


def test_municipal_centres_are_the_regions_municipalities_with_a_known_centre(world):
    world.city.latitude, world.city.longitude = Decimal("54.7348"), Decimal("55.9579")
    elsewhere = f.territory(name="город Чужой", latitude=Decimal("55.8"), longitude=Decimal("49.1"))
    db.session.flush()
    names = [c["name"] for c in municipal_centres(world.region)]
    assert names == ["город Тестовск"]  # the town has no centre; another region's is not here
    assert elsewhere.name not in names
    assert municipal_centres(None) == []
    assert short_name("городской округ город Уфа") == "город Уфа"
    settlement = f.territory(TerritoryLevel.SETTLEMENT, parent=world.city)
    assert home_view(settlement) == {"lat": 54.7348, "lon": 55.9579}  # its okrug's centre
    assert home_view(world.town) is None and home_view(world.region) is None
    assert short_name("Бирский муниципальный район") == "Бирский район"


def test_without_javascript_typed_coordinates_make_the_point_and_the_cards_show_it(client, world):
    login_as(client, world.resident)
    data = _form(client, world, address="", latitude="54,7388", longitude="55.9721")
    response = client.post("/appeals/new", data=data)
    assert response.status_code == 302
    appeal = db.session.scalar(sa.select(Appeal).order_by(Appeal.id.desc()).limit(1))
    assert (appeal.latitude, appeal.longitude) == (Decimal("54.738800"), Decimal("55.972100"))

    page = client.get(response.headers["Location"]).get_data(as_text=True)
    attrs = _map_attrs(page)
    assert json.loads(attrs["data-points"]) == [
        {"lat": 54.7388, "lon": 55.9721, "label": "Точка проблемы"}
    ]
    assert attrs["role"] == "region" and "data-editable" not in attrs
    assert "vendor/leaflet/leaflet.js" in page and "js/map.js" in page

    login_as(client, world.moderator)
    page = client.get(f"/backoffice/appeals/{appeal.id}").get_data(as_text=True)
    assert json.loads(_map_attrs(page)["data-points"])[0]["lat"] == 54.7388


def test_a_message_without_a_point_has_no_map_on_its_card(client, world):
    appeal = submit(world)
    db.session.flush()
    login_as(client, world.resident)
    page = client.get(f"/my/appeals/{appeal.id}").get_data(as_text=True)
    assert "data-map" not in page and "leaflet.js" not in page


# --- the operator's form (со слов заявителя) ----------------------------------------------------


def test_the_operators_form_has_the_same_map_picker(client, world, app, monkeypatch):
    world.city.latitude, world.city.longitude = Decimal("54.7348"), Decimal("55.9579")
    db.session.flush()
    operator = f.staff(world.cur, Role.OPERATOR)
    login_as(client, operator)
    page = client.get("/backoffice/appeals/new").get_data(as_text=True)
    attrs = _map_attrs(page)
    assert attrs["data-region"] == str(world.region.id)  # the ЦУР's region
    assert attrs["data-locate-url"] == "/api/v1/geo/locate"
    assert attrs["data-lat-input"] == "latitude" and attrs["data-lon-input"] == "longitude"
    assert attrs["data-territory-select"] == "territory_id"
    assert attrs["role"] == "application" and "data-editable" in page
    assert json.loads(attrs["data-centres"]) == municipal_centres(world.region)
    assert "data-reverse-url" not in attrs  # no geocoder configured
    assert "vendor/leaflet/leaflet.js" in page and "js/map.js" in page
    assert 'id="latitude"' in page and 'id="address"' in page  # without JavaScript

    monkeypatch.setitem(app.config, "GEOCODER_URL", "http://127.0.0.1:9")
    attrs = _map_attrs(client.get("/backoffice/appeals/new").get_data(as_text=True))
    assert attrs["data-reverse-url"] == "/api/v1/geo/reverse"
    assert attrs["data-address-input"] == "address"


def test_the_residents_form_asks_the_geocoder_only_when_one_is_configured(
    client, world, app, monkeypatch
):
    login_as(client, world.resident)
    attrs = _map_attrs(client.get("/appeals/new").get_data(as_text=True))
    assert "data-reverse-url" not in attrs and "data-address-input" not in attrs
    monkeypatch.setitem(app.config, "GEOCODER_URL", "http://127.0.0.1:9")
    attrs = _map_attrs(client.get("/appeals/new").get_data(as_text=True))
    assert attrs["data-reverse-url"] == "/api/v1/geo/reverse"
    assert attrs["data-address-input"] == "address"


def test_the_operators_point_is_saved_with_the_message(client, world):
    operator = f.staff(world.cur, Role.OPERATOR)
    login_as(client, operator)
    page = client.get("/backoffice/appeals/new").get_data(as_text=True)
    token = re.search(r'name="csrf_token"(?: type="hidden")? value="([^"]+)"', page)[1]
    key = re.search(r'name="submission_key"(?: type="hidden")? value="([^"]+)"', page)[1]
    response = client.post(
        "/backoffice/appeals/new",
        data={
            "csrf_token": token,
            "submission_key": key,
            "caller_name": "Петров Пётр",
            "caller_phone": "+7 917 000-00-00",
            "text": "Яма на дороге у дома 24 по улице Ленина, глубокая, колёса пробивают.",
            "subcategory_id": world.potholes.id,
            "territory_id": world.city.id,
            "address": "",
            "latitude": "54.7388",
            "longitude": "55.9721",
        },
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    appeal = db.session.scalar(sa.select(Appeal).order_by(Appeal.id.desc()).limit(1))
    assert (appeal.latitude, appeal.longitude) == (Decimal("54.738800"), Decimal("55.972100"))
