"""Open311 GeoReport v2, read side: every endpoint in XML and JSON against the spec's field lists,
the filters, the default window and paging, what is (not) published, and the spec's errors."""

from __future__ import annotations

import json
from datetime import timedelta
from decimal import Decimal
from xml.etree import ElementTree as ET

import pytest
import sqlalchemy as sa

from participation.appeals import services as s
from participation.appeals.models import Channel
from participation.core.db import utcnow
from participation.core.moderation import RejectionReason
from participation.extensions import db
from tests.api.open311 import (
    BASE,
    CONTENT_TYPES,
    DEFINITION_FIELDS,
    DISCOVERY_FIELDS,
    ENDPOINT_FIELDS,
    ERROR_FIELDS,
    FORMATS,
    REQUEST_FIELDS,
    SERVICE_FIELDS,
    W3C,
    json_document,
    parse_xml,
    records,
)
from tests.appeals.conftest import new_key, submit

LOCATION = {
    "address": "г. Тестовск, ул. Ленина, д. 5",
    "latitude": Decimal("56.838011"),
    "longitude": Decimal("60.597465"),
}


def accepted(w, **kw):
    """A message the moderator has passed (its location is published from then on)."""
    appeal = submit(w, **{**LOCATION, **kw})
    s.accept_appeal(appeal, w.moderator)
    return appeal


def to_work(w, appeal):
    s.accept_appeal(appeal, w.moderator)
    s.confirm_addressee(appeal, w.cur_coordinator)
    s.assign_executor(appeal, w.coordinator, w.executor.id)
    return appeal


def to_answered(w, appeal):
    to_work(w, appeal)
    s.submit_draft(appeal, w.executor, "Яму заделали 12 мая, фото прилагаем.")
    s.approve_answer(appeal, w.head)
    return appeal


def registered(appeal, days_ago: float):
    """Move a message's registration (and its deadlines) `days_ago` days back."""
    shift = timedelta(days=days_ago)
    appeal.registered_at -= shift
    appeal.answer_due_at -= shift
    appeal.coordination_due_at -= shift
    appeal.original_answer_due_at -= shift
    db.session.flush()
    return appeal


def get_requests(client, fmt="json", **params):
    response = client.get(f"{BASE}/requests.{fmt}", query_string=params)
    assert response.status_code == 200, response.get_data(as_text=True)
    return records(response, fmt, "service_requests")


def ids(items) -> list[str]:
    return [item["service_request_id"] for item in items]


def errors(response, fmt: str, status: int) -> list[str]:
    """The spec's error document: its descriptions (each error has exactly code and
    description; the code is the HTTP status)."""
    assert response.status_code == status, (response.status_code, response.get_data(as_text=True))
    items = records(response, fmt, "errors")
    assert items, "at least one error"
    for item in items:
        assert list(item) == ERROR_FIELDS
        assert item["code"] == str(status)
        assert item["description"]
    return [item["description"] for item in items]


# --- discovery ---------------------------------------------------------------------------


def test_discovery_in_both_formats(client, world):
    as_json = json_document(client.get(f"{BASE}/discovery.json"))
    assert list(as_json) == DISCOVERY_FIELDS
    [endpoint] = as_json["endpoints"]
    assert list(endpoint) == ENDPOINT_FIELDS
    assert endpoint["specification"] == "http://wiki.open311.org/GeoReport_v2"
    assert endpoint["url"].endswith("/open311/v2")
    assert endpoint["formats"] == ["text/xml", "application/json"]
    assert endpoint["type"] == "test"  # the testing environment is not production
    assert "messages:write" in as_json["key_service"]

    response = client.get(f"{BASE}/discovery.xml")
    assert response.content_type == CONTENT_TYPES["xml"]
    root = parse_xml(response.get_data(), "discovery")
    assert [child.tag for child in root] == DISCOVERY_FIELDS
    [xml_endpoint] = root.find("endpoints")
    assert xml_endpoint.tag == "endpoint"
    assert [child.tag for child in xml_endpoint] == ENDPOINT_FIELDS
    assert [f.text for f in xml_endpoint.find("formats")] == endpoint["formats"]
    assert all(f.tag == "format" for f in xml_endpoint.find("formats"))
    assert root.findtext("changeset") == as_json["changeset"]
    assert W3C.match(as_json["changeset"])
    # The base URL answers with the same document.
    index = client.get(f"{BASE}/")
    assert index.status_code == 200 and index.get_data() == response.get_data()


