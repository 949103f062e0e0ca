"""The demo votes: seeded once, open and closed as described, with results that add up."""

import sqlalchemy as sa

from participation.core.db import utcnow
from participation.demo.seed import seed_demo
from participation.extensions import db
from participation.voting.demo import CLOSED_TITLE, OPEN_TITLE, seed_voting_demo
from participation.voting.models import Ballot, Campaign, RegisterEntry
from participation.voting.tally import tally_campaign


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
