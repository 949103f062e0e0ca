"""Background work for messages: the deadline sweep (overdue, soon due) and closing unrated ones.

The sweep reads state, not events: whatever came due while it was not running (downtime, a
stopped worker) is found on its next run. Flags on the message keep each notice to one per
due date; a postponement clears them, so the new date is watched afresh.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask_babel import gettext as _

from participation.appeals.deadlines import soon_due_window
from participation.appeals.models import NOT_THANKS, Appeal
from participation.appeals.routing import regional_centre
from participation.appeals.services import card_path, close_unrated, setting
from participation.appeals.workflow import OPEN_BUCKETS, AppealState
from participation.core.db import utcnow
from participation.core.i18n import local_datetime
from participation.core.jobs import sweep
from participation.core.outbox import notify
from participation.core.preferences import NoticeKind
from participation.core.users import Membership, Role, User
from participation.extensions import db

BATCH = 500


Cache = dict[tuple[int, tuple[Role, ...]], list[User]]


def _recipients(cache: Cache, organization_id: int, *roles: Role) -> list[User]:
    key = (organization_id, roles)
    if key not in cache:
        cache[key] = list(
            db.session.scalars(
                sa.select(User)
                .join(Membership, Membership.user_id == User.id)
                .where(Membership.organization_id == organization_id, Membership.role.in_(roles))
                .distinct()
                .order_by(User.id)
            )
        )
    return cache[key]


def _watchers(appeal: Appeal, cache: Cache) -> list[User]:
    """Curators and coordinators of the holder organization, the ЦУР's curators, the executor."""
    people = {
        u.id: u
        for u in _recipients(cache, appeal.holder_organization_id, Role.CURATOR, Role.COORDINATOR)
    }
    centre = regional_centre(appeal.region)
    if centre is not None and centre.id != appeal.holder_organization_id:
        people.update({u.id: u for u in _recipients(cache, centre.id, Role.CURATOR)})
    if appeal.executor is not None:
        people[appeal.executor.id] = appeal.executor
    return list(people.values())


def _announce(appeal: Appeal, kind: str, users: Iterable[User]) -> None:
    tz = appeal.executor_organization.territory.timezone
    due = local_datetime(appeal.answer_due_at, tz)
    if kind == "overdue":
        subject = _("Просрочено: сообщение № %(number)s", number=appeal.number)
        body = _(
            "Срок ответа на сообщение № %(number)s истёк %(due)s.", number=appeal.number, due=due
        )
    else:
        subject = _("Скоро срок: сообщение № %(number)s", number=appeal.number)
        body = _(
            "Ответ на сообщение № %(number)s нужно дать до %(due)s.", number=appeal.number, due=due
        )
    for user in users:
        notify(
            user.id,
            f"appeal:{appeal.id}:{kind}:{appeal.answer_due_at.isoformat()}:u{user.id}",
            subject,
            body,
            link=card_path(appeal.id),
            email=user.email,
            timezone=tz,
            kind=NoticeKind.DEADLINES,
        )


def _batches(query: sa.Select) -> Iterable[list[Appeal]]:
    while True:
        batch = list(db.session.scalars(query.limit(BATCH)))
        if not batch:
            return
        yield batch


def _flag(now: datetime, cache: Cache) -> tuple[int, int]:
    # A thanks («Благодарность») needs no answer: it is never overdue nor soon due.
    open_ = sa.and_(Appeal.bucket.in_(OPEN_BUCKETS), NOT_THANKS)
    overdue = soon = 0
    for batch in _batches(
        sa.select(Appeal)
        .where(open_, Appeal.answer_due_at < now, Appeal.overdue_flagged_at.is_(None))
        .order_by(Appeal.answer_due_at, Appeal.id)
    ):
        for appeal in batch:
            _announce(appeal, "overdue", _watchers(appeal, cache))
            appeal.overdue_flagged_at = now
            # Overdue already says more than "soon due": no second notice for this date.
            appeal.soon_due_flagged_at = appeal.soon_due_flagged_at or now
            overdue += 1
        db.session.flush()
    for batch in _batches(
        sa.select(Appeal)
        .where(
            open_,
            Appeal.answer_due_at >= now,
            Appeal.answer_due_at < now + soon_due_window(),
            Appeal.soon_due_flagged_at.is_(None),
        )
        .order_by(Appeal.answer_due_at, Appeal.id)
    ):
        for appeal in batch:
            _announce(appeal, "soon_due", _watchers(appeal, cache))
            appeal.soon_due_flagged_at = now
            soon += 1
        db.session.flush()
    return overdue, soon


def _close_unrated(now: datetime) -> int:
    days = int(setting("APPEALS_RATING_DAYS"))
    closed = 0
    for batch in _batches(
        sa.select(Appeal)
        .where(
            Appeal.state == AppealState.ANSWERED,
            Appeal.answered_at < now - timedelta(days=days),
        )
        .order_by(Appeal.answered_at, Appeal.id)
    ):
        for appeal in batch:
            close_unrated(appeal)
            closed += 1
        db.session.flush()
    return closed


@sweep
def sweep_appeal_deadlines() -> dict[str, int]:
    """Tell watchers about overdue and soon-due messages; close answers left unrated."""
    now = utcnow()
    cache: Cache = {}
    overdue, soon = _flag(now, cache)
    return {"overdue": overdue, "soon_due": soon, "closed_unrated": _close_unrated(now)}
