"""Reading direct lines: lists, support counts, the live snapshot and the statistics, in SQL."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import joinedload, selectinload

from participation.appeals.models import AnswerStatus, AppealAnswer
from participation.core.db import utcnow
from participation.core.organizations import Organization
from participation.core.territories import Territory
from participation.directline.models import (
    CONVERTIBLE_STATES,
    PUBLIC_STATES,
    DirectLine,
    DirectLineCategory,
    Question,
    QuestionCoauthor,
    QuestionState,
    QuestionSupport,
)
from participation.directline.permissions import (
    HOST_MODERATOR_ROLES,
    centre_territory_ids,
    is_operator_moderator,
)
from participation.directline.workflow import PHASE_LABELS
from participation.extensions import db

SORTS = ("popular", "new")
LIVE_ANSWERED_LIMIT = 200


def event_with_host(event_id: int) -> DirectLine | None:
    return db.session.scalar(
        sa.select(DirectLine)
        .where(DirectLine.id == event_id)
        .options(selectinload(DirectLine.host_organization), selectinload(DirectLine.categories))
    )


def event_for_live(event_id: int) -> DirectLine | None:
    """The event with its host's territory (its time zone) in one query, for the polled JSON."""
    return db.session.scalar(
        sa.select(DirectLine)
        .where(DirectLine.id == event_id)
        .options(joinedload(DirectLine.host_organization).joinedload(Organization.territory))
    )


def public_events(now: datetime | None = None) -> tuple[list[DirectLine], list[DirectLine]]:
    """Current and coming direct lines (soonest first), and the last finished ones."""
    now = now or utcnow()
    options = selectinload(DirectLine.host_organization)
    upcoming = list(
        db.session.scalars(
            sa.select(DirectLine)
            .where(DirectLine.ends_at > now)
            .order_by(DirectLine.starts_at, DirectLine.id)
            .options(options)
            .limit(50)
        )
    )
    past = list(
        db.session.scalars(
            sa.select(DirectLine)
            .where(DirectLine.ends_at <= now)
            .order_by(DirectLine.ends_at.desc(), DirectLine.id.desc())
            .options(options)
            .limit(20)
        )
    )
    return upcoming, past


def managed_events_query(user: Any) -> sa.Select:
    """Direct lines this person moderates, newest broadcast first."""
    query = sa.select(DirectLine).order_by(DirectLine.starts_at.desc(), DirectLine.id.desc())
    if is_operator_moderator(user):
        return query
    hosts = [m.organization_id for m in user.memberships if m.role in HOST_MODERATOR_ROLES]
    centre_hosts = sa.select(Organization.id).where(
        Organization.territory_id.in_(centre_territory_ids(user) or [-1])
    )
    return query.where(
        DirectLine.host_organization_id.in_(hosts or [-1])
        | DirectLine.host_organization_id.in_(centre_hosts)
    )


def _support_counts_subquery() -> sa.Subquery:
    return (
        sa.select(QuestionSupport.question_id, sa.func.count().label("supports"))
        .group_by(QuestionSupport.question_id)
        .subquery()
    )


def support_counts(question_ids: list[int]) -> dict[int, int]:
    """Supports per question, counted in SQL."""
    if not question_ids:
        return {}
    rows = db.session.execute(
        sa.select(QuestionSupport.question_id, sa.func.count())
        .where(QuestionSupport.question_id.in_(question_ids))
        .group_by(QuestionSupport.question_id)
    )
    return dict(rows.all())


def coauthor_counts(question_ids: list[int]) -> dict[int, int]:
    """How many people asked the same (merged) question besides the author."""
    if not question_ids:
        return {}
    rows = db.session.execute(
        sa.select(QuestionCoauthor.question_id, sa.func.count())
        .where(QuestionCoauthor.question_id.in_(question_ids))
        .group_by(QuestionCoauthor.question_id)
    )
    return dict(rows.all())


def supported_by(user: Any, question_ids: list[int]) -> set[int]:
    """Which of these questions the person has supported."""
    if not question_ids or not getattr(user, "is_authenticated", False):
        return set()
    return set(
        db.session.scalars(
            sa.select(QuestionSupport.question_id).where(
                QuestionSupport.user_id == user.id,
                QuestionSupport.question_id.in_(question_ids),
            )
        )
    )


