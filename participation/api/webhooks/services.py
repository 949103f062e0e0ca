"""Webhook services: endpoints and secrets, emitting events (an outbox), signing, attempts.

Events are written in the transaction of the change they report, with one delivery row per
subscribed endpoint; the first attempt is a job queued after the commit, later ones come from
the sweep (tasks.py) on a backoff schedule for 24 hours. Services flush, never commit.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import random
import secrets
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from participation.api.webhooks.models import (
    DeliveryStatus,
    EventType,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEvent,
    WebhookSubscription,
)
from participation.api.webhooks.transport import Policy, url_problem
from participation.appeals.models import Appeal
from participation.appeals.services import card_path
from participation.core import audit
from participation.core.db import insert_unless_present, utcnow
from participation.core.errors import DomainError, FieldError
from participation.core.jobs import enqueue_after_commit
from participation.core.organizations import Organization
from participation.core.outbox import notify
from participation.core.users import Membership, Role, User
from participation.extensions import db

DELIVER_JOB = "participation.api.webhooks.tasks:deliver"
SECRET_PREFIX = "whsec_"  # noqa: S105 (the prefix Standard Webhooks secrets carry)
SECRET_BYTES = 32  # Standard Webhooks: 24 to 64 bytes
ROTATION_GRACE = timedelta(hours=24)
DELIVERY_WINDOW = timedelta(hours=24)
# Waits after the 1st, 2nd… failed attempt (Standard Webhooks' example schedule); the last one
# repeats. No attempt is planned past the window: the last one falls at its end.
RETRY_DELAYS = (
    timedelta(seconds=5),
    timedelta(minutes=5),
    timedelta(minutes=30),
    timedelta(hours=2),
    timedelta(hours=5),
    timedelta(hours=10),
)
JITTER = 0.1  # up to +10 % on each wait, so failures caused by load do not come back in step
IN_FLIGHT_LEASE = timedelta(minutes=2)  # longer than any request may take
DESCRIPTION_MAX_LENGTH = 200
SNIPPET_CHARS = 500


# --- Endpoints -------------------------------------------------------------------------------


def policy() -> Policy:
    """Where this installation lets webhooks go (WEBHOOKS_* settings)."""
    return Policy.from_config(current_app.config)


def new_secret() -> str:
    """A signing secret as Standard Webhooks prints it: `whsec_` + base64 of random bytes."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def _clean_url(url: str | None) -> str:
    url = (url or "").strip()
    if not url:
        raise FieldError("url", _l("Укажите адрес, на который отправлять события."))
    problem = url_problem(url, policy())
    if problem is not None:
        raise FieldError("url", problem)
    return url


def _clean_description(description: str | None) -> str | None:
    text = (description or "").strip()
    if len(text) > DESCRIPTION_MAX_LENGTH:
        raise FieldError(
            "description",
            _l(
                "Не больше %(max)d символов, сейчас %(n)d.", max=DESCRIPTION_MAX_LENGTH, n=len(text)
            ),
        )
    return text or None


def _clean_events(event_types: Iterable[str] | None) -> list[EventType]:
    chosen = list(dict.fromkeys(event_types or ()))
    if not chosen:
        raise FieldError("events", _l("Выберите хотя бы одно событие."))
    try:
        return [EventType(e) for e in chosen]
    except ValueError:
        raise FieldError("events", _l("Выберите события из списка.")) from None


def endpoints_of(organization: Organization) -> list[WebhookEndpoint]:
    """The organization's endpoints, oldest first."""
    return list(
        db.session.scalars(
            sa.select(WebhookEndpoint)
            .where(WebhookEndpoint.organization_id == organization.id)
            .order_by(WebhookEndpoint.id)
        )
    )