def test_discovery_changeset_follows_the_catalogue(client, world):
    before = json_document(client.get(f"{BASE}/discovery.json"))["changeset"]
    world.marking.updated_at = utcnow() + timedelta(minutes=5)
    db.session.flush()
    after = json_document(client.get(f"{BASE}/discovery.json"))["changeset"]
    assert after > before  # sortable, as the spec asks


# --- services ----------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
def test_service_list(client, world, fmt):
    w = world
    response = client.get(f"{BASE}/services.{fmt}")
    assert response.status_code == 200
    items = [i for i in records(response, fmt, "services") if i["service_code"].startswith("test.")]
    assert all(list(item) == SERVICE_FIELDS for item in items)
    by_code = {item["service_code"]: item for item in items}
    # Subcategories are the services, in the classifier's order; a retired one is not offered.
    assert list(by_code) == [w.potholes.code, w.marking.code, w.benches.code]
    potholes = by_code[w.potholes.code]
    assert potholes["service_name"] == "Ямы и выбоины (тест)"
    assert potholes["group"] == "Дороги (тест)"
    assert by_code[w.benches.code]["group"] == "Дворы (тест)"
    assert potholes["keywords"] == "яма, выбоина, ямы на дороге"
    assert potholes["metadata"] == "false" and potholes["type"] == "realtime"
    assert "Фаст-трек" in potholes["description"]
    assert "Фаст-трек" not in by_code[w.marking.code]["description"]


def test_service_codes_and_flags_have_json_types(client, world):
    data = json_document(client.get(f"{BASE}/services.json"))
    assert data and all(isinstance(item["service_code"], str) for item in data)
    assert all(item["metadata"] is False for item in data)


@pytest.mark.parametrize("fmt", FORMATS)
def test_service_definition_is_empty(client, world, fmt):
    response = client.get(f"{BASE}/services/{world.potholes.code}.{fmt}")
    assert response.status_code == 200
    if fmt == "json":
        data = json_document(response)
        assert list(data) == DEFINITION_FIELDS
        assert data == {"service_code": world.potholes.code, "attributes": []}
    else:
        root = parse_xml(response.get_data(), "service_definition")
        assert [child.tag for child in root] == DEFINITION_FIELDS
        assert root.findtext("service_code") == world.potholes.code
        assert len(root.find("attributes")) == 0


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("code", ["no.such.code", "retired"])
def test_unknown_service_definition_is_404(client, world, fmt, code):
    code = world.retired.code if code == "retired" else code
    [text] = errors(client.get(f"{BASE}/services/{code}.{fmt}"), fmt, 404)
    assert "service_code" in text and code in text


# --- service requests: fields ------------------------------------------------------------


def test_request_fields_are_the_same_in_both_formats(client, world):
    w = world
    appeal = accepted(w)
    as_json = get_requests(client, "json")
    as_xml = get_requests(client, "xml")
    assert as_json == as_xml
    [item] = as_xml
    assert list(item) == REQUEST_FIELDS
    assert item["service_request_id"] == str(appeal.id)
    assert item["status"] == "open"
    assert item["status_notes"] == "Передаётся исполнителю"
    assert item["service_code"] == w.potholes.code
    assert item["service_name"] == w.potholes.name
    assert item["agency_responsible"] == "Администрация г. Тестовска"
    assert item["address"] == LOCATION["address"]
    assert item["address_id"] == w.city.oktmo
    assert (item["lat"], item["long"]) == ("56.838011", "60.597465")
    assert item["description"] is None  # no region publishes message texts (see README)
    for name in ("requested_datetime", "updated_datetime", "expected_datetime"):
        assert W3C.match(item[name]), item[name]
    # Times are in the answering organization's zone (Asia/Yekaterinburg, +05:00).
    assert item["requested_datetime"].endswith("+05:00")
    local = appeal.answer_due_at.astimezone(w.city.tz).isoformat(timespec="seconds")
    assert item["expected_datetime"] == local  # the answer deadline
    assert item["updated_datetime"] >= item["requested_datetime"]

    raw = json.loads(client.get(f"{BASE}/requests.json").get_data())
    assert isinstance(raw[0]["service_request_id"], str)
    assert isinstance(raw[0]["service_code"], str)
    assert isinstance(raw[0]["lat"], float) and isinstance(raw[0]["long"], float)


