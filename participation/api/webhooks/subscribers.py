"""What the webhooks hear from messages: the appeals feature's signals turned into events.

The appeals feature never imports webhooks; the factory connects these receivers once. They
run inside the change's transaction, so an event exists exactly when the change committed.
"""

from __future__ import annotations

from typing import Any

from participation.api.webhooks.models import EventType
from participation.api.webhooks.services import appeal_data, emit
from participation.appeals import signals
from participation.appeals.models import Appeal, AppealEvent


def _key(event_type: EventType, appeal: Appeal, event: AppealEvent) -> str:
    """One event of a type per workflow step (a low rating is both `rated` and `escalated`)."""
    return f"{event_type.value}:appeal:{appeal.id}:e{event.id}"


def _on_assigned(appeal: Appeal, *, organization_id: int, event: AppealEvent, **_: Any) -> None:
    emit(
        organization_id,
        EventType.APPEAL_ASSIGNED,
        _key(EventType.APPEAL_ASSIGNED, appeal, event),
        {"appeal": appeal_data(appeal), "arrival": appeal.arrival.value},
        appeal_id=appeal.id,
        occurred_at=event.at,
    )


def _on_answer_returned(appeal: Appeal, *, event: AppealEvent, **_: Any) -> None:
    emit(
        appeal.executor_organization_id,
        EventType.APPEAL_ANSWER_RETURNED,
        _key(EventType.APPEAL_ANSWER_RETURNED, appeal, event),
        {"appeal": appeal_data(appeal), "rework_count": appeal.rework_count},
        appeal_id=appeal.id,
        occurred_at=event.at,
    )


def _on_rating(appeal: Appeal, *, score: int, event: AppealEvent, **_: Any) -> None:
    emit(
        appeal.executor_organization_id,
        EventType.APPEAL_RATED,
        _key(EventType.APPEAL_RATED, appeal, event),
        {"appeal": appeal_data(appeal), "rating": {"score": score}},
        appeal_id=appeal.id,
        occurred_at=event.at,
    )


def _on_escalated(appeal: Appeal, *, review: Appeal, event: AppealEvent, **_: Any) -> None:
    """Both sides hear it: the organization whose answer was rated low, and the higher one."""
    data = {
        "appeal": appeal_data(appeal),
        "review": {
            "id": review.id,
            "number": review.number,
            "organization_id": review.executor_organization_id,
            "answer_due_at": appeal_data(review)["answer_due_at"],
        },
    }
    for organization_id in dict.fromkeys(
        (appeal.executor_organization_id, review.executor_organization_id)
    ):
        emit(
            organization_id,
            EventType.APPEAL_ESCALATED,
            _key(EventType.APPEAL_ESCALATED, appeal, event),
            data,
            appeal_id=appeal.id,
            occurred_at=event.at,
        )


def watch_appeal_events() -> None:
    """Connect the receivers (wired by the factory; connecting twice changes nothing)."""
    signals.assigned_to_organization.connect(_on_assigned)
    signals.answer_returned.connect(_on_answer_returned)
    signals.rating_received.connect(_on_rating)
    signals.escalated.connect(_on_escalated)
