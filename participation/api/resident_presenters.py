"""What the resident API answers about messages and notifications (what the cabinet shows).

The card carries what /my/appeals/<id> shows the author: the resident's status label, the
deadline, the timeline of the steps a resident sees (presenters.RESIDENT_EVENTS), the answer
with its files, the rating and the review a low rating opened.
"""

from __future__ import annotations

import re
from typing import Any

import sqlalchemy as sa
from flask import url_for

from participation.api.presenters import file_item, named
from participation.api.resident_fields import encode_cursor
from participation.appeals import services
from participation.appeals.classifier import Subcategory, fast_track_subcategory_ids
from participation.appeals.models import AnswerStatus, Appeal, AppealAnswer
from participation.appeals.permissions import can_rate, can_return_for_rework
from participation.appeals.presenters import (
    CHANNEL_LABELS,
    RESIDENT_EVENTS,
    appeal_countdown,
    display_tz,
    event_details,
    event_label,
)
from participation.appeals.workflow import RESIDENT_STATE_LABELS, Action
from participation.core.files import Attachment, can_view_attachment
from participation.core.organizations import Organization
from participation.core.outbox import Notification
from participation.core.users import User
from participation.extensions import db

EXCERPT = 200
# The timeline shows the moderator's and the executor's words only for these steps.
COMMENTED_EVENTS = frozenset({Action.REJECT.value, Action.POSTPONE.value})
APPEAL_LINK = re.compile(r"/my/appeals/(\d+)$")
APPEAL = "appeal"
ANSWER = "appeal_answer"


def _excerpt(text: str) -> str:
    return text if len(text) <= EXCERPT else text[: EXCERPT - 1].rstrip() + "…"


def _file(attachment: Attachment, appeal_id: int) -> dict[str, Any]:
    url = url_for("api_resident.appeal_file", appeal_id=appeal_id, file_id=attachment.public_id)
    return file_item(attachment, url)


def _attachments(kind: str, owner_id: int) -> list[Attachment]:
    return list(
        db.session.scalars(
            sa.select(Attachment)
            .where(Attachment.attached_to_type == kind, Attachment.attached_to_id == str(owner_id))
            .order_by(Attachment.id)
        )
    )


def appeal_summary(appeal: Appeal) -> dict[str, Any]:
    """One line of «Мои сообщения»."""
    subcategory = appeal.subcategory
    return {
        "id": appeal.id,
        "number": appeal.number,
        "status": {"code": appeal.state.value, "label": str(RESIDENT_STATE_LABELS[appeal.state])},
        "category": named(subcategory.category),
        "subcategory": named(subcategory),
        "fast_track": appeal.fast_track,
        "channel": {"code": appeal.channel.value, "label": str(CHANNEL_LABELS[appeal.channel])},
        "excerpt": _excerpt(appeal.text),
        "registered_at": appeal.registered_at,
        "answer_due_at": appeal.answer_due_at if appeal.is_open else None,
        "timezone": display_tz(appeal),
    }


def _deadline(appeal: Appeal) -> dict[str, Any]:
    return {
        "answer_due_at": appeal.answer_due_at if appeal.has_answer_term else None,
        "term_days": appeal.term_days,
        "fast_track": appeal.fast_track,
        "overdue": appeal.is_overdue(),
        "countdown": appeal_countdown(appeal) if appeal.is_open else None,
        "postponed_until": appeal.postponed_until,
        "postponement_reason": appeal.postponement_reason,
    }


def _history(appeal: Appeal) -> list[dict[str, Any]]:
    return [
        {
            "at": event.at,
            "action": event.action,
            "label": event_label(event),
            "details": event_details(event) or None,
            "comment": event.comment if event.action in COMMENTED_EVENTS else None,
        }
        for event in services.appeal_history(appeal)
        if event.action in RESIDENT_EVENTS
    ]


def _answer(appeal: Appeal) -> dict[str, Any] | None:
    answer = services.approved_answer(appeal)
    if answer is None:
        return None
    return {
        "text": answer.text,
        "organization": named(answer.organization),
        "answered_at": answer.decided_at or answer.created_at,
        "files": [_file(a, appeal.id) for a in _attachments(ANSWER, answer.id)],
    }


def appeal_card(appeal: Appeal, user: User) -> dict[str, Any]:
    """The whole message as its author sees it."""
    rating = services.appeal_rating(appeal)
    review = services.review_cycle_of(appeal)
    return {
        **appeal_summary(appeal),
        "text": appeal.text,
        "address": appeal.address,
        "latitude": float(appeal.latitude) if appeal.latitude is not None else None,
        "longitude": float(appeal.longitude) if appeal.longitude is not None else None,
        "territory": named(appeal.territory),
        "organization": named(appeal.executor_organization),
        "deadline": _deadline(appeal),
        "files": [_file(a, appeal.id) for a in _attachments(APPEAL, appeal.id)],
        "answer": _answer(appeal),
        "rating": (
            {"score": rating.score, "comment": rating.comment, "created_at": rating.created_at}
            if rating
            else None
        ),
        "review": (
            {
                "id": review.id,
                "number": review.number,
                "organization": named(review.executor_organization),
            }
            if review
            else None
        ),
        "review_of_id": appeal.review_of_id,
        "actions": {
            "can_rate": can_rate(user, appeal),
            "can_return_for_rework": can_return_for_rework(user, appeal),
        },
        "history": _history(appeal),
    }


