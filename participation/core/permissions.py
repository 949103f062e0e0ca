"""Permission helpers shared by every feature: require(), staff checks, denial logging."""

from __future__ import annotations

import logging

from flask import abort, request
from flask_login import current_user

log = logging.getLogger("participation.access")


def deny(status: int = 404, reason: str = "") -> None:
    """Refuse and log it. 404 by default, so objects of others are not even confirmed to exist."""
    log.warning(
        "access denied: user=%s path=%s reason=%s",
        getattr(current_user, "id", None),
        request.path,
        reason,
    )
    abort(status)


def require(allowed: bool, *, status: int = 404, reason: str = "") -> None:
    """Stop the request unless `allowed` (the result of a can_… predicate)."""
    if not allowed:
        deny(status, reason)
