"""Counting in SQL (GROUP BY) and choosing winners: top N, or greedily within a budget."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple

import sqlalchemy as sa

from participation.core.territories import Territory
from participation.extensions import db
from participation.voting.models import (
    Ballot,
    BallotChoice,
    BallotRule,
    Campaign,
    Channel,
    RegisterEntry,
    VotingObject,
)

ALL_DISTRICTS = object()  # sentinel: count the whole campaign


@dataclass
class ObjectResult:
    id: int
    number: int
    title: str
    cost: int | None = None
    district_id: int | None = None
    votes: int = 0
    share: float = 0.0  # per cent of the group's ballots that chose this object
    rank: int = 0  # 1, 2, 2, 4… (equal votes share a rank)
    winner: bool = False
    skipped: bool = False  # budget rule: had votes, but no longer fitted the remaining budget


class District(NamedTuple):
    id: int
    name: str


@dataclass
class GroupResult:
    """Results of one district (or of the whole campaign when it is not split by districts)."""

    district: District | None
    ballots: int
    rows: list[ObjectResult]  # by rank
    budget_left: int | None = None
    tie_at_boundary: bool = False  # the last winner and the first other have equal votes

    @property
    def winners(self) -> list[ObjectResult]:
        return [r for r in self.rows if r.winner]

    @property
    def budget_used(self) -> int:
        return sum(r.cost or 0 for r in self.rows if r.winner)


@dataclass
class Tally:
    campaign_id: int
    rule: BallotRule
    ballots: int
    groups: list[GroupResult]
    voters: int | None = None  # from the register; None when counting a single district
    voters_by_channel: dict[Channel, int] = field(default_factory=dict)
    turnout_target: int | None = None

    @property
    def rows(self) -> list[ObjectResult]:
        return [row for group in self.groups for row in group.rows]

    @property
    def winners(self) -> list[ObjectResult]:
        return [row for group in self.groups for row in group.winners]

    @property
    def target_reached(self) -> bool | None:
        if self.turnout_target is None or self.voters is None:
            return None
        return self.voters >= self.turnout_target


def rank_and_choose(
    rows: list[ObjectResult],
    rule: BallotRule,
    winners_count: int = 1,
    budget_limit: int | None = None,
) -> GroupResult:
    """Order rows by votes (then by their number), rank them, and mark the winners.

    Single / approval: the first `winners_count` with at least one vote. Budget: walk down
    the list taking each project that still fits the remaining budget and skipping those
    that do not (the next one may still fit). Pure: no database.
    """
    ordered = sorted(rows, key=lambda r: (-r.votes, r.number, r.id))
    previous_votes, previous_rank = None, 0
    for index, row in enumerate(ordered, start=1):
        row.rank = previous_rank if row.votes == previous_votes else index
        previous_votes, previous_rank = row.votes, row.rank
        row.winner = row.skipped = False
    group = GroupResult(district=None, ballots=0, rows=ordered)
    if rule == BallotRule.BUDGET:
        left = budget_limit or 0
        for row in ordered:
            if row.votes == 0:
                break
            if (row.cost or 0) <= left:
                row.winner = True
                left -= row.cost or 0
            else:
                row.skipped = True
        group.budget_left = left
        return group
    for row in ordered[:winners_count]:
        row.winner = row.votes > 0
    if len(ordered) > winners_count:
        last, first_other = ordered[winners_count - 1], ordered[winners_count]
        group.tie_at_boundary = last.votes > 0 and last.votes == first_other.votes
    return group


def count_votes(campaign_id: int) -> dict[int, int]:
    """Votes per object of a campaign, counted by the database (GROUP BY)."""
    query = (
        sa.select(BallotChoice.object_id, sa.func.count())
        .where(BallotChoice.campaign_id == campaign_id)
        .group_by(BallotChoice.object_id)
    )
    return {key: n for key, n in db.session.execute(query)}  # noqa: C416


def count_ballots(campaign_id: int, district_id: object = ALL_DISTRICTS) -> dict[int | None, int]:
    """Ballots per district (one key, None, when the campaign is not split by districts)."""
    query = (
        sa.select(Ballot.district_id, sa.func.count())
        .where(Ballot.campaign_id == campaign_id)
        .group_by(Ballot.district_id)
    )
    if district_id is not ALL_DISTRICTS:
        query = query.where(Ballot.district_id == district_id)
    return {key: n for key, n in db.session.execute(query)}  # noqa: C416


def _objects_with_votes(
    campaign_id: int, district_id: object
) -> tuple[list[ObjectResult], dict[int, District]]:
    """The objects with their vote counts and district names, in one query.

    The choices are grouped first — for one district an index-only scan of its objects'
    entries, for the whole campaign one pass over its choices with no join — and only the
    grouped counts are joined to the objects and their districts.
    """
    votes = sa.select(BallotChoice.object_id, sa.func.count().label("n"))
    if district_id is ALL_DISTRICTS:
        votes = votes.where(BallotChoice.campaign_id == campaign_id)
    else:
        votes = votes.where(
            BallotChoice.object_id.in_(
                sa.select(VotingObject.id).where(
                    VotingObject.campaign_id == campaign_id,
                    VotingObject.district_id == district_id,
                )
            )
        )
    votes = votes.group_by(BallotChoice.object_id).subquery()
    query = (
        sa.select(
            VotingObject.id,
            VotingObject.number,
            VotingObject.title,
            VotingObject.cost,
            VotingObject.district_id,
            Territory.name,
            sa.func.coalesce(votes.c.n, 0),
        )
        .outerjoin(votes, votes.c.object_id == VotingObject.id)
        .outerjoin(Territory, Territory.id == VotingObject.district_id)
        .where(VotingObject.campaign_id == campaign_id)
        .order_by(VotingObject.number, VotingObject.id)
    )
    if district_id is not ALL_DISTRICTS:
        query = query.where(VotingObject.district_id == district_id)
    rows, districts = [], {}
    for i, number, title, cost, district, name, votes in db.session.execute(query):
        rows.append(ObjectResult(i, number, title, cost, district, votes))
        if district is not None and district not in districts:
            districts[district] = District(district, name)
    return rows, districts


def tally_campaign(campaign: Campaign, district_id: object = ALL_DISTRICTS) -> Tally:
    """Results of a campaign (or of one of its districts), all counting done in SQL."""
    objects, districts = _objects_with_votes(campaign.id, district_id)
    groups_rows: dict[int | None, list[ObjectResult]] = {}
    for row in objects:
        key = row.district_id if campaign.per_district else None
        groups_rows.setdefault(key, []).append(row)
    if campaign.ballot_rule == BallotRule.SINGLE:
        # A single-choice ballot holds exactly one choice: ballots are the sum of votes,
        # which saves a second pass over the box (the recount test checks the identity).
        ballots = {key: sum(r.votes for r in rows) for key, rows in groups_rows.items()}
    else:
        counted = count_ballots(campaign.id, district_id)
        if not campaign.per_district:
            counted = {None: sum(counted.values())}
        ballots = {key: counted.get(key, 0) for key in groups_rows}
    groups = []
    for key in sorted(groups_rows, key=lambda k: districts[k].name if k in districts else ""):
        group = rank_and_choose(
            groups_rows[key], campaign.ballot_rule, campaign.winners_count, campaign.budget_limit
        )
        group.district = districts.get(key) if key is not None else None
        group.ballots = ballots.get(key, 0)
        for row in group.rows:
            row.share = 100.0 * row.votes / group.ballots if group.ballots else 0.0
        groups.append(group)
    tally = Tally(
        campaign_id=campaign.id,
        rule=campaign.ballot_rule,
        ballots=sum(g.ballots for g in groups),
        groups=groups,
        turnout_target=campaign.turnout_target,
    )
    if district_id is ALL_DISTRICTS:
        by_channel = dict.fromkeys(Channel, 0)
        by_channel.update(
            {
                Channel(channel): n
                for channel, n in db.session.execute(
                    sa.select(RegisterEntry.channel, sa.func.count())
                    .where(RegisterEntry.campaign_id == campaign.id)
                    .group_by(RegisterEntry.channel)
                )
            }
        )
        tally.voters_by_channel = by_channel
        tally.voters = sum(by_channel.values())
    return tally
