"""Login and logout pages."""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, url_for
from flask_login import current_user, login_required, logout_user

from participation.core import audit
from participation.extensions import db

bp = Blueprint("auth", __name__)


@bp.get("/login")
def login():
    return render_template("auth/login.html")


@bp.post("/logout")
@login_required
def logout():
    current_user.session_version += 1  # the cookie's copy stops working everywhere
    audit.record("auth.logout", current_user)
    db.session.commit()
    logout_user()
    return redirect(url_for("core.home"))
