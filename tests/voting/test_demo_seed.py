"""The demo votes: seeded once, open and closed as described, with results that add up; when the
official closes the landscaping vote as the README says, the widget still has a vote open."""

from pathlib import Path

import sqlalchemy as sa

from participation.core.db import utcnow
from participation.core.users import User
from participation.demo.seed import seed_demo
from participation.extensions import db
from participation.reminders.demo import ENDING_TITLE
from participation.voting.demo import (
    CLOSED_TITLE,
    OPEN_BUDGET_TITLE,
    OPEN_TITLE,
    seed_voting_demo,
)
from participation.voting.models import Ballot, BallotRule, Campaign, RegisterEntry
from participation.voting.services import close_campaign_early
from participation.voting.tally import tally_campaign
from participation.widgets.services import open_campaigns

README = Path(__file__).resolve().parents[2] / "README.md"


def test_demo_votes_are_seeded_once_with_consistent_results(db_session):
    seed_demo()
    now = utcnow()
    open_vote = db.session.scalar(sa.select(Campaign).where(Campaign.title == OPEN_TITLE))
    closed = db.session.scalar(sa.select(Campaign).where(Campaign.title == CLOSED_TITLE))
    assert open_vote.is_open(now) and open_vote.territory.name == "городской округ город Уфа"
    assert len(open_vote.objects) == 5
    assert closed.is_closed(now) and closed.box_csv_sha256
    tally = tally_campaign(closed)
    assert tally.voters == tally.ballots >= 12
    assert tally.voters_by_channel["assisted"] >= 1
    winners = [r.title for r in tally.winners]
    assert winners[0] == "Освещение двора на ул. Менделеева, 130"
    assert any(r.skipped for r in tally.rows)
    assert sum(r.cost for r in tally.winners) <= closed.budget_limit

    before = [
        db.session.scalar(sa.select(sa.func.count()).select_from(m))
        for m in (Campaign, Ballot, RegisterEntry)
    ]
    assert seed_voting_demo() == {"voting_campaigns": 0, "voting_ballots": 0}
    after = [
        db.session.scalar(sa.select(sa.func.count()).select_from(m))
        for m in (Campaign, Ballot, RegisterEntry)
    ]
    assert before == after


def test_the_demo_has_two_open_votes_so_closing_one_leaves_the_widget_a_vote(db_session):
    seed_demo()
    now = utcnow()
    campaigns = list(
        db.session.scalars(
            sa.select(Campaign).where(Campaign.title != ENDING_TITLE).order_by(Campaign.id)
        )
    )  # the reminders' demo vote (ending in 3 days) apart
    assert len(campaigns) == 3
    assert sorted(c.title for c in campaigns if c.is_open(now)) == sorted(
        [OPEN_TITLE, OPEN_BUDGET_TITLE]
    )
    budget = next(c for c in campaigns if c.title == OPEN_BUDGET_TITLE)
    assert budget.ballot_rule == BallotRule.BUDGET and len(budget.objects) >= 4
    assert [o.number for o in budget.objects] == list(range(1, len(budget.objects) + 1))

    # The README names the vote the official closes, and it is not the one left for the widget.
    readme = README.read_text(encoding="utf-8")
    guide = readme[readme.index("### What to try in the demo") :]
    assert OPEN_TITLE in guide and OPEN_BUDGET_TITLE in guide
    landscaping = next(c for c in campaigns if c.title == OPEN_TITLE)
    official = db.session.scalar(sa.select(User).where(User.esia_oid == "1000007"))
    close_campaign_early(landscaping, official, "Демонстрация")  # ufa-authorized
    left = open_campaigns(landscaping.organization)
    assert [c.title for c in left] == [OPEN_BUDGET_TITLE]
