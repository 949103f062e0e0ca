"""Widget settings of an organization, sessions of residents inside widgets, per-site counts."""

from __future__ import annotations

import enum
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from participation.core.db import Base, TimestampMixin, str_enum, utcnow
from participation.core.organizations import Organization
from participation.core.users import User


class WidgetKind(enum.StrEnum):
    MESSAGE = "message"  # «Сообщить о проблеме»: the message form
    PARTICIPATE = "participate"  # «Участвовать»: open surveys and votes


class BannerDesign(enum.StrEnum):
    """The banner's look; what each one is lives in widgets/designs.py (the one table)."""

    MUNICIPAL = "municipal"  # органы власти и местного самоуправления
    MUNICIPAL_POSTER = "municipal-poster"
    MUNICIPAL_CARD = "municipal-card"
    CONTRAST = "contrast"
    CONTRAST_POSTER = "contrast-poster"
    CONTRAST_CARD = "contrast-card"
    HEALTH = "health"  # медицинские организации
    HEALTH_POSTER = "health-poster"
    HEALTH_CARD = "health-card"
    EDUCATION = "education"  # школы, колледжи
    EDUCATION_POSTER = "education-poster"
    EDUCATION_CARD = "education-card"
    PRESCHOOL = "preschool"  # детские сады
    PRESCHOOL_POSTER = "preschool-poster"
    PRESCHOOL_CARD = "preschool-card"


class WidgetSettings(TimestampMixin, Base):
    """What an organization's widget shows; the code itself is Organization.widget_code."""

    __tablename__ = "widget_settings"

    organization_id: Mapped[int] = mapped_column(
        sa.ForeignKey("organizations.id"), primary_key=True
    )
    kind: Mapped[WidgetKind] = mapped_column(
        str_enum(WidgetKind, "kind"), default=WidgetKind.MESSAGE
    )
    design: Mapped[BannerDesign] = mapped_column(
        str_enum(BannerDesign, "design"), default=BannerDesign.MUNICIPAL
    )
    # The banner's headline: a key of designs.WORDINGS, "custom" (then custom_text), or None
    # (the design's own headline).
    text_choice: Mapped[str | None] = mapped_column(sa.String(20))
    custom_text: Mapped[str | None] = mapped_column(sa.String(60))
    # The site the organization says it places the widget on (shown next to the statistics).
    site_url: Mapped[str | None] = mapped_column(sa.String(300))
    # Set by «Сгенерировать код»; until then no code of the organization opens a widget.
    code_generated_at: Mapped[datetime | None]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))

    organization: Mapped[Organization] = relationship()


class WidgetSession(Base):
    """A resident logged in inside one organization's widget.

    The widget runs in a third-party iframe, where browsers do not send the platform's
    session cookie; the iframe holds a random token instead (only its SHA-256 is stored)
    and sends it in a form field with every request. One ESIA login ticket makes at most
    one session: `ticket_id` is unique.
    """

    __tablename__ = "widget_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(sa.ForeignKey("organizations.id"), index=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    ticket_id: Mapped[str] = mapped_column(sa.String(32), unique=True)
    # The user's session version at login: "log out everywhere" ends widget sessions too.
    session_version: Mapped[int]
    site: Mapped[str] = mapped_column(sa.String(200), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    ended_at: Mapped[datetime | None]

    organization: Mapped[Organization] = relationship()
    user: Mapped[User] = relationship()


class WidgetSiteDay(Base):
    """How a widget was used on one site (origin) on one day (UTC)."""

    __tablename__ = "widget_site_days"

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(sa.ForeignKey("organizations.id"))
    site: Mapped[str] = mapped_column(sa.String(200))  # "" when the site is unknown
    day: Mapped[date]
    views: Mapped[int] = mapped_column(default=0)
    logins: Mapped[int] = mapped_column(default=0)
    messages: Mapped[int] = mapped_column(default=0)
    survey_responses: Mapped[int] = mapped_column(default=0)
    ballots: Mapped[int] = mapped_column(default=0)

    __table_args__ = (
        sa.UniqueConstraint("organization_id", "site", "day"),
        sa.CheckConstraint(
            "views >= 0 AND logins >= 0 AND messages >= 0 AND survey_responses >= 0 "
            "AND ballots >= 0",
            name="counts_not_negative",
        ),
    )


COUNTERS = ("views", "logins", "messages", "survey_responses", "ballots")


class WidgetPlacement(Base):
    """Where the widget last was on a site's page, as the embed script measured it (CSS px).

    One row per organization and site (origin): each report replaces the last one. `top` and
    `left` are from the top-left corner of the page (not of the window)."""

    __tablename__ = "widget_placements"

    organization_id: Mapped[int] = mapped_column(
        sa.ForeignKey("organizations.id"), primary_key=True
    )
    site: Mapped[str] = mapped_column(sa.String(200), primary_key=True)
    top: Mapped[int]
    left: Mapped[int]
    width: Mapped[int]
    height: Mapped[int]
    viewport_width: Mapped[int]
    viewport_height: Mapped[int]
    reported_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (
        sa.CheckConstraint(
            "width >= 0 AND height >= 0 AND viewport_width > 0 AND viewport_height > 0",
            name="sizes_positive",
        ),
    )
