"""Published Open311 clients, unchanged, against the server over real HTTP.

`georeport` (PyPI, Python 3) reads: services, a service definition, requests and one request,
in JSON and in XML (it parses XML with xmltodict). It cannot file requests; `civicbot` (PyPI)
files one with an api_key (tests/api/test_open311_post.py). The older `open311` 1.1 and
`three` 0.8 packages are Python 2 only (implicit relative imports, itertools.ifilter) and do not
import on Python 3.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
import requests as http
from georeport import GeoReport

from participation.appeals import services as s
from participation.extensions import db
from tests.appeals.conftest import submit
from tests.browser import serve

pytestmark = pytest.mark.committed


@pytest.fixture
def served(app, world):
    """The app on 127.0.0.1:<free port>; yields the Open311 base URL and the rows' ids."""
    w = world
    waiting = submit(w)
    passed = submit(
        w,
        address="г. Тестовск, ул. Ленина, д. 5",
        latitude=Decimal("56.838011"),
        longitude=Decimal("60.597465"),
    )
    s.accept_appeal(passed, w.moderator)
    facts = {
        "waiting": str(waiting.id),
        "passed": str(passed.id),
        "potholes": w.potholes.code,
        "benches": w.benches.code,
        "agency": w.city_admin.name,
    }
    db.session.commit()
    db.session.close()  # hold no lock while the server works (SQLite)
    with serve(app) as port:
        yield f"http://127.0.0.1:{port}/open311/v2", facts


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_georeport_reads_everything(served, fmt):
    base, facts = served
    client = GeoReport(base, output_format=fmt)

    services = client.get_service_list()
    codes = [service["service_code"] for service in services]
    assert facts["potholes"] in codes and facts["benches"] in codes
    potholes = services[codes.index(facts["potholes"])]
    assert potholes["group"] == "Дороги (тест)"
    assert potholes["metadata"] in (False, "false")

    definition = client.get_service_definition(facts["potholes"])
    assert definition["service_code"] == facts["potholes"]
    assert not definition["attributes"]

    found = client.get_service_requests()
    assert [r["service_request_id"] for r in found] == [facts["passed"], facts["waiting"]]
    assert all(r["agency_responsible"] == facts["agency"] for r in found)

    one = client.get_service_request(facts["passed"])
    assert one["service_request_id"] == facts["passed"]
    assert one["address"] == "г. Тестовск, ул. Ленина, д. 5"
    assert float(one["lat"]) == pytest.approx(56.838011)
    assert one["status"] == "open"

    only = client.get_service_requests(service_request_id=facts["waiting"], status="closed")
    if fmt == "xml":  # xmltodict gives a lone element as a mapping, not a list of one
        only = [only]
    assert [r["service_request_id"] for r in only] == [facts["waiting"]]

    if fmt == "json":
        # (georeport's XML reader fails on any empty list: xmltodict reads the empty root
        # <service_requests/> as None and the library subscripts it; that is the client's)
        assert client.get_service_requests(status="closed") == []


def test_georeport_sees_the_spec_errors(served):
    base, _facts = served
    client = GeoReport(base)
    with pytest.raises(http.HTTPError) as caught:
        client.get_service_definition("no.such.code")
    assert caught.value.response.status_code == 404
    assert caught.value.response.json()[0]["code"] == 404
    with pytest.raises(http.HTTPError) as caught:
        client.get_service_requests(start_date="yesterday")
    assert caught.value.response.status_code == 400
    assert "start_date" in caught.value.response.json()[0]["description"]
