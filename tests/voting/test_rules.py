"""Receipt codes and winners: top N, ties, and the greedy budget rule on worked examples."""

import hashlib

import pytest

from participation.voting.models import BallotRule
from participation.voting.services import new_receipt_code, normalize_receipt, receipt_hash
from participation.voting.tally import ObjectResult, rank_and_choose


def rows(*spec):
    """spec: (votes, cost) per object, numbered 1, 2, 3… in order."""
    return [
        ObjectResult(id=n, number=n, title=f"Проект {n}", cost=cost, votes=votes)
        for n, (votes, cost) in enumerate(spec, start=1)
    ]


def test_receipt_codes_are_random_canonical_and_hashed():
    codes = {new_receipt_code() for _ in range(200)}
    assert len(codes) == 200
    code = codes.pop()
    assert len(code) == 19 and code.count("-") == 3
    assert normalize_receipt(code.lower().replace("-", " ")) == code
    assert receipt_hash(code) == hashlib.sha256(code.encode()).digest()
    assert normalize_receipt("ABC") is None
    assert normalize_receipt("O0O0-I1I1-O0O0-I1I1") is None  # letters we never use


def test_budget_winners_skip_a_project_that_no_longer_fits():
    # Budget 100. By votes: #2 (60) fits → 40 left; #1 (50) does not fit → skipped;
    # #4 (30) fits → 10 left; #3 (20) does not fit → skipped; #5 has no votes.
    group = rank_and_choose(
        rows((40, 50), (70, 60), (10, 20), (25, 30), (0, 5)), BallotRule.BUDGET, budget_limit=100
    )
    by_id = {r.id: r for r in group.rows}
    assert [r.id for r in group.rows] == [2, 1, 4, 3, 5]
    assert [r.id for r in group.winners] == [2, 4]
    assert by_id[1].skipped and by_id[3].skipped
    assert not by_id[5].winner and not by_id[5].skipped  # no votes: neither won nor skipped
    assert group.budget_left == 10
    assert group.budget_used == 90


def test_budget_winners_when_everything_fits_and_when_the_top_one_is_too_big():
    group = rank_and_choose(rows((5, 10), (3, 10), (1, 10)), BallotRule.BUDGET, budget_limit=30)
    assert [r.id for r in group.winners] == [1, 2, 3] and group.budget_left == 0
    group = rank_and_choose(rows((9, 200), (5, 80), (4, 30)), BallotRule.BUDGET, budget_limit=100)
    assert [r.id for r in group.winners] == [2]
    assert [r.id for r in group.rows if r.skipped] == [1, 3]


def test_single_choice_top_n_and_ranks_with_ties():
    group = rank_and_choose(
        rows((10, None), (30, None), (30, None), (5, None)), BallotRule.SINGLE, 1
    )
    assert [(r.id, r.rank) for r in group.rows] == [(2, 1), (3, 1), (1, 3), (4, 4)]
    assert [r.id for r in group.winners] == [2]  # equal votes: the lower number first
    assert group.tie_at_boundary
    group = rank_and_choose(rows((10, None), (30, None), (20, None)), BallotRule.APPROVAL, 2)
    assert [r.id for r in group.winners] == [2, 3] and not group.tie_at_boundary


@pytest.mark.parametrize("rule", [BallotRule.SINGLE, BallotRule.APPROVAL, BallotRule.BUDGET])
def test_nobody_wins_without_votes(rule):
    group = rank_and_choose(rows((0, 1), (0, 1)), rule, 1, budget_limit=10)
    assert group.winners == []
