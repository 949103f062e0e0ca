"""Resident API: surveys open to me with eligibility reasons, the questionnaire, answering once."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from participation.core.users import Gender
from participation.extensions import db
from participation.polls import services
from participation.polls.models import QuestionKind as K
from participation.polls.models import SurveyAnswer, SurveyParticipant, SurveyResponse
from tests.api.openapi_check import check_problem
from tests.api.resident_support import Tokens, bearer
from tests.polls.conftest import build_survey, q, question_ids, resident, world  # noqa: F401


@pytest.fixture
def mint(db_session):
    return Tokens()


@pytest.fixture
def token(mint, world):  # noqa: F811
    return mint(world.adult)


def transport_survey(w, **kw):
    survey = build_survey(
        w,
        [
            q(K.SINGLE, "Как часто вы ездите на автобусе?", options=["Часто", "Редко"]),
            q(K.TEXT, "Что улучшить?"),
            q(K.SCALE, "Оцените от 1 до 5", scale_max=5, required=True),
        ],
        **kw,
    )
    db.session.commit()
    return survey


def answer(client, token, survey, answers):
    return client.post(
        f"/api/v1/my/surveys/{survey.id}/responses",
        json={"answers": answers},
        headers=bearer(token),
    )


def count(model) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def test_my_surveys_with_eligibility(client, world, token):  # noqa: F811
    w = world
    open_one = transport_survey(w)
    build_survey(w, [q(K.TEXT, "Мужчинам")], gender=Gender.MALE)
    build_survey(w, [q(K.TEXT, "Стерлитамак")], territory=w.other_city, org=w.other_org)
    db.session.commit()
    body = client.get("/api/v1/my/surveys", headers=bearer(token)).get_json()
    assert body["total"] == 2
    by_id = {s["id"]: s for s in body["items"]}
    mine = by_id[open_one.id]
    assert mine["eligibility"]["allowed"] and not mine["answered"]
    assert mine["status"] == {"code": "open", "label": "Идёт"}
    [men] = [s for s in body["items"] if s["id"] != open_one.id]
    assert men["eligibility"]["code"] == "gender"
    assert men["eligibility"]["reason"].startswith("Этот опрос адресован мужчинам.")


def test_the_questionnaire_with_conditions(client, world, token):  # noqa: F811
    w = world
    survey = build_survey(
        w,
        [
            q(K.SINGLE, "Ездите на автобусе?", options=["Да", "Нет"]),
            q(K.TEXT, "Что не так с автобусами?"),
            q(K.MATRIX, "Оцените", options=["Хорошо", "Плохо"], rows=["Чистота", "Точность"]),
        ],
        published=False,
    )
    first, second, _matrix = question_ids(survey)
    services.set_condition(second, [first.choices[0].id])
    survey.published_at = survey.starts_at
    db.session.commit()
    card = client.get(f"/api/v1/my/surveys/{survey.id}", headers=bearer(token)).get_json()
    questions = card["sections"][0]["questions"]
    assert [x["number"] for x in questions] == [1, 2, 3]
    assert questions[0]["options"][0] == {
        "id": first.choices[0].id,
        "text": "Да",
        "is_other": False,
    }
    assert questions[1]["condition"] == {
        "question_id": first.id,
        "option_ids": [first.choices[0].id],
    }
    assert [r["text"] for r in questions[2]["rows"]] == ["Чистота", "Точность"]
    assert "жителям" in card["audience"]


def test_answering_once(client, world, token):  # noqa: F811
    survey = transport_survey(world)
    single, text, scale = question_ids(survey)
    answers = {
        str(single.id): {"o": [single.choices[0].id]},
        str(text.id): {"t": "Больше автобусов вечером"},
        str(scale.id): {"n": 4},
    }
    response = answer(client, token, survey, answers)
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["message"] == "Спасибо! Ваши ответы учтены."
    assert count(SurveyParticipant) == 1 and count(SurveyResponse) == 1
    assert count(SurveyAnswer) == 3
    again = answer(client, token, survey, answers)
    assert again.status_code == 409
    assert "Ответить можно один раз" in check_problem(again)["detail"]
    assert count(SurveyResponse) == 1
    listed = client.get("/api/v1/my/surveys", headers=bearer(token)).get_json()["items"][0]
    assert listed["answered"] and listed["eligibility"]["code"] == "answered"


def test_closed_and_not_yet_open_surveys(client, world, token):  # noqa: F811
    closed = transport_survey(world, starts=timedelta(days=-5), ends=timedelta(days=-1))
    later = transport_survey(world, starts=timedelta(days=2), ends=timedelta(days=9))
    for survey, words in ((closed, "Опрос завершён"), (later, "Опрос ещё не начался")):
        response = answer(client, token, survey, {})
        assert response.status_code == 409
        body = check_problem(response)
        assert body["type"].endswith("#problem-closed") and body["detail"].startswith(words)
    draft = transport_survey(world, published=False)
    assert client.get(f"/api/v1/my/surveys/{draft.id}", headers=bearer(token)).status_code == 404
    assert count(SurveyResponse) == 0


def test_an_ineligible_resident_is_told_why(client, world, mint):  # noqa: F811
    survey = transport_survey(world, min_age=18)
    teen = resident(world, age=16)
    response = answer(client, mint(teen), survey, {})
    assert response.status_code == 403
    body = check_problem(response)
    assert body["type"].endswith("#problem-not-eligible")
    assert body["detail"].startswith("Вам пока нет 18 лет.")
    assert count(SurveyParticipant) == 0


def test_bad_answers_are_named_by_question_and_nothing_is_saved(client, world, token):  # noqa: F811
    survey = transport_survey(world)
    single, text, scale = question_ids(survey)
    other_survey = transport_survey(world)
    foreign_option = question_ids(other_survey)[0].choices[0].id
    ok_scale = {str(scale.id): {"n": 3}}
    cases = [
        ({"999999": {"t": "?"}, **ok_scale}, "answers.999999", "Такого вопроса в опросе нет"),
        ({str(single.id): {"o": "да"}, **ok_scale}, f"answers.{single.id}.o", "Ожидается список"),
        ({str(single.id): {"z": 1}, **ok_scale}, f"answers.{single.id}.z", "Неизвестное поле"),
        ({str(single.id): {"o": [foreign_option]}, **ok_scale}, f"answers.{single.id}", "нет"),
        ({str(text.id): {"t": "x"}}, f"answers.{scale.id}", "обязательный вопрос"),
        ({str(scale.id): {"n": 11}}, f"answers.{scale.id}", "от 1 до 5"),
        ({str(scale.id): {"n": "пять"}}, f"answers.{scale.id}.n", "Ожидается число"),
        ({str(scale.id): {"n": 10**400}}, f"answers.{scale.id}.n", "Ожидается число"),
        ({"первый": {"t": "x"}}, "answers.первый", "номер вопроса"),
    ]
    for answers, field, words in cases:
        response = answer(client, token, survey, answers)
        assert response.status_code == 422, (answers, response.get_json())
        errors = check_problem(response)["errors"]
        assert field in errors and any(words in t for t in errors[field]), (field, errors)
    nothing = client.post(
        f"/api/v1/my/surveys/{survey.id}/responses", json={}, headers=bearer(token)
    )
    assert check_problem(nothing)["errors"] == {"answers": ["Обязательное поле."]}
    assert count(SurveyParticipant) == 0 and count(SurveyResponse) == 0
