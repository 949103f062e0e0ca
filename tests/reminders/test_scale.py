"""A vote with many eligible residents: recipients are chosen in SQL (anti-join with the register
of who voted) and written in bulk; the statements do not grow with the number of people."""

from __future__ import annotations

from datetime import date, timedelta

import sqlalchemy as sa

from participation.core import outbox
from participation.core.outbox import Channel, Notification, OutboxMessage
from participation.core.users import AccountLevel, User
from participation.extensions import db
from participation.reminders.models import SentNotice
from participation.reminders.tasks import sweep_vote_reminders
from participation.voting.models import Channel as VoteChannel
from participation.voting.models import RegisterEntry
from tests.helpers import count_statements
from tests.reminders.conftest import NOON, days, travel
from tests.voting.helpers import campaign as make_campaign

PEOPLE = 1500  # more than one chunk (services.CHUNK)
VOTED = 400


def test_many_residents_in_a_few_statements(world, monkeypatch):
    with travel(NOON):
        vote = make_campaign(world, closes=NOON + days(5))
    db.session.execute(
        sa.insert(User),
        [
            {
                "esia_oid": f"8{n:08d}",
                "last_name": "Житель",
                "first_name": f"Номер {n}",
                "birth_date": date(1980, 1, 1),
                "account_level": AccountLevel.CONFIRMED,
                "email": f"many{n}@example.org" if n % 2 else None,
                "registration_territory_id": world.city.id,
            }
            for n in range(PEOPLE)
        ],
    )
    ids = db.session.scalars(sa.select(User.id).where(User.last_name == "Житель")).all()
    db.session.execute(
        sa.insert(RegisterEntry),
        [
            {"campaign_id": vote.id, "user_id": i, "channel": VoteChannel.SELF, "voted_on": NOON}
            for i in ids[:VOTED]
        ],
    )
    queued = []
    monkeypatch.setattr(outbox, "enqueue_after_commit", lambda *a, **k: queued.append(a))
    # 15:00 in Yekaterinburg: the letters leave at once
    with travel(NOON + days(2) + timedelta(hours=1)), count_statements(db.engine) as sent:
        result = sweep_vote_reminders()
    not_voted = PEOPLE - VOTED + 2  # and the official and the volunteer of the town
    assert result["reminded"] == not_voted
    assert len(sent) < 40, len(sent)
    told = db.session.scalar(sa.select(sa.func.count()).select_from(SentNotice))
    feed = db.session.scalar(sa.select(sa.func.count()).select_from(Notification))
    mails = db.session.scalar(
        sa.select(sa.func.count()).where(OutboxMessage.channel == Channel.EMAIL)
    )
    with_address = sum(1 for n in range(VOTED, PEOPLE) if n % 2) + 2
    assert (told, feed, mails) == (not_voted, not_voted, with_address)
    assert sum(len(job) - 1 for job in queued) == with_address  # relayed in chunks of ids
