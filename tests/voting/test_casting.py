"""Casting: who may vote, what a valid ballot is, one ballot per person, the secret box."""

from datetime import timedelta

import pytest
import sqlalchemy as sa

from participation.core.audit import AuditEntry
from participation.core.db import utcnow
from participation.core.errors import FieldError
from participation.core.users import AccountLevel, UserKind
from participation.extensions import db
from participation.voting.models import (
    Ballot,
    BallotChoice,
    BallotRule,
    Channel,
    RegisterEntry,
)
from participation.voting.services import (
    AlreadyVoted,
    VotingRefused,
    cast_ballot,
    receipt_hash,
    receipt_in_box,
    revote_ballot,
)
from tests import factories
from tests.voting.helpers import campaign


def ids(c, *positions):
    return [c.objects[p - 1].id for p in positions]


def count(model, **where):
    query = sa.select(sa.func.count()).select_from(model)
    for column, value in where.items():
        query = query.where(getattr(model, column) == value)
    return db.session.scalar(query)


def test_a_vote_puts_one_row_in_the_register_and_one_anonymous_ballot_in_the_box(town):
    c = campaign(town)
    voter = town.resident(age=15)
    result = cast_ballot(c, voter, ids(c, 2))
    entry = db.session.scalar(sa.select(RegisterEntry))
    assert (entry.campaign_id, entry.user_id, entry.channel) == (c.id, voter.id, Channel.SELF)
    assert entry.volunteer_id is None and entry.revote_check is None
    ballot = db.session.scalar(sa.select(Ballot))
    assert ballot.receipt_hash == receipt_hash(result.code)
    assert [ch.object_id for ch in ballot.choices] == ids(c, 2)
    assert [o.title for o in result.objects] == ["Сквер на улице Ленина"]
    assert receipt_in_box(c, result.code)
    assert not receipt_in_box(c, "AAAA-BBBB-CCCC-DDDD")


def test_ballot_rows_carry_nothing_that_links_to_a_person(town):
    c = campaign(town)
    voter = town.resident()
    cast_ballot(c, voter, ids(c, 1))
    # The box's columns, exactly: no user, no address, no time finer than a day, no sequence.
    ballots = sa.inspect(db.session.connection()).get_columns("voting_ballots")
    assert {col["name"] for col in ballots} == {
        "id",
        "campaign_id",
        "district_id",
        "receipt_hash",
        "cast_on",
    }
    assert {
        col["name"]
        for col in sa.inspect(db.session.connection()).get_columns("voting_ballot_choices")
    } == {"ballot_id", "object_id", "campaign_id"}
    assert str(next(c_["type"] for c_ in ballots if c_["name"] == "cast_on")).upper() == "DATE"
    ballot = db.session.scalar(sa.select(Ballot))
    assert ballot.id.version == 4  # random, orders nothing
    register_columns = {
        c_["name"] for c_ in sa.inspect(db.session.connection()).get_columns("voting_register")
    }
    assert not register_columns & {"ballot_id", "receipt_hash", "receipt"}
    # No audit entry ties the person to the moment of the vote either.
    assert count(AuditEntry, actor_id=voter.id) == 0


def test_a_second_ballot_of_the_same_person_is_refused_and_nothing_is_added(town):
    c = campaign(town)
    voter = town.resident()
    cast_ballot(c, voter, ids(c, 1))
    with pytest.raises(AlreadyVoted, match="Вы уже проголосовали"):
        cast_ballot(c, voter, ids(c, 2))
    assert count(RegisterEntry) == 1 and count(Ballot) == 1 and count(BallotChoice) == 1
    refused = db.session.scalar(sa.select(AuditEntry).where(AuditEntry.action == "voting.refused"))
    assert refused.details["code"] == "already_voted"


