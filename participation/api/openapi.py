"""The OpenAPI 3.1 document built from the code (flask-smorest) and the API blueprint class.

Every endpoint of /api/v1 lives on an `ApiBlueprint` listed in the factory's API_BLUEPRINTS;
`init_api()` registers them through the one `api` object, which documents them. The blueprint
class brings the house rules with it: unknown fields are refused (marshmallow RAISE) in the
body and the query string, a JSON body must come as application/json (415 otherwise),
malformed JSON is a 400 problem, and each operation documents its problem+json errors, the
Idempotency-Key header of POSTs and its 304 answer when it has an ETag.
"""

from __future__ import annotations

import http
from json import JSONDecodeError
from typing import Any, ClassVar

import flask_smorest
import marshmallow as ma
from flask import current_app, json, request
from flask_babel import gettext as _
from flask_smorest.exceptions import NotModified
from webargs import core as webargs_core
from webargs.flaskparser import FlaskParser

from participation.api import idempotency
from participation.api.problems import PROBLEM_JSON, Problem
from participation.api.protocol import after_api_request, before_api_request

# Locations whose unknown keys are refused; headers and cookies carry much else.
_STRICT = ("json", "form", "json_or_form", "query", "querystring", "files", "view_args", "path")
_BODY_TYPES = {
    "json": ("application/json",),
    "form": ("application/x-www-form-urlencoded", "multipart/form-data"),
    "files": ("multipart/form-data",),
}

IDEMPOTENCY_KEY_PARAMETER = {
    "name": "Idempotency-Key",
    "in": "header",
    "required": True,
    "description": (
        "Уникальная строка запроса (например, UUID), 1–255 видимых символов ASCII. "
        "Повтор с тем же ключом и телом возвращает сохранённый ответ и ничего не создаёт "
        "второй раз; тот же ключ с другим телом — ошибка 422."
    ),
    "schema": {"type": "string", "minLength": 1, "maxLength": 255, "pattern": "^[!-~]+$"},
}


class ProblemSchema(ma.Schema):
    """An error as RFC 9457 problem details."""

    type = ma.fields.String(required=True, metadata={"format": "uri"})
    title = ma.fields.String(required=True)
    status = ma.fields.Integer(required=True)
    detail = ma.fields.String(required=True, metadata={"description": "Пояснение по-русски"})
    instance = ma.fields.String()
    errors = ma.fields.Dict(
        keys=ma.fields.String(),
        values=ma.fields.List(ma.fields.String()),
        metadata={"description": "Ошибки по полям: имя поля → сообщения"},
    )


class ApiParser(FlaskParser):
    """webargs with the API's rules: unknown keys refused, content type checked."""

    DEFAULT_UNKNOWN_BY_LOCATION: ClassVar[dict[str, str | None]] = {
        **FlaskParser.DEFAULT_UNKNOWN_BY_LOCATION,
        **dict.fromkeys(_STRICT, ma.RAISE),
    }

    def _load_location_data(self, *, schema: Any, req: Any, location: str) -> Any:
        allowed = _BODY_TYPES.get(location)
        if location == "json" and webargs_core.is_json(req.mimetype):
            allowed = None  # application/json, or a +json type
        if allowed and req.mimetype not in allowed:
            raise Problem(
                415,
                _content_type_detail(allowed),
                headers={"Accept-Post": ", ".join(allowed)} if req.method == "POST" else None,
            )
        return super()._load_location_data(schema=schema, req=req, location=location)

    def _raw_load_json(self, req: Any) -> Any:
        try:
            return super()._raw_load_json(req)
        except JSONDecodeError:
            raise
        except (ValueError, RecursionError):
            # JSON that parses only in theory: an integer of thousands of digits (Python's
            # int limit), nesting deeper than the interpreter's stack.
            raise Problem(400, kind="malformed-json") from None

    def _handle_invalid_json_error(self, error: Exception, req: Any, *args, **kwargs):
        raise Problem(400, kind="malformed-json")


def _content_type_detail(allowed: tuple[str, ...]) -> str:
    return _("Ожидается Content-Type: %(types)s.", types=" или ".join(allowed))


