"""Notifications are written with the business change and delivered once per key."""

from pathlib import Path

import pytest
import sqlalchemy as sa

from participation.core import outbox
from participation.core.outbox import Channel, Notification, OutboxMessage, notify
from participation.extensions import db
from tests import factories


def _feed(user_id):
    return list(db.session.scalars(sa.select(Notification).where(Notification.user_id == user_id)))


def test_notification_goes_with_its_commit_to_feed_and_mail(app, run_jobs):
    person = factories.user(email="maria@example.org")
    db.session.commit()
    notify(
        person.id,
        "appeal:1:answered",
        "Ответ на сообщение",
        "Вам ответили.",
        link="http://127.0.0.1:5000/my/appeals/1",
        email=person.email,
    )
    assert _feed(person.id) == []  # nothing leaves before the commit
    db.session.commit()
    run_jobs()
    feed = _feed(person.id)
    assert [n.title for n in feed] == ["Ответ на сообщение"]
    sent = list(
        db.session.scalars(sa.select(OutboxMessage).where(OutboxMessage.sent_at.is_not(None)))
    )
    assert {m.channel for m in sent} == {Channel.FEED, Channel.EMAIL}
    mails = list(Path(app.config["MAIL_DIR"]).glob("*.eml"))
    text = [p.read_bytes() for p in mails]
    assert any(b"maria@example.org" in t for t in text)


def test_nothing_is_sent_when_the_transaction_rolls_back(app, run_jobs):
    person = factories.user()
    db.session.commit()
    notify(person.id, "appeal:2:answered", "Ответ", "Текст")
    db.session.rollback()
    run_jobs()
    assert _feed(person.id) == []
    assert db.session.scalar(sa.select(sa.func.count()).select_from(OutboxMessage)) == 0


def test_a_duplicate_key_is_delivered_once(app, run_jobs):
    person = factories.user()
    db.session.commit()
    assert notify(person.id, "vote:7:receipt", "Голос учтён", "Спасибо") != []
    db.session.commit()
    assert notify(person.id, "vote:7:receipt", "Голос учтён", "Спасибо") == []
    db.session.commit()
    run_jobs()
    assert len(_feed(person.id)) == 1


def test_failed_mail_is_retried_later_by_the_sweep(app, monkeypatch, run_jobs):
    person = factories.user(email="petr@example.org")
    db.session.commit()

    def broken(_message):
        raise ConnectionError("smtp down")

    monkeypatch.setattr(outbox, "send_email", broken)
    notify(person.id, "k:1", "Тема", "Текст", email=person.email, feed=False)
    db.session.commit()
    run_jobs()
    message = db.session.scalar(sa.select(OutboxMessage))
    db.session.refresh(message)
    assert message.sent_at is None and message.attempts == 1
    assert "smtp down" in message.last_error
    assert message.next_attempt_at is not None

    monkeypatch.undo()
    message.next_attempt_at = None  # the back-off has passed
    db.session.commit()
    assert outbox.relay_pending_outbox() == 1
    db.session.refresh(message)
    assert message.sent_at is not None


def test_relay_marks_a_row_processed_once(app, run_jobs):
    person = factories.user()
    db.session.commit()
    [outbox_id] = notify(person.id, "k:2", "Тема", "Текст")
    db.session.commit()
    run_jobs()
    # Delivering the same row again (a retried job) changes nothing.
    assert outbox.relay_outbox(outbox_id) == 0
    assert len(_feed(person.id)) == 1


def test_email_rows_need_an_address(db_session):
    person = factories.user()
    db.session.add(
        OutboxMessage(
            dedup_key="x", channel=Channel.EMAIL, user_id=person.id, subject="s", body="b"
        )
    )
    with pytest.raises(sa.exc.IntegrityError):
        db.session.flush()
