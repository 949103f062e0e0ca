"""A survey submission's cost and freshness: a bounded number of statements, questions and
settings read from the per-process cache, and every staff change seen by the next request."""

from __future__ import annotations

import sqlalchemy as sa

from participation.core import cache
from participation.core.db import utcnow
from participation.extensions import db
from participation.polls import services
from participation.polls.engine import QUESTIONNAIRES
from participation.polls.models import QuestionKind, SurveyAnswer, SurveyResponse
from tests.helpers import count_statements
from tests.polls.conftest import (
    as_user,
    build_survey,
    post_answers,
    q,
    question_ids,
    resident,
    token,
)

K = QuestionKind


def _submit(client, survey, data: dict) -> tuple:
    """POST a submission; returns the response and the statements it sent."""
    form = {"csrf_token": token(client), "section": "0", "action": "submit", **data}
    with count_statements(db.engine) as sent:
        response = client.post(f"/polls/{survey.id}/answer", data=form)
    return response, sent


def _responses() -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(SurveyResponse))


def test_a_submission_sends_a_bounded_number_of_statements(client, world):
    survey = build_survey(
        world,
        [
            q(K.SINGLE, "Да или нет?", options=["Да", "Нет"], required=True),
            q(K.MATRIX, "Оцените", options=["Хорошо", "Плохо"], rows=["Дороги", "Парки"]),
            q(K.TEXT, "Ваше предложение"),
        ],
    )
    single, matrix, text = question_ids(survey)
    data = {
        f"q{single.id}": str(single.choices[0].id),
        f"q{matrix.id}_r{matrix.rows[0].id}": str(matrix.choices[1].id),
        f"q{text.id}": "Больше скамеек",
    }
    db.session.commit()
    as_user(client, resident(world))
    assert _submit(client, survey, data)[0].status_code == 302  # fills the caches
    as_user(client, resident(world))
    response, sent = _submit(client, survey, data)
    assert response.status_code == 302 and response.headers["Location"].endswith("/thanks")
    # The person, the survey under its lock (with the cache's generation), the draft taken,
    # the register row, the response, its answers; whatever the questionnaire's size.
    assert len(sent) <= 8, "\n".join(sent)
    assert not any("survey_questions" in s or "survey_options" in s for s in sent)
    assert _responses() == 2


def test_a_question_added_before_the_first_answer_is_asked_at_once(client, world):
    survey = build_survey(world, [q(K.SINGLE, "Да или нет?", options=["Да", "Нет"], required=True)])
    (first,) = question_ids(survey)
    db.session.commit()
    as_user(client, resident(world))
    # A refused submission (nothing stored): the questionnaire is now cached in this process.
    assert _submit(client, survey, {})[0].status_code == 400
    services.add_question(survey.sections[0], q(K.TEXT, "Что ещё?", required=True))
    db.session.commit()
    as_user(client, resident(world))
    response, _sent = _submit(client, survey, {f"q{first.id}": str(first.choices[0].id)})
    assert response.status_code == 400
    assert "Это обязательный вопрос" in response.get_data(as_text=True)


def test_a_question_changed_by_another_process_is_asked_at_once(client, world):
    survey = build_survey(
        world,
        [q(K.SINGLE, "Да или нет?", options=["Да", "Нет"], required=True), q(K.TEXT, "Мнение")],
    )
    single, text = question_ids(survey)
    db.session.commit()
    as_user(client, resident(world))
    assert _submit(client, survey, {})[0].status_code == 400  # cached; nothing stored
    # Another process makes it mandatory: its flush bumped the generation in its own
    # transaction; this process's hooks never ran, and its check interval has not passed.
    db.session.execute(
        sa.text("UPDATE survey_questions SET required = :yes WHERE id = :id"),
        {"yes": True, "id": text.id},
    )
    db.session.execute(cache._BUMP, {"name": QUESTIONNAIRES.name})
    db.session.commit()
    response, _sent = _submit(client, survey, {f"q{single.id}": str(single.choices[0].id)})
    assert response.status_code == 400  # the lock's read of the generation decides
    assert "Это обязательный вопрос" in response.get_data(as_text=True)
    assert _responses() == 0


def test_a_closed_survey_refuses_the_next_submission(client, world):
    survey = build_survey(world, [q(K.SINGLE, "Да или нет?", options=["Да", "Нет"])])
    (single,) = question_ids(survey)
    data = {f"q{single.id}": str(single.choices[0].id)}
    db.session.commit()
    as_user(client, resident(world))
    assert _submit(client, survey, data)[0].status_code == 302
    survey.closed_at = utcnow()
    db.session.commit()
    as_user(client, resident(world))
    response, _sent = _submit(client, survey, data)
    assert response.status_code == 302 and response.headers["Location"].endswith(
        f"/polls/{survey.id}"
    )
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "ответы больше не принимаются" in page
    assert _responses() == 1


def test_a_narrowed_audience_refuses_the_next_submission(client, world):
    survey = build_survey(world, [q(K.SINGLE, "Да или нет?", options=["Да", "Нет"])])
    (single,) = question_ids(survey)
    data = {f"q{single.id}": str(single.choices[0].id)}
    db.session.commit()
    as_user(client, resident(world))
    assert _submit(client, survey, data)[0].status_code == 302
    survey.territories = [world.other_city]  # before anyone from there answered
    db.session.commit()
    as_user(client, resident(world))  # lives in world.city
    response, _sent = _submit(client, survey, data)
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "вне территории" in page
    assert _responses() == 1
    assert db.session.scalar(sa.select(sa.func.count()).select_from(SurveyAnswer)) == 1


def test_a_draft_is_taken_by_the_submission_and_kept_if_it_is_refused(client, world):
    survey = build_survey(
        world,
        [
            [q(K.SINGLE, "Первый", options=["Да", "Нет"], required=True)],
            [q(K.TEXT, "Второй", required=True)],
        ],
    )
    first, second = question_ids(survey)
    db.session.commit()
    as_user(client, resident(world))
    moved = post_answers(client, survey, {f"q{first.id}": str(first.choices[0].id)}, action="next")
    assert moved.status_code == 302
    refused = post_answers(client, survey, {}, section=1, action="submit")
    assert refused.status_code == 400  # the draft survives the refusal
    done = post_answers(client, survey, {f"q{second.id}": "Да"}, section=1, action="submit")
    assert done.headers["Location"].endswith("/thanks")
    stored = db.session.scalars(sa.select(SurveyAnswer.question_id)).all()
    assert sorted(stored) == sorted([first.id, second.id])
