"""Open data: surveys whose results the publisher made public, and those results.

The figures are the results service's (polls.results through polls.snapshots, as the public
results page); no free text, no respondent, small groups of a breakdown hidden.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from participation.core.db import utcnow
from participation.core.territories import TerritoryLevel
from participation.core.users import Gender
from participation.extensions import db
from participation.polls import snapshots
from participation.polls.answering import submit_response
from participation.polls.models import QuestionKind, SurveyAnswer, TextStatus
from participation.polls.services import moderate_answer
from tests import factories
from tests.api.opendata_helpers import assert_no_personal_data, csv_rows, problem
from tests.polls.conftest import build_survey, q, question_ids, resident
from tests.polls.conftest import world as world  # a fixture

K = QuestionKind
SECRET_TEXT = "Живу на Садовой 5, звоните Аристарху по номеру 8-900-000-00-00"


def _close(survey) -> None:
    survey.ends_at = utcnow() - timedelta(seconds=1)
    db.session.flush()


def _answered(world, *, anonymous: bool = True, public: bool = True, people: int = 7):
    """A regional survey. Seven answer: five women of 30 in Уфа, two men of 50 (one in
    Стерлитамак)."""
    survey = build_survey(
        world,
        [
            q(K.SINGLE, "Нужен ли новый парк?", options=["Да", "Нет"]),
            q(K.SCALE, "Оценка города", scale_max=5),
            q(K.TEXT, "Ваше предложение"),
            q(K.MATRIX, "Оцените", options=["Хорошо", "Плохо"], rows=["Дороги", "Парки"]),
        ],
        anonymous=anonymous,
        results_public=public,
        starts=timedelta(days=-3),
        org=world.regional_org,
        territory=world.region,
    )
    park, score, text, matrix = question_ids(survey)
    for i in range(people):
        man = i >= 5
        person = resident(
            world,
            age=50 if man else 30,
            gender=Gender.MALE if man else Gender.FEMALE,
            city=world.other_city if i == 6 else world.city,
            last_name="Респондентова",
            first_name="Аристарха",
            email=f"aristarkha{i}@example.org",
        )
        submit_response(
            survey,
            person,
            {
                str(park.id): {"o": [park.choices[0 if i < 4 else 1].id]},
                str(score.id): {"n": 1 + i % 5},
                str(text.id): {"t": SECRET_TEXT},
                str(matrix.id): {"m": {str(matrix.rows[0].id): matrix.choices[0].id}},
            },
        )
    db.session.flush()
    for answer in db.session.query(SurveyAnswer).filter(SurveyAnswer.text_value.is_not(None)):
        moderate_answer(answer, True, None, world.publisher)
    _close(survey)
    return survey


def test_only_closed_surveys_with_public_results_are_listed(client, world):
    public = _answered(world, people=1)
    build_survey(world, [q(K.SINGLE, "Идёт", options=["Да", "Нет"])], results_public=True)
    hidden = _answered(world, public=False, people=1)
    body = client.get(f"/api/v1/open/surveys?region={world.region.id}").get_json()
    assert [item["id"] for item in body["items"]] == [public.id]
    item = body["items"][0]
    assert item["territories"] == [
        {"id": world.region.id, "oktmo": world.region.oktmo, "name": "Республика Тест"}
    ]
    assert item["links"]["results"].endswith(f"/api/v1/open/surveys/{public.id}/results")
    problem(client.get(f"/api/v1/open/surveys/{hidden.id}/results"), 404)


def test_the_place_filters_find_a_survey_by_its_organizer_or_its_addressees(client, world):
    # A regional survey addressed to Стерлитамак: found under Стерлитамак, not under Уфа.
    addressed = build_survey(
        world,
        [q(K.SINGLE, "Парк?", options=["Да", "Нет"])],
        org=world.regional_org,
        territory=world.other_city,
        results_public=True,
        starts=timedelta(days=-3),
    )
    _close(addressed)
    ours = build_survey(
        world,
        [q(K.SINGLE, "Сквер?", options=["Да", "Нет"])],
        results_public=True,
        starts=timedelta(days=-3),
    )
    _close(ours)
    _answered(world, people=1)  # the region's own survey: in the region, in no municipality
    by_city = client.get(f"/api/v1/open/surveys?municipality={world.city.id}").get_json()
    assert [i["id"] for i in by_city["items"]] == [ours.id]
    by_other = client.get(f"/api/v1/open/surveys?municipality={world.other_city.id}").get_json()
    assert [i["id"] for i in by_other["items"]] == [addressed.id]
    elsewhere = factories.territory(TerritoryLevel.REGION, name="Соседняя область")
    assert client.get(f"/api/v1/open/surveys?region={elsewhere.id}").get_json()["items"] == []
    problem(client.get("/api/v1/open/surveys?region=abc"), 422)


def test_results_are_the_results_service_figures(client, world):
    survey = _answered(world)
    body = client.get(f"/api/v1/open/surveys/{survey.id}/results").get_json()
    assert body["respondents"] == 7 and body["computed_at"] is None
    park, score, text, matrix = body["questions"]
    assert [(o["text"], o["count"]) for o in park["options"]] == [("Да", 4), ("Нет", 3)]
    assert park["options"][0]["share"] == pytest.approx(4 / 7, abs=1e-6)
    assert score["mean"] == pytest.approx((1 + 2 + 3 + 4 + 5 + 1 + 2) / 7)
    assert [s["count"] for s in score["scale"]] == [2, 2, 1, 1, 1]
    assert text["answered"] == 7 and text["free_texts_published"] == 7
    assert text["options"] == [] and text["by_group"] == []
    assert [r["text"] for r in matrix["rows"]] == ["Дороги", "Парки"]
    assert matrix["rows"][0]["options"][0]["count"] == 7
    assert body["dimension"] is None and body["groups"] == []


def test_a_breakdown_hides_groups_under_five_even_in_a_named_survey(client, world):
    survey = _answered(world, anonymous=False)
    body = client.get(f"/api/v1/open/surveys/{survey.id}/results?by=gender").get_json()
    assert body["dimension"] == "gender"
    groups = {g["key"]: g for g in body["groups"]}
    assert groups["F"] == {"key": "F", "label": "женщины", "respondents": 5, "suppressed": False}
    assert groups["M"]["suppressed"] and groups["M"]["respondents"] is None
    park = body["questions"][0]
    assert [g["group"] for g in park["by_group"]] == ["F"]
    (women,) = park["by_group"]
    assert women["answered"] == 5
    assert [(o["text"], o["count"]) for o in women["options"]] == [("Да", 4), ("Нет", 1)]
    by_place = client.get(f"/api/v1/open/surveys/{survey.id}/results?by=municipality").get_json()
    assert {g["label"]: g["suppressed"] for g in by_place["groups"]} == {
        "город Уфа": False,
        "город Стерлитамак": True,
    }
    table = csv_rows(client.get(f"/api/v1/open/surveys/{survey.id}/results?by=gender&format=csv"))
    assert table[0][:6] == [
        "№ вопроса",
        "Вопрос",
        "Тип вопроса",
        "Группа",
        "Строка таблицы",
        "Вариант или значение",
    ]
    assert (table[3][:9]) == [
        "1",
        "Нужен ли новый парк?",
        "Один вариант",
        "женщины",
        "",
        "Да",
        "5",
        "4",
        "80",
    ]
    assert not any(row[3] == "мужчины" for row in table[1:])


def test_results_csv_lists_every_option_for_excel(client, world):
    survey = _answered(world)
    table = csv_rows(client.get(f"/api/v1/open/surveys/{survey.id}/results?format=csv"))
    assert table[1][:9] == [
        "1",
        "Нужен ли новый парк?",
        "Один вариант",
        "",
        "",
        "Да",
        "7",
        "4",
        "57,14",
    ]
    assert ["4", "Оцените", "Таблица (матрица)", "", "Дороги", "Хорошо", "7", "7", "100"] in [
        row[:9] for row in table
    ]


@pytest.mark.parametrize("query", ["by=religion", "by=", "format=pdf", "page=2"])
def test_bad_parameters_are_422(client, world, query):
    survey = _answered(world, people=1)
    body = problem(client.get(f"/api/v1/open/surveys/{survey.id}/results?{query}"), 422)
    assert body["errors"]


def test_unknown_open_or_unpublished_surveys_are_404(client, world):
    running = build_survey(world, [q(K.SINGLE, "Идёт", options=["Да", "Нет"])], results_public=True)
    draft = build_survey(world, [q(K.SINGLE, "Черновик", options=["Да", "Нет"])], published=False)
    for survey_id in (999999, running.id, draft.id):
        problem(client.get(f"/api/v1/open/surveys/{survey_id}/results"), 404)


def test_a_large_survey_answers_503_until_its_first_snapshot_is_counted(
    client, world, monkeypatch, run_jobs
):
    monkeypatch.setattr(snapshots, "LIVE_LIMIT", 2)
    survey = _answered(world, people=3)
    first = client.get(f"/api/v1/open/surveys/{survey.id}/results")
    body = problem(first, 503)
    # (Flask-Limiter restates it as seconds from now: 59 or 60)
    assert 55 <= int(first.headers["Retry-After"]) <= 60
    assert body["type"].endswith("#problem-not-ready") and "считаются" in body["detail"]
    run_jobs()
    ready = client.get(f"/api/v1/open/surveys/{survey.id}/results").get_json()
    assert ready["respondents"] == 3 and ready["computed_at"] is not None


def test_survey_reads_have_etags(client, world):
    survey = _answered(world, people=2)
    for path in (
        "/api/v1/open/surveys",
        "/api/v1/open/surveys?format=csv",
        f"/api/v1/open/surveys/{survey.id}/results",
        f"/api/v1/open/surveys/{survey.id}/results?by=age&format=csv",
    ):
        etag = client.get(path).headers["ETag"]
        assert client.get(path, headers={"If-None-Match": etag}).status_code == 304, path


def test_nothing_personal_in_survey_answers(client, world):
    survey = _answered(world, anonymous=False)
    answers = db.session.query(SurveyAnswer).filter(SurveyAnswer.text_status == TextStatus.APPROVED)
    assert answers.count() == 7  # published on the site's results page…
    bodies = [
        client.get(path).get_data(as_text=True)
        for path in (
            "/api/v1/open/surveys",
            "/api/v1/open/surveys?format=csv",
            f"/api/v1/open/surveys/{survey.id}/results",
            f"/api/v1/open/surveys/{survey.id}/results?format=csv",
            *(f"/api/v1/open/surveys/{survey.id}/results?by={by}" for by in ("age", "gender")),
            f"/api/v1/open/surveys/{survey.id}/results?by=municipality&format=csv",
        )
    ]
    # …but never in open data: no free text, no respondent.
    assert_no_personal_data(
        bodies,
        SECRET_TEXT,
        "Садовой",
        "Респондентова",
        "Аристарха",
        "aristarkha0@example.org",
        world.publisher.email,
    )
