"""Voting test helpers: a municipality with its administration, residents, campaigns."""

from __future__ import annotations

from datetime import date, timedelta

from participation.core.db import utcnow
from participation.core.organizations import OrganizationKind
from participation.core.territories import TerritoryLevel
from participation.core.users import AccountLevel, Role
from participation.extensions import db
from participation.voting.models import BallotRule, Campaign, CampaignKind, VotingObject
from tests import factories

SPACES = (
    "Парк «Кашкадан»",
    "Сквер на улице Ленина",
    "Набережная реки Белой",
    "Бульвар Ибрагимова",
    "Сад имени Аксакова",
)


class Town:
    """A region with one municipality (and its administration) and a neighbouring one."""

    def __init__(self) -> None:
        self.region = factories.territory(TerritoryLevel.REGION, name="Республика Башкортостан")
        self.city = factories.territory(parent=self.region, name="городской округ город Уфа")
        self.other_city = factories.territory(
            parent=self.region, name="городской округ город Стерлитамак"
        )
        self.admin = factories.organization(
            OrganizationKind.MUNICIPAL, territory_=self.city, name="Администрация г. Уфы"
        )
        self.official = factories.staff(
            self.admin, Role.AUTHORIZED, registration_territory=self.city
        )
        self.volunteer = factories.staff(
            self.admin, Role.VOLUNTEER, registration_territory=self.city
        )

    def resident(
        self, age: int = 30, level: AccountLevel = AccountLevel.CONFIRMED, territory=None, **kw
    ):
        # `age` full years and about half a year more, whatever the time zone's date is
        born = kw.pop("birth_date", date.today() - timedelta(days=int(365.25 * age) + 180))
        return factories.user(
            level, registration_territory=territory or self.city, birth_date=born, **kw
        )


def campaign(
    town: Town,
    *,
    rule: BallotRule = BallotRule.SINGLE,
    objects=SPACES,
    costs=None,
    opens=None,
    closes=None,
    published: bool = True,
    **kw,
) -> Campaign:
    now = utcnow()
    row = Campaign(
        organization=town.admin,
        territory=kw.pop("territory", town.city),
        kind=kw.pop(
            "kind", CampaignKind.BUDGET if rule == BallotRule.BUDGET else CampaignKind.LANDSCAPING
        ),
        title=kw.pop("title", "Выбираем общественное пространство"),
        ballot_rule=rule,
        opens_at=opens or now - timedelta(days=1),
        closes_at=closes or now + timedelta(days=10),
        published_at=now - timedelta(days=2) if published else None,
        **kw,
    )
    for number, title in enumerate(objects, start=1):
        row.objects.append(
            VotingObject(number=number, title=title, cost=costs[number - 1] if costs else None)
        )
    db.session.add(row)
    db.session.flush()
    return row


def close_now(campaign: Campaign) -> None:
    """Move the campaign's end into the past (its ballots stay)."""
    now = utcnow()
    campaign.opens_at = min(campaign.opens_at, now - timedelta(days=2))
    campaign.closes_at = now - timedelta(seconds=1)
    db.session.flush()
