"""Quiet hours: no reminder, announcement or deadline letter 22:00–08:00 in the recipient's own
zone; the feed item is written at once and the letter leaves at 08:00 local."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from participation.core.outbox import notify, relay_pending_outbox
from participation.core.preferences import NoticeKind, quiet_until
from participation.extensions import db
from participation.reminders.tasks import sweep_vote_reminders
from tests.reminders.conftest import NOON, days, feed, letters, travel
from tests.voting.helpers import campaign as make_campaign

MSK, YEKT = "Europe/Moscow", "Asia/Yekaterinburg"


def utc(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 6, day, hour, minute, tzinfo=UTC)


def test_quiet_until_in_two_zones():
    # 17:30 UTC: 20:30 in Moscow (day), 22:30 in Yekaterinburg (night until 08:00 = 03:00 UTC)
    assert quiet_until(utc(12, 17, 30), MSK) is None
    assert quiet_until(utc(12, 17, 30), YEKT) == utc(13, 3)
    # 19:30 UTC: 22:30 in Moscow, 00:30 in Yekaterinburg; each waits for its own 08:00
    assert quiet_until(utc(12, 19, 30), MSK) == utc(13, 5)
    assert quiet_until(utc(12, 19, 30), YEKT) == utc(13, 3)
    # The edges: 08:00 local is day, 21:59 is day, 22:00 is night.
    assert quiet_until(utc(12, 5), MSK) is None
    assert quiet_until(utc(12, 4, 59), MSK) == utc(12, 5)
    assert quiet_until(utc(12, 18, 59), MSK) is None
    assert quiet_until(utc(12, 19), MSK) == utc(13, 5)


def test_reminders_wait_for_the_morning_of_each_recipient(world, run_jobs):
    with travel(NOON):
        vote = make_campaign(world, territory=world.region, closes=NOON + days(5))
    muscovite = world.resident(territory=world.moscow_town)
    uralian = world.resident(territory=world.city)
    evening = utc(12, 17, 30)  # 2 days 15.5 hours before the close
    with travel(evening):
        sweep_vote_reminders()
        run_jobs()
    # Both see it in the feed at once.
    assert len(feed(muscovite, "заканчивается")) == len(feed(uralian, "заканчивается")) == 1
    [day_letter] = letters(muscovite, ":ending:")
    [night_letter] = letters(uralian, ":ending:")
    assert day_letter.sent_at is not None  # 20:30 in Moscow
    assert night_letter.sent_at is None and night_letter.next_attempt_at == utc(13, 3)
    with travel(utc(13, 2, 59)):  # 07:59 in Yekaterinburg
        relay_pending_outbox()
    db.session.refresh(night_letter)
    assert night_letter.sent_at is None
    with travel(utc(13, 3)):  # 08:00
        relay_pending_outbox()
    db.session.refresh(night_letter)
    assert night_letter.sent_at is not None
    assert vote.id


def test_night_in_both_zones_each_letter_leaves_at_its_own_eight(world, run_jobs):
    with travel(NOON):
        make_campaign(world, territory=world.region, closes=NOON + days(5))
    muscovite = world.resident(territory=world.moscow_town)
    uralian = world.resident(territory=world.city)
    with travel(utc(12, 19, 30)):  # 22:30 Moscow, 00:30 Yekaterinburg
        sweep_vote_reminders()
        run_jobs()
    [m] = letters(muscovite, ":ending:")
    [u] = letters(uralian, ":ending:")
    assert (m.sent_at, u.sent_at) == (None, None)
    assert (m.next_attempt_at, u.next_attempt_at) == (utc(13, 5), utc(13, 3))
    with travel(utc(13, 3, 1)):
        relay_pending_outbox()
    db.session.refresh(m)
    db.session.refresh(u)
    assert m.sent_at is None and u.sent_at is not None
    with travel(utc(13, 5, 1)):
        relay_pending_outbox()
    db.session.refresh(m)
    assert m.sent_at is not None


def test_no_letter_that_could_only_leave_after_the_vote_closed(world, run_jobs):
    # The sweeps were down; at 23:00 in Yekaterinburg the vote ends at 06:00 local.
    with travel(NOON):
        make_campaign(world, closes=utc(13, 1))
    person = world.resident()
    with travel(utc(12, 18)):
        sweep_vote_reminders()
        run_jobs()
    assert len(feed(person, "заканчивается")) == 1
    assert letters(person, ":ending:") == []


def test_a_staff_deadline_letter_is_held_but_a_message_answer_is_not(world, run_jobs):
    person = world.resident(territory=world.city)
    night = utc(12, 18)  # 23:00 in Yekaterinburg
    with travel(night):
        notify(
            person.id,
            "t:deadline",
            "Скоро срок",
            "…",
            email=person.email,
            kind=NoticeKind.DEADLINES,
        )
        notify(person.id, "t:answer", "Ответ", "…", email=person.email, kind=NoticeKind.MESSAGES)
        db.session.commit()
        run_jobs()
    [held] = letters(person, "t:deadline")
    [answer] = letters(person, "t:answer")
    assert held.sent_at is None and held.next_attempt_at == utc(13, 3)
    assert answer.sent_at is not None
    assert {n.title for n in feed(person)} == {"Скоро срок", "Ответ"}
    with travel(night + timedelta(hours=10)):
        relay_pending_outbox()
    db.session.refresh(held)
    assert held.sent_at is not None
