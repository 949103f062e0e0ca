"""API keys of organizations and the stored answers of idempotent requests."""

from __future__ import annotations

import enum
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from participation.core.db import Base, utcnow
from participation.core.organizations import Organization
from participation.core.users import User


class ApiScope(enum.StrEnum):
    MESSAGES_READ = "messages:read"
    MESSAGES_WRITE = "messages:write"
    STATISTICS_READ = "statistics:read"


class ApiKey(Base):
    """A secret an organization's system calls the API with, acting as a technical member.

    Only the SHA-256 of the secret is kept; `prefix` (the token's first characters) tells keys
    apart in lists. `user` is the key's technical member (UserKind.TECHNICAL) holding the roles
    its scopes allow in `organization`.
    """

    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(sa.ForeignKey("organizations.id"), index=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), unique=True)
    name: Mapped[str] = mapped_column(sa.String(100))
    prefix: Mapped[str] = mapped_column(sa.String(16), unique=True)
    secret_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    # Space-separated ApiScope values, as in OAuth's `scope`.
    scopes: Mapped[str] = mapped_column(sa.String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    expires_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]
    revoked_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    last_used_at: Mapped[datetime | None]
    # The last "api_key.used" audit entry (written at most once an hour per key).
    last_audited_use_at: Mapped[datetime | None]

    organization: Mapped[Organization] = relationship()
    user: Mapped[User] = relationship(foreign_keys=[user_id])
    created_by: Mapped[User] = relationship(foreign_keys=[created_by_id])

    __table_args__ = (
        sa.CheckConstraint("scopes <> ''", name="has_scopes"),
        sa.CheckConstraint("revoked_at IS NULL OR revoked_by_id IS NOT NULL", name="revoked_by"),
    )

    def __repr__(self) -> str:
        return f"<ApiKey {self.prefix}>"

    @property
    def scope_set(self) -> frozenset[ApiScope]:
        return frozenset(ApiScope(s) for s in self.scopes.split())

    @property
    def last_moment(self) -> datetime:
        """The last second the key works (its "valid until" day, shown with |localdate)."""
        return self.expires_at - timedelta(seconds=1)

    def is_expired(self, now: datetime | None = None) -> bool:
        return self.expires_at <= (now or utcnow())

    @property
    def is_revoked(self) -> bool:
        return self.revoked_at is not None

    def is_usable(self, now: datetime | None = None) -> bool:
        return not self.is_revoked and not self.is_expired(now)


class IdempotentRequest(Base):
    """A POST made with an Idempotency-Key: its fingerprint, then the answer to replay.

    The unique (principal, key) pair makes a concurrent duplicate wait for, then fail on, the
    first one's row: the work is done once. `status` is NULL while the first is running.
    """

    __tablename__ = "api_idempotent_requests"

    id: Mapped[int] = mapped_column(
        sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True
    )
    principal: Mapped[str] = mapped_column(sa.String(80))
    key: Mapped[str] = mapped_column(sa.String(255))
    fingerprint: Mapped[str] = mapped_column(sa.String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    status: Mapped[int | None]
    content_type: Mapped[str | None] = mapped_column(sa.String(100))
    location: Mapped[str | None] = mapped_column(sa.String(500))
    body: Mapped[bytes | None] = mapped_column(sa.LargeBinary)

    __table_args__ = (sa.UniqueConstraint("principal", "key"),)

    def __repr__(self) -> str:
        return f"<IdempotentRequest {self.principal} {self.key}>"
