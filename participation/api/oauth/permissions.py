"""Who may authorise a resident app, and whose app sessions one may revoke."""

from __future__ import annotations

from typing import TYPE_CHECKING

from participation.core.users import User

if TYPE_CHECKING:
    from participation.api.oauth.models import AppSession


def is_resident(user: User) -> bool:
    """A person who logs in through ESIA and is not blocked. Staff roles do not matter: an
    official is a resident too. Technical (API) users have no ESIA account and never qualify."""
    return bool(user.is_active and user.esia_oid)


def can_authorize_app(user: User) -> bool:
    """May `user` let an app act in their cabinet?"""
    return getattr(user, "is_authenticated", False) and is_resident(user)


def can_revoke_app_session(user: User, app_session: AppSession) -> bool:
    """Only the resident whose app session it is may revoke it."""
    return getattr(user, "is_authenticated", False) and app_session.user_id == user.id