def create_endpoint(
    organization: Organization,
    actor: User,
    *,
    url: str | None,
    description: str | None,
    event_types: Iterable[str] | None,
) -> WebhookEndpoint:
    """Register an address for the organization's events, with a new signing secret."""
    url = _clean_url(url)
    description = _clean_description(description)
    events = _clean_events(event_types)
    endpoint = WebhookEndpoint(
        organization_id=organization.id,
        url=url,
        description=description,
        secret=new_secret(),
        is_active=True,
        created_by_id=actor.id,
        created_at=utcnow(),
        updated_at=utcnow(),
    )
    endpoint.subscriptions = [
        WebhookSubscription(event_type=e, created_at=utcnow()) for e in events
    ]
    _refuse_taken_address(organization.id, url)
    try:
        with db.session.begin_nested():
            db.session.add(endpoint)
    except IntegrityError:
        _refuse_taken_address(organization.id, url)  # a twin request was first
        raise
    audit.record(
        "webhook.endpoint_created",
        endpoint,
        actor_id=actor.id,
        organization_id=organization.id,
        url=url,
        events=[e.value for e in events],
    )
    return endpoint


def _refuse_taken_address(organization_id: int, url: str, but: int | None = None) -> None:
    """One address once per organization: a second registration (or a double submit of the
    form) would get every event twice. The unique constraint holds it under races."""
    taken = db.session.scalar(
        sa.select(WebhookEndpoint.id).where(
            WebhookEndpoint.organization_id == organization_id,
            WebhookEndpoint.url == url,
            WebhookEndpoint.id != but if but is not None else sa.true(),
        )
    )
    if taken is not None:
        raise FieldError(
            "url",
            _l(
                "Этот адрес уже зарегистрирован для организации: откройте его в списке и "
                "отметьте нужные события там."
            ),
        )


def update_endpoint(
    endpoint: WebhookEndpoint,
    actor: User,
    *,
    url: str | None,
    description: str | None,
    event_types: Iterable[str] | None,
) -> WebhookEndpoint:
    """Change the address, the note or the events; events kept keep their start time."""
    url = _clean_url(url)
    description = _clean_description(description)
    events = _clean_events(event_types)
    _refuse_taken_address(endpoint.organization_id, url, but=endpoint.id)
    kept = {s.event_type: s for s in endpoint.subscriptions}
    endpoint.subscriptions = [
        kept.get(e) or WebhookSubscription(event_type=e, created_at=utcnow()) for e in events
    ]
    endpoint.url, endpoint.description = url, description
    endpoint.updated_at = utcnow()
    db.session.flush()
    audit.record(
        "webhook.endpoint_updated",
        endpoint,
        actor_id=actor.id,
        url=url,
        events=[e.value for e in events],
    )
    return endpoint


def rotate_secret(endpoint: WebhookEndpoint, actor: User) -> str:
    """A new secret; the old one still signs (a second signature) for 24 hours."""
    now = utcnow()
    endpoint.previous_secret = endpoint.secret
    endpoint.previous_secret_until = now + ROTATION_GRACE
    endpoint.secret = new_secret()
    endpoint.updated_at = now
    db.session.flush()
    audit.record("webhook.secret_rotated", endpoint, actor_id=actor.id)
    return endpoint.secret


def set_active(endpoint: WebhookEndpoint, actor: User, active: bool) -> None:
    """Pause or resume sending; deliveries wait (within their 24 hours) while paused."""
    endpoint.is_active = active
    endpoint.disabled_reason = None
    endpoint.updated_at = utcnow()
    db.session.flush()
    audit.record(
        "webhook.endpoint_enabled" if active else "webhook.endpoint_disabled",
        endpoint,
        actor_id=actor.id,
    )


def delete_endpoint(endpoint: WebhookEndpoint, actor: User) -> None:
    """Remove the address, its subscriptions and its delivery log."""
    audit.record("webhook.endpoint_deleted", endpoint, actor_id=actor.id, url=endpoint.url)
    db.session.execute(sa.delete(WebhookDelivery).where(WebhookDelivery.endpoint_id == endpoint.id))
    db.session.delete(endpoint)
    db.session.flush()


