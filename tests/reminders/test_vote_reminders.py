"""«Голосование заканчивается через 3 дня»: eligible residents who have not voted, once each,
whatever the number of sweeps, a downtime between them, or the vote closing meanwhile."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from participation.auth.eligibility import check
from participation.core.jobs import SWEEPS
from participation.core.outbox import relay_pending_outbox
from participation.core.preferences import NoticeKind
from participation.core.users import AccountLevel, UserKind
from participation.extensions import db
from participation.reminders.models import NoticeTopic, SentNotice
from participation.reminders.services import eligible_voters, latest_birth_date, not_voted
from participation.reminders.tasks import sweep_announcements, sweep_vote_reminders
from participation.voting.services import eligibility_rule
from tests.reminders.conftest import NOON, choose, days, feed, letters, travel, voted
from tests.voting.helpers import campaign as make_campaign

ENDING = "заканчивается"


def _vote(world, closes_in=days(5), **kw):
    with travel(NOON):
        return make_campaign(world, closes=NOON + closes_in, min_age=16, **kw)


def test_the_sweeps_are_registered():
    assert sweep_vote_reminders in SWEEPS and sweep_announcements in SWEEPS


def test_eligible_residents_who_have_not_voted_are_told_once(world, run_jobs):
    vote = _vote(world)
    waiting = world.resident(email="waiting@example.org")
    in_district = world.resident(territory=world.district)
    no_mail = world.resident()
    choose(no_mail, NoticeKind.REMINDERS, False)
    has_voted = world.resident()
    voted(vote, has_voted)
    too_young = world.resident(age=15)
    weak = world.resident(level=AccountLevel.SIMPLIFIED)
    elsewhere = world.resident(territory=world.other_city)
    company = world.resident(kind=UserKind.LEGAL_REP, legal_entity_name="ООО «Ромашка»")
    # Five days before the close: nothing yet.
    with travel(NOON):
        assert sweep_vote_reminders()["reminded"] == 0
    with travel(NOON + days(2) + timedelta(hours=1)):  # 2 days 23 hours left
        first = sweep_vote_reminders()
        again = sweep_vote_reminders()
        run_jobs()
    told = {waiting, in_district, no_mail, world.official, world.volunteer}
    assert first["reminded"] == len(told) and again["reminded"] == 0
    for person in told:
        [item] = feed(person, ENDING)
        assert item.title == "Голосование заканчивается через 3 дня", item.title
        assert vote.title in item.body and "Вы ещё не проголосовали" in item.body
    for person in (has_voted, too_young, weak, elsewhere, company):
        assert feed(person, ENDING) == [] and letters(person, ":ending:") == []
    # The feed always; the letter only for who allows reminders.
    assert letters(no_mail, ":ending:") == []
    [letter] = letters(waiting, ":ending:")
    assert letter.email == "waiting@example.org" and letter.sent_at is not None
    # The register of who voted decided, and it says so once per person.
    logged = db.session.scalars(
        sa.select(SentNotice.user_id).where(SentNotice.topic == NoticeTopic.VOTE_ENDING)
    ).all()
    assert sorted(logged) == sorted(p.id for p in told)


def test_the_sql_selection_agrees_with_the_eligibility_check(world):
    vote = _vote(world)
    people = [
        world.resident(age=16, birth_date=latest_birth_date(16, vote.local_day(NOON))),
        world.resident(
            age=15, birth_date=latest_birth_date(16, vote.local_day(NOON)) + timedelta(days=1)
        ),
        world.resident(level=AccountLevel.STANDARD),
        world.resident(territory=world.district),
        world.resident(territory=world.other_city),
        world.resident(birth_date=None),
        world.resident(territory=None),
    ]
    with travel(NOON):
        chosen = set(db.session.scalars(eligible_voters(vote, NOON).where(not_voted(vote.id))))
        rule = eligibility_rule(vote)
        for person in people:
            assert (person.id in chosen) == check(person, rule, vote.local_day(NOON)).allowed, (
                person.birth_date,
                person.account_level,
            )


def test_downtime_each_reminder_once_and_none_for_a_vote_closed_meanwhile(world, run_jobs):
    long_vote = _vote(world, closes_in=days(10), title="Двор на Ленина")
    short_vote = _vote(world, closes_in=days(4), title="Сквер у школы")
    person = world.resident()
    # The sweeps stop at NOON and come back 8 days later: the short vote closed on day 4,
    # the long one now ends in 2 days.
    with travel(NOON + days(8)):
        sweep_vote_reminders()
        sweep_vote_reminders()
        run_jobs()
    [item] = feed(person, ENDING)
    assert "Двор на Ленина" in item.body and item.title == "Голосование заканчивается через 2 дня"
    assert len(letters(person, f"vote:{long_vote.id}:ending")) == 1
    assert letters(person, f"vote:{short_vote.id}:ending") == []
    # Asked directly, a closed vote gets no reminder either.
    from participation.reminders.tasks import remind_vote_ending

    with travel(NOON + days(8)):
        assert remind_vote_ending(short_vote, NOON + days(8)) == 0
    with travel(NOON + days(9)):
        assert sweep_vote_reminders()["reminded"] == 0
    assert len(feed(person, ENDING)) == 1


def test_a_resident_who_votes_after_the_reminder_is_not_told_again(world):
    vote = _vote(world)
    person = world.resident()
    with travel(NOON + days(2.5)):
        sweep_vote_reminders()
        voted(vote, person)
        sweep_vote_reminders()
    assert len(feed(person, ENDING)) == 1


def test_a_letter_held_for_the_night_is_withdrawn_when_the_vote_closes_early(world, run_jobs):
    vote = _vote(world)
    person = world.resident()  # Yekaterinburg: 22:30 local is 17:30 UTC
    evening = (NOON + days(2)).replace(hour=17, minute=30)
    with travel(evening):
        sweep_vote_reminders()
        run_jobs()
    [letter] = letters(person, ":ending:")
    assert letter.sent_at is None and letter.next_attempt_at is not None
    with travel(evening + timedelta(hours=1)):
        vote.closed_early_at = evening + timedelta(hours=1)
        vote.close_reason = "Решение главы"
        db.session.flush()
        # The resident's and the two staff members' (residents of the city too).
        assert sweep_vote_reminders()["withdrawn"] == 3
    with travel(evening + timedelta(hours=12)):
        relay_pending_outbox()
    db.session.refresh(letter)
    assert letter.sent_at is None
    assert len(feed(person, ENDING)) == 1  # the feed item stays: it was true when written