@pytest.mark.parametrize("fmt", FORMATS)
def test_single_request(client, world, fmt):
    appeal = accepted(world)
    response = client.get(f"{BASE}/requests/{appeal.id}.{fmt}")
    assert response.status_code == 200
    [item] = records(response, fmt, "service_requests")
    assert list(item) == REQUEST_FIELDS
    assert item == get_requests(client, fmt)[0]


def test_location_is_published_only_after_moderation(client, world):
    w = world
    waiting = submit(w, **LOCATION)
    [item] = get_requests(client)
    assert item["service_request_id"] == str(waiting.id)
    assert item["status"] == "open" and item["status_notes"] == "Проверяется модератором"
    assert item["address"] is None and item["lat"] is None and item["long"] is None
    assert item["address_id"] == w.city.oktmo
    s.accept_appeal(waiting, w.moderator)
    [item] = get_requests(client)
    assert item["address"] == LOCATION["address"] and item["lat"] == "56.838011"


@pytest.mark.parametrize("fmt", FORMATS)
def test_rejected_messages_are_not_published(client, world, fmt):
    w = world
    kept = accepted(w)
    rejected = submit(w)
    s.reject_appeal(rejected, w.moderator, RejectionReason.OBSCENE)
    assert ids(get_requests(client, fmt)) == [str(kept.id)]
    assert ids(get_requests(client, fmt, service_request_id=f"{kept.id},{rejected.id}")) == [
        str(kept.id)
    ]
    [text] = errors(client.get(f"{BASE}/requests/{rejected.id}.{fmt}"), fmt, 404)
    assert str(rejected.id) in text


def test_statuses_and_notes_through_the_lifecycle(client, world):
    w = world
    in_work = to_work(w, submit(w))
    answered = to_answered(w, submit(w))
    closed = to_answered(w, submit(w))
    s.rate_appeal(closed, w.resident, 5)
    escalated = to_answered(w, submit(w))
    s.rate_appeal(escalated, w.resident, 1, "Ничего не сделано")
    postponed = to_work(w, submit(w))
    until = (postponed.answer_due_at + timedelta(days=5)).astimezone(w.city.tz).date()
    s.postpone_appeal(postponed, w.executor, until, "Нужен подрядчик")
    db.session.flush()
    review = escalated.__class__
    review = db.session.scalar(sa.select(review).where(review.review_of_id == escalated.id))

    by_id = {item["service_request_id"]: item for item in get_requests(client)}
    assert by_id[str(in_work.id)]["status"] == "open"
    assert by_id[str(in_work.id)]["status_notes"] == "В работе"
    assert by_id[str(answered.id)]["status"] == "closed"
    assert by_id[str(answered.id)]["status_notes"] == "Дан ответ"
    assert by_id[str(closed.id)]["status"] == "closed"
    assert by_id[str(closed.id)]["status_notes"] == "Закрыто"
    assert by_id[str(escalated.id)]["status"] == "closed"
    assert f"под номером {review.id}" in by_id[str(escalated.id)]["status_notes"]
    assert by_id[str(review.id)]["status"] == "open"
    assert f"сообщения № {escalated.id}" in by_id[str(review.id)]["status_notes"]
    assert by_id[str(review.id)]["agency_responsible"] == "Правительство Республики Тест"
    assert by_id[str(postponed.id)]["status"] == "open"
    assert by_id[str(postponed.id)]["status_notes"] == (
        f"Решение отложено до {until.strftime('%d.%m.%Y')}"
    )
    # The deadline follows the postponement.
    assert by_id[str(postponed.id)]["expected_datetime"].startswith(until.isoformat())
    # Closed: updated when it was closed (the last step of its history).
    assert by_id[str(closed.id)]["updated_datetime"] >= by_id[str(closed.id)]["requested_datetime"]

    open_ids = set(ids(get_requests(client, status="open")))
    closed_ids = set(ids(get_requests(client, status="closed")))
    assert open_ids == {str(in_work.id), str(postponed.id), str(review.id)}
    assert closed_ids == {str(answered.id), str(closed.id), str(escalated.id)}
    assert set(ids(get_requests(client, status="open,closed"))) == open_ids | closed_ids
    assert set(ids(get_requests(client, status="CLOSED"))) == closed_ids