def deliveries_query(endpoint: WebhookEndpoint) -> sa.Select:
    """The endpoint's delivery log, newest first (paginated by the caller)."""
    return (
        sa.select(WebhookDelivery)
        .where(WebhookDelivery.endpoint_id == endpoint.id)
        .options(joinedload(WebhookDelivery.event))
        .order_by(WebhookDelivery.created_at.desc(), WebhookDelivery.id.desc())
    )


def last_deliveries(endpoints: Sequence[WebhookEndpoint]) -> dict[int, WebhookDelivery]:
    """The latest delivery of each endpoint (for the list page), in one query."""
    if not endpoints:
        return {}
    latest = (
        sa.select(sa.func.max(WebhookDelivery.id))
        .where(WebhookDelivery.endpoint_id.in_([e.id for e in endpoints]))
        .group_by(WebhookDelivery.endpoint_id)
    )
    rows = db.session.scalars(sa.select(WebhookDelivery).where(WebhookDelivery.id.in_(latest)))
    return {d.endpoint_id: d for d in rows}


def undelivered_count(organization: Organization, since: timedelta = DELIVERY_WINDOW) -> int:
    """Deliveries of the last day that failed or are being retried (for the cabinet's home)."""
    return (
        db.session.scalar(
            sa.select(sa.func.count(WebhookDelivery.id))
            .join(WebhookEndpoint)
            .where(
                WebhookEndpoint.organization_id == organization.id,
                WebhookDelivery.created_at >= utcnow() - since,
                sa.or_(
                    WebhookDelivery.status == DeliveryStatus.FAILED,
                    sa.and_(
                        WebhookDelivery.status == DeliveryStatus.PENDING,
                        WebhookDelivery.attempts > 0,
                    ),
                ),
            )
        )
        or 0
    )


# --- Emitting events -------------------------------------------------------------------------


def iso(moment: datetime) -> str:
    """ISO 8601 in UTC with `Z`, as Standard Webhooks' examples write it."""
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def new_event_id() -> str:
    """A `webhook-id`: unique, without dots (they delimit the signed content)."""
    return f"msg_{uuid.uuid4().hex}"


def appeal_data(appeal: Appeal) -> dict[str, Any]:
    """What an event says about a message: ids, state and deadlines — nothing personal."""
    return {
        "id": appeal.id,
        "number": appeal.number,
        "state": appeal.state.value,
        "fast_track": appeal.fast_track,
        "registered_at": iso(appeal.registered_at),
        "answer_due_at": iso(appeal.answer_due_at),
        "organization_id": appeal.executor_organization_id,
        "url": current_app.config["PUBLIC_BASE_URL"] + card_path(appeal.id),
    }


def subscribed_endpoints(organization_id: int, event_type: EventType) -> list[int]:
    """Ids of the organization's active endpoints that receive `event_type`."""
    return list(
        db.session.scalars(
            sa.select(WebhookEndpoint.id)
            .join(WebhookSubscription)
            .where(
                WebhookEndpoint.organization_id == organization_id,
                WebhookEndpoint.is_active.is_(True),
                WebhookSubscription.event_type == event_type,
            )
            .order_by(WebhookEndpoint.id)
        )
    )


