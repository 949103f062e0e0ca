"""Session handling: loading the user from the cookie, login, logout, idle and absolute time-outs.

The signed session cookie carries two stamps (Unix seconds): when the person logged in and when
they were last seen. A `before_request` hook ends the session after SESSION_IDLE_MINUTES without
requests, or SESSION_ABSOLUTE_HOURS after login whatever the activity. Logging in goes through
`start_session(user)`, logging out through `end_session(user)`.
"""

from __future__ import annotations

import time

from flask import Flask, current_app, flash, redirect, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user
from sqlalchemy.orm import undefer

from participation.core import audit
from participation.core.users import User
from participation.extensions import db

LOGIN_AT = "login_at"
SEEN_AT = "seen_at"
# Kept across login and logout: a choice about the page, not about the person.
_SURVIVES_LOGIN = ("lang",)
# Renew the last-seen stamp at most this often, so that not every response resets the cookie.
_RENEW_AFTER_SECONDS = 60


_WITH_STAFF_FLAG = undefer(User.has_memberships)


def load_user(user_key: str) -> User | None:
    """Flask-Login loader: the cookie carries "id:version"; an old version is refused."""
    user_id, _sep, version = user_key.partition(":")
    if not user_id.isdigit() or not version.isdigit():
        return None
    # One row: whether the person holds any role comes with it (the layout asks on every
    # page); the memberships themselves load only where a staff page reads them.
    user = db.session.get(User, int(user_id), options=[_WITH_STAFF_FLAG])
    if user is None or user.session_version != int(version) or not user.is_active:
        return None
    if user.is_technical:  # an API key's member acts only through its bearer token
        return None
    return user


def _now() -> int:
    return int(time.time())


def _clear_session() -> None:
    kept = {key: session[key] for key in _SURVIVES_LOGIN if key in session}
    session.clear()
    session.update(kept)


def start_session(user: User) -> None:
    """Log `user` in on a fresh session (nothing carried over) and stamp login and last-seen."""
    _clear_session()
    login_user(user)
    now = _now()
    session[LOGIN_AT] = now
    session[SEEN_AT] = now


def end_session(user: User, reason: str = "logout") -> None:
    """Log out everywhere: bump the session version, audit, drop the session. Caller commits."""
    user.session_version += 1  # every copy of the cookie stops working
    audit.record("auth.logout", user, actor_id=user.id, reason=reason)
    db.session.flush()
    logout_user()
    _clear_session()


def session_expiry(now: int | None = None) -> str | None:
    """ "idle" or "absolute" when the current session has run out, else None."""
    now = _now() if now is None else now
    login_at, seen_at = session.get(LOGIN_AT), session.get(SEEN_AT)
    if not isinstance(login_at, int) or not isinstance(seen_at, int):
        return None
    if now - login_at > current_app.config["SESSION_ABSOLUTE_HOURS"] * 3600:
        return "absolute"
    if now - seen_at > current_app.config["SESSION_IDLE_MINUTES"] * 60:
        return "idle"
    return None


def _enforce_session_limits():
    if request.endpoint == "static" or not current_user.is_authenticated:
        return None
    now = _now()
    if not isinstance(session.get(LOGIN_AT), int) or not isinstance(session.get(SEEN_AT), int):
        # A session from before the time-outs existed, or from a login that bypassed
        # start_session(): start counting now rather than trusting it forever.
        session[LOGIN_AT] = session[SEEN_AT] = now
        return None
    expired = session_expiry(now)
    if expired is None:
        if now - session[SEEN_AT] >= _RENEW_AFTER_SECONDS:
            session[SEEN_AT] = now
        return None

    # Only this browser's session ends: the person's other devices keep theirs, so the
    # session version is not bumped (a copied cookie carries the same stamps and expires too).
    user = current_user._get_current_object()
    audit.record("auth.session_expired", user, actor_id=user.id, reason=expired)
    db.session.commit()
    logout_user()
    _clear_session()
    if request.path.startswith("/api/"):
        return None  # the API request goes on as anonymous and gets its own 401/403
    if expired == "absolute":
        flash(_("Сеанс завершён: с момента входа прошло слишком много времени. Войдите снова."))
    else:
        flash(_("Сеанс завершён из-за бездействия. Войдите снова."))
    if request.method == "GET":
        return redirect(request.full_path.rstrip("?"))
    return redirect(url_for("core.home"))


def init_sessions(app: Flask) -> None:
    """Register the session time-out check that runs before every request."""
    app.before_request(_enforce_session_limits)