def authored_by(user: Any, question_ids: list[int]) -> set[int]:
    """Which of these questions the person asked (also through a merged duplicate)."""
    if not question_ids or not getattr(user, "is_authenticated", False):
        return set()
    own = db.session.scalars(
        sa.select(Question.id).where(Question.id.in_(question_ids), Question.author_id == user.id)
    )
    merged_in = db.session.scalars(
        sa.select(QuestionCoauthor.question_id).where(
            QuestionCoauthor.question_id.in_(question_ids), QuestionCoauthor.user_id == user.id
        )
    )
    return {*own, *merged_in}


def public_questions_query(
    event: DirectLine, *, sort: str = "popular", category_id: int | None = None
) -> sa.Select:
    """Published questions of the event; the most supported first, or the newest."""
    counts = _support_counts_subquery()
    query = (
        sa.select(Question)
        .outerjoin(counts, counts.c.question_id == Question.id)
        .where(Question.event_id == event.id, Question.state.in_(PUBLIC_STATES))
        .options(selectinload(Question.category), selectinload(Question.territory))
    )
    if category_id is not None:
        query = query.where(Question.category_id == category_id)
    if sort == "new":
        return query.order_by(Question.created_at.desc(), Question.id.desc())
    return query.order_by(
        sa.func.coalesce(counts.c.supports, 0).desc(), Question.created_at, Question.id
    )


def moderation_query(event: DirectLine, state: QuestionState | None) -> sa.Select:
    """Questions of one state for moderators; the oldest first (a queue)."""
    query = (
        sa.select(Question)
        .where(Question.event_id == event.id)
        .options(
            selectinload(Question.category),
            selectinload(Question.territory),
            selectinload(Question.author),
        )
    )
    if state is not None:
        query = query.where(Question.state == state)
    return query.order_by(Question.created_at, Question.id)


def state_counts(event: DirectLine) -> dict[QuestionState, int]:
    rows = db.session.execute(
        sa.select(Question.state, sa.func.count())
        .where(Question.event_id == event.id)
        .group_by(Question.state)
    )
    counts = dict.fromkeys(QuestionState, 0)
    counts.update(dict(rows.all()))
    return counts


def shortlist(event: DirectLine) -> list[Question]:
    """The questions chosen for the broadcast, in the moderators' order."""
    return list(
        db.session.scalars(
            sa.select(Question)
            .where(Question.event_id == event.id, Question.state == QuestionState.SHORTLISTED)
            .order_by(Question.shortlist_position, Question.id)
            .options(selectinload(Question.category), selectinload(Question.territory))
        )
    )


def answered(event: DirectLine, limit: int | None = None) -> list[Question]:
    """Questions answered on air, in the order they were answered."""
    query = (
        sa.select(Question)
        .where(Question.event_id == event.id, Question.state == QuestionState.ANSWERED)
        .order_by(Question.answered_at, Question.id)
        .options(selectinload(Question.category), selectinload(Question.territory))
    )
    if limit is not None:
        query = query.limit(limit)
    return list(db.session.scalars(query))


def on_air(event: DirectLine) -> Question | None:
    return db.session.scalar(
        sa.select(Question)
        .where(Question.event_id == event.id, Question.state == QuestionState.ON_AIR)
        .options(selectinload(Question.category), selectinload(Question.territory))
    )


def my_questions(event: DirectLine, user: Any) -> list[Question]:
    """The person's questions on this line, also those merged into and from theirs."""
    coauthored = sa.select(QuestionCoauthor.question_id).where(QuestionCoauthor.user_id == user.id)
    return list(
        db.session.scalars(
            sa.select(Question)
            .where(
                Question.event_id == event.id,
                sa.or_(Question.author_id == user.id, Question.id.in_(coauthored)),
            )
            .order_by(Question.created_at.desc(), Question.id.desc())
            .options(selectinload(Question.category), selectinload(Question.merged_into))
        )
    )


