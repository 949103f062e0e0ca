"""Notification preferences: the feed gets everything, e-mail per kind; quiet hours for letters.

A person chooses, per kind of notice, whether it also comes by e-mail; a kind never chosen
takes its default (DEFAULT_EMAIL). Letters of the kinds in QUIET_KINDS (reminders,
announcements, staff deadlines: nothing the person is waiting for at that moment) are held
during the night of the recipient's own time zone, 22:00–08:00, and leave at 08:00 local; the
feed item is written at once. A message's answer is what the resident is waiting for: it goes
at once, day or night.
"""

from __future__ import annotations

import enum
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import Mapped, mapped_column

from participation.core.db import Base, str_enum, utcnow
from participation.core.territories import Territory
from participation.core.users import User
from participation.extensions import db


class NoticeKind(enum.StrEnum):
    MESSAGES = "messages"  # статус моих сообщений и ответы на них
    REMINDERS = "reminders"  # голосование, в котором я не голосовал, скоро закончится
    ANNOUNCEMENTS = "announcements"  # новые опросы, голосования и обсуждения на моей территории
    DEADLINES = "deadlines"  # сотрудникам: срок ответа истекает, срок ответа истёк


# Announcements are a subscription (asked for); the rest are on until switched off.
DEFAULT_EMAIL = {
    NoticeKind.MESSAGES: True,
    NoticeKind.REMINDERS: True,
    NoticeKind.ANNOUNCEMENTS: False,
    NoticeKind.DEADLINES: True,
}
QUIET_KINDS = frozenset({NoticeKind.REMINDERS, NoticeKind.ANNOUNCEMENTS, NoticeKind.DEADLINES})
QUIET_FROM, QUIET_UNTIL = 22, 8  # local hours


class NotificationPreference(Base):
    """One person's choice for one kind of notice (no row: the kind's default)."""

    __tablename__ = "notification_preferences"

    user_id: Mapped[int] = mapped_column(
        sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    kind: Mapped[NoticeKind] = mapped_column(str_enum(NoticeKind, "kind"), primary_key=True)
    email: Mapped[bool]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


def email_enabled(kind: NoticeKind) -> sa.ColumnElement[bool]:
    """SQL: does the person of User.id want e-mail of this kind (their choice or the default)?"""
    chosen = (
        sa.select(NotificationPreference.email)
        .where(NotificationPreference.user_id == User.id, NotificationPreference.kind == kind)
        .scalar_subquery()
    )
    return sa.func.coalesce(chosen, sa.true() if DEFAULT_EMAIL[kind] else sa.false())


def email_choices(user_id: int) -> dict[NoticeKind, bool]:
    """Every kind with what the person wants for it."""
    chosen = dict(
        db.session.execute(
            sa.select(NotificationPreference.kind, NotificationPreference.email).where(
                NotificationPreference.user_id == user_id
            )
        ).all()
    )
    return {kind: chosen.get(kind, DEFAULT_EMAIL[kind]) for kind in NoticeKind}


def wants_email(user_id: int, kind: NoticeKind) -> bool:
    chosen = db.session.scalar(
        sa.select(NotificationPreference.email).where(
            NotificationPreference.user_id == user_id, NotificationPreference.kind == kind
        )
    )
    return DEFAULT_EMAIL[kind] if chosen is None else chosen


def home_zone(user_id: int | None, fallback: str | None = None) -> str:
    """The recipient's own zone: their registration territory's, else the matter's, else the
    default (the person sleeps where they live, whichever organization writes to them)."""
    zone = None
    if user_id is not None:
        zone = db.session.scalar(
            sa.select(Territory.timezone)
            .join(User, User.registration_territory_id == Territory.id)
            .where(User.id == user_id)
        )
    return zone or fallback or current_app.config["DEFAULT_TIMEZONE"]


def quiet_until(now: datetime, zone: str) -> datetime | None:
    """When a letter written at `now` may leave in `zone`: None during the day, else 08:00
    local of the morning that ends the night (in UTC)."""
    local = now.astimezone(ZoneInfo(zone))
    if QUIET_UNTIL <= local.hour < QUIET_FROM:
        return None
    morning = local if local.hour < QUIET_UNTIL else local + timedelta(days=1)
    resume = datetime(morning.year, morning.month, morning.day, QUIET_UNTIL, tzinfo=local.tzinfo)
    return resume.astimezone(UTC)
