"""Append-only audit log: who did what to which object, and when."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from flask import has_request_context, request
from flask_login import current_user
from sqlalchemy import event
from sqlalchemy.orm import Mapped, Session, mapped_column

from participation.core.db import Base, utcnow
from participation.extensions import db


class AuditEntry(Base):
    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(
        sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True
    )
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    actor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"), index=True)
    action: Mapped[str] = mapped_column(sa.String(80), index=True)
    object_type: Mapped[str | None] = mapped_column(sa.String(60))
    object_id: Mapped[str | None] = mapped_column(sa.String(60))
    ip: Mapped[str | None] = mapped_column(sa.String(45))
    details: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)

    __table_args__ = (sa.Index("ix_audit_log_object", "object_type", "object_id"),)


class AuditLogIsAppendOnly(Exception):
    """Raised when code tries to change or delete an audit entry."""


@event.listens_for(Session, "before_flush")
def _refuse_audit_changes(session: Session, _ctx, _instances) -> None:
    for obj in [*session.dirty, *session.deleted]:
        if isinstance(obj, AuditEntry) and (obj in session.deleted or session.is_modified(obj)):
            raise AuditLogIsAppendOnly("audit entries cannot be changed or deleted")


def record(
    action: str,
    obj: Any = None,
    *,
    actor_id: int | None = None,
    object_type: str | None = None,
    object_id: Any = None,
    **details: Any,
) -> AuditEntry:
    """Add an audit entry to the current transaction (actor and IP from the request)."""
    if actor_id is None and has_request_context() and current_user.is_authenticated:
        actor_id = current_user.id
    if obj is not None:
        object_type = object_type or type(obj).__tablename__
        object_id = object_id if object_id is not None else getattr(obj, "id", None)
    entry = AuditEntry(
        action=action,
        actor_id=actor_id,
        object_type=object_type,
        object_id=None if object_id is None else str(object_id),
        ip=request.remote_addr if has_request_context() else None,
        details=details,
    )
    db.session.add(entry)
    return entry