def emit(
    organization_id: int,
    event_type: EventType,
    dedup_key: str,
    data: dict[str, Any],
    *,
    appeal_id: int | None = None,
    deadline_at: datetime | None = None,
    occurred_at: datetime | None = None,
    endpoint_ids: Sequence[int] | None = None,
) -> WebhookEvent | None:
    """Write the event and its deliveries in the current transaction; send after the commit.

    Nothing is written when no active endpoint of the organization wants this type, or when
    the organization already had an event with this `dedup_key` (a repeated sweep, a replay).
    `endpoint_ids`: the subscribed endpoints when the caller has already looked them up.
    """
    if endpoint_ids is None:
        endpoint_ids = subscribed_endpoints(organization_id, event_type)
    if not endpoint_ids:
        return None
    now = utcnow()
    occurred_at = occurred_at or now
    body = json.dumps(
        {"type": event_type.value, "timestamp": iso(occurred_at), "data": data},
        ensure_ascii=False,
        separators=(",", ":"),
    )
    table = WebhookEvent.__table__
    event_id = db.session.scalar(
        insert_unless_present(
            table,
            ("organization_id", "dedup_key"),
            table.c.id,
            db.session.get_bind().dialect.name,
        ),
        {
            "public_id": new_event_id(),
            "organization_id": organization_id,
            "event_type": event_type.value,
            "dedup_key": dedup_key,
            "appeal_id": appeal_id,
            "deadline_at": deadline_at,
            "occurred_at": occurred_at,
            "body": body,
        },
    )
    if event_id is None:
        return None
    deliveries = [
        WebhookDelivery(
            event_id=event_id,
            endpoint_id=endpoint_id,
            status=DeliveryStatus.PENDING,
            attempts=0,
            next_attempt_at=now,
            give_up_at=now + DELIVERY_WINDOW,
            queued_at=now,
            resent_count=0,
            created_at=now,
        )
        for endpoint_id in endpoint_ids
    ]
    db.session.add_all(deliveries)
    db.session.flush()
    for delivery in deliveries:
        enqueue_after_commit(DELIVER_JOB, delivery.id)
    return db.session.get(WebhookEvent, event_id)


# --- Signing and attempts --------------------------------------------------------------------


