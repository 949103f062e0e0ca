"""Shared pages: home, language switch, attachment downloads, the notification feed."""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Callable
from pathlib import Path

import sqlalchemy as sa
from flask import (
    Blueprint,
    abort,
    current_app,
    redirect,
    render_template,
    request,
    send_file,
    session,
    url_for,
)
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from participation.core.authorized import AUTHORIZED_ROLES
from participation.core.db import utcnow
from participation.core.files import (
    WEB_IMAGE_TYPES,
    Attachment,
    attachment_by_public_id,
    attachment_path,
    can_view_attachment,
    thumbnail_path,
)
from participation.core.jobs import redis_connection
from participation.core.organizations import Organization
from participation.core.outbox import Notification
from participation.core.pagination import paginate
from participation.core.permissions import require
from participation.core.safety import safe_next
from participation.core.users import Role
from participation.extensions import db

bp = Blueprint("core", __name__)
log = logging.getLogger(__name__)
LOGO_MAX_AGE = 30 * 24 * 3600


@bp.get("/")
def home():
    return render_template("core/home.html")


@bp.get("/healthz")
def healthz():
    """Liveness: the process serves requests. Touches no dependency, so a database or Redis
    outage never gets healthy web processes restarted (that is what /readyz is for)."""
    return {"status": "ok"}


@bp.get("/readyz")
def readyz():
    """Readiness: each dependency with its state ("ok" or "fail"); 503 when one fails.
    The reasons go to the log, not to this public answer (they name internal hosts)."""
    probes = {"database": _ping_database, "storage": _probe_storage}
    if current_app.config["REDIS_URL"]:
        probes["redis"] = redis_connection(current_app.config["REDIS_URL"]).ping
    checks = {name: _check(name, probe) for name, probe in probes.items()}
    ready = all(state == "ok" for state in checks.values())
    return {"status": "ok" if ready else "fail", "checks": checks}, 200 if ready else 503


def _check(name: str, probe: Callable[[], object]) -> str:
    try:
        probe()
    except Exception as exc:
        log.warning("readiness check %s failed: %s: %s", name, type(exc).__name__, exc)
        return "fail"
    return "ok"


def _ping_database() -> None:
    try:
        db.session.execute(sa.text("SELECT 1"))
    finally:
        db.session.rollback()


def _probe_storage() -> None:
    """The uploads folder takes a file (exists, writable, disk not full)."""
    folder = Path(current_app.config["STORAGE_DIR"])
    folder.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryFile(dir=folder) as probe:
        probe.write(b"ok")


@bp.post("/lang")
def set_language():
    lang = request.form.get("lang", "")
    if lang in {"ru", "en"}:
        session["lang"] = lang
    return redirect(safe_next(request.form.get("next")) or url_for("core.home"))


def _viewable_attachment(public_id: str):
    attachment = attachment_by_public_id(public_id)
    if attachment is None:
        abort(404)
    require(can_view_attachment(current_user, attachment), reason="attachment")
    return attachment


@bp.get("/files/<public_id>")
def download_file(public_id: str):
    attachment = _viewable_attachment(public_id)
    try:
        path = attachment_path(attachment)
    except FileNotFoundError:
        abort(404)
    return send_file(
        path,
        mimetype=attachment.content_type,
        as_attachment=not attachment.inline,
        download_name=attachment.original_name,
        max_age=0,
    )


@bp.get("/files/<public_id>/thumbnail")
def file_thumbnail(public_id: str):
    attachment = _viewable_attachment(public_id)
    try:
        path = thumbnail_path(attachment)
    except FileNotFoundError:
        path = None
    if path is None:
        abort(404)
    return send_file(path, mimetype="image/jpeg", max_age=0)


@bp.get("/organizations/<int:organization_id>/logo/<int:logo_id>")
def organization_logo(organization_id: int, logo_id: int):
    """An organization's logo, public. The URL names the logo's own id, so a new logo gets a new
    URL and browsers (and the widget on other sites) may keep this one for long."""
    logo = db.session.scalar(
        sa.select(Attachment)
        .join(Organization, Organization.logo_id == Attachment.id)
        .where(Organization.id == organization_id, Attachment.id == logo_id)
    )
    if logo is None or logo.content_type not in WEB_IMAGE_TYPES:
        abort(404)
    try:
        path = attachment_path(logo)
    except FileNotFoundError:
        abort(404)
    return send_file(path, mimetype=logo.content_type, max_age=LOGO_MAX_AGE)


@bp.get("/my/notifications")
@login_required
def notifications():
    query = (
        sa.select(Notification)
        .where(Notification.user_id == current_user.id)
        .order_by(Notification.created_at.desc(), Notification.id.desc())
    )
    page = paginate(query, default_size=20)
    return render_template("core/notifications.html", page=page)


@bp.post("/my/notifications/read")
@login_required
def mark_notifications_read():
    db.session.execute(
        sa.update(Notification)
        .where(Notification.user_id == current_user.id, Notification.read_at.is_(None))
        .values(read_at=utcnow())
    )
    db.session.commit()
    return redirect(url_for("core.notifications"))


# Navigation entries appear once the feature that owns the endpoint is registered.
RESIDENT_NAV = (
    ("appeals.new", _l("Сообщить о проблеме")),
    ("appeals.my_list", _l("Мои сообщения")),
    ("polls.index", _l("Опросы")),
    ("voting.index", _l("Голосования")),
    ("hearings.index", _l("Публичные слушания")),
    ("directline.index", _l("Прямая линия")),
)
# (endpoint, label, role (or any of a set of roles) needed in some organization, or None for
# any staff member)
STAFF_NAV = (
    ("backoffice.index", _l("Бэк-офис"), None),
    ("admin.index", _l("Администрирование"), Role.ADMINISTRATOR),
    ("admin.profile", _l("Профиль организации"), Role.ADMINISTRATOR),
    ("widget_admin.index", _l("Веб-виджет"), Role.ADMINISTRATOR),
    ("api_keys.index", _l("API-ключи"), Role.ADMINISTRATOR),
    ("polls_manage.index", _l("Опросы организации"), AUTHORIZED_ROLES),
    ("appeals_backoffice.inbox", _l("Сообщения жителей"), None),
    ("hearings_manage.manage_index", _l("Слушания и обсуждения"), AUTHORIZED_ROLES),
    ("voting_manage.index", _l("Голосования организации"), AUTHORIZED_ROLES),
    ("directline_manage.manage_index", _l("Прямые линии"), Role.MODERATOR),
)


@bp.app_context_processor
def navigation():
    known = current_app.view_functions
    user = current_user._get_current_object()
    staff = user.is_authenticated and user.is_staff  # a resident's memberships never load
    return {
        "resident_nav": [(e, label) for e, label in RESIDENT_NAV if e in known],
        "staff_nav": [
            (e, label)
            for e, label, role in STAFF_NAV
            if e in known
            and (
                role is None
                or (
                    any(user.has_role(r) for r in role)
                    if isinstance(role, frozenset)
                    else user.has_role(role)
                )
            )
        ]
        if staff
        else [],
    }
