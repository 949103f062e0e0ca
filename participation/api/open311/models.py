"""The one index Open311 adds to the messages (declared here: only its filters need it)."""

from __future__ import annotations

import sqlalchemy as sa

from participation.appeals.models import Appeal

# GET requests?service_code=…: a topic's messages in the window, newest first, without walking
# every message of the window (migration 0018).
OPEN311_INDEXES = (
    sa.Index("ix_appeals_subcategory_registered", Appeal.subcategory_id, Appeal.registered_at),
)
