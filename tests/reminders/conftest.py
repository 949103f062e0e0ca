"""Reminder fixtures: a region of two time zones' towns, a vote, residents; helpers to read
what each person was told (feed items, letters)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
import sqlalchemy as sa
import time_machine

from participation.core.outbox import Channel, Notification, OutboxMessage
from participation.core.preferences import NoticeKind, NotificationPreference
from participation.core.territories import TerritoryLevel
from participation.core.users import AccountLevel
from participation.extensions import db
from participation.voting.models import Channel as VoteChannel
from participation.voting.models import RegisterEntry
from tests import factories
from tests.voting.helpers import Town

# 09:00 UTC: 12:00 in Moscow, 14:00 in Yekaterinburg (both without daylight saving).
NOON = datetime(2026, 6, 10, 9, 0, tzinfo=UTC)


def travel(moment: datetime):
    return time_machine.travel(moment, tick=False)


class World(Town):
    """Town's region and city (Yekaterinburg time) plus a town on Moscow time."""

    def __init__(self) -> None:
        super().__init__()
        self.moscow_town = factories.territory(
            parent=self.region, name="город Москвоград", timezone="Europe/Moscow"
        )
        self.district = factories.territory(
            TerritoryLevel.SETTLEMENT, parent=self.city, name="село Нижегородка"
        )

    def resident(self, age: int = 30, level=AccountLevel.CONFIRMED, territory=None, **kw):
        born = kw.pop("birth_date", date(NOON.year - age, 1, 1))
        return factories.user(
            level, registration_territory=territory or self.city, birth_date=born, **kw
        )


@pytest.fixture
def world(db_session):
    with travel(NOON):
        return World()


def voted(campaign, user) -> None:
    db.session.add(
        RegisterEntry(
            campaign_id=campaign.id,
            user_id=user.id,
            channel=VoteChannel.SELF,
            voted_on=NOON.date(),
        )
    )
    db.session.flush()


def choose(user, kind: NoticeKind, email: bool) -> None:
    db.session.add(NotificationPreference(user_id=user.id, kind=kind, email=email))
    db.session.flush()


def feed(user, contains: str = "") -> list[Notification]:
    return list(
        db.session.scalars(
            sa.select(Notification).where(
                Notification.user_id == user.id, Notification.title.contains(contains)
            )
        )
    )


def letters(user, key_part: str = "") -> list[OutboxMessage]:
    return list(
        db.session.scalars(
            sa.select(OutboxMessage).where(
                OutboxMessage.user_id == user.id,
                OutboxMessage.channel == Channel.EMAIL,
                OutboxMessage.dedup_key.contains(key_part),
            )
        )
    )


def days(n: float) -> timedelta:
    return timedelta(days=n)
