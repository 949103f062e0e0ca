"""ESIA emulator state shared by all processes: registered client systems and issued codes."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from participation.core.db import Base, TimestampMixin, utcnow


class EmulatorClient(TimestampMixin, Base):
    """A relying party registered with the emulator: its client id, certificate, return URLs."""

    __tablename__ = "esia_emulator_clients"

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[str] = mapped_column(sa.String(64), unique=True)
    certificate_pem: Mapped[str] = mapped_column(sa.Text)
    redirect_uris: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    def __repr__(self) -> str:
        return f"<EmulatorClient {self.client_id}>"


class EmulatorCode(Base):
    """An authorization code: single use, short-lived, bound to one client and redirect_uri."""

    __tablename__ = "esia_emulator_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(64), unique=True)
    client_id: Mapped[int] = mapped_column(
        sa.ForeignKey("esia_emulator_clients.id", ondelete="CASCADE"), index=True
    )
    oid: Mapped[str] = mapped_column(sa.String(32))
    scope: Mapped[str] = mapped_column(sa.String(500))
    redirect_uri: Mapped[str] = mapped_column(sa.String(500))
    issued_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(index=True)
    used_at: Mapped[datetime | None]

    client: Mapped[EmulatorClient] = relationship()

    __table_args__ = (sa.CheckConstraint("expires_at > issued_at", name="expires_after_issue"),)

    def __repr__(self) -> str:
        return f"<EmulatorCode {self.id} oid={self.oid}>"
