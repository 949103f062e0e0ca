"""Answer and coordination deadlines: computed in UTC at registration, shown in local time."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask import current_app
from flask_babel import gettext as _

from participation.core.db import utcnow
from participation.core.i18n import duration, local_date

DEFAULT_MAX_POSTPONEMENT_DAYS = 30
DEFAULT_SOON_DUE_HOURS = 24  # «answer due in 24 h» (#18), the curator page's «скоро срок» too


@dataclass(frozen=True)
class Deadlines:
    answer_due_at: datetime
    coordination_due_at: datetime


def compute_deadlines(registered_at: datetime, term_days: int) -> Deadlines:
    """Answer due after the term; coordination due after half of it (15 of 30, 5 of 10 days)."""
    return Deadlines(
        answer_due_at=registered_at + timedelta(days=term_days),
        coordination_due_at=registered_at + timedelta(days=term_days) / 2,
    )


def end_of_local_day(day: date, tz: str) -> datetime:
    """23:59 of `day` in the time zone `tz`, as an aware datetime (a postponement's new date)."""
    return datetime.combine(day, time(23, 59), tzinfo=ZoneInfo(tz))


def soon_due_window() -> timedelta:
    return timedelta(
        hours=int(current_app.config.get("APPEALS_SOON_DUE_HOURS", DEFAULT_SOON_DUE_HOURS))
    )


def countdown(due_at: datetime, tz: str, now: datetime | None = None) -> str:
    """«29 дней 3 часа 57 минут / до 26.06.2020», or «просрочено на 2 дня 1 час 5 минут / …»."""
    left = due_at - (now or utcnow())
    until = _("до %(date)s", date=local_date(due_at, tz))
    if left.total_seconds() < 0:
        return _("просрочено на %(left)s", left=duration(left)) + " / " + until
    return duration(left) + " / " + until


def time_left(due_at: datetime, now: datetime | None = None) -> str:
    """«14 дней 3 часа 57 минут» (the coordination countdown), or «срок истёк»."""
    left = due_at - (now or utcnow())
    if left.total_seconds() < 0:
        return _("срок истёк")
    return duration(left)