# --- service requests: filters, window, paging -------------------------------------------


def test_default_window_is_the_last_90_days(client, world):
    w = world
    recent = registered(accepted(w), 89)
    old = registered(accepted(w), 95)
    fresh = accepted(w)
    assert ids(get_requests(client)) == [str(fresh.id), str(recent.id)]  # newest first
    # An explicit window reaches the older one; start alone spans 90 days from it.
    start = (utcnow() - timedelta(days=100)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert ids(get_requests(client, start_date=start)) == [str(recent.id), str(old.id)]
    # end alone spans the 90 days before it.
    end = (utcnow() - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert ids(get_requests(client, end_date=end)) == [str(recent.id)]


def test_window_bounds_are_inclusive_and_zones_count(client, world):
    appeal = accepted(world)
    at = appeal.registered_at.replace(microsecond=0)
    appeal.registered_at = at
    db.session.flush()
    local = at.astimezone(world.city.tz).isoformat()  # …+05:00: the same instant
    assert ids(get_requests(client, start_date=local, end_date=local)) == [str(appeal.id)]
    utc = at.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert ids(get_requests(client, start_date=utc, end_date=utc)) == [str(appeal.id)]
    # An unescaped «+» arrives as a space; it is read as the «+» it was.
    spaced = local.replace("+", " ")
    assert ids(get_requests(client, start_date=spaced, end_date=local)) == [str(appeal.id)]
    later = (at + timedelta(seconds=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert ids(get_requests(client, start_date=later)) == []


def test_service_code_filter(client, world):
    w = world
    pothole = accepted(w)
    bench = accepted(w, subcategory_id=w.benches.id, territory_id=w.town.id)
    assert ids(get_requests(client, service_code=w.potholes.code)) == [str(pothole.id)]
    assert ids(get_requests(client, service_code=w.benches.code)) == [str(bench.id)]
    both = f"{w.potholes.code},{w.benches.code}"
    assert ids(get_requests(client, service_code=both)) == [str(bench.id), str(pothole.id)]
    assert ids(get_requests(client, service_code=w.marking.code)) == []
    assert get_requests(client, service_code=w.benches.code)[0]["agency_responsible"] == (
        "Администрация г. Соседнего"
    )


def test_service_request_ids_override_the_other_filters(client, world):
    w = world
    old = registered(to_answered(w, submit(w)), 200)
    new = accepted(w)
    items = get_requests(
        client,
        service_request_id=f"{old.id}, {new.id},{old.id},999999",
        status="open",
        service_code=w.benches.code,
        start_date="2000-01-01T00:00:00Z",
        end_date="2000-01-02T00:00:00Z",
    )
    assert ids(items) == [str(new.id), str(old.id)]  # unknown numbers are simply absent


@pytest.mark.parametrize("fmt", FORMATS)
def test_paging(client, world, fmt):
    made = [accepted(world) for _ in range(5)]
    for n, appeal in enumerate(made):  # distinct times, the first one oldest
        registered(appeal, 5 - n)
    newest_first = [str(a.id) for a in reversed(made)]
    assert ids(get_requests(client, fmt, page_size=2)) == newest_first[:2]
    assert ids(get_requests(client, fmt, page_size=2, page=2)) == newest_first[2:4]
    assert ids(get_requests(client, fmt, page_size=2, page=3)) == newest_first[4:]
    assert ids(get_requests(client, fmt, page_size=2, page=4)) == []
    assert ids(get_requests(client, fmt, page_size=1000)) == newest_first


def test_default_page_is_the_first_1000_rows(client, world):
    template = accepted(world)
    columns = {c.key: getattr(template, c.key) for c in sa.inspect(template).mapper.column_attrs}
    start = template.registered_at
    db.session.add_all(
        template.__class__(
            **{
                **columns,
                "id": None,
                "submission_key": f"bulk-{n:06d}-{new_key()}",
                "registered_at": start - timedelta(seconds=n + 1),
            }
        )
        for n in range(1000)
    )
    db.session.flush()
    items = get_requests(client, "json")
    assert len(items) == 1000
    assert items[0]["service_request_id"] == str(template.id)  # the newest first
    assert len(get_requests(client, "json", page=2)) == 1
    assert len(get_requests(client, "xml", page_size=10, page=101)) == 1


def test_defaults_of_the_query():
    from participation.api.open311.services import read_request_query

    now = utcnow()
    query = read_request_query({}, now)
    assert (query.page, query.page_size) == (1, 1000)
    assert (query.start, query.end) == (now - timedelta(days=90), now)
    # «Optional» parameters sent empty are the same as not sent.
    empty = {"start_date": "", "end_date": "", "status": "", "service_code": "", "page": ""}
    assert read_request_query(empty, now) == query


# --- bad input ---------------------------------------------------------------------------


BAD = [
    ({"start_date": "вчера"}, "start_date"),
    ({"start_date": "2024-01-01"}, "start_date"),  # no time, no zone
    ({"start_date": "2024-01-01T00:00:00"}, "start_date"),  # no zone
    ({"end_date": "2024-02-30T00:00:00Z"}, "end_date"),  # no such day
    ({"start_date": "2024-03-01T00:00:00Z", "end_date": "2024-02-01T00:00:00Z"}, "раньше"),
    ({"start_date": "2024-01-01T00:00:00Z", "end_date": "2024-06-01T00:00:00Z"}, "90 дней"),
    ({"page_size": "1001"}, "page_size"),
    ({"page_size": "0"}, "page_size"),
    ({"page_size": "много"}, "page_size"),
    ({"page": "-1"}, "page"),
    ({"status": "pending"}, "status"),
    ({"service_code": "no.such.code"}, "service_code"),
    ({"service_request_id": "12,abc"}, "service_request_id"),
    ({"service_request_id": "99999999999"}, "service_request_id"),
    ({"service_request_id": ",".join(str(n) for n in range(1, 1002))}, "service_request_id"),
]


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize(("params", "named"), BAD)
def test_bad_filters_are_400_with_the_spec_errors(client, world, fmt, params, named):
    texts = errors(client.get(f"{BASE}/requests.{fmt}", query_string=params), fmt, 400)
    assert any(named in text for text in texts), texts


def test_several_problems_are_several_errors(client, world):
    texts = errors(
        client.get(
            f"{BASE}/requests.xml",
            query_string={"page_size": "5000", "status": "x", "start_date": "bad"},
        ),
        "xml",
        400,
    )
    assert len(texts) == 3
    assert [t.split(":")[0] for t in texts] == ["page_size", "status", "start_date"]


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize(
    "path",
    [
        "/requests/999999.{fmt}",
        "/requests/abc.{fmt}",
        "/requests/99999999999.{fmt}",
        "/tokens/abc123.{fmt}",
        "/nothing.{fmt}",
        "/services/.{fmt}",
    ],
)
def test_unknown_resources_are_404(client, world, fmt, path):
    errors(client.get(BASE + path.format(fmt=fmt)), fmt, 404)


def test_unknown_format_is_404_in_xml(client, world):
    response = client.get(f"{BASE}/services.csv")
    assert response.status_code == 404
    parse_xml(response.get_data(), "errors")


@pytest.mark.parametrize("fmt", FORMATS)
def test_wrong_method_is_405_with_allow(client, world, fmt):
    response = client.delete(f"{BASE}/services.{fmt}")
    errors(response, fmt, 405)
    assert response.headers["Allow"] == "GET"
    response = client.put(f"{BASE}/requests.{fmt}")
    errors(response, fmt, 405)
    assert response.headers["Allow"] == "GET, POST"


def test_server_error_is_a_spec_document(client, world, monkeypatch):
    from participation.api.open311 import services

    def broken():
        raise RuntimeError("boom")

    monkeypatch.setattr(services, "list_services", broken)
    response = client.get(f"{BASE}/services.json")
    [text] = errors(response, "json", 500)
    assert "boom" not in text


# --- nothing personal --------------------------------------------------------------------


def test_nothing_personal_is_published(client, world):
    w = world
    text = "Яма у подъезда, соседка Иванова Мария Ивановна, тел. +7 912 000-00-00, видела всё."
    by_resident = to_answered(w, submit(w, text=text, **LOCATION))
    by_phone = s.submit_appeal(
        submitted_by=w.cur_operator,
        submission_key=new_key(),
        subcategory_id=w.potholes.id,
        text="Не убран снег во дворе дома 7, звонила по телефону жительница.",
        territory_id=w.city.id,
        address="г. Тестовск, ул. Мира, д. 7",
        channel=Channel.OPERATOR,
        caller=s.Caller(
            name="Звонарёва Анна Сергеевна", phone="+7 900 111-22-33", email="zvonareva@example.org"
        ),
        suggested_subcategory_id=w.potholes.id,
        suggestion_confidence=0.9,
    ).appeal
    s.accept_appeal(by_phone, w.moderator)
    people = [w.resident, w.executor, w.head, w.coordinator, w.moderator, w.cur_operator]
    secrets = [text, "Яму заделали", "Звонарёва", "Анна Сергеевна", "900 111", "zvonareva"]
    for person in people:
        secrets += [person.last_name, person.email]
    secrets += [w.resident.first_name, w.resident.middle_name, w.resident.esia_oid]

    bodies = []
    for fmt in FORMATS:
        for path in (
            "/discovery",
            "/services",
            f"/services/{w.potholes.code}",
            "/requests",
            f"/requests/{by_resident.id}",
            f"/requests/{by_phone.id}",
        ):
            response = client.get(f"{BASE}{path}.{fmt}")
            assert response.status_code == 200
            bodies.append(response.get_data(as_text=True))
    assert str(by_phone.id) in bodies[3] and str(by_resident.id) in bodies[3]
    for body in bodies:
        for secret in secrets:
            assert secret not in body, (secret, body[:300])


def test_no_session_cookie_is_set(client, world):
    accepted(world)
    response = client.get(f"{BASE}/requests.json")
    assert "Set-Cookie" not in response.headers


# --- cost --------------------------------------------------------------------------------


def test_a_page_costs_the_same_few_queries_whatever_its_length(client, world):
    from sqlalchemy import event

    def queries(**params) -> int:
        statements = []

        def count(_conn, _cursor, statement, *_args):
            if not statement.lstrip().upper().startswith(("SAVEPOINT", "RELEASE")):
                statements.append(statement)

        event.listen(db.engine, "before_cursor_execute", count)
        try:
            get_requests(client, **params)
        finally:
            event.remove(db.engine, "before_cursor_execute", count)
        return len(statements)

    to_answered(world, submit(world))
    few = queries()
    for _ in range(6):
        to_work(world, submit(world))
    assert queries() == few <= 3
    assert queries(service_code=world.potholes.code) == few + 1  # the codes are looked up


def test_dates_parse_strictly():
    from participation.api.open311.services import Open311Error, parse_datetime

    assert parse_datetime("2010-01-01T00:00:00Z", "x").isoformat() == "2010-01-01T00:00:00+00:00"
    assert parse_datetime("2010-01-01T05:00+05:00", "x").utcoffset() == timedelta(hours=5)
    assert parse_datetime("2010-01-01T00:00:00.5-08:00", "x").microsecond == 500000
    for bad in ("2010-01-01", "2010-01-01T00:00:00", "2010-13-01T00:00:00Z", "T00:00Z", ""):
        with pytest.raises(Open311Error):
            parse_datetime(bad, "x")


def test_xml_is_utf8_with_the_declaration(client, world):
    accepted(world)
    for path in ("/discovery", "/services", "/requests", "/tokens/x"):
        body = client.get(f"{BASE}{path}.xml").get_data()
        assert body.startswith(b'<?xml version="1.0" encoding="UTF-8"?>')
        body.decode("utf-8")  # strictly UTF-8
        assert ET.fromstring(body) is not None
    services = client.get(f"{BASE}/services.xml").get_data()
    assert "Дороги (тест)".encode() in services  # Cyrillic as UTF-8, not as entities


def test_text_xml_cannot_carry_is_dropped_and_markup_escaped(client, world):
    appeal = accepted(world)
    appeal.address = "ул. <Ленина> & Co\x0b, д. 5\x01"
    db.session.flush()
    [item] = records(client.get(f"{BASE}/requests.xml"), "xml", "service_requests")
    assert item["address"] == "ул. <Ленина> & Co, д. 5"
    [item] = get_requests(client, "json")
    assert item["address"] == "ул. <Ленина> & Co\x0b, д. 5\x01"  # JSON escapes them
