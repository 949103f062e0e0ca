"""A support's cost and freshness: a bounded number of statements, the event's settings from
the per-process cache, and every staff change seen by the next support."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from participation.core import cache
from participation.core.users import AccountLevel
from participation.directline import services
from participation.directline.models import QuestionSupport
from participation.directline.services import questions as support_services
from participation.extensions import db
from tests import factories as f
from tests.directline.conftest import COLLECTING, make_event, published, travel
from tests.helpers import count_statements, csrf_token, login_as


def _support(client, event, question, user) -> tuple:
    """Log in as `user` and support; returns the response and the statements it sent."""
    login_as(client, user)
    token = csrf_token(client, f"/directline/{event.id}")
    with count_statements(db.engine) as sent:
        response = client.post(
            f"/directline/{event.id}/questions/{question.id}/support",
            data={"csrf_token": token},
            follow_redirects=False,
        )
    return response, sent


def _supports() -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(QuestionSupport))


def _page(client, response) -> str:
    return client.get(response.headers["Location"]).get_data(as_text=True)


def test_a_support_sends_a_bounded_number_of_statements(world, client):
    event = make_event(world)
    with travel(COLLECTING):
        q = published(event, world.resident, world.moderator)
        db.session.commit()
        assert _support(client, event, q, world.resident2)[0].status_code == 302  # warms up
        neighbour = f.user(registration_territory=world.city, last_name="Соседка")
        db.session.commit()
        # (A first support from another home territory reads its chain once per process.)
        response, sent = _support(client, event, q, neighbour)
    assert response.status_code == 302
    # The person; the question under its lock with its authors' check and the cache's
    # generation; the insert (the unique constraint decides a repeat).
    assert len(sent) <= 4, "\n".join(sent)
    assert not any("directline_events" in s or "territories" in s for s in sent)
    assert _supports() == 2


def test_a_raised_account_level_refuses_the_next_support(world, client):
    event = make_event(world)
    with travel(COLLECTING):
        q = published(event, world.resident, world.moderator)
        db.session.commit()
        assert _support(client, event, q, world.resident2)[0].status_code == 302
        standard = f.user(AccountLevel.STANDARD, registration_territory=world.city)
        event.min_account_level = AccountLevel.CONFIRMED
        db.session.commit()
        response, _sent = _support(client, event, q, standard)
        assert "учётная запись" in _page(client, response)
    assert _supports() == 1


def test_an_event_ended_by_another_process_refuses_the_next_support(world, client):
    event = make_event(world)
    with travel(COLLECTING):
        q = published(event, world.resident, world.moderator)
        db.session.commit()
        assert _support(client, event, q, world.resident2)[0].status_code == 302
        # Another process moves the end before now: its flush bumped the generation in its
        # own transaction; this process's hooks never ran, its check interval has not passed.
        moments = {
            "opens": event.questions_open_at - timedelta(days=30),
            "ends": event.questions_open_at - timedelta(days=1),
        }
        db.session.execute(
            sa.text(
                "UPDATE directline_events SET questions_open_at = :opens, starts_at = :opens, "
                "questions_close_at = :ends, ends_at = :ends WHERE id = :id"
            ),
            {**moments, "id": event.id},
        )
        db.session.execute(cache._BUMP, {"name": support_services.EVENT_FACTS.name})
        db.session.commit()
        response, _sent = _support(client, event, q, world.resident3)
        assert "закончилась" in _page(client, response)
    assert _supports() == 1


def test_the_author_of_a_merged_duplicate_may_not_support_the_question(world, client):
    event = make_event(world)
    with travel(COLLECTING):
        target = published(event, world.resident, world.moderator)
        duplicate = published(event, world.resident2, world.moderator)
        services.merge_questions(duplicate, target, world.moderator)
        db.session.commit()
        response, _sent = _support(client, event, target, world.resident2)
        assert "Это ваш вопрос" in _page(client, response)
    assert _supports() == 0
