"""Results in SQL: a worked example of breakdowns, small-group hiding, bounded query counts."""

from __future__ import annotations

import random
from contextlib import contextmanager

import pytest
import sqlalchemy as sa
from sqlalchemy import event

from participation.core.users import Gender
from participation.extensions import db
from participation.polls.answering import submit_response
from participation.polls.models import AgeBand, QuestionKind, SurveyAnswer, SurveyResponse
from participation.polls.results import Dimension, compute_breakdown, compute_results
from tests.polls.conftest import as_user, build_survey, q, question_ids, resident

K = QuestionKind


@contextmanager
def count_statements():
    counter = {"n": 0}

    def before(conn, cursor, statement, parameters, context, executemany):
        counter["n"] += 1
        counter.setdefault("sql", []).append(" ".join(statement.split())[:110])

    event.listen(db.engine, "before_cursor_execute", before)
    try:
        yield counter
    finally:
        event.remove(db.engine, "before_cursor_execute", before)


def _worked_example(world, anonymous: bool):
    """Six people answer «Нужен ли новый парк?» and rate the city 1–5.

    who                      park   rating
    30 y.o. woman, Уфа       Да     5
    30 y.o. woman, Уфа       Да     4
    30 y.o. woman, Уфа       Нет    3
    50 y.o. man, Уфа         Нет    1
    50 y.o. man, Уфа         Нет    2
    30 y.o. man, Стерлитамак Да     4
    """
    survey = build_survey(
        world,
        [
            q(K.SINGLE, "Нужен ли новый парк?", options=["Да", "Нет"]),
            q(K.SCALE, "Оценка", scale_max=5),
        ],
        org=world.regional_org,
        anonymous=anonymous,
    )
    park, rating = question_ids(survey)
    yes, no = park.choices[0].id, park.choices[1].id
    people = [
        (30, Gender.FEMALE, world.city, yes, 5),
        (30, Gender.FEMALE, world.city, yes, 4),
        (30, Gender.FEMALE, world.city, no, 3),
        (50, Gender.MALE, world.city, no, 1),
        (50, Gender.MALE, world.city, no, 2),
        (30, Gender.MALE, world.other_city, yes, 4),
    ]
    for age, gender, city, choice, score in people:
        person = resident(world, age=age, gender=gender, city=city)
        submit_response(
            survey, person, {str(park.id): {"o": [choice]}, str(rating.id): {"n": score}}
        )
    db.session.flush()
    return survey, park, rating, yes, no


def test_totals_on_the_worked_example(world):
    survey, _park, _rating, _yes, _no = _worked_example(world, anonymous=False)
    results = compute_results(survey)
    assert results.total == 6
    park_result, rating_result = results.questions
    assert [(o.count, round(o.share, 4)) for o in park_result.options] == [(3, 0.5), (3, 0.5)]
    assert rating_result.mean == pytest.approx(19 / 6)
    assert [s.count for s in rating_result.scale] == [1, 1, 1, 2, 1]


def test_breakdowns_on_the_worked_example(world):
    survey, park, rating, yes, no = _worked_example(world, anonymous=False)
    by_age = compute_breakdown(survey, Dimension.AGE)
    assert [(g.key, g.respondents) for g in by_age.groups] == [("25_34", 4), ("45_54", 2)]
    assert by_age.count(park.id, yes, "25_34") == 3
    assert by_age.share(park.id, yes, "25_34") == pytest.approx(0.75)
    assert by_age.share(park.id, no, "45_54") == pytest.approx(1.0)
    assert by_age.means[rating.id] == {"25_34": pytest.approx(4.0), "45_54": pytest.approx(1.5)}

    by_gender = compute_breakdown(survey, Dimension.GENDER)
    assert [(g.key, g.respondents) for g in by_gender.groups] == [("M", 3), ("F", 3)]
    assert by_gender.share(park.id, yes, "F") == pytest.approx(2 / 3)
    assert by_gender.share(park.id, yes, "M") == pytest.approx(1 / 3)
    assert by_gender.means[rating.id]["M"] == pytest.approx(7 / 3)

    by_place = compute_breakdown(survey, Dimension.MUNICIPALITY)
    assert {g.label: g.respondents for g in by_place.groups} == {
        "город Уфа": 5,
        "город Стерлитамак": 1,
    }
    assert by_place.share(park.id, no, world.city.id) == pytest.approx(0.6)
    assert by_place.share(park.id, yes, world.other_city.id) == pytest.approx(1.0)