def message_answers(questions: list[Question]) -> dict[int, AppealAnswer]:
    """Question id → the approved answer (the latest) of the message it became, if any."""
    question_by_appeal = {q.appeal_id: q.id for q in questions if q.appeal_id is not None}
    if not question_by_appeal:
        return {}
    answers = db.session.scalars(
        sa.select(AppealAnswer)
        .where(
            AppealAnswer.appeal_id.in_(question_by_appeal),
            AppealAnswer.status == AnswerStatus.APPROVED,
        )
        .order_by(AppealAnswer.id)
        .options(selectinload(AppealAnswer.organization))
    )
    return {question_by_appeal[a.appeal_id]: a for a in answers}  # the latest wins


def coauthor_ids(question: Question) -> set[int]:
    return set(
        db.session.scalars(
            sa.select(QuestionCoauthor.user_id).where(QuestionCoauthor.question_id == question.id)
        )
    )


def live_snapshot(event: DirectLine) -> dict[str, Any]:
    """What the live page shows: the phase, the question on air, the answered ones.

    Every viewer polls this, so it is one narrow query (no ORM objects) over the event's
    on-air and answered questions.
    """
    now = utcnow()
    zone = event.tz
    phase = event.phase(now)
    rows = db.session.execute(
        sa.select(
            Question.id,
            Question.state,
            Question.text,
            Question.answer_text,
            Question.answer_url,
            Question.answered_at,
            DirectLineCategory.name.label("category"),
            Territory.name.label("territory"),
        )
        .join(DirectLineCategory, DirectLineCategory.id == Question.category_id)
        .join(Territory, Territory.id == Question.territory_id)
        .where(
            Question.event_id == event.id,
            Question.state.in_([QuestionState.ON_AIR, QuestionState.ANSWERED]),
        )
        .order_by(Question.answered_at.nulls_first(), Question.id)
        .limit(LIVE_ANSWERED_LIMIT + 1)
    ).all()
    current, done = None, []
    for row in rows:
        item = {
            "id": row.id,
            "number": str(row.id),
            "category": row.category,
            "territory": row.territory,
            "text": row.text,
            "answer_text": row.answer_text,
            "answer_url": row.answer_url,
            "answered_at": row.answered_at.astimezone(zone).strftime("%H:%M")
            if row.answered_at
            else None,
        }
        if row.state == QuestionState.ON_AIR:
            current = item
        else:
            done.append(item)
    return {
        "phase": phase.value,
        "phase_label": str(PHASE_LABELS[phase]),
        "current": current,
        "answered": done[:LIVE_ANSWERED_LIMIT],
    }


@dataclass(frozen=True)
class Statistics:
    received: int
    on_moderation: int
    published: int  # visible to everyone now (incl. shortlisted, on air, answered)
    rejected: int
    merged: int
    answered_on_air: int
    converted: int  # became ordinary messages
    awaiting_conversion: int
    supports: int
    participants: int  # distinct people who asked or supported


def statistics(event: DirectLine) -> Statistics:
    """The event's figures, each counted in SQL."""
    counts = state_counts(event)
    base = sa.select(sa.func.count()).select_from(Question).where(Question.event_id == event.id)
    converted = db.session.scalar(base.where(Question.appeal_id.is_not(None))) or 0
    awaiting = (
        db.session.scalar(
            base.where(Question.state.in_(CONVERTIBLE_STATES), Question.appeal_id.is_(None))
        )
        or 0
    )
    supports = (
        db.session.scalar(
            sa.select(sa.func.count())
            .select_from(QuestionSupport)
            .join(Question, Question.id == QuestionSupport.question_id)
            .where(Question.event_id == event.id)
        )
        or 0
    )
    people = sa.union(
        sa.select(Question.author_id.label("uid")).where(Question.event_id == event.id),
        sa.select(QuestionSupport.user_id.label("uid"))
        .join(Question, Question.id == QuestionSupport.question_id)
        .where(Question.event_id == event.id),
    ).subquery()
    participants = db.session.scalar(sa.select(sa.func.count()).select_from(people)) or 0
    return Statistics(
        received=sum(counts.values()),
        on_moderation=counts[QuestionState.NEW],
        published=sum(counts[s] for s in PUBLIC_STATES),
        rejected=counts[QuestionState.REJECTED],
        merged=counts[QuestionState.MERGED],
        answered_on_air=counts[QuestionState.ANSWERED],
        converted=converted,
        awaiting_conversion=awaiting,
        supports=supports,
        participants=participants,
    )
