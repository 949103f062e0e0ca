"""The resident's download of their own personal data (from the profile page)."""

from __future__ import annotations

from flask import Blueprint, current_app, send_file
from flask_limiter.util import get_remote_address
from flask_login import current_user, login_required

from participation.core.db import utcnow
from participation.extensions import db, limiter
from participation.privacy import tasks  # noqa: F401  (registers the retention sweep)
from participation.privacy.export import build_personal_data_zip

bp = Blueprint("privacy", __name__)


def _export_limit() -> str:
    return current_app.config["PERSONAL_DATA_EXPORT_LIMIT"]


def _per_person() -> str:
    """Counted per person (anonymous requests never get this far: login comes first)."""
    return f"personal-data:{getattr(current_user, 'id', None) or get_remote_address()}"


@bp.post("/my/profile/data.zip")
@login_required
@limiter.limit(_export_limit, key_func=_per_person)
def download_my_data():
    archive, _counts = build_personal_data_zip(current_user._get_current_object())
    db.session.commit()  # the audit entry
    return send_file(
        archive,
        mimetype="application/zip",
        as_attachment=True,
        download_name=f"moi-dannye-{utcnow():%Y-%m-%d}.zip",
        max_age=0,
    )
