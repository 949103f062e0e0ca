"""Stands in for participation.api.oauth.services in tests: access token → resident."""

from __future__ import annotations

from participation.core.users import User
from participation.extensions import db

TOKENS: dict[str, int] = {}


def resident_for_access_token(raw: str) -> User | None:
    user_id = TOKENS.get(raw)
    return db.session.get(User, user_id) if user_id is not None else None
