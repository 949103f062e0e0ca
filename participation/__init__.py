"""Participation platform: the application factory (wiring only)."""

from __future__ import annotations

import logging
import sys
from typing import Any

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from participation.config import ConfigError, load_config


def create_app(overrides: dict[str, Any] | None = None, env: dict[str, str] | None = None) -> Flask:
    """Build the app: settings from the environment (validated), extensions, blueprints, CLI."""
    app = Flask(
        __name__,
        instance_relative_config=True,
        template_folder="../templates",
        static_folder="static",
    )
    try:
        app.config.update(load_config(env, app.instance_path))
    except ConfigError as exc:
        print(f"Ошибка настройки: {exc}", file=sys.stderr)
        raise SystemExit(2) from None
    app.config.update(overrides or {})
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    # Alembic announces each of its plugins at INFO before every command; nobody needs that.
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)
    if app.config.get("PROXY_FIX"):
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1, x_proto=1, x_host=1)  # type: ignore[method-assign]

    from participation.core.limits import register_input_limits

    _init_extensions(app)
    register_input_limits(app)  # before the blueprints: their rules use the bounded converters
    _register_blueprints(app)
    _register_cli(app)

    from participation.core.errors import register_error_handlers
    from participation.core.i18n import register_template_helpers
    from participation.core.security import register_security_headers

    register_error_handlers(app)
    register_security_headers(app)
    register_template_helpers(app)
    return app


def _init_extensions(app: Flask) -> None:
    import participation.core.models  # noqa: F401  (complete metadata for Alembic)
    from participation.core.db import configure_sqlite
    from participation.core.i18n import select_locale, speed_up_babel
    from participation.extensions import babel, csrf, db, limiter, login_manager, migrate

    db.init_app(app)
    with app.app_context():
        if db.engine.dialect.name == "sqlite":
            configure_sqlite(db.engine)
    migrate.init_app(
        app,
        db,
        directory=str(app.root_path + "/../migrations"),
        render_as_batch=True,
        compare_type=True,
    )
    csrf.init_app(app)
    babel.init_app(
        app,
        locale_selector=select_locale,
        default_translation_directories=str(app.root_path + "/translations"),
    )
    speed_up_babel()
    limiter.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = None
    login_manager.session_protection = "basic"

    from participation.auth.sessions import init_sessions, load_user

    login_manager.user_loader(load_user)
    init_sessions(app)

    from participation.core import cache
    from participation.core.db import AppSession

    cache.watch_changes(AppSession)

    from participation.reports.rollup import watch_appeal_changes

    watch_appeal_changes()

    from participation.api.webhooks.subscribers import watch_appeal_events

    watch_appeal_events()


# Every blueprint and CLI group, listed explicitly ("module:attribute"), in registration order.
BLUEPRINTS = (
    "participation.core.views:bp",
    "participation.auth.views:bp",
    "participation.privacy.views:bp",
    "participation.backoffice.views:bp",
    "participation.admin.views:bp",
    "participation.admin.invite_views:bp",
    "participation.appeals.classifier_views:bp",
    "participation.appeals.classifier_views:api_bp",
    "participation.appeals.views:bp",
    "participation.appeals.manage_views:bp",
    "participation.voting.views:bp",
    "participation.voting.manage_views:bp",
    "participation.polls.views:bp",
    "participation.polls.manage_views:bp",
    "participation.polls.report_views:bp",
    "participation.hearings.views:bp",
    "participation.hearings.manage_views:manage",
    "participation.directline.views:bp",
    "participation.directline.manage_views:manage",
    "participation.widgets.views:bp",
    "participation.widgets.views:login_bp",
    "participation.widgets.manage_views:admin_bp",
    "participation.reports.manage_views:bp",
    "participation.reports.rating_views:bp",
    "participation.reports.export_views:bp",
    "participation.reports.views:bp",
    "participation.geo.views:bp",
    "participation.geo.manage_views:bp",
    "participation.api.oauth.views:bp",
    "participation.api.webhooks.manage_views:bp",
    "participation.api.views:docs_bp",
    "participation.api.manage_views:bp",
    "participation.api.open311.views:bp",
    "participation.reminders.views:bp",
)
# Blueprints of /api/v1 (participation.api.openapi.ApiBlueprint), documented in
# /api/v1/openapi.json: stateless (Bearer tokens only, no cookies, no CSRF), rate-limited per
# key or token, problem+json errors, Idempotency-Key on POST.
API_BLUEPRINTS = (
    "participation.api.views:bp",
    "participation.api.opendata_views:bp",
    "participation.api.opendata_map_views:bp",
    "participation.api.resident_views:bp",
    "participation.api.resident_vote_views:bp",
    "participation.api.organization_views:bp",
    "participation.geo.api_views:bp",
)
CLI_GROUPS = (
    "participation.core.cli:jobs_cli",
    "participation.core.cli:files_cli",
    "participation.demo.cli:demo_cli",
    "participation.auth.cli:esia_cli",
    "participation.appeals.cli:appeals_cli",
    "participation.reports.cli:reports_cli",
    "participation.api.cli:api_cli",
    "participation.api.webhooks.cli:webhooks_cli",
    "participation.geo.cli:geo_cli",
    "participation.reminders.cli:reminders_cli",
    "participation.privacy.cli:privacy_cli",
)


def _register_blueprints(app: Flask) -> None:
    from werkzeug.utils import import_string

    from participation.api.setup import init_api
    from participation.core.labels import register_label_filters

    for path in BLUEPRINTS:
        app.register_blueprint(import_string(path))
    init_api(app, API_BLUEPRINTS)
    if app.config["ESIA_EMULATOR"]:  # development and tests only
        from participation.auth.emulator.views import bp as esia_emulator_bp

        app.register_blueprint(esia_emulator_bp, url_prefix="/esia")
    register_label_filters(app)


def _register_cli(app: Flask) -> None:
    from werkzeug.utils import import_string

    for path in CLI_GROUPS:
        app.cli.add_command(import_string(path))