def test_breakdown_page_shows_the_cross_tab(client, world):
    survey, _park, _rating, _yes, _no = _worked_example(world, anonymous=False)
    # The publisher of the regional survey is the regional organization's official.
    from participation.core.users import Role
    from tests import factories

    as_user(client, factories.staff(world.regional_org, Role.AUTHORIZED))
    html = client.get(f"/polls/manage/{survey.id}/results?by=age").get_data(as_text=True)
    assert "25–34 года" in html and "3 (75,0\xa0%)" in html and "2 (100,0\xa0%)" in html
    assert (
        "<svg" in html
        and "<title" in html
        and "<desc" in html
        and "<script" not in html.split("<main")[1].split("</main>")[0]  # the charts: no script
    )
    html = client.get(f"/polls/manage/{survey.id}/results").get_data(as_text=True)
    assert "Среднее: 3,17 из 5" in html
    assert "<td>3</td><td>50,0\xa0%</td>" in html  # the table next to the chart
    assert "Да: 3 (50,0\xa0%); Нет: 3 (50,0\xa0%)</desc>" in html  # the chart's text alternative


def test_anonymous_breakdowns_hide_small_groups(world):
    survey, park, _rating, yes, no = _worked_example(world, anonymous=True)
    by_place = compute_breakdown(survey, Dimension.MUNICIPALITY)
    hidden = {g.label: g.hidden for g in by_place.groups}
    assert hidden == {"город Уфа": False, "город Стерлитамак": True}
    assert by_place.count(park.id, yes, world.other_city.id) == 0  # not even counted out
    assert by_place.share(park.id, no, world.city.id) == pytest.approx(0.6)
    by_age = compute_breakdown(survey, Dimension.AGE)
    assert all(g.hidden for g in by_age.groups)  # 4 and 2 respondents


def _bulk_responses(survey, park, rating, multi, n: int, seed: int = 7):
    """n responses written set-wise (executemany), with the expected counts."""
    rng = random.Random(seed)
    bands = [AgeBand.A18_24, AgeBand.A25_34, AgeBand.A45_54]
    responses, expected = [], {"yes": 0, "score": 0, "multi": [0, 0, 0], "band_yes": {}}
    first_id = (db.session.scalar(sa.select(sa.func.max(SurveyResponse.id))) or 0) + 1
    answers = []
    for i in range(n):
        rid = first_id + i
        band = bands[i % 3]
        responses.append({"id": rid, "survey_id": survey.id, "age_band": band, "gender": "F"})
        choice = park.choices[rng.randrange(2)]
        score = rng.randint(1, 5)
        answers.append(
            {"response_id": rid, "question_id": park.id, "item_no": 0, "option_id": choice.id}
        )
        answers.append(
            {"response_id": rid, "question_id": rating.id, "item_no": 0, "number_value": score}
        )
        picked = rng.sample(range(3), rng.randint(1, 2))
        for item, k in enumerate(picked):
            answers.append(
                {
                    "response_id": rid,
                    "question_id": multi.id,
                    "item_no": item,
                    "option_id": multi.choices[k].id,
                }
            )
            expected["multi"][k] += 1
        if choice == park.choices[0]:
            expected["yes"] += 1
            expected["band_yes"][band.value] = expected["band_yes"].get(band.value, 0) + 1
        expected["score"] += score
    db.session.execute(sa.insert(SurveyResponse), responses)
    db.session.execute(sa.insert(SurveyAnswer), answers)
    return expected


def test_ten_thousand_responses_are_counted_in_sql_with_few_queries(client, world):
    survey = build_survey(
        world,
        [
            q(K.SINGLE, "Парк?", options=["Да", "Нет"]),
            q(K.SCALE, "Оценка", scale_max=5),
            q(K.MULTIPLE, "Что важно?", options=["А", "Б", "В"]),
        ],
        anonymous=False,
    )
    park, rating, multi = question_ids(survey)
    n = 10_000
    expected = _bulk_responses(survey, park, rating, multi, n)
    db.session.flush()

    with count_statements() as totals:
        results = compute_results(survey)
    park_r, rating_r, multi_r = results.questions
    assert results.total == n and park_r.answered == n and multi_r.answered == n
    assert park_r.options[0].count == expected["yes"]
    assert rating_r.mean == pytest.approx(expected["score"] / n)
    assert [o.count for o in multi_r.options] == expected["multi"]
    assert totals["n"] <= 10, totals

    with count_statements() as breakdown_count:
        by_age = compute_breakdown(survey, Dimension.AGE)
    assert breakdown_count["n"] <= 3
    for band, count in expected["band_yes"].items():
        assert by_age.count(park.id, park.choices[0].id, band) == count

    as_user(client, world.publisher)
    with count_statements() as page_count:
        response = client.get(f"/polls/manage/{survey.id}/results?by=age")
    assert response.status_code == 200
    # Session/user loading plus questionnaire, totals and one breakdown: never per row.
    assert page_count["n"] <= 25, "\n".join(page_count["sql"])
