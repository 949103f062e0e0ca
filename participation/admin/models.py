"""Staff invitations: an administrator invites a person by e-mail, with roles, through a link."""

from __future__ import annotations

import enum
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from participation.core.db import Base, TimestampMixin, str_enum
from participation.core.organizations import Organization
from participation.core.users import Role, User


class InvitationStatus(enum.StrEnum):
    PENDING = "pending"  # sent, the link works until it expires
    AWAITING_CONFIRMATION = "awaiting"  # accepted under another ESIA name: the admin decides
    ACCEPTED = "accepted"  # roles granted
    REVOKED = "revoked"  # withdrawn by an administrator (also: a name mismatch declined)


OPEN_STATUSES = (InvitationStatus.PENDING, InvitationStatus.AWAITING_CONFIRMATION)


class StaffInvitation(TimestampMixin, Base):
    __tablename__ = "staff_invitations"

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(
        sa.ForeignKey("organizations.id", ondelete="CASCADE"), index=True
    )
    email: Mapped[str] = mapped_column(sa.String(254))
    # The name the administrator expects; compared with the ESIA name of whoever accepts.
    last_name: Mapped[str] = mapped_column(sa.String(100))
    first_name: Mapped[str] = mapped_column(sa.String(100))
    middle_name: Mapped[str | None] = mapped_column(sa.String(100))
    # Role values (core.users.Role), in the order of the Role list.
    roles: Mapped[list[str]] = mapped_column(sa.JSON)
    status: Mapped[InvitationStatus] = mapped_column(
        str_enum(InvitationStatus, "status"), default=InvitationStatus.PENDING
    )
    # Only the SHA-256 of the link's secret is kept; a re-send replaces it (old link dead).
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    expires_at: Mapped[datetime]
    sent_count: Mapped[int] = mapped_column(default=1)
    invited_by_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    accepted_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"), index=True)
    accepted_at: Mapped[datetime | None]
    decided_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    decided_at: Mapped[datetime | None]

    organization: Mapped[Organization] = relationship()
    invited_by: Mapped[User] = relationship(foreign_keys=[invited_by_id])
    accepted_by: Mapped[User | None] = relationship(foreign_keys=[accepted_by_id])

    __table_args__ = (
        sa.CheckConstraint(
            "status NOT IN ('awaiting', 'accepted') OR accepted_by_id IS NOT NULL",
            name="accepted_has_person",
        ),
    )

    @property
    def full_name(self) -> str:
        return " ".join(p for p in (self.last_name, self.first_name, self.middle_name) if p)

    @property
    def role_list(self) -> list[Role]:
        return [Role(r) for r in self.roles]

    def is_expired(self, now: datetime) -> bool:
        return self.status == InvitationStatus.PENDING and self.expires_at <= now
