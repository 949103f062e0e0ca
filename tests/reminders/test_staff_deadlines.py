"""Staff deadlines (the appeals sweep's «скоро срок» and «просрочено», reused): the feed always,
the letter as each person chose, and never at night in their zone."""

from __future__ import annotations

from datetime import timedelta

import time_machine

from participation.appeals.tasks import sweep_appeal_deadlines
from participation.core.db import utcnow
from participation.core.preferences import NoticeKind, quiet_until
from participation.extensions import db
from tests.appeals.conftest import submit, world  # noqa: F401
from tests.appeals.test_lifecycle import to_work
from tests.reminders.conftest import choose, feed, letters


def _registered_at_nine_utc(w):
    """A message registered tomorrow 09:00 UTC (14:00 in Yekaterinburg), taken into work."""
    base = (utcnow() + timedelta(days=1)).replace(hour=9, minute=0, second=0, microsecond=0)
    with time_machine.travel(base, tick=False):
        appeal = to_work(w, submit(w))  # fast-track: 10 days
    return appeal, base


def _sweep_at(moment, run_jobs) -> dict:
    with time_machine.travel(moment, tick=False):
        result = sweep_appeal_deadlines()
        db.session.commit()
        sweep_appeal_deadlines()
        db.session.commit()
        run_jobs()
    return result


def test_deadline_letters_follow_each_persons_choice(world, run_jobs):  # noqa: F811
    w = world
    choose(w.curator, NoticeKind.DEADLINES, False)
    appeal, base = _registered_at_nine_utc(w)
    assert _sweep_at(base + timedelta(days=10, hours=1), run_jobs)["overdue"] == 1  # 15:00
    key = f"appeal:{appeal.id}:overdue"
    for person in (w.curator, w.coordinator):
        assert len(feed(person, "Просрочено")) == 1
    assert letters(w.curator, key) == []
    [letter] = letters(w.coordinator, key)
    assert letter.sent_at is not None


def test_an_overdue_notice_at_night_waits_for_the_morning(world, run_jobs):  # noqa: F811
    w = world
    appeal, base = _registered_at_nine_utc(w)
    night = base + timedelta(days=10, hours=9)  # 18:00 UTC, 23:00 in Yekaterinburg
    assert _sweep_at(night, run_jobs)["overdue"] == 1
    assert len(feed(w.coordinator, "Просрочено")) == 1  # the feed at once
    [letter] = letters(w.coordinator, f"appeal:{appeal.id}:overdue")
    assert letter.sent_at is None
    assert letter.next_attempt_at == quiet_until(night, "Asia/Yekaterinburg")
    assert letter.next_attempt_at == night + timedelta(hours=9)  # 08:00 local