@pytest.mark.parametrize(
    ("make_voter", "code", "message"),
    [
        (lambda t: t.resident(age=13), "too_young", "Вам пока нет 14 лет"),
        (lambda t: t.resident(territory=t.other_city), "territory", "зарегистрированы вне"),
        (lambda t: t.resident(level=AccountLevel.SIMPLIFIED), "level", "нужна подтверждённая"),
        (lambda t: t.resident(level=AccountLevel.STANDARD), "level", "нужна подтверждённая"),
        (lambda t: t.resident(birth_date=None), "no_birth_date", "нет даты рождения"),
        (
            lambda t: t.resident(kind=UserKind.LEGAL_REP, legal_entity_name="ООО «Ромашка»"),
            "legal_entity",
            "юридических лиц",
        ),
    ],
)
def test_ineligible_people_are_refused_with_the_reason(town, make_voter, code, message):
    c = campaign(town)
    voter = make_voter(town)
    with pytest.raises(VotingRefused, match=message) as refused:
        cast_ballot(c, voter, ids(c, 1))
    assert refused.value.code == code
    assert count(RegisterEntry) == 0 and count(Ballot) == 0


def test_the_account_level_is_the_organizers_choice(town):
    c = campaign(town, min_level=AccountLevel.SIMPLIFIED)
    cast_ballot(c, town.resident(level=AccountLevel.SIMPLIFIED), ids(c, 1))
    assert count(Ballot) == 1


def test_age_counts_on_the_voting_day_in_the_municipality(town):
    c = campaign(town)
    today = c.local_day(utcnow())
    turns_14_today = today.replace(year=today.year - 14)
    cast_ballot(c, town.resident(birth_date=turns_14_today), ids(c, 1))
    tomorrow = today + timedelta(days=1)
    turns_14_tomorrow = tomorrow.replace(year=tomorrow.year - 14)
    with pytest.raises(VotingRefused, match="Вам пока нет 14 лет"):
        cast_ballot(c, town.resident(birth_date=turns_14_tomorrow), ids(c, 2))


def test_votes_outside_the_period_or_in_a_draft_are_refused(town):
    now = utcnow()
    voter = town.resident()
    closed = campaign(town, opens=now - timedelta(days=3), closes=now - timedelta(minutes=1))
    with pytest.raises(VotingRefused, match="Голосование завершено") as refused:
        cast_ballot(closed, voter, ids(closed, 1))
    assert refused.value.code == "closed"
    later = campaign(town, opens=now + timedelta(days=1), closes=now + timedelta(days=3))
    with pytest.raises(VotingRefused, match="ещё не началось"):
        cast_ballot(later, voter, ids(later, 1))
    draft = campaign(town, published=False)
    with pytest.raises(VotingRefused, match="не опубликовано"):
        cast_ballot(draft, voter, ids(draft, 1))
    early = campaign(town, closed_early_at=now - timedelta(minutes=1), close_reason="Ошибка")
    with pytest.raises(VotingRefused, match="Голосование завершено"):
        cast_ballot(early, voter, ids(early, 1))
    assert count(Ballot) == 0


def test_invalid_ballots_are_refused_next_to_the_choice(town):
    single = campaign(town)
    approval = campaign(town, rule=BallotRule.APPROVAL, max_choices=2)
    budget = campaign(town, rule=BallotRule.BUDGET, budget_limit=100, costs=(60, 50, 30, 10, 5))
    voter = town.resident()
    cases = [
        (single, [], "Выберите один объект"),
        (single, ids(single, 1, 2), "Выберите один объект"),
        (single, [10**9], "Такого объекта нет"),
        (single, ids(approval, 1), "Такого объекта нет"),  # another campaign's object
        (approval, ids(approval, 1, 2, 3), "не больше 2"),
        (approval, [], "хотя бы один"),
        (budget, ids(budget, 1, 2), "стоят 110"),
    ]
    for c, chosen, message in cases:
        with pytest.raises(FieldError, match=message) as error:
            cast_ballot(c, voter, chosen)
        assert error.value.field == "choices"
    assert count(RegisterEntry) == 0 and count(Ballot) == 0
    cast_ballot(approval, voter, ids(approval, 1, 2, 2))  # a repeated id counts once
    cast_ballot(budget, voter, ids(budget, 1, 3, 4))
    assert count(BallotChoice) == 5


