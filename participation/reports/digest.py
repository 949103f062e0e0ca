"""The daily digest e-mail: yesterday's figures of an organization for the officials subscribed.

Each subscription remembers the last local day it was sent for (`last_sent_day`). The sweep
sends, once the organization's day has turned, a digest for every day since then: one letter,
covering the missed days when the sweep was down (at most MAX_CATCH_UP_DAYS, older days are in
the dashboards) — one letter after an outage rather than a burst of several at once, and one
claim to make. A sweep claims the days with a conditional UPDATE of `last_sent_day` (from the
value it read to the new one) before writing the letter in the same transaction: of two sweeps
racing, the second's UPDATE waits for the first to commit, then matches no row and sends
nothing. The outbox key (subscription and days) makes a repeat harmless too.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _

from participation.core.db import utcnow
from participation.core.organizations import Organization
from participation.core.outbox import notify
from participation.core.users import User
from participation.extensions import db
from participation.reports.models import DigestSubscription
from participation.reports.permissions import own_scope
from participation.reports.services import Cut, Grain, Period, Scope, trend
from participation.reports.summary import (
    key_figures,
    local_today,
    period_text,
    show,
    show_change,
    top_problems,
)

MAX_CATCH_UP_DAYS = 7
EXPORT_PAGE = "/reports/export/"


def may_subscribe(user: User, organization: Organization) -> bool:
    """An official with an analytics role in an organization whose figures exist."""
    return own_scope(user, organization) is not None


def is_subscribed(user: User, organization: Organization) -> bool:
    return (
        db.session.scalar(
            sa.select(DigestSubscription.id).where(
                DigestSubscription.user_id == user.id,
                DigestSubscription.organization_id == organization.id,
            )
        )
        is not None
    )


def subscribe_digest(user: User, organization: Organization, now: datetime | None = None) -> None:
    """Start the daily digest; the first one is for the day after today (no backlog)."""
    if is_subscribed(user, organization):
        return
    today = local_today(organization.territory.timezone, now or utcnow())
    db.session.add(
        DigestSubscription(
            user_id=user.id, organization_id=organization.id, last_sent_day=today - timedelta(1)
        )
    )
    db.session.flush()


def unsubscribe_digest(user: User, organization: Organization) -> None:
    """Stop the daily digest of this organization for this person."""
    db.session.execute(
        sa.delete(DigestSubscription).where(
            DigestSubscription.user_id == user.id,
            DigestSubscription.organization_id == organization.id,
        )
    )


@dataclass(frozen=True)
class DayLine:
    day: date
    received: int
    answered: int


def _claim(subscription_id: int, seen: date | None, through: date) -> bool:
    """Move last_sent_day from the value this sweep read to `through`; False if another
    sweep got there first."""
    table = DigestSubscription.__table__
    result = db.session.execute(
        table.update()
        .where(table.c.id == subscription_id, table.c.last_sent_day.is_not_distinct_from(seen))
        .values(last_sent_day=through)
    )
    return result.rowcount == 1


def send_digest(subscription_id: int, now: datetime | None = None) -> Period | None:
    """Send the subscription's digest for the local days not sent yet; return them (or None)."""
    now = now or utcnow()
    subscription = db.session.get(DigestSubscription, subscription_id)
    if subscription is None:
        return None
    seen = subscription.last_sent_day
    organization = db.session.get(Organization, subscription.organization_id)
    user = db.session.get(User, subscription.user_id)
    timezone = organization.territory.timezone
    yesterday = local_today(timezone, now) - timedelta(days=1)
    if seen is not None and seen >= yesterday:
        return None
    first = yesterday if seen is None else seen + timedelta(days=1)
    first = max(first, yesterday - timedelta(days=MAX_CATCH_UP_DAYS - 1))
    scope = own_scope(user, organization)
    if scope is None:
        return None  # the person lost the role: nothing is sent (the row stays, harmless)
    if not _claim(subscription.id, seen, yesterday):
        return None
    db.session.expire(subscription)
    period = Period(first, yesterday, Grain.DAY if first == yesterday else Grain.RANGE)
    dropped = seen is not None and first > seen + timedelta(days=1)
    subject, body = compose_digest(organization, scope, period, dropped=dropped)
    notify(
        user.id,
        f"report-digest:{subscription.id}:{first.isoformat()}:{yesterday.isoformat()}",
        subject,
        body,
        link=current_app.config["PUBLIC_BASE_URL"] + EXPORT_PAGE,
        email=user.email,
        feed=not user.email,
        timezone=timezone,
    )
    return period


def compose_digest(
    organization: Organization,
    scope: Scope,
    period: Period,
    *,
    dropped: bool = False,
) -> tuple[str, str]:
    """The letter's subject and plain-text body (`dropped`: older days were not sent)."""
    days = []
    if period.days > 1:
        days = [
            DayLine(row.key, int(row.values["received"] or 0), int(row.values["answered"] or 0))
            for row in trend(scope, period, Cut.DAY)
        ]
    figures = [
        (f.indicator.name, show(f.indicator, f.value), show_change(f))
        for f in key_figures(scope, period)
    ]
    # No request here (a sweep): the template alone, without the pages' context processors.
    body = current_app.jinja_env.get_template("reports/email_digest.txt").render(
        organization=organization,
        period=period_text(period),
        previous=period_text(period.previous()),
        figures=figures,
        problems=top_problems(scope, period, 5),
        days=days,
        several=period.days > 1,
        dropped=dropped,
        max_days=MAX_CATCH_UP_DAYS,
    )
    subject = _(
        "Сводка за %(period)s: %(organization)s",
        period=period_text(period),
        organization=organization.display_name,
    )
    return subject, body


def due_subscriptions(now: datetime) -> list[int]:
    """Subscriptions that may have a day to send (the exact local day is checked per row):
    no zone's yesterday is later than today's UTC date."""
    horizon = now.astimezone(UTC).date()
    return list(
        db.session.scalars(
            sa.select(DigestSubscription.id)
            .where(
                sa.or_(
                    DigestSubscription.last_sent_day.is_(None),
                    DigestSubscription.last_sent_day < horizon,
                )
            )
            .order_by(DigestSubscription.id)
        )
    )


def send_due_digests(now: datetime | None = None) -> int:
    """One pass of the sweep: every due subscription's digest; returns how many were sent."""
    now = now or utcnow()
    return sum(send_digest(i, now) is not None for i in due_subscriptions(now))
