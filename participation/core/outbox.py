"""Notification outbox: written with the business change, delivered by a relay, once per key."""

from __future__ import annotations

import enum
import logging
import os
import smtplib
import tempfile
from collections.abc import Sequence
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path
from typing import NamedTuple
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import Mapped, mapped_column

from participation.core.db import Base, insert_unless_present, str_enum, utcnow
from participation.core.i18n import display_zone
from participation.core.jobs import enqueue_after_commit, sweep
from participation.core.preferences import (
    QUIET_KINDS,
    NoticeKind,
    home_zone,
    quiet_until,
    wants_email,
)
from participation.core.users import User
from participation.extensions import db

log = logging.getLogger(__name__)
MAX_ATTEMPTS = 8


class Channel(enum.StrEnum):
    FEED = "feed"
    EMAIL = "email"


class OutboxMessage(Base):
    __tablename__ = "outbox"

    id: Mapped[int] = mapped_column(primary_key=True)
    dedup_key: Mapped[str] = mapped_column(sa.String(200), unique=True)
    channel: Mapped[Channel] = mapped_column(str_enum(Channel, "channel"))
    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"), index=True)
    email: Mapped[str | None] = mapped_column(sa.String(254))
    subject: Mapped[str] = mapped_column(sa.String(300))
    body: Mapped[str] = mapped_column(sa.Text)
    link: Mapped[str | None] = mapped_column(sa.String(1000))
    # The zone its time is shown in: that of the organization whose matter it is (i18n rule).
    timezone: Mapped[str | None] = mapped_column(sa.String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None]
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(sa.Text)

    __table_args__ = (
        sa.CheckConstraint("channel <> 'email' OR email IS NOT NULL", name="email_has_address"),
        sa.Index("ix_outbox_pending", "sent_at", "next_attempt_at"),
    )


