"""Large surveys: results come from a snapshot made by a job, refreshed when stale."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from participation.core.db import utcnow
from participation.extensions import db
from participation.polls import snapshots
from participation.polls.answering import submit_response
from participation.polls.models import QuestionKind, SurveyResultSnapshot
from tests.polls.conftest import as_user, build_survey, q, question_ids, resident
from tests.polls.test_results import count_statements


@pytest.fixture
def large(world, monkeypatch):
    monkeypatch.setattr(snapshots, "LIVE_LIMIT", 2)
    survey = build_survey(world, [q(QuestionKind.SINGLE, "Парк?", options=["Да", "Нет"])])
    (question,) = question_ids(survey)
    for _ in range(3):
        submit_response(
            survey, resident(world, age=30), {str(question.id): {"o": [question.choices[0].id]}}
        )
    db.session.flush()
    return survey, question


def _page(client, survey) -> str:
    return client.get(f"/polls/manage/{survey.id}/results").get_data(as_text=True)


def test_first_view_asks_for_the_snapshot_then_shows_it(client, world, large, run_jobs):
    survey, _question = large
    as_user(client, world.publisher)
    page = _page(client, survey)
    assert "Получено 3 ответа." in page or "Получено 3 ответов." in page
    run_jobs()
    snapshot = db.session.scalar(sa.select(SurveyResultSnapshot))
    db.session.refresh(snapshot)
    assert snapshot.computed_at is not None and snapshot.responses == 3
    with count_statements() as counter:
        page = _page(client, survey)
    assert "итоги считаются в фоне" in page and "Да: 3 (100,0\xa0%)" in page
    assert not any("survey_answers" in sql for sql in counter.get("sql", []))


def test_stale_snapshot_is_refreshed(client, world, large, run_jobs):
    survey, question = large
    as_user(client, world.publisher)
    _page(client, survey)
    run_jobs()
    submit_response(
        survey, resident(world, age=40), {str(question.id): {"o": [question.choices[1].id]}}
    )
    db.session.flush()
    page = _page(client, survey)
    assert "Да: 3 (100,0\xa0%)" in page  # fresh enough: the figures are still the snapshot's…
    assert "Получено 4 " in page  # …but the count of responses is current
    snapshot = db.session.scalar(sa.select(SurveyResultSnapshot))
    snapshot.computed_at -= timedelta(minutes=11)
    snapshot.requested_at = snapshot.computed_at
    db.session.flush()
    assert snapshots.refresh_stale_results() == 1  # the periodic sweep asks for it…
    assert snapshots.refresh_stale_results() == 0  # …once, not on every run
    snapshot.requested_at = snapshot.computed_at  # (that job never ran: no commit here)
    db.session.flush()
    _page(client, survey)  # the page asks too, and its commit sends the job
    run_jobs()
    page = _page(client, survey)
    assert "Да: 3 (75,0\xa0%); Нет: 1 (25,0\xa0%)" in page


def test_a_refresh_whose_job_was_lost_is_asked_for_again_by_the_sweep(client, world, large):
    """Asked for, then lost (Redis down, a worker killed): after RETRY_AFTER the sweep asks
    again; before it, it waits for the job it asked for."""
    survey, _ = large
    as_user(client, world.publisher)
    _page(client, survey)  # asks for the first snapshot; pretend its job never ran
    snapshot = db.session.scalar(sa.select(SurveyResultSnapshot))
    snapshot.computed_at = None
    snapshot.requested_at = utcnow() - snapshots.RETRY_AFTER + timedelta(minutes=1)
    db.session.flush()
    assert snapshots.refresh_stale_results() == 0
    snapshot.requested_at = utcnow() - snapshots.RETRY_AFTER - timedelta(minutes=1)
    db.session.flush()
    assert snapshots.refresh_stale_results() == 1
