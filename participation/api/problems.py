"""RFC 9457 problem details: every error under /api/v1/ as application/problem+json.

A view or helper stops a request with `raise Problem(status, detail, kind=…, errors=…)`.
Services raise the core errors and the renderer maps them: `FieldError` → 422 with the field
in `errors`, `Conflict` (and `InvalidTransition`) → 409, another `DomainError` → 422 unless it
names its own status; werkzeug's HTTP errors (404, 405, 413, 429 …) keep their status. The
`type` of each problem points at its description on the documentation page.
"""

from __future__ import annotations

from typing import Any

from flask import current_app, json, request
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from participation.api.messages import flatten_errors
from participation.core.errors import Conflict, DomainError, FieldError

PROBLEM_JSON = "application/problem+json"
# Where a request body is read from: its fields are named bare in `errors` ("text"), the
# others with their location ("query.limit"). "multipart" is api.multipart's form-and-files.
BODY_LOCATIONS = frozenset({"json", "form", "files", "multipart"})
# Headers of an HTTP error that mean something to an API client.
_KEPT_HEADERS = ("Allow", "Retry-After", "WWW-Authenticate")


def _kinds() -> dict[str, tuple[int, str, str]]:
    """kind → (status, Russian title, default Russian detail); listed on the docs page."""
    return {
        "bad-request": (400, _("Неверный запрос"), _("Запрос не удалось разобрать.")),
        "malformed-json": (
            400,
            _("Неверный JSON"),
            _("Тело запроса — не корректный JSON. Проверьте кавычки, запятые и скобки."),
        ),
        "idempotency-key-missing": (
            400,
            _("Нет ключа идемпотентности"),
            _("Для POST-запросов нужен заголовок Idempotency-Key (например, UUID)."),
        ),
        "token-in-query": (
            400,
            _("Токен в адресе запроса"),
            _(
                "Токен в строке запроса не принимается: он попадает в журналы и историю. "
                "Передайте его в заголовке Authorization: Bearer …"
            ),
        ),
        "unauthorized": (
            401,
            _("Требуется авторизация"),
            _("Передайте ключ или токен в заголовке Authorization: Bearer …"),
        ),
        "invalid-token": (401, _("Неверный токен"), _("Ключ или токен не найден.")),
        "key-revoked": (401, _("Ключ отозван"), _("Ключ отозван администратором организации.")),
        "key-expired": (401, _("Срок действия ключа истёк"), _("Срок действия ключа истёк.")),
        "insufficient-scope": (
            403,
            _("Недостаточно прав"),
            _("У ключа нет нужной области доступа."),
        ),
        "forbidden": (403, _("Доступ запрещён"), _("Нет прав для этого действия.")),
        "not-eligible": (
            403,
            _("Участие недоступно"),
            _("Вы не можете участвовать: причина — в detail."),
        ),
        "not-found": (404, _("Не найдено"), _("Такого ресурса нет или у вас нет к нему доступа.")),
        "method-not-allowed": (
            405,
            _("Метод не поддерживается"),
            _("Этот метод HTTP здесь не поддерживается."),
        ),
        "conflict": (409, _("Конфликт"), _("Действие невозможно в текущем состоянии.")),
        "closed": (
            409,
            _("Приём закрыт"),
            _("Голосование или опрос сейчас не принимает голоса и ответы."),
        ),
        "idempotency-conflict": (
            409,
            _("Запрос с этим ключом ещё выполняется"),
            _("Запрос с этим Idempotency-Key ещё выполняется; повторите позже."),
        ),
        "payload-too-large": (
            413,
            _("Слишком большой запрос"),
            _("Тело запроса или файлы слишком большие."),
        ),
        "unsupported-media-type": (
            415,
            _("Неподдерживаемый тип содержимого"),
            _("Неверный Content-Type запроса."),
        ),
        "validation": (
            422,
            _("Данные не прошли проверку"),
            _("Исправьте поля, перечисленные в errors."),
        ),
        "idempotency-key-reused": (
            422,
            _("Ключ идемпотентности уже использован"),
            _("Этот Idempotency-Key уже использован для другого запроса."),
        ),
        "rule": (422, _("Действие не разрешено"), _("Правило платформы не позволяет это.")),
        "rate-limited": (
            429,
            _("Слишком много запросов"),
            _("Превышен лимит запросов. Повторите после паузы из заголовка Retry-After."),
        ),
        "not-ready": (
            503,
            _("Данные ещё готовятся"),
            _("Данные ещё считаются. Повторите запрос позже (см. Retry-After)."),
        ),
        "server-error": (
            500,
            _("Ошибка на сервере"),
            _("Что-то пошло не так. Мы уже знаем об ошибке; попробуйте позже."),
        ),
    }


