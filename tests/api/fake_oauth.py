"""Stands in for participation.api.oauth.services in tests: access token → a resident's grant."""

from __future__ import annotations

from dataclasses import dataclass

from participation.core.users import User
from participation.extensions import db

TOKENS: dict[str, int] = {}


@dataclass(frozen=True)
class Grant:
    user: User


def resolve_access_token(raw: str) -> Grant | None:
    user_id = TOKENS.get(raw)
    user = db.session.get(User, user_id) if user_id is not None else None
    return Grant(user) if user is not None else None
