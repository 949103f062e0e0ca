"""Demo votes in Уфа: two open now (landscaping and budget) and a closed budget vote.

The README tells the official to close the landscaping vote early; the open budget vote is
still there for the widget and for the ballot's running total.

`seed_voting_demo()` is called by `flask demo seed`. Campaigns are matched by organizer and
title, so a second run adds nothing. Dates are placed around the day of the first run. The
closed vote's ballots are cast through the normal service by demo people who live in Уфа,
a few of them with the demo volunteer, so the register, the box and the protocol agree.
"""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from participation.core.db import utcnow
from participation.core.organizations import Organization
from participation.core.territories import Territory
from participation.core.users import AccountLevel, User
from participation.demo import data
from participation.extensions import db
from participation.voting import box
from participation.voting.models import BallotRule, Campaign, CampaignKind, Channel, VotingObject
from participation.voting.services import cast_ballot, voting_refusal

OPEN_TITLE = "Выбираем общественное пространство для благоустройства в 2027 году"
OPEN_BUDGET_TITLE = "Инициативное бюджетирование 2027: проекты для дворов Уфы"
CLOSED_TITLE = "Инициативное бюджетирование «Наш двор»: проекты для Уфы"

OPEN_RULES = (
    "Голосование проводится в рамках федерального проекта «Формирование комфортной городской "
    "среды». Общественное пространство, набравшее больше всего голосов, будет благоустроено "
    "в 2027 году.\nГолосовать могут жители городского округа город Уфа в возрасте от 14 лет "
    "с подтверждённой учётной записью Госуслуг. Один человек — один голос."
)

# (title, address, latitude, longitude, description)
SPACES = (
    (
        "Парк культуры и отдыха «Кашкадан»",
        "г. Уфа, ул. Рихарда Зорге, 9/7",
        54.7596,
        56.0326,
        "Новые дорожки вокруг озера, освещение, площадка для воркаута и пирс.",
    ),
    (
        "Сквер имени 50-летия Октября",
        "г. Уфа, пр. Октября, 58",
        54.7626,
        56.0030,
        "Реконструкция фонтана, скамейки, цветники и тёплая остановка.",
    ),
    (
        "Набережная реки Белой у Монумента Дружбы",
        "г. Уфа, ул. Пушкина, 1",
        54.7180,
        55.9562,
        "Прогулочная зона вдоль реки, велодорожка, смотровые площадки.",
    ),
    (
        "Бульвар Ибрагимова",
        "г. Уфа, бульвар Ибрагимова",
        54.7310,
        55.9520,
        "Замена покрытия, детская площадка, освещение и урны.",
    ),
    (
        "Сад имени Аксакова",
        "г. Уфа, ул. Ленина, 18",
        54.7233,
        55.9449,
        "Восстановление пруда, ротонды и аллей сада.",
    ),
)

# (title, cost in roubles); budget 3 000 000 ₽
PROJECTS = (
    ("Детская площадка во дворе на ул. Ленина, 24", 1_200_000),
    ("Освещение двора на ул. Менделеева, 130", 2_000_000),
    ("Скамейки и урны у дома на ул. Мингажева, 107", 900_000),
    ("Парковка для велосипедов у школы № 3", 500_000),
    ("Цветники у подъездов на ул. Гагарина, 41", 400_000),
)
BUDGET = 3_000_000
# The open budget vote's projects (same budget).
OPEN_PROJECTS = (
    ("Спортивная площадка во дворе на ул. Российской, 92", 1_500_000),
    ("Ремонт тротуара у дома на ул. Комсомольской, 15", 1_100_000),
    ("Пандус и поручни у подъездов на ул. Ленина, 70", 600_000),
    ("Детский городок у школы № 45", 1_300_000),
    ("Клумбы и скамейки на ул. Первомайской, 34", 350_000),
)
# Ballots of the closed vote by project number (1-based). By votes 2, 3, 1, 4, 5: project 2
# (2 000 000 ₽) wins, project 3 (900 000 ₽) still fits, leaving 100 000 ₽, so project 1 and
# then 4 and 5 are skipped for not fitting.
CLOSED_BALLOTS = (
    (2,), (2, 3), (2, 4), (2,), (1, 3), (2, 5), (1, 4), (3, 2), (1,), (2, 3), (1, 5), (3,),
    (2, 4), (1, 3), (4, 5), (2,),
)  # fmt: skip


def _organization() -> Organization | None:
    record = next(o for o in data.ORGANIZATIONS if o["slug"] == "ufa-admin")
    return db.session.scalar(sa.select(Organization).where(Organization.name == record["name"]))