_STATUS_KINDS = {
    400: "bad-request",
    401: "unauthorized",
    403: "forbidden",
    404: "not-found",
    405: "method-not-allowed",
    409: "conflict",
    413: "payload-too-large",
    415: "unsupported-media-type",
    422: "validation",
    429: "rate-limited",
    503: "not-ready",
}


class Problem(HTTPException):
    """Stop an API request with a problem response (raise it from views and API helpers).

    An HTTPException, so that the core handlers treat it as an intended answer (not logged as
    a crash) and it needs no handler of its own.
    """

    def __init__(
        self,
        status: int,
        detail: str | None = None,
        *,
        kind: str | None = None,
        errors: dict[str, list[str]] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(description=detail)
        self.code = self.status = status
        self.kind = kind or _STATUS_KINDS.get(
            status, "server-error" if status >= 500 else "bad-request"
        )
        self.detail = detail
        self.errors = errors
        self.headers = headers or {}


def problem_types() -> list[tuple[str, int, str, str]]:
    """(kind, status, title, detail) of every problem type, for the documentation page."""
    return [(kind, *texts) for kind, texts in _kinds().items()]


def problem_type_uri(kind: str) -> str:
    return f"{current_app.config['PUBLIC_BASE_URL']}/api/v1/docs#problem-{kind}"


def problem_response(problem: Problem):
    """The problem+json response for `problem`."""
    _status, title, default_detail = _kinds().get(problem.kind, _kinds()["server-error"])
    body: dict[str, Any] = {
        "type": problem_type_uri(problem.kind),
        "title": str(title),
        "status": problem.status,
        "detail": str(problem.detail or default_detail),
        "instance": request.path,
    }
    if problem.errors:
        body["errors"] = problem.errors
    response = current_app.response_class(
        json.dumps(body, ensure_ascii=False), status=problem.status, mimetype=PROBLEM_JSON
    )
    response.headers.update(problem.headers)
    return response


def _from_http(exc: HTTPException) -> Problem:
    data = getattr(exc, "data", None) or {}
    headers = {k: v for k, v in exc.get_headers() if k in _KEPT_HEADERS}
    headers.update(data.get("headers") or {})
    if "messages" in data:  # webargs: validation of the body or the query string
        by_location = data["messages"]
        errors: dict[str, list[str]] = {}
        for location, messages in by_location.items():
            for field, texts in flatten_errors(messages).items():
                name = field if location in BODY_LOCATIONS else f"{location}.{field}"
                errors.setdefault(name, []).extend(texts)
        return Problem(exc.code or 422, kind="validation", errors=errors, headers=headers)
    detail = None
    if exc.code == 429:
        detail = _("Превышен лимит запросов (%(limit)s). Повторите позже.", limit=exc.description)
    return Problem(exc.code or 500, detail, headers=headers)


def as_problem(exc: BaseException) -> Problem:
    """Any exception raised while serving an API request, as a Problem."""
    if isinstance(exc, Problem):
        return exc
    if isinstance(exc, FieldError):
        return Problem(422, exc.message, kind="validation", errors={exc.field: [str(exc.message)]})
    if isinstance(exc, Conflict):
        return Problem(409, exc.message, kind="conflict")
    if isinstance(exc, DomainError):
        status = 422 if exc.status == 400 else exc.status
        return Problem(status, exc.message, kind="rule" if status == 422 else None)
    if isinstance(exc, CSRFError):  # API blueprints are CSRF-exempt; this is another prefix
        return Problem(400, _("Нет CSRF-токена формы."))
    if isinstance(exc, HTTPException):
        return _from_http(exc)
    return Problem(500)


def render_problem(exc: BaseException):
    """The error renderer for /api/v1/ (registered in core.errors, which logs crashes)."""
    return problem_response(as_problem(exc))
