"""Readiness of one component (messages, votes, surveys…) of one organization."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from participation.core.db import Base, utcnow


class ComponentReadiness(Base):
    """«Я подтверждаю готовность…» for one component of one organization: who and when.

    A row per confirmed component (one table rather than two columns per component on
    `organizations`): a new component needs a line in backoffice/readiness.py's table, not a
    migration, and the unique constraint makes a second confirmation a no-op. No row = not
    confirmed. `confirmed_by_id` is empty for components carried over by migration 0026 from
    organizations that were already working.
    """

    __tablename__ = "organization_component_readiness"

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(
        sa.ForeignKey("organizations.id", ondelete="CASCADE")
    )
    component: Mapped[str] = mapped_column(sa.String(32))
    confirmed_at: Mapped[datetime] = mapped_column(default=utcnow)
    confirmed_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))

    __table_args__ = (sa.UniqueConstraint("organization_id", "component"),)