def sign(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    """`v1,` + base64(HMAC-SHA256(secret bytes, "{id}.{timestamp}.{body}"))."""
    key = base64.b64decode(secret.removeprefix(SECRET_PREFIX))
    signed = f"{msg_id}.{timestamp}.".encode() + body
    return "v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()


@dataclass(frozen=True)
class SignedRequest:
    url: str
    body: bytes
    headers: dict[str, str]


def signed_request(delivery: WebhookDelivery, now: datetime) -> SignedRequest:
    """The POST for this attempt: the event's id and body, this moment's timestamp."""
    event, endpoint = delivery.event, delivery.endpoint
    body = event.body.encode()
    timestamp = int(now.timestamp())
    signatures = [sign(s, event.public_id, timestamp, body) for s in endpoint.signing_secrets(now)]
    return SignedRequest(
        url=endpoint.url,
        body=body,
        headers={
            "Content-Type": "application/json",
            "webhook-id": event.public_id,
            "webhook-timestamp": str(timestamp),
            "webhook-signature": " ".join(signatures),
        },
    )


def claim_delivery(delivery_id: int, now: datetime) -> WebhookDelivery | None:
    """Take a due delivery for one attempt (nobody else sends it meanwhile), or None."""
    stmt = (
        sa.select(WebhookDelivery)
        .join(WebhookEndpoint)
        .where(
            WebhookDelivery.id == delivery_id,
            WebhookDelivery.status == DeliveryStatus.PENDING,
            WebhookDelivery.next_attempt_at <= now,
            sa.or_(
                WebhookDelivery.in_flight_until.is_(None), WebhookDelivery.in_flight_until < now
            ),
            WebhookEndpoint.is_active.is_(True),
        )
    )
    if db.session.get_bind().dialect.name == "postgresql":
        stmt = stmt.with_for_update(of=WebhookDelivery, skip_locked=True)
    delivery = db.session.scalar(stmt.execution_options(populate_existing=True))
    if delivery is not None:
        delivery.in_flight_until = now + IN_FLIGHT_LEASE
        db.session.flush()
    return delivery


def retry_delay(attempts: int) -> timedelta:
    """The wait after the `attempts`-th failed attempt, with a little random jitter."""
    base = RETRY_DELAYS[min(attempts, len(RETRY_DELAYS)) - 1]
    return base * (1 + random.uniform(0, JITTER))  # noqa: S311 (spreading load, not secrecy)


def _retry_after(value: str | None, now: datetime) -> timedelta | None:
    """A `Retry-After` in seconds (dates are rare for webhooks and not honoured)."""
    if value and value.strip().isdecimal():
        return timedelta(seconds=min(int(value.strip()), int(DELIVERY_WINDOW.total_seconds())))
    return None


def _snippet(body: bytes | None) -> str | None:
    if not body:
        return None
    text = body.decode("utf-8", errors="replace").replace("\x00", "")
    return text[:SNIPPET_CHARS]


def record_attempt(
    delivery_id: int,
    now: datetime,
    *,
    status_code: int | None = None,
    body: bytes | None = None,
    retry_after: str | None = None,
    error: str | None = None,
) -> WebhookDelivery:
    """Write what one attempt gave: delivered on 2xx; otherwise the next try or failure."""
    delivery = db.session.get(WebhookDelivery, delivery_id, populate_existing=True)
    delivery.attempts += 1
    delivery.last_attempt_at = now
    delivery.last_status_code = status_code
    delivery.last_response = _snippet(body)
    delivery.last_error = error[:500] if error else None
    delivery.in_flight_until = None
    delivery.queued_at = None
    if status_code is not None and 200 <= status_code < 300:
        delivery.status = DeliveryStatus.SUCCEEDED
        delivery.delivered_at = now
        delivery.next_attempt_at = None
    elif status_code == 410:
        # "Gone": the receiver asks to stop (Standard Webhooks); the address is switched off.
        delivery.status = DeliveryStatus.FAILED
        delivery.next_attempt_at = None
        _disable_gone(delivery.endpoint, now)
    elif now >= delivery.give_up_at:
        delivery.status = DeliveryStatus.FAILED
        delivery.next_attempt_at = None
    else:
        wait = retry_delay(delivery.attempts)
        asked = _retry_after(retry_after, now)
        if asked is not None and asked > wait:
            wait = asked
        delivery.next_attempt_at = min(now + wait, delivery.give_up_at)
    db.session.flush()
    return delivery


def _disable_gone(endpoint: WebhookEndpoint, now: datetime) -> None:
    if not endpoint.is_active:
        return
    endpoint.is_active = False
    endpoint.disabled_reason = _("Получатель ответил 410 Gone: он просит больше не отправлять.")
    endpoint.updated_at = now
    audit.record("webhook.endpoint_gone", endpoint, url=endpoint.url)
    for admin in db.session.scalars(
        sa.select(User)
        .join(Membership, Membership.user_id == User.id)
        .where(
            Membership.organization_id == endpoint.organization_id,
            Membership.role == Role.ADMINISTRATOR,
        )
        .order_by(User.id)
    ):
        notify(
            admin.id,
            f"webhook:{endpoint.id}:gone:{int(now.timestamp())}:u{admin.id}",
            _("Вебхук отключён"),
            _(
                "Получатель по адресу %(url)s ответил «410 Gone», и отправка событий на этот "
                "адрес остановлена. Проверьте адрес и включите его снова в разделе «Вебхуки».",
                url=endpoint.url,
            ),
            email=admin.email,
        )


def resend_delivery(delivery: WebhookDelivery, actor: User) -> None:
    """By hand: send again now with the same event id (receivers de-duplicate by it).

    A delivery past its 24 hours gets this one attempt; one still within them keeps its schedule.
    """
    if not delivery.endpoint.is_active:
        raise DomainError(_l("Адрес отключён: включите его, чтобы отправлять события."))
    now = utcnow()
    if delivery.in_flight_until is not None and delivery.in_flight_until > now:
        raise DomainError(_l("Это событие отправляется прямо сейчас. Обновите страницу позже."))
    delivery.status = DeliveryStatus.PENDING
    delivery.next_attempt_at = now
    delivery.give_up_at = max(delivery.give_up_at, now)
    delivery.delivered_at = None
    delivery.queued_at = now
    delivery.resent_count += 1
    db.session.flush()
    audit.record("webhook.delivery_resent", delivery, actor_id=actor.id)
    enqueue_after_commit(DELIVER_JOB, delivery.id)