class ApiBlueprint(flask_smorest.Blueprint):
    """A blueprint of /api/v1, listed in the factory's API_BLUEPRINTS ("module:bp"):

        bp = ApiBlueprint("api_inbox", __name__, url_prefix="/api/v1/inbox",
                          description="Входящие организации")

        @bp.route("/<int:appeal_id>/register", methods=["POST"])
        @require_key(ApiScope.MESSAGES_WRITE)      # auth first: 401/403 before 422
        @bp.arguments(RegisterIn)                  # JSON body; unknown fields → 422
        @bp.response(200, AppealOut)
        def register(data, appeal_id): ...         # raise Problem / DomainError / FieldError

        @bp.route("/")
        @require_key(ApiScope.MESSAGES_READ)
        @bp.etag                                   # ETag, 304 on If-None-Match
        @bp.arguments(InboxQuery, location="query", as_kwargs=True)
        @bp.response(200, InboxPageOut)
        def inbox(**filters): ...

    A query schema must declare every parameter it accepts (unknown ones are refused), the
    cursor or page ones included. Its views are stateless: see protocol.before_api_request.
    """

    ARGUMENTS_PARSER = ApiParser()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._prepare_doc_cbks.append(self._prepare_protocol_doc)
        self.before_request(before_api_request)
        self.after_request(after_api_request)

    def _check_not_modified(self, etag: str) -> None:
        # As flask-smorest, but the 304 carries the ETag it answers to (RFC 9110 § 15.4.5).
        if request.method in self.METHODS_CHECKING_NOT_MODIFIED and etag in request.if_none_match:
            response = current_app.response_class(status=304)
            response.set_etag(etag)
            raise NotModified(response=response)

    def _prepare_protocol_doc(self, doc, doc_info, *, api, spec, method, **kwargs):
        responses = doc.setdefault("responses", {})
        responses.setdefault("default", "DEFAULT_ERROR")
        if "requestBody" in doc:
            responses.setdefault(415, "UNSUPPORTED_MEDIA_TYPE")
        if method == "post" and not doc_info.get(idempotency.EXEMPT):
            doc.setdefault("parameters", []).append("IDEMPOTENCY_KEY")
            for status in (400, 409, 422):
                responses.setdefault(status, http.HTTPStatus(status).name)
        return doc


SPEC_KEY = "openapi_spec"


def spec_of(app: Any) -> Any:
    """The apispec document built for `app` (call `.to_dict()` for the OpenAPI JSON)."""
    return app.extensions[SPEC_KEY]


class Api(flask_smorest.Api):
    """flask-smorest's Api whose error responses are documented as problem+json.

    Its own HTTPException handler is not installed: errors under /api/v1 are rendered by
    participation.api.problems through the core error handlers.
    """

    ERROR_SCHEMA = ProblemSchema

    def init_app(self, app: Any, *, spec_kwargs: dict | None = None) -> None:
        super().init_app(app, spec_kwargs=spec_kwargs)
        # flask-smorest keeps one document per Api object; an app built later (tests build
        # several) would replace it for all. Each app keeps and serves its own.
        app.extensions[SPEC_KEY] = self.spec

    def _openapi_json(self):
        return current_app.response_class(
            json.dumps(spec_of(current_app).to_dict(), indent=2, sort_keys=False),
            mimetype="application/json",
        )

    def _register_error_handlers(self) -> None:
        pass

    def _register_responses(self) -> None:
        for status in http.HTTPStatus:
            response: dict[str, Any] = {"description": status.phrase}
            if status >= 400:
                response["content"] = {PROBLEM_JSON: {"schema": self.ERROR_SCHEMA}}
            self.spec.components.response(status.name, response, lazy=True)
        self.spec.components.response(
            "DEFAULT_ERROR",
            {
                "description": "Ошибка (RFC 9457, application/problem+json)",
                "content": {PROBLEM_JSON: {"schema": self.ERROR_SCHEMA}},
            },
            lazy=True,
        )
        self.spec.components.parameter(
            "IDEMPOTENCY_KEY", "header", dict(IDEMPOTENCY_KEY_PARAMETER), lazy=True
        )


SECURITY_SCHEMES = {
    "ApiKey": {
        "type": "http",
        "scheme": "bearer",
        "description": (
            "Ключ API организации: создаёт администратор организации в кабинете "
            "(«API-ключи»). Передаётся только в заголовке Authorization: Bearer rvk_…"
        ),
    },
    "ResidentToken": {
        "type": "http",
        "scheme": "bearer",
        "description": "Токен доступа жителя (OAuth 2.0 с PKCE, мобильное приложение).",
    },
}

API_DESCRIPTION = """\
API платформы обратной связи. Ошибки — в формате RFC 9457 (application/problem+json) с
пояснением по-русски; ошибки полей — в `errors`. Каждый POST требует заголовок
`Idempotency-Key`. Ключи и токены — только в заголовке `Authorization: Bearer …`.
"""

api = Api(
    spec_kwargs={
        "title": "Решаем вместе — API платформы",
        "version": "1",
        "openapi_version": "3.1.0",
        "info": {"description": API_DESCRIPTION},
    }
)


def api_settings() -> dict[str, Any]:
    """flask-smorest settings: the document at /api/v1/openapi.json, no bundled UI pages."""
    return {
        "OPENAPI_URL_PREFIX": "/api/v1",
        "OPENAPI_JSON_PATH": "openapi.json",
        "API_SPEC_OPTIONS": {"servers": [{"url": "/"}]},
    }


def register_security_schemes() -> None:
    for name, scheme in SECURITY_SCHEMES.items():
        api.spec.components.security_scheme(name, scheme)


def _id_param_schema(converter: Any) -> dict[str, Any]:
    return {"type": "integer", "minimum": converter.min, "maximum": converter.max}


def register_converters() -> None:
    """Path parameters of our converters (core.limits) in the document; once per process."""
    from participation.core.limits import BigIdConverter, IdConverter, TextConverter

    if api._converters:
        return
    api.register_converter(IdConverter, _id_param_schema)
    api.register_converter(BigIdConverter, _id_param_schema)
    api.register_converter(TextConverter, lambda _c: {"type": "string", "minLength": 1})
