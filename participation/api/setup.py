"""Wiring of /api/v1 for the factory: the OpenAPI object, error renderer, hooks, blueprints."""

from __future__ import annotations

from collections.abc import Iterable

from flask import Flask, current_app
from werkzeug.utils import import_string

from participation.api.auth import rate_limit_key
from participation.api.openapi import (
    ApiBlueprint,
    api,
    api_settings,
    register_converters,
    register_security_schemes,
)
from participation.api.problems import render_problem
from participation.api.protocol import API_PREFIX, cors, no_session_cookie
from participation.core.errors import register_error_renderer
from participation.extensions import csrf, limiter

RATE_LIMIT_SCOPE = "api-v1"


def _api_rate_limit() -> str:
    return current_app.config["API_RATE_LIMIT"]


def _prepare_once(blueprint: ApiBlueprint) -> None:
    """Blueprint-level rules (kept on the module-level objects, so only once per process)."""
    if getattr(blueprint, "_api_prepared", False):
        return
    # One bucket per key or token across the whole API, not per endpoint.
    limiter.shared_limit(_api_rate_limit, scope=RATE_LIMIT_SCOPE, key_func=rate_limit_key)(
        blueprint
    )
    # No cookie authorizes anything here (see auth.py), so there is no CSRF to defend against.
    csrf.exempt(blueprint)
    blueprint._api_prepared = True


def init_api(app: Flask, blueprints: Iterable[str]) -> None:
    """Bind the OpenAPI object and register the API blueprints ("module:attribute") in order."""
    for name, value in api_settings().items():
        app.config.setdefault(name, value)
    register_converters()
    api.init_app(app)
    register_security_schemes()
    register_error_renderer(app, API_PREFIX, render_problem)
    app.after_request(cors)
    app.after_request(no_session_cookie)
    # API_EXTRA_BLUEPRINTS: tests add a probe blueprint (tests/api/probe.py); never set otherwise.
    for path in (*blueprints, *app.config.get("API_EXTRA_BLUEPRINTS", ())):
        blueprint = import_string(path)
        if not isinstance(blueprint, ApiBlueprint):
            raise TypeError(f"{path}: an API blueprint must be an ApiBlueprint")
        _prepare_once(blueprint)
        api.register_blueprint(blueprint)