def test_per_district_voters_choose_only_in_their_district(town):
    from participation.core.territories import TerritoryLevel

    north = factories.territory(TerritoryLevel.SETTLEMENT, parent=town.city, name="Северный")
    south = factories.territory(TerritoryLevel.SETTLEMENT, parent=town.city, name="Южный")
    c = campaign(town, rule=BallotRule.APPROVAL, max_choices=2, per_district=True)
    for obj, district in zip(c.objects, [north, north, south, south, south], strict=True):
        obj.district_id = district.id
    db.session.flush()
    voter = town.resident(territory=north)
    with pytest.raises(FieldError, match="только объекты вашего района"):
        cast_ballot(c, voter, ids(c, 1, 3))
    cast_ballot(c, voter, ids(c, 1, 2))
    assert db.session.scalar(sa.select(Ballot.district_id)) == north.id
    with pytest.raises(VotingRefused, match="нет объектов"):
        cast_ballot(c, town.resident(territory=town.city), ids(c, 3))


def test_assisted_votes_are_marked_in_the_register_and_never_on_the_ballot(town):
    c = campaign(town)
    resident = town.resident(age=70)
    cast_ballot(c, resident, ids(c, 3), channel=Channel.ASSISTED, volunteer=town.volunteer)
    entry = db.session.scalar(sa.select(RegisterEntry))
    assert entry.channel == Channel.ASSISTED and entry.volunteer_id == town.volunteer.id
    assert entry.user_id == resident.id
    with pytest.raises(ValueError):
        cast_ballot(c, town.resident(), ids(c, 1), channel=Channel.ASSISTED)


def test_revote_replaces_the_ballot_with_the_receipt_code_only(town):
    c = campaign(town, allow_revote=True)
    voter, other = town.resident(), town.resident()
    first = cast_ballot(c, voter, ids(c, 1))
    theirs = cast_ballot(c, other, ids(c, 4))
    with pytest.raises(FieldError, match="Код не подходит"):
        revote_ballot(c, voter, ids(c, 2), theirs.code)  # someone else's receipt
    again = revote_ballot(c, voter, ids(c, 2), first.code.lower())
    assert again.code == first.code
    assert count(RegisterEntry) == 2 and count(Ballot) == 2
    choices = db.session.execute(
        sa.select(BallotChoice.object_id)
        .join(Ballot)
        .where(Ballot.receipt_hash == receipt_hash(first.code))
    ).scalars()
    assert list(choices) == ids(c, 2)
    with pytest.raises(VotingRefused, match="ещё не голосовали"):
        revote_ballot(c, town.resident(), ids(c, 2), first.code)


def test_without_revote_the_register_keeps_no_receipt_link(town):
    c = campaign(town)
    voter = town.resident()
    result = cast_ballot(c, voter, ids(c, 1))
    with pytest.raises(AlreadyVoted):
        revote_ballot(c, voter, ids(c, 2), result.code)


def test_without_javascript_the_budget_ballot_shows_the_total_and_the_excess(town, client):
    from tests.helpers import csrf_token, login_as

    c = campaign(
        town,
        rule=BallotRule.BUDGET,
        budget_limit=1_000_000,
        objects=("Площадка", "Тротуар", "Скамейки"),
        costs=(600_000, 550_000, 300_000),
    )
    login_as(client, town.resident())
    url = f"/voting/{c.id}/ballot"
    page = client.get(url).get_data(as_text=True)
    assert 'id="budget-total"' in page and 'aria-live="polite"' in page
    assert "остаток бюджета" in page  # filled in by the server, not only by the script
    token = csrf_token(client, url)
    response = client.post(url, data={"csrf_token": token, "choices": ids(c, 1, 2)})
    text = " ".join(response.get_data(as_text=True).replace("\u202f", " ").split())
    assert "это на 150 000 ₽ больше" in text  # the server's refusal says by how much
    assert "Выбрано проектов на 1 150 000 ₽ — это на 150 000 ₽ больше бюджета." in text
    assert count(RegisterEntry, campaign_id=c.id) == 0
