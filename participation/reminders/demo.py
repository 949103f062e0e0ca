"""Demo: a Стерлитамак vote ending in 3 days (the sweep reminds the residents who have not
voted: Николай Григорьев) and Мария Иванова (Уфа) subscribed to announcements by e-mail."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from participation.core.db import utcnow
from participation.core.organizations import Organization
from participation.core.preferences import NoticeKind, NotificationPreference
from participation.core.territories import Territory
from participation.core.users import AccountLevel, User
from participation.demo import data
from participation.extensions import db
from participation.voting.models import BallotRule, Campaign, CampaignKind, VotingObject

ENDING_TITLE = "Название нового сквера в Стерлитамаке"
NAMES = ("Сквер «Дружба»", "Сквер учителей", "Сквер химиков")
SUBSCRIBER_OID = "2000001"  # Мария Иванова, Уфа


def seed_reminders_demo() -> dict[str, int]:
    """Add the vote ending in 3 days and the subscription, if missing."""
    counts = {"reminder_votes": 0, "subscriptions": 0}
    record = next(o for o in data.ORGANIZATIONS if o["slug"] == "sterlitamak-admin")
    organization = db.session.scalar(
        sa.select(Organization).where(Organization.name == record["name"])
    )
    town = db.session.scalar(sa.select(Territory).where(Territory.oktmo == data.STERLITAMAK))
    if organization is None or town is None:
        return counts
    exists = db.session.scalar(sa.select(Campaign.id).where(Campaign.title == ENDING_TITLE))
    if exists is None:
        now = utcnow()
        campaign = Campaign(
            organization=organization,
            territory=town,
            kind=CampaignKind.LANDSCAPING,
            title=ENDING_TITLE,
            rules_text="Жители выбирают название нового сквера. Побеждает вариант с наибольшим "
            "числом голосов.",
            ballot_rule=BallotRule.SINGLE,
            min_level=AccountLevel.CONFIRMED,
            min_age=14,
            opens_at=now - timedelta(days=7),
            # Less than 3 whole days left: the first sweep sends «…заканчивается через 3 дня».
            closes_at=now + timedelta(days=3) - timedelta(hours=1),
            published_at=now - timedelta(days=8),
        )
        for number, title in enumerate(NAMES, start=1):
            campaign.objects.append(VotingObject(number=number, title=title))
        db.session.add(campaign)
        counts["reminder_votes"] += 1
    subscriber = db.session.scalar(sa.select(User.id).where(User.esia_oid == SUBSCRIBER_OID))
    if subscriber is not None and (
        db.session.get(NotificationPreference, (subscriber, NoticeKind.ANNOUNCEMENTS)) is None
    ):
        db.session.add(
            NotificationPreference(user_id=subscriber, kind=NoticeKind.ANNOUNCEMENTS, email=True)
        )
        counts["subscriptions"] += 1
    db.session.flush()
    return counts
