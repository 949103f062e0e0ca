"""Webhook endpoints of organizations, the events they chose, events emitted and deliveries."""

from __future__ import annotations

import enum
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from participation.core.db import Base, TimestampMixin, str_enum, utcnow
from participation.core.organizations import Organization


class EventType(enum.StrEnum):
    """What an organization may subscribe to (Standard Webhooks `type`: dotted, hierarchical)."""

    APPEAL_ASSIGNED = "appeal.assigned"  # поступило в организацию на исполнение
    APPEAL_DUE_SOON = "appeal.due_soon"  # до срока ответа меньше 24 часов
    APPEAL_OVERDUE = "appeal.overdue"  # срок ответа истёк
    APPEAL_RATED = "appeal.rated"  # заявитель оценил ответ
    APPEAL_ESCALATED = "appeal.escalated"  # низкая оценка: в вышестоящую организацию
    APPEAL_ANSWER_RETURNED = "appeal.answer_returned"  # заявитель вернул ответ на доработку


class DeliveryStatus(enum.StrEnum):
    PENDING = "pending"  # ещё не доставлено, попытки продолжаются
    SUCCEEDED = "succeeded"  # получатель ответил 2xx
    FAILED = "failed"  # 24 часа без успеха (или адрес отключён): больше не отправляется


class WebhookEndpoint(TimestampMixin, Base):
    """An HTTPS address of an organization's system (СЭД, chat bot…) and its signing secret.

    The secret must be readable to sign with it (HMAC): it is stored as shown to the
    administrator. After a rotation the previous secret still signs (a second signature in
    the header) until `previous_secret_until`, so the receiver can switch without losing events.
    """

    __tablename__ = "webhook_endpoints"

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(sa.ForeignKey("organizations.id"))
    url: Mapped[str] = mapped_column(sa.String(2000))
    description: Mapped[str | None] = mapped_column(sa.String(200))
    secret: Mapped[str] = mapped_column(sa.String(100))
    previous_secret: Mapped[str | None] = mapped_column(sa.String(100))
    previous_secret_until: Mapped[datetime | None]
    is_active: Mapped[bool] = mapped_column(default=True)
    # Why the platform switched it off by itself (the receiver answered 410 Gone).
    disabled_reason: Mapped[str | None] = mapped_column(sa.String(300))
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    organization: Mapped[Organization] = relationship()
    subscriptions: Mapped[list[WebhookSubscription]] = relationship(
        back_populates="endpoint",
        cascade="all, delete-orphan",
        passive_deletes=True,
    )

    __table_args__ = (
        # One address once per organization: a second registration would get every event twice.
        sa.UniqueConstraint("organization_id", "url"),
        sa.CheckConstraint("secret LIKE 'whsec_%'", name="secret_format"),
        sa.CheckConstraint(
            "previous_secret IS NULL OR previous_secret_until IS NOT NULL",
            name="previous_secret_expires",
        ),
    )

    @property
    def event_types(self) -> list[EventType]:
        """The chosen types, in the order EventType lists them."""
        order = list(EventType)
        return sorted((s.event_type for s in self.subscriptions), key=order.index)

    def signing_secrets(self, now: datetime) -> list[str]:
        """The current secret, and the previous one while its grace period lasts."""
        secrets = [self.secret]
        if self.previous_secret and self.previous_secret_until and now < self.previous_secret_until:
            secrets.append(self.previous_secret)
        return secrets


class WebhookSubscription(Base):
    """One event type an endpoint receives; since when (older deadlines are not announced)."""

    __tablename__ = "webhook_subscriptions"

    endpoint_id: Mapped[int] = mapped_column(
        sa.ForeignKey("webhook_endpoints.id", ondelete="CASCADE"), primary_key=True
    )
    event_type: Mapped[EventType] = mapped_column(
        str_enum(EventType, "event_type"), primary_key=True
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    endpoint: Mapped[WebhookEndpoint] = relationship(back_populates="subscriptions")


class WebhookEvent(Base):
    """Something that happened to a message, as one organization is told about it.

    `public_id` is the Standard Webhooks `webhook-id`: the same on every attempt and every
    resend, so receivers de-duplicate by it. `body` is the exact JSON sent (signed as is).
    `dedup_key` makes each event once per organization: one per workflow step, one per
    message × deadline for the sweep's due-soon and overdue events.
    """

    __tablename__ = "webhook_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(sa.String(40), unique=True)
    organization_id: Mapped[int] = mapped_column(sa.ForeignKey("organizations.id"))
    event_type: Mapped[EventType] = mapped_column(str_enum(EventType, "event_type"))
    dedup_key: Mapped[str] = mapped_column(sa.String(200))
    appeal_id: Mapped[int | None] = mapped_column(sa.ForeignKey("appeals.id", ondelete="CASCADE"))
    # The answer deadline a due-soon or overdue event is about (the sweep looks it up).
    deadline_at: Mapped[datetime | None]
    occurred_at: Mapped[datetime] = mapped_column(default=utcnow)
    body: Mapped[str] = mapped_column(sa.Text)

    __table_args__ = (
        sa.UniqueConstraint("organization_id", "dedup_key"),
        sa.Index("ix_webhook_events_appeal", "appeal_id", "event_type"),
    )


class WebhookDelivery(Base):
    """One event to one endpoint: its attempts so far and what the receiver last said."""

    __tablename__ = "webhook_deliveries"

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(sa.ForeignKey("webhook_events.id", ondelete="CASCADE"))
    endpoint_id: Mapped[int] = mapped_column(
        sa.ForeignKey("webhook_endpoints.id", ondelete="CASCADE")
    )
    status: Mapped[DeliveryStatus] = mapped_column(
        str_enum(DeliveryStatus, "status"), default=DeliveryStatus.PENDING
    )
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime | None]
    # Retries stop after this moment (24 h after the event, or after a resend by hand).
    give_up_at: Mapped[datetime]
    # A worker is sending it now (until then nobody else does); a lost worker's claim expires.
    in_flight_until: Mapped[datetime | None]
    # When a job was last queued for it: the sweep queues it again only if that job was lost.
    queued_at: Mapped[datetime | None]
    last_attempt_at: Mapped[datetime | None]
    last_status_code: Mapped[int | None]
    last_response: Mapped[str | None] = mapped_column(sa.String(500))
    last_error: Mapped[str | None] = mapped_column(sa.String(500))
    delivered_at: Mapped[datetime | None]
    resent_count: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    event: Mapped[WebhookEvent] = relationship()
    endpoint: Mapped[WebhookEndpoint] = relationship()

    __table_args__ = (
        sa.UniqueConstraint("event_id", "endpoint_id"),
        sa.CheckConstraint("attempts >= 0", name="attempts_not_negative"),
        sa.CheckConstraint(
            "status <> 'pending' OR next_attempt_at IS NOT NULL", name="pending_has_next_attempt"
        ),
        sa.CheckConstraint(
            "status <> 'succeeded' OR delivered_at IS NOT NULL", name="succeeded_has_time"
        ),
        sa.Index("ix_webhook_deliveries_due", "status", "next_attempt_at"),
        sa.Index("ix_webhook_deliveries_log", "endpoint_id", "created_at"),
    )
