"""One response per person holds under concurrency: the database decides, not a prior check."""

from __future__ import annotations

import threading

import pytest
import sqlalchemy as sa

from participation.core.errors import Conflict
from participation.core.users import User
from participation.extensions import db
from participation.polls.answering import submit_response
from participation.polls.models import (
    QuestionKind,
    Survey,
    SurveyAnswer,
    SurveyParticipant,
    SurveyResponse,
)
from tests.polls.conftest import build_survey, q, question_ids, resident

THREADS = 6


def _race(app, survey_id: int, user_ids: list[int], answer: dict) -> list[str]:
    barrier = threading.Barrier(len(user_ids))
    outcomes: list[str] = []
    lock = threading.Lock()

    def run(user_id: int) -> None:
        with app.app_context():
            survey = db.session.get(Survey, survey_id)
            user = db.session.get(User, user_id)
            survey_id_, user_ = survey.id, user
            # End the read transaction before waiting: on SQLite every transaction holds
            # the write lock (BEGIN IMMEDIATE), so waiting inside one would stall the rest.
            db.session.commit()
            barrier.wait()
            survey = db.session.get(Survey, survey_id_)
            try:
                submit_response(survey, user_, answer)
                db.session.commit()
                result = "ok"
            except Conflict:
                db.session.rollback()
                result = "conflict"
            except Exception as exc:
                db.session.rollback()
                result = f"error: {exc!r}"
            finally:
                db.session.remove()
            with lock:
                outcomes.append(result)

    threads = [threading.Thread(target=run, args=(uid,)) for uid in user_ids]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    return outcomes


@pytest.mark.committed
def test_same_person_submitting_in_parallel_gets_one_response(app, world):
    survey = build_survey(world, [q(QuestionKind.SINGLE, "Да или нет?", options=["Да", "Нет"])])
    (question,) = question_ids(survey)
    answer = {str(question.id): {"o": [question.choices[0].id]}}
    survey_id, user_id = survey.id, world.adult.id
    db.session.commit()
    # From here on the main thread touches no ORM object: on SQLite a lazy reload would
    # open a transaction holding the write lock while the threads run.
    outcomes = _race(app, survey_id, [user_id] * THREADS, answer)
    assert sorted(outcomes) == ["conflict"] * (THREADS - 1) + ["ok"], outcomes
    count = lambda model: db.session.scalar(sa.select(sa.func.count()).select_from(model))  # noqa: E731
    assert count(SurveyParticipant) == 1
    assert count(SurveyResponse) == 1
    assert count(SurveyAnswer) == 1


@pytest.mark.committed
def test_different_people_in_parallel_all_get_in(app, world):
    survey = build_survey(world, [q(QuestionKind.SINGLE, "Да или нет?", options=["Да", "Нет"])])
    (question,) = question_ids(survey)
    people = [resident(world, age=20 + i).id for i in range(THREADS)]
    answer = {str(question.id): {"o": [question.choices[1].id]}}
    survey_id = survey.id
    db.session.commit()
    outcomes = _race(app, survey_id, people, answer)
    assert outcomes == ["ok"] * THREADS
    assert db.session.scalar(sa.select(sa.func.count()).select_from(SurveyResponse)) == THREADS
