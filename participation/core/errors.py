"""Domain errors and the HTTP error pages (HTML in Russian, JSON under /api/).

A feature that answers errors in its own format under a path prefix (the platform API's
problem+json under /api/v1/) registers a renderer with `register_error_renderer`; every error
handler below hands such requests to it, whatever was raised.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from flask import Flask, current_app, jsonify, render_template, request
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

log = logging.getLogger(__name__)


class DomainError(Exception):
    """A business rule refused the action; `message` is shown to the person as is."""

    status = 400

    def __init__(self, message: str) -> None:
        super().__init__(str(message))
        self.message = message


class FieldError(DomainError):
    """Bad input in one form field; views show the message next to that field."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


class Conflict(DomainError):
    status = 409


ERROR_TEXTS = {
    400: (_l("Неверный запрос"), _l("Запрос не удалось обработать. Проверьте введённые данные.")),
    401: (_l("Требуется вход"), _l("Войдите через Госуслуги, чтобы продолжить.")),
    403: (_l("Доступ запрещён"), _l("У вас нет прав для этого действия.")),
    404: (_l("Страница не найдена"), _l("Такой страницы нет или у вас нет к ней доступа.")),
    405: (_l("Метод не поддерживается"), _l("Это действие здесь недоступно.")),
    413: (
        _l("Слишком большой запрос"),
        _l("Файлы слишком большие. Уменьшите их размер или отправьте меньше файлов."),
    ),
    429: (
        _l("Слишком много запросов"),
        _l("Вы делаете это слишком часто. Подождите немного и попробуйте снова."),
    ),
    500: (
        _l("Ошибка на сервере"),
        _l("Что-то пошло не так. Мы уже знаем об ошибке; попробуйте позже."),
    ),
}


ErrorRenderer = Callable[[BaseException], object]
RENDERERS = "error_renderers"


def register_error_renderer(app: Flask, prefix: str, renderer: ErrorRenderer) -> None:
    """Errors of requests whose path starts with `prefix` are answered by `renderer(exc)`."""
    app.extensions.setdefault(RENDERERS, []).append((prefix, renderer))


def _renderer() -> ErrorRenderer | None:
    for prefix, renderer in current_app.extensions.get(RENDERERS, ()):
        if request.path.startswith(prefix):
            return renderer
    return None


def wants_json() -> bool:
    return request.path.startswith("/api/")


def render_error(code: int, message: str | None = None):
    title, default_text = ERROR_TEXTS.get(code, ERROR_TEXTS[500 if code >= 500 else 400])
    text = str(message or default_text)
    if wants_json():
        return jsonify({"error": {"status": code, "title": str(title), "message": text}}), code
    return render_template("core/error.html", code=code, title=title, text=text), code


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def _csrf(exc: CSRFError):
        if renderer := _renderer():
            return renderer(exc)
        return render_error(
            400,
            _l("Форма устарела или отправлена с другого сайта. Обновите страницу и повторите."),
        )

    @app.errorhandler(DomainError)
    def _domain(exc: DomainError):
        if renderer := _renderer():
            return renderer(exc)
        return render_error(exc.status, exc.message)

    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException):
        if exc.code is None or exc.code < 400:
            return exc
        if renderer := _renderer():
            return renderer(exc)
        if exc.response is not None:  # the answer was built already (an OAuth error, a limit)
            return exc.response
        message = exc.description if exc.code == 429 or wants_json() else None
        if exc.code == 429:
            message = None
        return render_error(exc.code, message)

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception):
        log.exception("unhandled error on %s", request.path)
        if renderer := _renderer():
            return renderer(exc)
        return render_error(500)