def _exists(organization: Organization, title: str) -> bool:
    return (
        db.session.scalar(
            sa.select(Campaign.id).where(
                Campaign.organization_id == organization.id, Campaign.title == title
            )
        )
        is not None
    )


def seed_voting_demo() -> dict[str, int]:
    """Add the three demo campaigns if missing; return how many campaigns and ballots were made."""
    counts = {"voting_campaigns": 0, "voting_ballots": 0}
    organization = _organization()
    ufa = db.session.scalar(sa.select(Territory).where(Territory.oktmo == data.UFA))
    if organization is None or ufa is None:
        return counts
    now = utcnow()
    if not _exists(organization, OPEN_TITLE):
        campaign = Campaign(
            organization=organization,
            territory=ufa,
            kind=CampaignKind.LANDSCAPING,
            title=OPEN_TITLE,
            rules_text=OPEN_RULES,
            ballot_rule=BallotRule.SINGLE,
            winners_count=1,
            turnout_target=500,
            min_level=AccountLevel.CONFIRMED,
            min_age=14,
            opens_at=now - timedelta(days=1),
            closes_at=now + timedelta(days=60),
            published_at=now - timedelta(days=2),
        )
        for number, (title, address, lat, lon, description) in enumerate(SPACES, start=1):
            campaign.objects.append(
                VotingObject(
                    number=number,
                    title=title,
                    address=address,
                    latitude=lat,
                    longitude=lon,
                    description=description,
                )
            )
        db.session.add(campaign)
        counts["voting_campaigns"] += 1
    if not _exists(organization, OPEN_BUDGET_TITLE):
        campaign = Campaign(
            organization=organization,
            territory=ufa,
            kind=CampaignKind.BUDGET,
            title=OPEN_BUDGET_TITLE,
            rules_text="Жители выбирают проекты для своих дворов в пределах бюджета 3 000 000 ₽.",
            ballot_rule=BallotRule.BUDGET,
            budget_limit=BUDGET,
            min_level=AccountLevel.CONFIRMED,
            min_age=14,
            opens_at=now - timedelta(days=1),
            closes_at=now + timedelta(days=75),
            published_at=now - timedelta(days=2),
        )
        for number, (title, cost) in enumerate(OPEN_PROJECTS, start=1):
            campaign.objects.append(VotingObject(number=number, title=title, cost=cost))
        db.session.add(campaign)
        counts["voting_campaigns"] += 1
    if not _exists(organization, CLOSED_TITLE):
        counts["voting_ballots"] += _seed_closed(organization, ufa, now)
        counts["voting_campaigns"] += 1
    db.session.flush()
    return counts


def _seed_closed(organization: Organization, ufa: Territory, now) -> int:
    opens = now - timedelta(days=40)
    campaign = Campaign(
        organization=organization,
        territory=ufa,
        kind=CampaignKind.BUDGET,
        title=CLOSED_TITLE,
        rules_text="Жители выбирают проекты для своих дворов в пределах бюджета 3 000 000 ₽.",
        ballot_rule=BallotRule.BUDGET,
        budget_limit=BUDGET,
        winners_count=1,
        turnout_target=12,
        min_level=AccountLevel.CONFIRMED,
        min_age=14,
        opens_at=opens,
        closes_at=now - timedelta(days=10),
        published_at=opens - timedelta(days=1),
    )
    for number, (title, cost) in enumerate(PROJECTS, start=1):
        campaign.objects.append(VotingObject(number=number, title=title, cost=cost))
    db.session.add(campaign)
    db.session.flush()
    voting_day = opens + timedelta(days=3)
    oids = [u["esia_oid"] for u in data.USERS]
    people = [
        u
        for u in db.session.scalars(
            sa.select(User).where(User.esia_oid.in_(oids)).order_by(User.esia_oid)
        )
        if voting_refusal(campaign, u, voting_day) is None
    ]
    volunteer = db.session.scalar(
        sa.select(User).where(
            User.esia_oid == next(u["esia_oid"] for u in data.USERS if u["slug"] == "ufa-volunteer")
        )
    )
    objects = campaign.objects
    cast = 0
    for n, (person, picks) in enumerate(zip(people, CLOSED_BALLOTS, strict=False)):
        assisted = n % 5 == 4 and volunteer is not None and volunteer.id != person.id
        cast_ballot(
            campaign,
            person,
            [objects[i - 1].id for i in picks],
            channel=Channel.ASSISTED if assisted else Channel.SELF,
            volunteer=volunteer if assisted else None,
            now=voting_day + timedelta(hours=n),
        )
        cast += 1
    db.session.flush()
    campaign.box_csv_sha256 = box.digest(box.csv_chunks(campaign))
    campaign.box_json_sha256 = box.digest(box.json_chunks(campaign))
    campaign.sealed_at = now
    return cast
