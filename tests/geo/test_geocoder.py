"""Reverse geocoding through a Nominatim-compatible service: a local fake server, no internet."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest

from participation.config import ConfigError, load_config
from participation.geo import geocoder
from tests.api.openapi_check import spec_document
from tests.conftest import TEST_REDIS_URL

UFA_ANSWER = {
    "place_id": 1,
    "display_name": "12, улица Ленина, Советский район, Уфа, городской округ Уфа, Башкортостан",
    "address": {
        "house_number": "12",
        "road": "улица Ленина",
        "suburb": "Советский район",
        "city": "Уфа",
        "state": "Башкортостан",
        "country": "Россия",
    },
}


class FakeNominatim:
    """A local HTTP server answering /reverse; records what it was asked."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, dict, dict]] = []
        self.status = 200
        self.body: bytes = json.dumps(UFA_ANSWER, ensure_ascii=False).encode()
        self.delay = threading.Event()  # set: answer at once; clear: hang until released
        self.delay.set()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                parts = urlsplit(self.path)
                fake.requests.append(
                    (parts.path, parse_qs(parts.query), dict(self.headers.items()))
                )
                fake.delay.wait(5)
                self.send_response(fake.status)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.end_headers()
                self.wfile.write(fake.body)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/nominatim"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.delay.set()
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def no_cache(app):
    geocoder.local_cache.clear()
    if TEST_REDIS_URL:
        from participation.core.jobs import redis_connection

        connection = redis_connection(TEST_REDIS_URL)
        for key in connection.scan_iter(f"{geocoder.CACHE_PREFIX}*"):
            connection.delete(key)
    yield
    geocoder.local_cache.clear()


@pytest.fixture
def fake(app, monkeypatch, no_cache):
    with FakeNominatim() as server:
        monkeypatch.setitem(app.config, "GEOCODER_URL", server.url)
        monkeypatch.setitem(app.config, "GEOCODER_TIMEOUT_SECONDS", 1)
        yield server


def reverse(client, lat, lon):
    return client.get(f"/api/v1/geo/reverse?lat={lat}&lon={lon}")


def test_off_by_default_nothing_is_fetched(tmp_path, client, no_cache):
    config = load_config({}, tmp_path)
    assert config["GEOCODER_URL"] == ""
    response = reverse(client, 54.7348, 55.9579)
    assert response.status_code == 200
    assert response.get_json() == {"address": None, "enabled": False}


@pytest.mark.parametrize(
    "url",
    ["ftp://geo.example.ru", "nominatim.example.ru", "https://geo.example.ru/?key=1", "https://"],
)
def test_a_wrong_geocoder_url_stops_start_up_with_a_reason(tmp_path, url):
    with pytest.raises(ConfigError, match="GEOCODER_URL"):
        load_config({"GEOCODER_URL": url}, tmp_path)


def test_settings_are_read_and_normalised(tmp_path):
    config = load_config(
        {"GEOCODER_URL": "https://nominatim.example.ru/", "GEOCODER_TIMEOUT_SECONDS": "2"},
        tmp_path,
    )
    assert config["GEOCODER_URL"] == "https://nominatim.example.ru"
    assert config["GEOCODER_TIMEOUT_SECONDS"] == 2
    with pytest.raises(ConfigError, match="GEOCODER_TIMEOUT_SECONDS"):
        load_config({"GEOCODER_TIMEOUT_SECONDS": "600"}, tmp_path)


def test_the_point_gets_a_short_russian_address_and_is_cached(client, fake):
    response = reverse(client, 54.734812, 55.957934)
    assert response.status_code == 200, response.get_json()
    assert response.get_json() == {"address": "Уфа, улица Ленина, 12", "enabled": True}
    ((path, query, headers),) = fake.requests
    assert path == "/nominatim/reverse"
    assert query == {
        "format": ["jsonv2"],
        "lat": ["54.73481"],
        "lon": ["55.95793"],
        "accept-language": ["ru"],
    }
    assert headers["User-Agent"].startswith("participation/")
    # The same point (to a metre) again: from the cache, the service is not asked twice.
    again = reverse(client, 54.734809, 55.957931)
    assert again.get_json()["address"] == "Уфа, улица Ленина, 12"
    assert len(fake.requests) == 1


def test_nothing_found_is_no_address_and_is_cached(client, fake):
    fake.body = json.dumps({"error": "Unable to geocode"}).encode()
    assert reverse(client, 60.0, 40.0).get_json() == {"address": None, "enabled": True}
    assert reverse(client, 60.0, 40.0).get_json()["address"] is None
    assert len(fake.requests) == 1


@pytest.mark.parametrize(
    ("status", "body"),
    [(500, b"{}"), (200, b"<html>not json</html>"), (200, b"\xff\xfe"), (404, b"")],
)
def test_a_failing_service_means_no_address_never_an_error(client, fake, status, body):
    fake.status, fake.body = status, body
    response = reverse(client, 54.7, 55.9)
    assert response.status_code == 200
    assert response.get_json() == {"address": None, "enabled": True}
    # A failure is not cached: the next placement asks again.
    fake.status, fake.body = 200, json.dumps(UFA_ANSWER, ensure_ascii=False).encode()
    assert reverse(client, 54.7, 55.9).get_json()["address"] == "Уфа, улица Ленина, 12"


def test_a_service_that_does_not_answer_in_time_means_no_address(client, fake):
    fake.delay.clear()  # the fake hangs past the 1-second timeout
    response = reverse(client, 54.71, 55.91)
    fake.delay.set()
    assert response.status_code == 200
    assert response.get_json()["address"] is None


def test_an_unreachable_service_means_no_address(client, app, monkeypatch, no_cache):
    monkeypatch.setitem(app.config, "GEOCODER_URL", "http://127.0.0.1:9")  # discard: refused
    assert reverse(client, 54.72, 55.92).get_json() == {"address": None, "enabled": True}


def test_bad_coordinates_are_refused_in_russian_and_nothing_is_asked(client, fake):
    response = reverse(client, "nan", 55.9)
    assert response.status_code == 422
    assert "Широта — число от −90 до 90 градусов." in response.get_data(as_text=True)
    assert reverse(client, 54.7, 200).status_code == 422
    assert fake.requests == []


def test_the_endpoint_is_in_the_document(app):
    operation = spec_document()["paths"]["/api/v1/geo/reverse"]["get"]
    assert "security" not in operation
    assert {p["name"] for p in operation["parameters"]} == {"lat", "lon"}


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        (
            {"address": {"village": "Булгаково", "road": "Центральная улица"}},
            "Булгаково, Центральная улица",
        ),
        ({"address": {"city": "Уфа"}, "display_name": " Уфа,\nБашкортостан "}, "Уфа, Башкортостан"),
        ({"display_name": "д" * 900}, "д" * 500),
        ({"address": {"city": "Уфа"}}, None),
        ([], None),
        ({"address": "?", "display_name": 5}, None),
        ({"error": "Unable to geocode"}, None),
    ],
)
def test_address_of_a_nominatim_answer(answer, expected):
    assert geocoder.address_of(answer) == expected


def test_the_endpoint_is_rate_limited_per_address(client, app, fake, monkeypatch):
    monkeypatch.setitem(app.config, "GEOCODER_RATE_LIMIT", "2 per minute")
    assert reverse(client, 54.1, 55.1).status_code == 200
    assert reverse(client, 54.2, 55.2).status_code == 200
    refused = reverse(client, 54.3, 55.3)
    assert refused.status_code == 429
    assert len(fake.requests) == 2  # the refused one never reached the geocoder
