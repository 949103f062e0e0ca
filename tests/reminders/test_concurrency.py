"""Two sweeps at the same moment (two `flask jobs sweep` processes): each person is told once.
PostgreSQL only: the sent log's primary key makes the second claim wait for the first and skip."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
import sqlalchemy as sa

from participation.core.outbox import Channel, Notification, OutboxMessage
from participation.extensions import db
from participation.reminders.models import SentNotice
from participation.reminders.tasks import sweep_vote_reminders
from tests.reminders.conftest import NOON, World, days, travel
from tests.voting.helpers import campaign as make_campaign

SWEEPS = 2
PEOPLE = 60


@pytest.mark.committed
def test_two_sweeps_at_once_tell_each_resident_once(app):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("concurrent sweeps need PostgreSQL (TEST_DATABASE_URL)")
    with travel(NOON):
        world = World()
        make_campaign(world, closes=NOON + days(5))
        for _ in range(PEOPLE):
            world.resident()
    db.session.commit()
    db.session.remove()
    barrier = threading.Barrier(SWEEPS)
    results: list = []
    errors: list = []

    def run() -> None:
        with app.app_context():
            try:
                barrier.wait()
                results.append(sweep_vote_reminders()["reminded"])
            except Exception as exc:  # pragma: no cover - reported below
                errors.append(exc)
            finally:
                db.session.remove()

    with travel(NOON + days(2) + timedelta(hours=1)):
        threads = [threading.Thread(target=run) for _ in range(SWEEPS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(120)
    assert errors == []
    everyone = PEOPLE + 2  # and the official and the volunteer of the town
    assert sum(results) == everyone, results
    count = sa.select(sa.func.count())
    assert db.session.scalar(count.select_from(SentNotice)) == everyone
    per_user = db.session.execute(
        sa.select(Notification.user_id, sa.func.count()).group_by(Notification.user_id)
    ).all()
    assert len(per_user) == everyone and {n for _, n in per_user} == {1}
    mails = db.session.scalar(count.where(OutboxMessage.channel == Channel.EMAIL))
    assert mails == everyone
    db.session.remove()
