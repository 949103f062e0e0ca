"""Organizations (bodies, institutions, ЦУР, the operator) and their readiness for work."""

from __future__ import annotations

import enum
import secrets
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit

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
    # The profile residents see (edited by the organization's administrator, admin/profile).
    phone: Mapped[str | None] = mapped_column(sa.String(40))
    social_links: Mapped[list[str]] = mapped_column(  # official pages
        sa.JSON, default=list, server_default=sa.text("'[]'")
    )
    working_hours: Mapped[str | None] = mapped_column(sa.String(500))  # free text, see README
    logo_id: Mapped[int | None] = mapped_column(sa.ForeignKey("attachments.id"))
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
    def card(self) -> OrganizationCard:
        """The profile as plain values, for the «organization card» residents see."""
        return OrganizationCard(
            id=self.id,
            name=self.name,
            short_name=self.short_name,
            address=self.address,
            phone=self.phone,
            email=self.email,
            website=self.website,
            social_links=tuple(self.social_links or ()),
            working_hours=self.working_hours,
            logo_id=self.logo_id,
        )

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


# Official pages residents know by the network's name; any other address shows its host.
SOCIAL_NETWORKS = {
    "vk.com": "ВКонтакте",
    "vk.ru": "ВКонтакте",
    "ok.ru": "Одноклассники",
    "t.me": "Telegram",
    "max.ru": "MAX",
    "dzen.ru": "Дзен",
    "rutube.ru": "RUTUBE",
}


def link_host(url: str) -> str:
    """The host of a web address without «www.» (what a link to an unknown site shows)."""
    try:
        host = (urlsplit(url).hostname or "").lower()
    except ValueError:
        return url
    return host.removeprefix("www.") or url


def social_label(url: str) -> str:
    """«ВКонтакте», «Telegram»… for a known network's page, else the site's host."""
    host = link_host(url)
    return SOCIAL_NETWORKS.get(host, host)


@dataclass(frozen=True)
class OrganizationCard:
    """An organization's public profile as plain values: what the card template reads.

    Plain values so that the widget keeps it in its per-process cache (core/cache.py) with the
    rest of the widget's facts; the logo's URL is made from `id` and `logo_id` at render time.
    """

    id: int
    name: str
    short_name: str | None
    address: str | None
    phone: str | None
    email: str | None
    website: str | None
    social_links: tuple[str, ...]
    working_hours: str | None
    logo_id: int | None

    @property
    def display_name(self) -> str:
        return self.short_name or self.name

    @property
    def social(self) -> list[tuple[str, str]]:
        """(label, url) of each official page."""
        return [(social_label(url), url) for url in self.social_links]

    @property
    def phone_uri(self) -> str | None:
        if not self.phone:
            return None
        digits = "".join(ch for ch in self.phone if ch.isdigit())
        return f"tel:{'+' if self.phone.lstrip().startswith('+') else ''}{digits}"

    @property
    def website_label(self) -> str | None:
        return link_host(self.website) if self.website else None
