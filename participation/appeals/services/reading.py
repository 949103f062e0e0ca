"""Reading a message's answers, history, rating and review cycle."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from participation.appeals.models import (
    AnswerStatus,
    Appeal,
    AppealAnswer,
    AppealEvent,
    AppealRating,
)
from participation.appeals.workflow import AppealState
from participation.core.files import Attachment
from participation.extensions import db


def current_draft(appeal: Appeal) -> AppealAnswer | None:
    """The answer waiting for the head's decision."""
    return db.session.scalar(
        sa.select(AppealAnswer)
        .where(AppealAnswer.appeal_id == appeal.id, AppealAnswer.status == AnswerStatus.SUBMITTED)
        .order_by(AppealAnswer.id.desc())
        .limit(1)
    )


def approved_answer(appeal: Appeal) -> AppealAnswer | None:
    """The answer the resident received (the latest approved one); a duplicate that follows a
    main message receives that message's answer."""
    source = appeal.id
    if appeal.merged_into_id is not None and appeal.state != AppealState.MERGED:
        source = appeal.merged_into_id
    return db.session.scalar(
        sa.select(AppealAnswer)
        .where(AppealAnswer.appeal_id == source, AppealAnswer.status == AnswerStatus.APPROVED)
        .order_by(AppealAnswer.id.desc())
        .limit(1)
    )


def appeal_history(appeal: Appeal) -> list[AppealEvent]:
    """The message's events, oldest first, with actors and organizations loaded."""
    return list(
        db.session.scalars(
            sa.select(AppealEvent)
            .where(AppealEvent.appeal_id == appeal.id)
            .options(
                sa.orm.selectinload(AppealEvent.actor),
                sa.orm.selectinload(AppealEvent.organization),
            )
            .order_by(AppealEvent.at, AppealEvent.id)
        )
    )


def appeal_rating(appeal: Appeal) -> AppealRating | None:
    return db.session.scalar(sa.select(AppealRating).where(AppealRating.appeal_id == appeal.id))


def answers_of(appeal: Appeal) -> list[AppealAnswer]:
    """Every answer draft of the message, newest first."""
    return list(
        db.session.scalars(
            sa.select(AppealAnswer)
            .where(AppealAnswer.appeal_id == appeal.id)
            .options(sa.orm.selectinload(AppealAnswer.author))
            .order_by(AppealAnswer.id.desc())
        )
    )


def review_cycle_of(appeal: Appeal) -> Appeal | None:
    """The review opened at the higher organization after a low rating, if any."""
    return db.session.scalar(sa.select(Appeal).where(Appeal.review_of_id == appeal.id))


@dataclass(frozen=True)
class EarlierCycle:
    """The low-rated message a review cycle reconsiders, as its reviewer needs to see it."""

    appeal: Appeal
    answer: AppealAnswer | None  # the answer the resident rated
    rating: AppealRating | None  # the score and the resident's comment


def earlier_cycle(appeal: Appeal) -> EarlierCycle | None:
    """For a review cycle: the message it reconsiders, with its answer and rating."""
    earlier = appeal.review_of
    if earlier is None:
        return None
    return EarlierCycle(earlier, approved_answer(earlier), appeal_rating(earlier))


def attachments_of(kind: str, ids: list[int]) -> dict[int, list[Attachment]]:
    """Files attached to objects of one kind ("appeal", "appeal_answer"), by object id."""
    found: dict[int, list[Attachment]] = {}
    if not ids:
        return found
    rows = db.session.scalars(
        sa.select(Attachment)
        .where(
            Attachment.attached_to_type == kind,
            Attachment.attached_to_id.in_([str(i) for i in ids]),
        )
        .order_by(Attachment.id)
    )
    for row in rows:
        found.setdefault(int(row.attached_to_id), []).append(row)
    return found
