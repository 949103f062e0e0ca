"""Answering over HTTP: every question type, the checks that refuse, drafts, one response."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from participation.core.users import AccountLevel, Gender, UserKind
from participation.extensions import db
from participation.polls.models import (
    QuestionKind,
    SurveyAnswer,
    SurveyDraft,
    SurveyParticipant,
    SurveyResponse,
)
from tests.polls.conftest import as_user, build_survey, post_answers, q, question_ids, resident

K = QuestionKind


def _count(model) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def _nothing_saved() -> None:
    assert _count(SurveyParticipant) == 0
    assert _count(SurveyResponse) == 0
    assert _count(SurveyAnswer) == 0


NUL = "Текст содержит недопустимый символ."  # a NUL byte: PostgreSQL cannot store it


@pytest.fixture
def every_kind(world):
    return build_survey(
        world,
        [
            q(
                K.SINGLE,
                "Как часто вы ездите на автобусе?",
                options=["Каждый день", "Иногда"],
                has_other=True,
            ),
            q(K.MULTIPLE, "Что улучшить?", options=["Дороги", "Парки", "Освещение"], max_choices=2),
            q(K.TEXT, "Ваше предложение", max_length=50),
            q(K.NUMBER, "Сколько минут до работы?", min_value=0, max_value=300),
            q(K.DATE, "Когда вы переехали?"),
            q(K.SCALE, "Оцените двор", scale_max=10),
            q(
                K.MATRIX,
                "Оцените службы",
                options=["Хорошо", "Плохо"],
                rows=["Транспорт", "Уборка"],
            ),
            q(K.RANKING, "Что важнее?", options=["Школы", "Больницы", "Дороги"]),
        ],
    )


def _full_answer(questions) -> dict:
    single, multiple, text, number, when, scale, matrix, ranking = questions
    other = single.choices[-1]
    return {
        f"q{single.id}": str(other.id),
        f"q{single.id}_other": "На велосипеде",
        f"q{multiple.id}": [str(multiple.choices[0].id), str(multiple.choices[2].id)],
        f"q{text.id}": "Больше скамеек",
        f"q{number.id}": "25,5",
        f"q{when.id}": "2015-09-01",
        f"q{scale.id}": "8",
        f"q{matrix.id}_r{matrix.rows[0].id}": str(matrix.choices[0].id),
        f"q{matrix.id}_r{matrix.rows[1].id}": str(matrix.choices[1].id),
        f"q{ranking.id}_o{ranking.choices[0].id}": "2",
        f"q{ranking.id}_o{ranking.choices[1].id}": "1",
        f"q{ranking.id}_o{ranking.choices[2].id}": "3",
    }


def test_every_question_type_is_stored(client, world, every_kind):
    questions = question_ids(every_kind)
    as_user(client, resident(world, age=30))
    response = post_answers(client, every_kind, _full_answer(questions))
    assert response.status_code == 302, response.get_data(as_text=True)[:3000]
    assert response.headers["Location"].endswith(f"/polls/{every_kind.id}/thanks")
    assert "Спасибо, ваш ответ учтён" in client.get(response.headers["Location"]).get_data(
        as_text=True
    )

    single, multiple, text, number, when, scale, matrix, ranking = questions
    rows = db.session.execute(
        sa.select(
            SurveyAnswer.question_id,
            SurveyAnswer.option_id,
            SurveyAnswer.row_id,
            SurveyAnswer.number_value,
            SurveyAnswer.date_value,
            SurveyAnswer.text_value,
        ).order_by(SurveyAnswer.question_id, SurveyAnswer.item_no)
    ).all()
    by_q = {}
    for row in rows:
        by_q.setdefault(row[0], []).append(tuple(row[1:]))
    assert by_q[single.id] == [(single.choices[-1].id, None, None, None, "На велосипеде")]
    assert [r[0] for r in by_q[multiple.id]] == [multiple.choices[0].id, multiple.choices[2].id]
    assert by_q[text.id] == [(None, None, None, None, "Больше скамеек")]
    assert by_q[number.id][0][2] == 25.5
    assert by_q[when.id][0][3] == date(2015, 9, 1)
    assert by_q[scale.id][0][2] == 8
    assert sorted((r[1], r[0]) for r in by_q[matrix.id]) == sorted(
        [(matrix.rows[0].id, matrix.choices[0].id), (matrix.rows[1].id, matrix.choices[1].id)]
    )
    assert [(r[0], r[2]) for r in by_q[ranking.id]] == [
        (ranking.choices[1].id, 1),
        (ranking.choices[0].id, 2),
        (ranking.choices[2].id, 3),
    ]
    # The response is anonymous: no respondent on it, coarse groups only.
    response_row = db.session.scalar(sa.select(SurveyResponse))
    assert response_row.respondent_id is None
    assert response_row.age_band.value == "25_34"
    assert response_row.gender == Gender.FEMALE
    assert response_row.municipality_id == world.city.id


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda qs, d: d.pop(f"q{qs[5].id}"), None),  # optional question left out: fine
        (
            lambda qs, d: d.update({f"q{qs[1].id}": [str(o.id) for o in qs[1].choices]}),
            "Можно выбрать не больше 2 вариантов.",
        ),
        (
            lambda qs, d: d.update({f"q{qs[0].id}": str(qs[1].choices[0].id)}),
            "Такого варианта ответа в этом вопросе нет",
        ),
        (
            lambda qs, d: d.update({f"q{qs[2].id}": "б" * 51}),
            "Ответ длиннее 50 символов (сейчас 51)",
        ),
        (
            lambda qs, d: d.update({f"q{qs[3].id}": "двадцать"}),
            "Введите число, например 12 или 3,5.",
        ),
        (lambda qs, d: d.update({f"q{qs[3].id}": "301"}), "Введите число от 0 до 300."),
        (lambda qs, d: d.update({f"q{qs[2].id}": "Больше\x00скамеек"}), NUL),
        (lambda qs, d: d.update({f"q{qs[0].id}_other": "На\x00велосипеде"}), NUL),
        (lambda qs, d: d.update({f"q{qs[5].id}": "²"}), "Выберите одно значение от 1 до 10."),
        (
            lambda qs, d: d.update({f"q{qs[7].id}_o{qs[7].choices[0].id}": "²"}),
            "Места указываются числами от 1 до 3.",
        ),
        (
            lambda qs, d: d.update({f"q{qs[4].id}": "31.02.2020"}),
            "Введите дату в формате ДД.ММ.ГГГГ",
        ),
        (lambda qs, d: d.update({f"q{qs[5].id}": "11"}), "Выберите одно значение от 1 до 10."),
        (
            lambda qs, d: d.update({f"q{qs[0].id}_other": ""}),
            "Вы выбрали «Другое»: укажите, что именно.",
        ),
        (
            lambda qs, d: d.update({f"q{qs[7].id}_o{qs[7].choices[0].id}": "1"}),
            "Расставьте по местам все варианты, от 1 до 3, не повторяя места.",
        ),
        (
            lambda qs, d: d.update({f"q{qs[6].id}_r{qs[6].rows[0].id}": str(qs[0].choices[0].id)}),
            "Такого варианта ответа в этом вопросе нет",
        ),
        (
            lambda qs, d: d.update({f"q{qs[0].id}": [str(o.id) for o in qs[0].choices[:2]]}),
            "Выберите один вариант ответа.",
        ),
    ],
)
def test_wrong_answers_are_refused_and_nothing_is_saved(client, world, every_kind, change, message):
    questions = question_ids(every_kind)
    data = _full_answer(questions)
    change(questions, data)
    as_user(client, world.adult)
    response = post_answers(client, every_kind, data)
    if message is None:
        assert response.status_code == 302
        return
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert message in html
    assert "Проверьте ответы" in html
    _nothing_saved()


def test_mandatory_question_missing(client, world):
    survey = build_survey(
        world,
        [
            q(K.SINGLE, "Обязательный", options=["Да", "Нет"], required=True),
            q(K.TEXT, "Комментарий"),
        ],
    )
    as_user(client, world.adult)
    response = post_answers(client, survey, {f"q{question_ids(survey)[1].id}": "Текст"})
    assert response.status_code == 400
    assert "Это обязательный вопрос: ответьте на него." in response.get_data(as_text=True)
    _nothing_saved()


def test_required_matrix_needs_every_row(client, world):
    survey = build_survey(
        world, [q(K.MATRIX, "Оцените", options=["Да", "Нет"], rows=["А", "Б"], required=True)]
    )
    (matrix,) = question_ids(survey)
    as_user(client, world.adult)
    response = post_answers(
        client, survey, {f"q{matrix.id}_r{matrix.rows[0].id}": str(matrix.choices[0].id)}
    )
    assert response.status_code == 400
    assert "выберите ответ в каждой строке" in response.get_data(as_text=True)
    _nothing_saved()


def test_answering_twice_is_refused(client, world):
    survey = build_survey(world, [q(K.SINGLE, "Да или нет?", options=["Да", "Нет"])])
    (question,) = question_ids(survey)
    as_user(client, world.adult)
    data = {f"q{question.id}": str(question.choices[0].id)}
    assert post_answers(client, survey, data).status_code == 302
    second = post_answers(client, survey, data)
    assert second.status_code == 302
    page = client.get(second.headers["Location"]).get_data(as_text=True)
    assert "Вы уже ответили на этот опрос. Ответить можно один раз." in page
    assert _count(SurveyResponse) == 1 and _count(SurveyParticipant) == 1


def test_the_database_refuses_a_second_register_row(world):
    from sqlalchemy.exc import IntegrityError

    survey = build_survey(world, [q(K.TEXT, "Что-нибудь")])
    today = date.today()
    db.session.add(
        SurveyParticipant(survey_id=survey.id, user_id=world.adult.id, answered_on=today)
    )
    db.session.flush()
    with pytest.raises(IntegrityError), db.session.begin_nested():
        db.session.add(
            SurveyParticipant(survey_id=survey.id, user_id=world.adult.id, answered_on=today)
        )
        db.session.flush()


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"starts": timedelta(days=1)}, "Опрос ещё не начался"),
        ({"starts": timedelta(days=-10), "ends": timedelta(days=-1)}, "Опрос завершён"),
        ({"published": False}, None),
    ],
)
def test_outside_the_period(client, world, kwargs, message):
    survey = build_survey(world, [q(K.TEXT, "Что-нибудь")], **kwargs)
    (question,) = question_ids(survey)
    as_user(client, world.adult)
    response = post_answers(client, survey, {f"q{question.id}": "текст"})
    if message is None:  # a draft survey does not exist for residents
        assert response.status_code == 404
    else:
        assert response.status_code == 302
        assert message in client.get(response.headers["Location"]).get_data(as_text=True)
    _nothing_saved()


@pytest.mark.parametrize(
    ("who", "message"),
    [
        (lambda w: resident(w, age=15), "Вам пока нет 18 лет."),
        (lambda w: resident(w, city=w.other_city), "зарегистрированы вне территории «город Уфа»"),
        (lambda w: resident(w, gender=Gender.MALE), "Этот опрос адресован женщинам."),
        (lambda w: resident(w, birth_date=None), "В профиле Госуслуг нет даты рождения"),
        (
            lambda w: resident(w, level=AccountLevel.SIMPLIFIED),
            "Ваша учётная запись Госуслуг — упрощённая, а нужна стандартная.",
        ),
        (
            lambda w: resident(w, kind=UserKind.LEGAL_REP, legal_entity_name="ООО «Ромашка»"),
            "Представители юридических лиц здесь участвовать не могут",
        ),
    ],
)
def test_outside_the_audience(client, world, who, message):
    survey = build_survey(world, [q(K.TEXT, "Что-нибудь")], min_age=18, gender=Gender.FEMALE)
    (question,) = question_ids(survey)
    person = who(world)
    as_user(client, person)
    page = client.get(f"/polls/{survey.id}").get_data(as_text=True)
    assert message in page and "Участвовать" not in page
    response = post_answers(client, survey, {f"q{question.id}": "текст"})
    assert response.status_code == 302
    assert message in client.get(response.headers["Location"]).get_data(as_text=True)
    _nothing_saved()


def test_anonymous_visitor_is_asked_to_log_in(client, world):
    survey = build_survey(world, [q(K.TEXT, "Что-нибудь")])
    page = client.get(f"/polls/{survey.id}").get_data(as_text=True)
    assert "Войдите через Госуслуги, чтобы пройти опрос." in page
    assert client.get(f"/polls/{survey.id}/answer").status_code == 302


def test_named_survey_keeps_the_respondent(client, world):
    survey = build_survey(world, [q(K.TEXT, "Что-нибудь")], anonymous=False)
    (question,) = question_ids(survey)
    as_user(client, world.adult)
    assert post_answers(client, survey, {f"q{question.id}": "текст"}).status_code == 302
    assert db.session.scalar(sa.select(SurveyResponse.respondent_id)) == world.adult.id


def test_anonymous_response_cannot_be_linked_to_the_register(client, world):
    survey = build_survey(world, [q(K.TEXT, "Что-нибудь")])
    (question,) = question_ids(survey)
    as_user(client, world.adult)
    post_answers(client, survey, {f"q{question.id}": "текст"})
    response = db.session.scalar(sa.select(SurveyResponse))
    assert response.respondent_id is None
    assert (response.submitted_at.minute, response.submitted_at.second) == (0, 0)
    register = db.session.scalar(sa.select(SurveyParticipant))
    assert register.user_id == world.adult.id
    columns = {c.name for c in SurveyParticipant.__table__.columns}
    assert columns == {"survey_id", "user_id", "answered_on"}  # no serial, no time of day
    from participation.core.audit import AuditEntry

    assert not db.session.scalar(
        sa.select(sa.func.count())
        .select_from(AuditEntry)
        .where(AuditEntry.action == "polls.response_submitted")
    )


def test_sections_draft_and_finish_later(client, world):
    survey = build_survey(
        world,
        [
            [q(K.SINGLE, "Есть ли у вас машина?", options=["Да", "Нет"], required=True)],
            [q(K.TEXT, "Что мешает?", required=True)],
        ],
    )
    first, second = question_ids(survey)
    as_user(client, world.adult)
    page = client.get(f"/polls/{survey.id}/answer").get_data(as_text=True)
    assert "Раздел 1 из 2" in page and "Есть ли у вас машина?" in page and "Что мешает?" not in page
    response = post_answers(
        client, survey, {f"q{first.id}": str(first.choices[0].id)}, section=0, action="next"
    )
    assert response.status_code == 302
    draft = db.session.scalar(sa.select(SurveyDraft))
    assert draft.section_index == 1 and draft.answers == {
        str(first.id): {"o": [first.choices[0].id]}
    }
    _nothing_saved()  # a draft is not a response
    # Save a draft of the second section and leave.
    post_answers(client, survey, {f"q{second.id}": "Пробки"}, section=1, action="save")
    page = client.get(f"/polls/{survey.id}").get_data(as_text=True)
    assert "Продолжить" in page and "сохранённые ответы" in page
    page = client.get(f"/polls/{survey.id}/answer").get_data(as_text=True)
    assert "Раздел 2 из 2" in page and "Пробки" in page
    # Back keeps the answers; then finish.
    post_answers(client, survey, {f"q{second.id}": "Пробки"}, section=1, action="back")
    assert "Раздел 1 из 2" in client.get(f"/polls/{survey.id}/answer").get_data(as_text=True)
    post_answers(
        client, survey, {f"q{first.id}": str(first.choices[0].id)}, section=0, action="next"
    )
    response = post_answers(client, survey, {f"q{second.id}": "Пробки"}, section=1, action="submit")
    assert response.headers["Location"].endswith("/thanks")
    assert _count(SurveyResponse) == 1 and _count(SurveyDraft) == 0
    texts = list(
        db.session.scalars(
            sa.select(SurveyAnswer.text_value).where(SurveyAnswer.text_value.is_not(None))
        )
    )
    assert texts == ["Пробки"]


def test_my_surveys_lists_answered_and_started(client, world):
    answered = build_survey(world, [q(K.TEXT, "Первый")])
    started = build_survey(world, [[q(K.TEXT, "Второй")], [q(K.TEXT, "Ещё")]])
    as_user(client, world.adult)
    post_answers(client, answered, {f"q{question_ids(answered)[0].id}": "да"})
    post_answers(client, started, {f"q{question_ids(started)[0].id}": "да"}, action="next")
    page = client.get("/polls/my").get_data(as_text=True)
    assert "Отвеченные" in page and "Начатые" in page
    listing = client.get("/polls/").get_data(as_text=True)
    assert f"/polls/{started.id}" in listing and f'/polls/{answered.id}"' not in listing


def test_index_shows_only_surveys_for_my_profile(client, world):
    adults = build_survey(world, [q(K.TEXT, "Для взрослых")], min_age=18)
    elsewhere = build_survey(world, [q(K.TEXT, "Для другого города")], org=world.other_org)
    whole_region = build_survey(world, [q(K.TEXT, "Для всей республики")], org=world.regional_org)
    as_user(client, resident(world, age=15))
    page = client.get("/polls/").get_data(as_text=True)
    assert f'/polls/{whole_region.id}"' in page
    assert f'/polls/{adults.id}"' not in page and f'/polls/{elsewhere.id}"' not in page
    as_user(client, world.adult)
    page = client.get("/polls/").get_data(as_text=True)
    assert f'/polls/{adults.id}"' in page and f'/polls/{whole_region.id}"' in page
