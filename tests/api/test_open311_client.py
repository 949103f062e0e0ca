"""Published Open311 clients, unchanged, against the server over real HTTP.

`georeport` (PyPI, Python 3) reads: services, a service definition, requests and one request,
in JSON and in XML (it parses XML with xmltodict). It cannot file requests; `civicbot` (PyPI),
whose Open311 client speaks GeoReport v2 with the standard library, lists the services and files
a request with an api_key. The older `open311` 1.1 and `three` 0.8 packages are Python 2 only
(implicit relative imports, itertools.ifilter) and do not import on Python 3.
"""

from __future__ import annotations

import threading
from datetime import timedelta
from decimal import Decimal

import pytest
import requests as http
import sqlalchemy as sa
from civicbot import Endpoint, HttpError, Open311Client
from georeport import GeoReport

from participation.api import services as keys
from participation.api.models import ApiScope
from participation.appeals import services as s
from participation.appeals.models import Appeal, Channel
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
    issued = keys.create_api_key(
        w.city_admin,
        "Контакт-центр 311",
        [ApiScope.MESSAGES_WRITE.value],
        keys.today() + timedelta(days=30),
        w.administrator,
    )
    facts = {
        "api_key": issued.token,
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


def test_civicbot_lists_services_and_files_a_request(served):
    base, facts = served
    client = Open311Client(Endpoint(id="test-city", name="Тестовск", base_url=base, write=True))
    codes = [service["service_code"] for service in client.list_services()]
    assert facts["potholes"] in codes

    filed = client.create_request(
        facts["potholes"],
        dry_run=False,
        confirm="SEND",
        api_key=facts["api_key"],
        validate_remote=True,  # checks the payload against our services and definition
        lat=56.838011,
        lng=60.597465,
        address_string="г. Тестовск, ул. Ленина, д. 5",
        description="Большая яма на дороге у дома 5, машины объезжают её по встречке.",
        first_name="Анна",
        last_name="Звонарёва",
        phone="+7 900 111-22-33",
        email="zvonareva@example.org",
    )
    [answer] = filed.response
    number = answer["service_request_id"]
    assert number.isdigit() and f"№ {number}" in answer["service_notice"]

    tracked = client.get_request(number)
    assert tracked["status"] == "open" and tracked["service_code"] == facts["potholes"]
    appeal = db.session.get(Appeal, int(number))
    assert appeal.channel == Channel.OPERATOR and appeal.caller_name == "Звонарёва Анна"
    db.session.close()  # hold no lock while the server works (SQLite)

    with pytest.raises(HttpError) as caught:
        client.create_request(
            facts["potholes"],
            dry_run=False,
            confirm="SEND",
            api_key="rvk_0000_wrong",
            address_string="ул. Ленина, 5",
            description="Яма на дороге у дома номер пять.",
        )
    assert caught.value.status == 403


def test_concurrent_retries_with_one_idempotency_key_file_one_message(served):
    base, facts = served
    form = {
        "api_key": facts["api_key"],
        "service_code": facts["potholes"],
        "address_string": "г. Тестовск, ул. Ленина, д. 5",
        "description": "Большая яма на дороге у дома 5, машины объезжают её по встречке.",
        "first_name": "Анна",
        "last_name": "Звонарёва",
        "phone": "+7 900 111-22-33",
    }
    headers = {"Idempotency-Key": "call-centre-42"}
    start = threading.Barrier(4)
    answers: list = []

    def send():
        start.wait()
        response = http.post(f"{base}/requests.json", data=form, headers=headers, timeout=30)
        answers.append((response.status_code, response.json()))

    threads = [threading.Thread(target=send) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert [status for status, _body in answers] == [200] * 4, answers
    assert len({body[0]["service_request_id"] for _status, body in answers}) == 1
    filed = db.session.scalar(
        sa.select(sa.func.count()).select_from(Appeal).where(Appeal.channel == Channel.OPERATOR)
    )
    assert filed == 1