def find_appeal_file(appeal: Appeal, file_id: str, user: User) -> Attachment | None:
    """A file of this message (the author's own) or of an answer the author received."""
    approved = sa.select(sa.cast(AppealAnswer.id, sa.String)).where(
        AppealAnswer.appeal_id == appeal.id, AppealAnswer.status == AnswerStatus.APPROVED
    )
    attachment = db.session.scalar(
        sa.select(Attachment).where(
            Attachment.public_id == file_id,
            sa.or_(
                sa.and_(
                    Attachment.attached_to_type == APPEAL,
                    Attachment.attached_to_id == str(appeal.id),
                ),
                sa.and_(
                    Attachment.attached_to_type == ANSWER, Attachment.attached_to_id.in_(approved)
                ),
            ),
        )
    )
    # The files' own rule (registered by the appeals feature) has the last word.
    if attachment is None or not can_view_attachment(user, attachment):
        return None
    return attachment


def topic_suggestions(text: str, user: User) -> dict[str, Any]:
    """The form's topic suggestions for `text`, fast-track as in the resident's region."""
    found = services.topic_suggestions(text)
    home = user.registration_territory
    fast = fast_track_subcategory_ids(home.region() if home is not None else None)
    return {
        "selected": services.autoselected_topic(found),
        "suggestions": [
            {
                "subcategory_id": sub.id,
                "subcategory": sub.name,
                "category_id": sub.category_id,
                "category": sub.category.name,
                "fast_track": sub.id in fast,
                "confidence": float(s.confidence),
                "matched_terms": list(s.matched_terms),
            }
            for sub, s in found
        ],
    }


def _page(rows: list[Any], limit: int, key) -> tuple[list[Any], str | None]:
    """The page's rows and the cursor of the next page (None on the last one)."""
    more = len(rows) > limit
    rows = rows[:limit]
    return rows, (encode_cursor(*key(rows[-1])) if more else None)


def appeal_page(
    user: User, cursor: tuple | None, limit: int
) -> tuple[list[dict[str, Any]], str | None]:
    """The author's messages, newest first (the cabinet's order), one page after `cursor`."""
    query = (
        sa.select(Appeal)
        .where(Appeal.author_id == user.id)
        .order_by(Appeal.registered_at.desc(), Appeal.id.desc())
        .options(
            sa.orm.selectinload(Appeal.subcategory).joinedload(Subcategory.category),
            sa.orm.selectinload(Appeal.executor_organization).selectinload(Organization.territory),
        )
        .limit(limit + 1)
    )
    if cursor is not None:
        moment, last_id = cursor
        query = query.where(
            sa.or_(
                Appeal.registered_at < moment,
                sa.and_(Appeal.registered_at == moment, Appeal.id < last_id),
            )
        )
    rows, next_cursor = _page(list(db.session.scalars(query)), limit, _appeal_key)
    return [appeal_summary(a) for a in rows], next_cursor


def _appeal_key(appeal: Appeal) -> tuple:
    return appeal.registered_at, appeal.id


def _notification(row: Notification) -> dict[str, Any]:
    match = APPEAL_LINK.search(row.link or "")
    return {
        "id": row.id,
        "title": row.title,
        "body": row.body,
        "link": row.link,
        "appeal_id": int(match.group(1)) if match else None,
        "created_at": row.created_at,
        "read": row.read_at is not None,
    }


def unread_count(user: User) -> int:
    return db.session.scalar(
        sa.select(sa.func.count())
        .select_from(Notification)
        .where(Notification.user_id == user.id, Notification.read_at.is_(None))
    )


def notification_page(
    user: User, cursor: tuple | None, limit: int
) -> tuple[list[dict[str, Any]], str | None]:
    """The resident's feed, newest first (as /my/notifications shows it)."""
    query = (
        sa.select(Notification)
        .where(Notification.user_id == user.id)
        .order_by(Notification.created_at.desc(), Notification.id.desc())
        .limit(limit + 1)
    )
    if cursor is not None:
        moment, last_id = cursor
        query = query.where(
            sa.or_(
                Notification.created_at < moment,
                sa.and_(Notification.created_at == moment, Notification.id < last_id),
            )
        )
    rows, next_cursor = _page(
        list(db.session.scalars(query)), limit, lambda n: (n.created_at, n.id)
    )
    return [_notification(n) for n in rows], next_cursor
