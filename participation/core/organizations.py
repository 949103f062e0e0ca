"""Organizations (bodies, institutions, ЦУР, the operator) and their readiness for work."""

from __future__ import annotations

import enum
import secrets
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from participation.core.db import Base, TimestampMixin, str_enum
from participation.core.territories import Territory


class OrganizationKind(enum.StrEnum):
    FEDERAL = "federal"  # ФОИВ
    REGIONAL = "regional"  # РОИВ
    MUNICIPAL = "municipal"  # ОМСУ
    INSTITUTION = "institution"  # школы, больницы, МФЦ…
    MANAGEMENT_COMPANY = "management_company"  # УО
    REGIONAL_CENTRE = "regional_centre"  # ЦУР
    OPERATOR = "operator"  # оператор платформы (модераторы)


def new_widget_code() -> str:
    """An unguessable, URL-safe code identifying one organization's widget."""
    return secrets.token_urlsafe(18)


class Organization(TimestampMixin, Base):
    __tablename__ = "organizations"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(300))
    short_name: Mapped[str | None] = mapped_column(sa.String(120))
    kind: Mapped[OrganizationKind] = mapped_column(str_enum(OrganizationKind, "kind"))
    territory_id: Mapped[int] = mapped_column(sa.ForeignKey("territories.id"), index=True)
    parent_id: Mapped[int | None] = mapped_column(sa.ForeignKey("organizations.id"), index=True)
    inn: Mapped[str | None] = mapped_column(sa.String(12))
    ogrn: Mapped[str | None] = mapped_column(sa.String(15), unique=True)
    address: Mapped[str | None] = mapped_column(sa.String(300))
    email: Mapped[str | None] = mapped_column(sa.String(254))
    website: Mapped[str | None] = mapped_column(sa.String(300))
    widget_code: Mapped[str] = mapped_column(sa.String(40), unique=True, default=new_widget_code)
    widget_revoked_at: Mapped[datetime | None]
    # The two confirmations the real platform asks for before an organization's cabinet works.
    ready_confirmed_at: Mapped[datetime | None]  # «ЛКО готов к работе»
    ready_confirmed_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    training_confirmed_at: Mapped[datetime | None]  # «Мною пройдено обучение»
    training_confirmed_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))

    territory: Mapped[Territory] = relationship()
    parent: Mapped[Organization | None] = relationship(remote_side=[id])

    __table_args__ = (sa.CheckConstraint("parent_id <> id", name="not_own_parent"),)

    @property
    def display_name(self) -> str:
        return self.short_name or self.name

    @property
    def is_ready(self) -> bool:
        """Both readiness confirmations have been given."""
        return self.ready_confirmed_at is not None and self.training_confirmed_at is not None

    def higher_chain(self) -> list[Organization]:
        """Higher organizations, nearest first."""
        chain, node = [], self.parent
        while node is not None and node not in chain:
            chain.append(node)
            node = node.parent
        return chain
