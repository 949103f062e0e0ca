"""Open311 GeoReport v2 endpoints under /open311/v2/, each in `.json` and `.xml`.

Every answer, errors included, is a document of the spec: errors are a list of {code,
description} (Russian) with the HTTP status the spec names (400 bad input, 403 a wrong or
missing api_key, 404 an unknown resource, 405 a wrong method). The POST is authenticated by its
api_key (a form field, as the spec has it; never the query string), so it needs no CSRF token.
"""

from __future__ import annotations

import logging

from flask import Blueprint, Response, current_app, request
from flask_babel import gettext as _
from werkzeug.exceptions import HTTPException

from participation.api.open311 import presenters, services
from participation.api.open311.services import ApiError, Open311Error
from participation.api.services import record_api_key_use
from participation.core.errors import ERROR_TEXTS
from participation.core.limits import parse_id
from participation.core.tokens import token_hash
from participation.extensions import csrf, db, limiter

log = logging.getLogger(__name__)

bp = Blueprint("open311", __name__, url_prefix="/open311/v2")
csrf.exempt(bp)  # the POST carries an api_key; there is no form and no cookie to protect

FMT = "<any(json, xml):fmt>"
# Every route takes every method and answers a wrong one with the spec's error body (405).
METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"]
READ_LIMIT = "600 per minute"
FILE_LIMIT = "60 per minute"  # messages filed per api_key
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


def _format() -> str:
    fmt = (request.view_args or {}).get("fmt")
    if fmt in presenters.FORMATS:
        return fmt
    return "json" if request.path.endswith(".json") else "xml"


def _allow(*methods: str) -> None:
    if request.method not in methods and not (request.method == "HEAD" and "GET" in methods):
        raise Open311Error(
            405,
            _(
                "Метод %(method)s здесь не поддерживается; допустимо: %(allowed)s.",
                method=request.method,
                allowed=", ".join(methods),
            ),
            headers={"Allow": ", ".join(methods)},
        )


@bp.errorhandler(Open311Error)
def _refused(exc: Open311Error) -> Response:
    db.session.rollback()  # nothing of a refused POST is kept
    response = presenters.errors_document(_format(), exc.status, exc.errors)
    response.headers.update(exc.headers)
    return response


@bp.errorhandler(HTTPException)
def _http_error(exc: HTTPException) -> Response:
    code = exc.code or 500
    _title, text = ERROR_TEXTS.get(code, ERROR_TEXTS[500 if code >= 500 else 400])
    response = presenters.errors_document(_format(), code, [ApiError(code, str(text))])
    if code == 429 and exc.response is not None:  # Flask-Limiter's Retry-After and limits
        for name, value in exc.response.headers.items():
            if name.lower().startswith(("retry-after", "x-ratelimit")):
                response.headers[name] = value
    return response


@bp.errorhandler(Exception)
def _unexpected(exc: Exception) -> Response:
    log.exception("Open311: unhandled error on %s", request.path)
    db.session.rollback()
    _title, text = ERROR_TEXTS[500]
    return presenters.errors_document(_format(), 500, [ApiError(500, str(text))])


# --- discovery and services --------------------------------------------------------------


def _discovery_document() -> dict:
    config = current_app.config
    return presenters.discovery(
        url=config["PUBLIC_BASE_URL"] + bp.url_prefix,
        changeset=services.catalogue_changed_at(),
        contact=config["OPEN311_CONTACT"],
        key_service=config["OPEN311_KEY_SERVICE"],
        production=config["ENV_NAME"] == "production",
    )


@bp.route(f"/discovery.{FMT}", methods=METHODS)
@limiter.limit(READ_LIMIT)
def discovery(fmt: str) -> Response:
    _allow("GET")
    return presenters.document(fmt, "discovery", _discovery_document())


