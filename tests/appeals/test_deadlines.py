"""Deadlines: stored in UTC at registration, shown in local time, watched by the sweep."""

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
import time_machine

from participation.appeals import services as s
from participation.appeals.deadlines import compute_deadlines, countdown
from participation.appeals.tasks import sweep_appeal_deadlines
from participation.core.db import utcnow
from participation.core.jobs import SWEEPS
from participation.core.outbox import OutboxMessage
from participation.extensions import db
from tests.appeals.conftest import submit
from tests.appeals.test_lifecycle import to_work


def _notices(user, kind):
    return list(
        db.session.scalars(
            sa.select(OutboxMessage).where(
                OutboxMessage.user_id == user.id,
                OutboxMessage.dedup_key.contains(f":{kind}:"),
                OutboxMessage.channel == "feed",
            )
        )
    )


def test_countdown_reads_like_the_platform(app):
    # Received 15:34 27.05.2020 in Ufa (UTC+5); 30 days to answer.
    registered = datetime(2020, 5, 27, 10, 34, tzinfo=UTC)
    due = compute_deadlines(registered, 30)
    assert due.answer_due_at == datetime(2020, 6, 26, 10, 34, tzinfo=UTC)
    assert due.coordination_due_at == datetime(2020, 6, 11, 10, 34, tzinfo=UTC)
    now = datetime(2020, 5, 28, 6, 37, tzinfo=UTC)
    with app.test_request_context():
        text = countdown(due.answer_due_at, "Asia/Yekaterinburg", now)
        assert text == "29 дней 3 часа 57 минут / до 26.06.2020"
        late = countdown(
            due.answer_due_at, "Asia/Yekaterinburg", due.answer_due_at + timedelta(hours=26)
        )
        assert late == "просрочено на 1 день 2 часа 0 минут / до 26.06.2020"


def test_local_date_is_the_organizations_not_utc(app):
    # 20:30 UTC on 25 June is already 26 June in Ufa.
    due = datetime(2020, 6, 25, 20, 30, tzinfo=UTC)
    with app.test_request_context():
        assert countdown(due, "Asia/Yekaterinburg", due - timedelta(days=1)).endswith(
            "до 26.06.2020"
        )
        assert countdown(due, "Europe/Moscow", due - timedelta(days=1)).endswith("до 25.06.2020")


def test_sweep_is_registered():
    assert sweep_appeal_deadlines in SWEEPS


def test_sweep_flags_soon_due_then_overdue_and_tells_curators_and_coordinators_once(world):
    w = world
    appeal = to_work(w, submit(w))  # fast-track: 10 days
    start = utcnow()
    with time_machine.travel(start + timedelta(days=5)):
        assert sweep_appeal_deadlines()["soon_due"] == 0
    with time_machine.travel(start + timedelta(days=8, hours=12)):  # 36 h left: not yet
        assert sweep_appeal_deadlines()["soon_due"] == 0
    with time_machine.travel(start + timedelta(days=9, hours=1)):  # 23 h left
        result = sweep_appeal_deadlines()
        assert result["soon_due"] == 1 and result["overdue"] == 0
        again = sweep_appeal_deadlines()
        assert again["soon_due"] == 0
    for person in (w.curator, w.coordinator, w.executor, w.cur_curator):
        assert len(_notices(person, "soon_due")) == 1, person
    assert _notices(w.head, "soon_due") == []
    with time_machine.travel(start + timedelta(days=10, hours=1)):
        assert sweep_appeal_deadlines()["overdue"] == 1
        assert sweep_appeal_deadlines()["overdue"] == 0
    [notice] = _notices(w.curator, "overdue")
    assert f"№ {appeal.number}" in notice.subject and "Просрочено" in notice.subject
    assert appeal.overdue_flagged_at is not None


def test_sweep_catches_up_after_downtime(world):
    """No sweep ran for three weeks: one run finds everything that came due meanwhile."""
    w = world
    start = utcnow()
    fast = to_work(w, submit(w))  # due in 10 days
    slow = submit(w, subcategory_id=w.marking.id, suggested_subcategory_id=w.marking.id)  # 30 days
    with time_machine.travel(start + timedelta(days=29, hours=12)):
        result = sweep_appeal_deadlines()
    assert result == {"overdue": 1, "soon_due": 1, "closed_unrated": 0}
    assert fast.overdue_flagged_at is not None and slow.soon_due_flagged_at is not None
    # The overdue one gets one notice, not a late "soon due" as well.
    assert len(_notices(w.coordinator, "overdue")) == 1
    assert _notices(w.coordinator, "soon_due") == []


def test_postponement_recomputes_the_due_date_and_rearms_the_sweep(world):
    w = world
    appeal = to_work(w, submit(w))
    start = utcnow()
    with time_machine.travel(start + timedelta(days=10, hours=2)):
        sweep_appeal_deadlines()
        assert appeal.overdue_flagged_at is not None
        today = utcnow().astimezone(w.city.tz).date()
        s.postpone_appeal(appeal, w.executor, today + timedelta(days=7), "Ждём подрядчика")
        assert appeal.overdue_flagged_at is None and appeal.soon_due_flagged_at is None
        assert sweep_appeal_deadlines() == {"overdue": 0, "soon_due": 0, "closed_unrated": 0}
    with time_machine.travel(start + timedelta(days=18, hours=2)):  # past 23:59 of the new day
        assert sweep_appeal_deadlines()["overdue"] == 1
    assert len(_notices(w.coordinator, "overdue")) == 2  # one per due date


def test_finished_messages_are_not_flagged(world):
    w = world
    appeal = submit(w)
    s.reject_appeal(appeal, w.moderator, "unclear")
    with time_machine.travel(utcnow() + timedelta(days=40)):
        assert sweep_appeal_deadlines()["overdue"] == 0