class Notification(Base):
    """An item of a user's in-app feed."""

    __tablename__ = "notifications"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"))
    outbox_id: Mapped[int | None] = mapped_column(sa.ForeignKey("outbox.id"), unique=True)
    title: Mapped[str] = mapped_column(sa.String(300))
    body: Mapped[str] = mapped_column(sa.Text)
    link: Mapped[str | None] = mapped_column(sa.String(1000))
    timezone: Mapped[str | None] = mapped_column(sa.String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    read_at: Mapped[datetime | None]

    __table_args__ = (sa.Index("ix_notifications_user_created", "user_id", "created_at"),)


def notify(
    user_id: int | None,
    key: str,
    subject: str,
    body: str,
    *,
    link: str | None = None,
    email: str | None = None,
    feed: bool = True,
    timezone: str | None = None,
    kind: NoticeKind | None = None,
) -> list[int]:
    """Queue a notification in the current transaction; a key already used is ignored.

    `key` names the event (e.g. "appeal:12:answered"); the same key never notifies twice.
    `timezone` is the zone of the organization whose matter it is: the feed and the e-mail show
    its time there, as the matter's own page does (without it: the person's own zone).
    `kind` routes the letter through the person's preferences (core.preferences): no letter
    if they switched that kind off, and a letter of a quiet kind waits for 08:00 in their zone.
    Returns the ids of the outbox rows actually written.
    """
    rows = []
    if feed and user_id is not None:
        rows.append({"channel": Channel.FEED, "dedup_key": f"{key}:feed", "next_attempt_at": None})
    if email and kind is not None and user_id is not None and not wants_email(user_id, kind):
        email = None
    if email:
        hold = None
        if kind in QUIET_KINDS:
            hold = quiet_until(utcnow(), home_zone(user_id, timezone))
        rows.append(
            {
                "channel": Channel.EMAIL,
                "dedup_key": f"{key}:email",
                "email": email,
                "next_attempt_at": hold,
            }
        )
    ids, now_ids = [], []
    dialect = db.session.get_bind().dialect.name
    stmt = insert_unless_present(OutboxMessage.__table__, ("dedup_key",), OutboxMessage.id, dialect)
    for row in rows:
        new_id = db.session.scalar(
            stmt,
            {
                **row,
                "user_id": user_id,
                "subject": subject,
                "body": body,
                "link": link,
                "timezone": timezone,
                "created_at": utcnow(),
                "attempts": 0,
            },
        )
        if new_id is not None:
            ids.append(new_id)
            if row["next_attempt_at"] is None:
                now_ids.append(new_id)
    if now_ids:  # a held letter leaves with the sweep once its morning has come
        enqueue_after_commit("participation.core.outbox:relay_outbox", *now_ids)
    return ids


class Recipient(NamedTuple):
    """One person of a bulk notice: where the letter goes, whether they want it, their zone."""

    user_id: int
    email: str | None
    wants_email: bool
    zone: str


RELAY_CHUNK = 500


def notify_many(
    recipients: Sequence[Recipient],
    key: str,
    subject: str,
    body: str,
    *,
    kind: NoticeKind,
    link: str | None = None,
    timezone: str | None = None,
    mail_before: datetime | None = None,
) -> int:
    """One notice to many people, in bulk: feed items written now (in this transaction), and
    letters (`key`:u<id>:email) for those who want them, held through their quiet hours.

    The caller has claimed the recipients (each once, ever). A letter that could only leave at
    or after `mail_before` (e.g. the vote's close) is not written: the feed item says it.
    Returns the number of letters written.
    """
    if not recipients:
        return 0
    now = utcnow()
    db.session.execute(
        sa.insert(Notification),
        [
            {
                "user_id": r.user_id,
                "title": subject,
                "body": body,
                "link": link,
                "timezone": timezone,
                "created_at": now,
            }
            for r in recipients
        ],
    )
    holds: dict[str, datetime | None] = {}
    letters = []
    for r in recipients:
        if not (r.email and r.wants_email):
            continue
        if r.zone not in holds:
            holds[r.zone] = quiet_until(now, r.zone) if kind in QUIET_KINDS else None
        hold = holds[r.zone]
        if mail_before is not None and (hold or now) >= mail_before:
            continue
        letters.append(
            {
                "dedup_key": f"{key}:u{r.user_id}:email",
                "channel": Channel.EMAIL,
                "user_id": r.user_id,
                "email": r.email,
                "subject": subject,
                "body": body,
                "link": link,
                "timezone": timezone,
                "created_at": now,
                "attempts": 0,
                "next_attempt_at": hold,
            }
        )
    if not letters:
        return 0
    dialect = db.session.get_bind().dialect.name
    insert = insert_unless_present(OutboxMessage.__table__, ("dedup_key",), None, dialect)
    # One multi-row INSERT … ON CONFLICT DO NOTHING RETURNING: a row per letter written now
    returning = insert.returning(OutboxMessage.id, OutboxMessage.next_attempt_at)
    written = db.session.execute(returning, letters).all()
    ready = [row.id for row in written if row.next_attempt_at is None]  # not held for the night
    for start in range(0, len(ready), RELAY_CHUNK):
        enqueue_after_commit(
            "participation.core.outbox:relay_outbox", *ready[start : start + RELAY_CHUNK]
        )
    return len(written)


def relay_outbox(*ids: int) -> int:
    """Deliver the given outbox rows (or every due one) and mark them sent. Returns the count."""
    now = utcnow()
    # A row not due yet (a retry's backoff, a letter held through the night) waits, even when
    # named: its time is the sweep's to find.
    query = sa.select(OutboxMessage.id).where(
        OutboxMessage.sent_at.is_(None),
        sa.or_(OutboxMessage.next_attempt_at.is_(None), OutboxMessage.next_attempt_at <= now),
    )
    if ids:
        query = query.where(OutboxMessage.id.in_(ids))
    else:
        query = query.where(OutboxMessage.attempts < MAX_ATTEMPTS)
    pending = list(db.session.scalars(query.order_by(OutboxMessage.id).limit(500)))
    db.session.commit()
    delivered = 0
    for outbox_id in pending:
        delivered += _deliver_one(outbox_id)
    return delivered


def _deliver_one(outbox_id: int) -> int:
    """Lock one row, deliver it, mark it sent, commit; concurrent relays skip locked rows."""
    stmt = sa.select(OutboxMessage).where(
        OutboxMessage.id == outbox_id, OutboxMessage.sent_at.is_(None)
    )
    if db.session.get_bind().dialect.name == "postgresql":
        stmt = stmt.with_for_update(skip_locked=True)
    message = db.session.scalar(stmt)
    if message is None:
        db.session.rollback()
        return 0
    try:
        if message.channel == Channel.FEED:
            dialect = db.session.get_bind().dialect.name
            db.session.execute(
                insert_unless_present(Notification.__table__, ("outbox_id",), None, dialect),
                {
                    "user_id": message.user_id,
                    "outbox_id": message.id,
                    "title": message.subject,
                    "body": message.body,
                    "link": message.link,
                    "timezone": message.timezone,
                    "created_at": message.created_at,
                },
            )
        else:
            send_email(message)
    except Exception as exc:  # delivery failed: retry later with backoff
        db.session.rollback()
        message = db.session.get(OutboxMessage, outbox_id)
        message.attempts += 1
        message.last_error = f"{type(exc).__name__}: {exc}"[:2000]
        message.next_attempt_at = utcnow() + timedelta(minutes=2**message.attempts)
        db.session.commit()
        log.warning("outbox %s not delivered: %s", outbox_id, exc)
        return 0
    message.sent_at = utcnow()
    message.attempts += 1
    db.session.commit()
    return 1


def build_email(message: OutboxMessage) -> EmailMessage:
    config = current_app.config
    mail = EmailMessage()
    mail["From"] = config["MAIL_FROM"]
    mail["To"] = message.email
    mail["Subject"] = message.subject
    # When it happened, in the zone every other time of the matter is shown in.
    person = db.session.get(User, message.user_id) if message.user_id else None
    zone = ZoneInfo(display_zone(message.timezone, person, viewer=False))
    mail["Date"] = format_datetime(message.created_at.astimezone(zone))
    mail["Message-ID"] = make_msgid(idstring=f"outbox-{message.id}")
    body = message.body
    if message.link:
        body = f"{body}\n\n{message.link}"
    mail.set_content(body)
    return mail


def send_email(message: OutboxMessage) -> None:
    """Send through the configured backend: .eml files in development, SMTP otherwise."""
    config = current_app.config
    mail = build_email(message)
    if config["MAIL_BACKEND"] == "file":
        folder = Path(config["MAIL_DIR"])
        folder.mkdir(parents=True, exist_ok=True)
        target = folder / f"{message.created_at:%Y%m%d-%H%M%S}-{message.id:08d}.eml"
        fd, tmp = tempfile.mkstemp(dir=folder, suffix=".tmp")
        with os.fdopen(fd, "wb") as fh:
            fh.write(mail.as_bytes())
        os.replace(tmp, target)  # same name on a retry: delivered once
        return
    with smtplib.SMTP(config["SMTP_HOST"], config["SMTP_PORT"], timeout=30) as smtp:
        if config["SMTP_STARTTLS"]:
            smtp.starttls()
        if config["SMTP_USER"]:
            smtp.login(config["SMTP_USER"], config["SMTP_PASSWORD"] or "")
        smtp.send_message(mail)


@sweep
def relay_pending_outbox() -> int:
    """Catch-up: deliver whatever a lost job or a failed attempt left behind."""
    return relay_outbox()
