"""Display conditions: evaluated on the server, same section and across sections, cascading."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from participation.extensions import db
from participation.polls import services
from participation.polls.engine import (
    load_questionnaire,
    next_section,
    rendered_questions,
    visible_question_ids,
)
from participation.polls.models import QuestionKind, SurveyAnswer, SurveyResponse
from tests.polls.conftest import as_user, build_survey, post_answers, q, question_ids

K = QuestionKind


@pytest.fixture
def branching(world):
    """1. Машина? (Да/Нет) → 2. Какая? (если Да; обязательный) → 3. Почему электро? (если
    «Электро» во 2-м); раздел 2: 4. Где паркуетесь? (если Да в 1-м), 5. Общий вопрос."""
    survey = build_survey(
        world,
        [
            [
                q(K.SINGLE, "Есть ли у вас машина?", options=["Да", "Нет"], required=True),
                q(K.SINGLE, "Какая?", options=["Бензин", "Электро"], required=True),
                q(K.TEXT, "Почему электромобиль?", required=True),
            ],
            [
                q(K.TEXT, "Где паркуетесь?", required=True),
            ],
            [q(K.SCALE, "Оцените дороги", scale_max=5)],
        ],
    )
    car, kind, why, parking, _roads = question_ids(survey)
    services.set_condition(kind, [car.choices[0].id])
    services.set_condition(why, [kind.choices[1].id])
    services.set_condition(parking, [car.choices[0].id])
    db.session.flush()
    return survey


def test_visibility_cascades(branching):
    qn = load_questionnaire(branching.id)
    car, kind, why, parking, roads = qn.questions
    yes, no = (str(car.id), {"o": [car.choices[0].id]}), (str(car.id), {"o": [car.choices[1].id]})
    electro = (str(kind.id), {"o": [kind.choices[1].id]})
    assert visible_question_ids(qn, dict([no, electro])) == {car.id, roads.id}
    assert visible_question_ids(qn, dict([yes, electro])) == {
        car.id,
        kind.id,
        why.id,
        parking.id,
        roads.id,
    }
    assert visible_question_ids(qn, dict([yes])) == {car.id, kind.id, parking.id, roads.id}
    # Section 2 holds only "parking": it is skipped when there is no car.
    assert next_section(qn, 0, dict([no])) == 2
    assert next_section(qn, 0, dict([yes])) == 1
    # Same-section dependants are put on the page (the script or the hint handles them).
    assert [x.id for x in rendered_questions(qn, 0, {})] == [car.id, kind.id, why.id]


def _post(client, survey, data, section=0, action="next"):
    return post_answers(client, survey, data, section=section, action=action)


def test_hidden_mandatory_questions_are_not_required_and_their_answers_are_dropped(
    client, world, branching
):
    car, kind, _why, _parking, roads = question_ids(branching)
    as_user(client, world.adult)
    # "No car", yet a stray answer to the hidden question 2 comes along.
    response = _post(
        client,
        branching,
        {f"q{car.id}": str(car.choices[1].id), f"q{kind.id}": str(kind.choices[0].id)},
    )
    assert response.status_code == 302
    page = client.get(f"/polls/{branching.id}/answer").get_data(as_text=True)
    assert "Оцените дороги" in page and "Где паркуетесь?" not in page  # section 2 skipped
    response = _post(client, branching, {f"q{roads.id}": "4"}, section=2, action="submit")
    assert response.headers["Location"].endswith("/thanks")
    stored = set(db.session.scalars(sa.select(SurveyAnswer.question_id)))
    assert stored == {car.id, roads.id}


def test_shown_mandatory_dependant_is_required(client, world, branching):
    car, kind, why, _parking, _roads = question_ids(branching)
    as_user(client, world.adult)
    response = _post(client, branching, {f"q{car.id}": str(car.choices[0].id)})
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "Это обязательный вопрос: ответьте на него." in html
    assert f'href="#q{kind.id}"' in html and f'href="#q{why.id}"' not in html


def test_the_page_marks_conditional_questions_and_explains_them(client, world, branching):
    car, _kind, _why, _parking, _roads = question_ids(branching)
    as_user(client, world.adult)
    html = client.get(f"/polls/{branching.id}/answer").get_data(as_text=True)
    assert f'data-condition-source="{car.id}"' in html
    assert f'data-condition-options="{car.choices[0].id}"' in html
    assert "Ответьте, если в вопросе 1 выбран вариант «Да»." in html
    assert "js/polls.js" in html and "<script>" not in html


def test_full_branch_is_stored(client, world, branching):
    car, kind, why, parking, _roads = question_ids(branching)
    as_user(client, world.adult)
    _post(
        client,
        branching,
        {
            f"q{car.id}": str(car.choices[0].id),
            f"q{kind.id}": str(kind.choices[1].id),
            f"q{why.id}": "Тихий",
        },
    )
    _post(client, branching, {f"q{parking.id}": "Во дворе"}, section=1)
    response = _post(client, branching, {}, section=2, action="submit")
    assert response.headers["Location"].endswith("/thanks")
    stored = set(db.session.scalars(sa.select(SurveyAnswer.question_id)))
    assert stored == {car.id, kind.id, why.id, parking.id}
    assert db.session.scalar(sa.select(sa.func.count()).select_from(SurveyResponse)) == 1


def test_changing_an_earlier_answer_hides_later_answers(client, world, branching):
    car, kind, _why, parking, _roads = question_ids(branching)
    as_user(client, world.adult)
    _post(
        client,
        branching,
        {f"q{car.id}": str(car.choices[0].id), f"q{kind.id}": str(kind.choices[0].id)},
    )
    _post(client, branching, {f"q{parking.id}": "Во дворе"}, section=1)
    _post(client, branching, {}, section=2, action="back")
    _post(client, branching, {f"q{parking.id}": "Во дворе"}, section=1, action="back")
    # Now "no car": the parking answer in the draft must not be stored.
    _post(client, branching, {f"q{car.id}": str(car.choices[1].id)})
    response = _post(client, branching, {}, section=2, action="submit")
    assert response.headers["Location"].endswith("/thanks")
    stored = set(db.session.scalars(sa.select(SurveyAnswer.question_id)))
    assert stored == {car.id}


def test_condition_rules(world, branching):
    from participation.core.errors import FieldError

    car, kind, _why, _parking, roads = question_ids(branching)
    with pytest.raises(FieldError, match="только от вопросов, которые идут раньше"):
        services.set_condition(car, [kind.choices[0].id])
    grid = build_survey(
        world,
        [q(K.MATRIX, "Таблица", options=["Да", "Нет"], rows=["А"]), q(K.TEXT, "Потом")],
    )
    matrix, later = question_ids(grid)
    with pytest.raises(FieldError, match="только на вопрос с выбором вариантов"):
        services.set_condition(later, [matrix.choices[0].id])
    with pytest.raises(FieldError, match="только от одного вопроса"):
        services.set_condition(roads, [car.choices[0].id, kind.choices[0].id])
    other = build_survey(world, [q(K.SINGLE, "Чужой", options=["А", "Б"])])
    foreign = question_ids(other)[0]
    with pytest.raises(FieldError, match="нет"):
        services.set_condition(roads, [foreign.choices[0].id])
