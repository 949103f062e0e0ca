"""What the Open311 tests share: the spec's field lists and a reader for both formats."""

from __future__ import annotations

import json
import re
from xml.etree import ElementTree as ET

BASE = "/open311/v2"
FORMATS = ("json", "xml")
XML_DECLARATION = b'<?xml version="1.0" encoding="UTF-8"?>\n'

# GeoReport v2, field by field and in the spec's order (wiki.open311.org/GeoReport_v2).
SERVICE_FIELDS = [
    "service_code",
    "service_name",
    "description",
    "metadata",
    "type",
    "keywords",
    "group",
]
REQUEST_FIELDS = [
    "service_request_id",
    "status",
    "status_notes",
    "service_name",
    "service_code",
    "description",
    "agency_responsible",
    "service_notice",
    "requested_datetime",
    "updated_datetime",
    "expected_datetime",
    "address",
    "address_id",
    "zipcode",
    "lat",
    "long",
    "media_url",
]
DISCOVERY_FIELDS = ["changeset", "contact", "key_service", "endpoints"]
ENDPOINT_FIELDS = ["specification", "url", "changeset", "type", "formats"]
DEFINITION_FIELDS = ["service_code", "attributes"]
ERROR_FIELDS = ["code", "description"]
POST_FIELDS = ["service_request_id", "service_notice", "account_id"]

W3C = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(Z|[+-]\d{2}:\d{2})$")
CONTENT_TYPES = {"json": "application/json; charset=utf-8", "xml": "text/xml; charset=utf-8"}
LIST_ROOTS = {"services": "service", "service_requests": "request", "errors": "error"}


def _text(value):
    """A JSON value as the XML would carry it (so both formats compare equal)."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def parse_xml(body: bytes, root: str) -> ET.Element:
    """The document's root after checking the declaration, the encoding and the root's name."""
    assert body.startswith(XML_DECLARATION), body[:80]
    element = ET.fromstring(body)  # honours the declared encoding
    assert element.tag == root, element.tag
    return element


def records(response, fmt: str, root: str) -> list[dict]:
    """A list document (services, service_requests, errors) as dicts of text, either format;
    the field order is kept, and checked to be the same in XML and JSON by the callers."""
    assert response.content_type == CONTENT_TYPES[fmt], response.content_type
    body = response.get_data()
    if fmt == "json":
        data = json.loads(body.decode("utf-8"))
        assert isinstance(data, list), data
        return [{k: _text(v) for k, v in item.items()} for item in data]
    element = parse_xml(body, root)
    items = list(element)
    assert all(item.tag == LIST_ROOTS[root] for item in items), [i.tag for i in items]
    out = []
    for item in items:
        assert all(len(field) == 0 for field in item), "flat fields only"
        out.append({field.tag: field.text for field in item})
    return out


def json_document(response):
    assert response.content_type == CONTENT_TYPES["json"], response.content_type
    return json.loads(response.get_data().decode("utf-8"))
