"""A new vote, survey or hearing in my territory: everyone there sees it in the feed, subscribers
get a letter, once each however often the sweep runs."""

from __future__ import annotations

from datetime import timedelta

from participation.core.preferences import NoticeKind
from participation.extensions import db
from participation.polls.models import Survey
from participation.reminders.tasks import sweep_announcements
from tests.reminders.conftest import NOON, choose, days, feed, letters, travel
from tests.voting.helpers import campaign as make_campaign


def _survey(world, territory, published=True, **kw) -> Survey:
    survey = Survey(
        organization=world.admin,
        title=kw.pop("title", "Опрос о парках"),
        starts_at=NOON,
        ends_at=NOON + days(10),
        published_at=NOON if published else None,
        territories=[territory],
        **kw,
    )
    db.session.add(survey)
    db.session.flush()
    return survey


def test_new_vote_and_survey_are_announced_once_to_their_territory(world, run_jobs):
    subscriber = world.resident(territory=world.district)
    choose(subscriber, NoticeKind.ANNOUNCEMENTS, True)
    bystander = world.resident()  # announcements by e-mail are off unless asked for
    neighbour = world.resident(territory=world.other_city)
    with travel(NOON):
        vote = make_campaign(world, closes=NOON + days(10), title="Парк у реки")
        _survey(world, world.city)
        _survey(world, world.other_city, title="Опрос соседей")
        _survey(world, world.city, published=False, title="Черновик")
    with travel(NOON + timedelta(minutes=1)):
        sweep_announcements()
        again = sweep_announcements()
        run_jobs()
    assert again == {"votes": 0, "surveys": 0, "hearings": 0}
    for person in (subscriber, bystander):
        assert [n.title for n in feed(person, "Новое голосование")] == [
            "Новое голосование: Парк у реки"
        ]
        assert [n.title for n in feed(person, "Новый опрос")] == ["Новый опрос: Опрос о парках"]
    assert [n.title for n in feed(neighbour, "Новый опрос")] == ["Новый опрос: Опрос соседей"]
    assert feed(neighbour, "Новое голосование") == []
    assert len(letters(subscriber, f"new_vote:{vote.id}")) == 1
    assert len(letters(subscriber, "new_survey")) == 1
    assert letters(bystander) == [] and letters(neighbour) == []


def test_old_and_closed_publications_are_not_news(world):
    person = world.resident()
    with travel(NOON - days(8)):
        make_campaign(world, closes=NOON + days(10), title="Старое")
    with travel(NOON):
        closed = make_campaign(world, closes=NOON + days(1), title="Закрытое")
    with travel(NOON + days(2)):
        sweep_announcements()
    assert feed(person, "Новое голосование") == []
    assert closed.id
