"""Webhook jobs: one delivery attempt, and the sweeps that announce deadlines and retry.

A delivery attempt takes two short transactions on purpose: the first claims the row (so no
other worker sends it meanwhile) and commits, the request runs holding no lock, the second
records the answer. A worker lost mid-request leaves a claim that expires; the sweep then
queues the delivery again. Receivers de-duplicate by `webhook-id`, which never changes.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from flask_babel import gettext as _

from participation.api.webhooks import services
from participation.api.webhooks.models import (
    DeliveryStatus,
    EventType,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEvent,
    WebhookSubscription,
)
from participation.api.webhooks.transport import DeliveryError, post
from participation.appeals.models import NOT_THANKS, Appeal
from participation.appeals.workflow import OPEN_BUCKETS
from participation.core.db import utcnow
from participation.core.jobs import enqueue_after_commit, sweep
from participation.extensions import db

DUE_SOON = timedelta(hours=24)
BATCH = 500
# A queued job not run for this long is taken as lost (Redis restarted): the sweep queues it
# again. A duplicate is harmless: it finds the delivery claimed or not yet due and does nothing.
REQUEUE_AFTER = timedelta(minutes=5)


def deliver(delivery_id: int) -> str:
    """One attempt for a delivery that is due: claim, sign, POST, record what came back."""
    now = utcnow()
    delivery = services.claim_delivery(delivery_id, now)
    if delivery is None:
        db.session.rollback()
        return "skipped"
    request = services.signed_request(delivery, now)
    db.session.commit()
    try:
        response = post(request.url, request.body, request.headers, services.policy())
    except DeliveryError as exc:
        result = services.record_attempt(delivery_id, utcnow(), error=str(exc))
    else:
        result = services.record_attempt(
            delivery_id,
            utcnow(),
            status_code=response.status,
            body=response.body,
            retry_after=response.retry_after,
        )
    db.session.commit()
    return result.status.value


def _subscribers(event_type: EventType) -> Any:
    """Organizations with an active endpoint for `event_type`, and since when they have one."""
    return (
        sa.select(
            WebhookEndpoint.organization_id.label("organization_id"),
            sa.func.min(WebhookSubscription.created_at).label("since"),
        )
        .join(WebhookSubscription)
        .where(WebhookEndpoint.is_active.is_(True), WebhookSubscription.event_type == event_type)
        .group_by(WebhookEndpoint.organization_id)
        .subquery()
    )


def _announce_deadlines(event_type: EventType, now: datetime) -> int:
    """One event per open message × answer deadline for its organization, never twice."""
    subscribers = _subscribers(event_type)
    organization = Appeal.executor_organization_id
    already = sa.select(WebhookEvent.id).where(
        WebhookEvent.organization_id == organization,
        WebhookEvent.appeal_id == Appeal.id,
        WebhookEvent.event_type == event_type,
        WebhookEvent.deadline_at == Appeal.answer_due_at,
    )
    if event_type == EventType.APPEAL_OVERDUE:
        # Deadlines that passed since the organization subscribed; older ones are not news.
        when = sa.and_(Appeal.answer_due_at < now, Appeal.answer_due_at >= subscribers.c.since)
    else:
        when = sa.and_(Appeal.answer_due_at >= now, Appeal.answer_due_at < now + DUE_SOON)
    query = (
        sa.select(Appeal)
        .join(subscribers, subscribers.c.organization_id == organization)
        .where(Appeal.bucket.in_(OPEN_BUCKETS), when, NOT_THANKS, ~sa.exists(already))
        .order_by(Appeal.answer_due_at, Appeal.id)
        .limit(BATCH)
    )
    endpoints: dict[int, list[int]] = {}
    announced = 0
    after: tuple[datetime, int] | None = None
    while True:
        page = query
        if after is not None:
            page = page.where(
                sa.or_(
                    Appeal.answer_due_at > after[0],
                    sa.and_(Appeal.answer_due_at == after[0], Appeal.id > after[1]),
                )
            )
        batch = list(db.session.scalars(page))
        for appeal in batch:
            org_id = appeal.executor_organization_id
            if org_id not in endpoints:
                endpoints[org_id] = services.subscribed_endpoints(org_id, event_type)
            event = services.emit(
                org_id,
                event_type,
                f"{event_type.value}:appeal:{appeal.id}:{int(appeal.answer_due_at.timestamp())}",
                {"appeal": services.appeal_data(appeal)},
                appeal_id=appeal.id,
                deadline_at=appeal.answer_due_at,
                occurred_at=now,
                endpoint_ids=endpoints[org_id],
            )
            announced += event is not None
        db.session.flush()
        if len(batch) < BATCH:
            return announced
        after = (batch[-1].answer_due_at, batch[-1].id)


@sweep
def announce_webhook_deadlines() -> dict[str, int]:
    """appeal.overdue and appeal.due_soon (24 h left) for organizations that subscribed."""
    now = utcnow()
    overdue = _announce_deadlines(EventType.APPEAL_OVERDUE, now)
    # After the overdue ones: a message already overdue gets no "due soon" for that deadline.
    soon = _announce_deadlines(EventType.APPEAL_DUE_SOON, now)
    return {"overdue": overdue, "due_soon": soon}


@sweep
def retry_webhook_deliveries() -> dict[str, int]:
    """Queue the deliveries whose next attempt is due; close those of paused endpoints."""
    now = utcnow()
    paused = sa.select(WebhookEndpoint.id).where(WebhookEndpoint.is_active.is_(False))
    closed = db.session.execute(
        sa.update(WebhookDelivery)
        .where(
            WebhookDelivery.status == DeliveryStatus.PENDING,
            WebhookDelivery.give_up_at <= now,
            WebhookDelivery.endpoint_id.in_(paused),
        )
        .values(
            status=DeliveryStatus.FAILED,
            next_attempt_at=None,
            queued_at=None,
            last_error=_("Не отправлено: адрес был отключён все 24 часа."),
        )
        .execution_options(synchronize_session=False)
    ).rowcount
    due = list(
        db.session.scalars(
            sa.select(WebhookDelivery.id)
            .join(WebhookEndpoint)
            .where(
                WebhookDelivery.status == DeliveryStatus.PENDING,
                WebhookDelivery.next_attempt_at <= now,
                sa.or_(
                    WebhookDelivery.in_flight_until.is_(None),
                    WebhookDelivery.in_flight_until < now,
                ),
                sa.or_(
                    WebhookDelivery.queued_at.is_(None),
                    WebhookDelivery.queued_at < now - REQUEUE_AFTER,
                ),
                WebhookEndpoint.is_active.is_(True),
            )
            .order_by(WebhookDelivery.next_attempt_at, WebhookDelivery.id)
            .limit(BATCH)
        )
    )
    if due:
        db.session.execute(
            sa.update(WebhookDelivery)
            .where(WebhookDelivery.id.in_(due))
            .values(queued_at=now)
            .execution_options(synchronize_session=False)
        )
    for delivery_id in due:
        enqueue_after_commit(services.DELIVER_JOB, delivery_id)
    return {"queued": len(due), "failed_paused": closed or 0}
