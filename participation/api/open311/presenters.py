"""Open311 documents in the spec's shape: field lists, XML (UTF-8, declared) and JSON alike.

Both formats are built from one structure: a root tag with a list of items (services,
service_requests, errors) or a mapping (discovery, service_definition). In XML a list is an
element holding one child per item, named by LIST_ITEMS; in JSON it is an array, as the spec's
"Spark convention" maps them. Ids and codes are strings; a missing value is an empty element
(XML) or null (JSON); dates are W3C date-times in the answering organization's zone.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any
from xml.sax.saxutils import escape
from zoneinfo import ZoneInfo

from flask import Response
from flask_babel import gettext as _

from participation.api.open311.services import (
    SPECIFICATION,
    ApiError,
    Filed,
    PublishedRequest,
    Service,
)
from participation.appeals.workflow import RESIDENT_STATE_LABELS, AppealState
from participation.core.i18n import local_date

FORMATS = ("json", "xml")
CONTENT_TYPES = {
    "json": "application/json; charset=utf-8",
    "xml": "text/xml; charset=utf-8",
}
MIME_TYPES = ("text/xml", "application/json")  # as the discovery document lists them
XML_DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>\n'
# The element each list's items are written as in XML.
LIST_ITEMS = {
    "services": "service",
    "service_requests": "request",
    "errors": "error",
    "endpoints": "endpoint",
    "formats": "format",
    "attributes": "attribute",
    "values": "value",
}


def w3c(moment: datetime | None, tz: str) -> str | None:
    """2010-04-14T06:37:38+05:00: the moment in `tz`, to the second, with its offset."""
    if moment is None:
        return None
    text = moment.astimezone(ZoneInfo(tz)).isoformat(timespec="seconds")
    return text.replace("+00:00", "Z") if tz in ("UTC", "Etc/UTC") else text


# --- the documents -------------------------------------------------------------------------


def service_item(service: Service) -> dict[str, Any]:
    description = _(
        "Категория «%(group)s», тема «%(name)s».", group=service.group, name=service.name
    )
    if service.fast_track:
        description += " " + _(
            "Фаст-трек: на такие сообщения отвечают в сокращённый срок "
            "(регион может изменить это для своей территории)."
        )
    return {
        "service_code": service.code,
        "service_name": service.name,
        "description": description,
        "metadata": False,  # no service has extra fields: a definition is never needed
        "type": "realtime",  # a POST returns the message's number at once
        "keywords": ", ".join(service.keywords),
        "group": service.group,
    }


def service_definition(service: Service) -> dict[str, Any]:
    return {"service_code": service.code, "attributes": []}


def status_notes(request: PublishedRequest) -> str:
    """The state in plain words, as the resident reads it (without anything personal)."""
    if request.state == AppealState.POSTPONED and request.postponed_until is not None:
        notes = _(
            "Решение отложено до %(date)s",
            date=local_date(request.postponed_until, request.timezone),
        )
    elif request.state == AppealState.ESCALATED and request.review_id is not None:
        notes = _(
            "Заявитель низко оценил ответ; сообщение передано на рассмотрение вышестоящей "
            "организации под номером %(number)s",
            number=request.review_id,
        )
    elif request.state == AppealState.ANSWERED:
        notes = _("Дан ответ")
    else:
        notes = str(RESIDENT_STATE_LABELS[request.state])
    if request.review_of_id is not None:
        notes += ". " + _(
            "Повторное рассмотрение сообщения № %(number)s после низкой оценки ответа",
            number=request.review_of_id,
        )
    return notes


def _degrees(value: Decimal | None) -> float | None:
    """WGS84 degrees as a number (the column keeps 6 decimals: about 10 cm)."""
    return None if value is None else float(value)


def request_item(request: PublishedRequest) -> dict[str, Any]:
    """One service request with every field of the spec's list, in its order."""
    tz = request.timezone
    return {
        "service_request_id": str(request.id),
        "status": request.status,
        "status_notes": status_notes(request),
        "service_name": request.service_name,
        "service_code": request.service_code,
        "description": None,  # the text is not published (see services' module doc)
        "agency_responsible": request.agency,
        "service_notice": None,
        "requested_datetime": w3c(request.requested_at, tz),
        "updated_datetime": w3c(request.updated_at, tz),
        "expected_datetime": w3c(request.expected_at, tz),
        "address": request.address,
        "address_id": request.oktmo,
        "zipcode": None,
        "lat": _degrees(request.latitude),
        "long": _degrees(request.longitude),
        "media_url": None,
    }


def filed_item(filed: Filed) -> dict[str, Any]:
    """The answer to a POST: the message's number at once (every service is `realtime`)."""
    appeal = filed.appeal
    return {
        "service_request_id": str(appeal.id),
        "service_notice": _(
            "Сообщение № %(number)s зарегистрировано и проверяется модератором. Ответ "
            "заявителю — до %(date)s; сообщите ему номер.",
            number=appeal.id,
            date=local_date(appeal.answer_due_at, filed.timezone),
        ),
        "account_id": None,
    }


def discovery(*, url: str, changeset: datetime, contact: str, key_service: str, production: bool):
    stamp = w3c(changeset, "UTC")
    return {
        "changeset": stamp,
        "contact": contact,
        "key_service": key_service,
        "endpoints": [
            {
                "specification": SPECIFICATION,
                "url": url,
                "changeset": stamp,
                "type": "production" if production else "test",
                "formats": list(MIME_TYPES),
            }
        ],
    }


def error_items(errors: Sequence[ApiError]) -> list[dict[str, Any]]:
    return [{"code": e.code, "description": e.description} for e in errors]


# --- serialization -------------------------------------------------------------------------


# Characters XML 1.0 cannot carry at all (control characters other than tab and line breaks,
# lone surrogates, U+FFFE/U+FFFF); typed text can hold them, a client's parser would fail.
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _xml_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return escape(_NOT_XML.sub("", str(value)))


def _xml_write(out: list[str], tag: str, value: Any) -> None:
    if value is None or value == [] or value == {}:
        out.append(f"<{tag}/>")
        return
    out.append(f"<{tag}>")
    if isinstance(value, Mapping):
        for key, child in value.items():
            _xml_write(out, key, child)
    elif isinstance(value, list):
        for item in value:
            _xml_write(out, LIST_ITEMS[tag], item)
    else:
        out.append(_xml_text(value))
    out.append(f"</{tag}>")


def to_xml(root: str, payload: Mapping[str, Any] | list[Any]) -> bytes:
    """The document as UTF-8 XML with the declaration the spec requires."""
    out = [XML_DECLARATION]
    _xml_write(out, root, payload)
    return "".join(out).encode("utf-8")


def to_json(payload: Mapping[str, Any] | list[Any]) -> bytes:
    return json.dumps(payload, ensure_ascii=False).encode("utf-8")


def document(
    fmt: str, root: str, payload: Mapping[str, Any] | list[Any], status: int = 200
) -> Response:
    """The response in the format asked for (`xml` unless `json`)."""
    fmt = fmt if fmt in FORMATS else "xml"
    body = to_json(payload) if fmt == "json" else to_xml(root, payload)
    return Response(body, status=status, content_type=CONTENT_TYPES[fmt])


def errors_document(fmt: str, status: int, errors: Sequence[ApiError]) -> Response:
    return document(fmt, "errors", error_items(errors), status)