@bp.route(f"/services.{FMT}", methods=METHODS)
@limiter.limit(READ_LIMIT)
def service_list(fmt: str) -> Response:
    _allow("GET")
    items = [presenters.service_item(s) for s in services.list_services()]
    return presenters.document(fmt, "services", items)


@bp.route(f"/services/<code>.{FMT}", methods=METHODS)
@limiter.limit(READ_LIMIT)
def service_definition(code: str, fmt: str) -> Response:
    _allow("GET")
    service = services.find_service(code)
    if service is None:
        raise Open311Error(
            404,
            _(
                "service_code: услуги «%(code)s» нет или она больше не принимается.",
                code=code[:60],
            ),
        )
    return presenters.document(fmt, "service_definition", presenters.service_definition(service))


# --- service requests --------------------------------------------------------------------


def _partner_rate_key() -> str:
    """One bucket per api_key (by its hash), else per address."""
    raw = request.form.get("api_key") or ""
    return f"o311-key:{token_hash(raw)[:32]}" if raw else f"ip:{request.remote_addr}"


@bp.route(f"/requests.{FMT}", methods=METHODS)
@limiter.limit(READ_LIMIT, methods=["GET", "HEAD"])
@limiter.limit(FILE_LIMIT, methods=["POST"], key_func=_partner_rate_key)
def requests(fmt: str) -> Response:
    _allow("GET", "POST")
    if request.method == "POST":
        return _file_request(fmt)
    query = services.read_request_query(request.args)
    items = [presenters.request_item(r) for r in services.find_requests(query)]
    return presenters.document(fmt, "service_requests", items)


def _file_request(fmt: str) -> Response:
    """POST requests: authenticated by its api_key (form field, as the spec has it)."""
    if request.mimetype not in FORM_TYPES:
        raise Open311Error(
            400,
            _(
                "Ожидается тело application/x-www-form-urlencoded (как в спецификации), "
                "получено «%(type)s».",
                type=request.mimetype[:60] or "—",
            ),
        )
    key = services.partner_key(request.form.get("api_key"), in_query="api_key" in request.args)
    if record_api_key_use(key):
        db.session.commit()
    filed = services.file_request(key, request.form, request.headers.get("Idempotency-Key"))
    db.session.commit()
    return presenters.document(fmt, "service_requests", [presenters.filed_item(filed)])


@bp.route(f"/requests/<request_id>.{FMT}", methods=METHODS)
@limiter.limit(READ_LIMIT)
def service_request(request_id: str, fmt: str) -> Response:
    _allow("GET")
    number = parse_id(request_id)  # any text here: a number too large for an id is not one
    found = services.find_request(number) if number is not None else None
    if found is None:
        raise Open311Error(
            404, _("service_request_id: сообщения № %(number)s нет.", number=request_id[:40])
        )
    return presenters.document(fmt, "service_requests", [presenters.request_item(found)])


@bp.route(f"/tokens/<token>.{FMT}", methods=METHODS)
@limiter.limit(READ_LIMIT)
def token(token: str, fmt: str) -> Response:
    _allow("GET")
    # Every service is `realtime`: a POST answers with the message's number, never a token.
    raise Open311Error(
        404,
        _(
            "Токена «%(token)s» нет: сервер сразу возвращает номер сообщения "
            "(service_request_id) и токенов не выдаёт.",
            token=token[:60],
        ),
    )


# --- the base URL and anything else under it ---------------------------------------------


@bp.route("/", methods=METHODS)
def index() -> Response:
    """The endpoint's base URL answers with the discovery document (XML, the required format)."""
    _allow("GET")
    return presenters.document("xml", "discovery", _discovery_document())


@bp.route("/<path:rest>", methods=METHODS)
def unknown(rest: str) -> Response:
    raise Open311Error(
        404,
        _(
            "Ресурса %(path)s нет. Ресурсы: discovery, services, services/{service_code}, "
            "requests, requests/{service_request_id}, tokens/{token} — с окончанием "
            ".json или .xml.",
            path="/" + rest[:80],
        ),
    )
