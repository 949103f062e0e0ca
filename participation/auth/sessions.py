"""Session handling: loading the user from the cookie, login and server-side logout."""

from __future__ import annotations

from participation.core.users import User
from participation.extensions import db


def load_user(user_key: str) -> User | None:
    """Flask-Login loader: the cookie carries "id:version"; an old version is refused."""
    user_id, _, version = user_key.partition(":")
    if not user_id.isdigit() or not version.isdigit():
        return None
    user = db.session.get(User, int(user_id))
    if user is None or user.session_version != int(version) or not user.is_active:
        return None
    return user
