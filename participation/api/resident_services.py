"""What the resident API writes besides the features' own services: feed reads, form keys."""

from __future__ import annotations

import hashlib

import sqlalchemy as sa

from participation.core.db import utcnow
from participation.core.outbox import Notification
from participation.core.users import User
from participation.extensions import db


def submission_key(principal: str, idempotency_key: str) -> str:
    """The message form's one-time key for an API submission, from its Idempotency-Key.

    The same request retried (even after its stored answer expired) finds the message made
    the first time through the (submitted_by, submission_key) unique constraint.
    """
    return hashlib.sha256(f"api:{principal}:{idempotency_key}".encode()).hexdigest()


def mark_notifications_read(user: User, up_to_id: int | None = None) -> int:
    """Mark the resident's unread notifications read (those up to `up_to_id`); how many."""
    query = sa.update(Notification).where(
        Notification.user_id == user.id, Notification.read_at.is_(None)
    )
    if up_to_id is not None:
        query = query.where(Notification.id <= up_to_id)
    result = db.session.execute(
        query.values(read_at=utcnow()).execution_options(synchronize_session=False)
    )
    return result.rowcount or 0
