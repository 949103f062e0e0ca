"""Login through ESIA, logout, and the resident's profile page."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

import participation.auth.models  # noqa: F401  (emulator tables belong to the metadata)
from participation.api.oauth.services import live_app_sessions
from participation.auth.esia import EsiaError, esia_error
from participation.auth.services import (
    fetch_esia_person,
    login_from_esia,
    record_failed_login,
    start_login,
    take_pending_login,
)
from participation.auth.sessions import end_session, start_session
from participation.extensions import db, limiter

bp = Blueprint("auth", __name__)


@bp.get("/login")
@limiter.limit("20/minute")
def login():
    url = start_login(request.args.get("next"))
    db.session.commit()  # the development emulator may have registered our system
    return redirect(url)


@bp.get("/login/callback")
@limiter.limit("20/minute")
def callback():
    next_url = None
    try:
        pending = take_pending_login(request.args.get("state"))
        next_url = pending.next_url
        error = request.args.get("error")
        if error:
            raise esia_error(
                "access_denied" if error == "access_denied" else "provider_error", error
            )
        # No transaction may stay open while we wait for ESIA: with SQLite, the development
        # emulator served by this same app would wait for our lock.
        db.session.rollback()
        person = fetch_esia_person(request.args.get("code"))
        user = login_from_esia(person)
        db.session.commit()
    except EsiaError as failure:
        db.session.rollback()
        record_failed_login(failure)
        db.session.commit()
        return render_template("auth/login.html", failure=failure, next_url=next_url), 400
    start_session(user)
    if pending.purpose == "refresh":
        flash(_("Данные обновлены из Госуслуг."), "success")
    else:
        flash(_("Вы вошли как %(name)s.", name=user.full_name), "success")
    return redirect(next_url or url_for("core.home"))


@bp.post("/logout")
@login_required
def logout():
    end_session(current_user._get_current_object())
    db.session.commit()
    return redirect(url_for("core.home"))


@bp.get("/my/profile")
@login_required
def profile():
    return render_template(
        "auth/profile.html", user=current_user, app_sessions=live_app_sessions(current_user)
    )


@bp.post("/my/profile/refresh")
@login_required
@limiter.limit("20/minute")
def refresh_profile():
    url = start_login(url_for("auth.profile"), purpose="refresh")
    db.session.commit()
    return redirect(url)
