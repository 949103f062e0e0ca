"""The publisher's cabinet: who may publish, building a survey, locks, copies, previews."""

from __future__ import annotations

import io
import re

import pytest
import sqlalchemy as sa

from participation.core.errors import Conflict
from participation.core.organizations import OrganizationKind
from participation.core.users import Role
from participation.extensions import db
from participation.polls import services
from participation.polls.models import (
    QuestionKind,
    Survey,
    SurveyAnswer,
    SurveyDraft,
    SurveyQuestion,
    SurveyResponse,
)
from tests import factories
from tests.core.test_files import PNG  # a valid image: a broken one is refused at upload
from tests.polls.conftest import as_user, build_survey, post_answers, q, question_ids, token

K = QuestionKind


@pytest.mark.parametrize(
    ("kind", "role", "allowed"),
    [
        (OrganizationKind.MUNICIPAL, Role.AUTHORIZED, True),
        (OrganizationKind.REGIONAL, Role.ADMINISTRATOR, True),
        (OrganizationKind.MUNICIPAL, Role.EXECUTOR, False),
        (OrganizationKind.MANAGEMENT_COMPANY, Role.ADMINISTRATOR, False),
        (OrganizationKind.INSTITUTION, Role.AUTHORIZED, False),
    ],
)
def test_who_may_publish(client, world, kind, role, allowed):
    org = factories.organization(kind, territory_=world.city)
    as_user(client, factories.staff(org, role))
    assert client.get("/polls/manage").status_code == (200 if allowed else 404)
    assert client.get(f"/polls/manage/new?organization_id={org.id}").status_code == (
        200 if allowed else 404
    )


def test_resident_and_other_organization_get_404(client, world):
    survey = build_survey(world, [q(K.TEXT, "Что-нибудь")])
    as_user(client, world.adult)
    assert client.get(f"/polls/manage/{survey.id}").status_code == 404
    stranger = factories.staff(world.other_org, Role.AUTHORIZED)
    as_user(client, stranger)
    for url in (
        f"/polls/manage/{survey.id}",
        f"/polls/manage/{survey.id}/results",
        f"/polls/manage/{survey.id}/export.csv",
        f"/polls/manage/{survey.id}/report.pdf",
        f"/polls/manage/{survey.id}/texts",
    ):
        assert client.get(url).status_code == 404, url
    response = client.post(f"/polls/manage/{survey.id}/close", data={"csrf_token": token(client)})
    assert response.status_code == 404
    assert db.session.get(Survey, survey.id).closed_at is None


def test_create_survey_and_questions_through_the_pages(client, world):
    as_user(client, world.publisher)
    form = {
        "csrf_token": token(client),
        "organization_id": str(world.org.id),
        "title": "Благоустройство дворов",
        "description": "Какие дворы благоустроить?",
        "mode": "anonymous",
        "starts_at": "2030-01-10T09:00",
        "ends_at": "2030-01-31T18:00",
        "territory_ids": [str(world.city.id)],
        "min_level": "standard",
        "min_age": "18",
        "max_age": "",
        "gender": "",
    }
    response = client.post("/polls/manage/new", data=form)
    assert response.status_code == 302
    survey = db.session.scalar(sa.select(Survey).where(Survey.title == "Благоустройство дворов"))
    # 09:00 in Asia/Yekaterinburg (UTC+5) is 04:00 UTC.
    assert survey.starts_at.hour == 4 and survey.min_age == 18 and survey.anonymous
    section = survey.sections[0]
    url = f"/polls/manage/{survey.id}/sections/{section.id}/questions/new"
    response = client.post(
        url,
        data={
            "csrf_token": token(client),
            "kind": "single",
            "text": "Нужна ли детская площадка?",
            "options": "Да\nНет\n",
            "has_other": "y",
            "scale_max": "5",
            "image": (io.BytesIO(PNG), "площадка.png"),
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    question = db.session.scalar(
        sa.select(SurveyQuestion).where(SurveyQuestion.survey_id == survey.id)
    )
    assert [o.text for o in question.choices] == ["Да", "Нет", "Другое (укажите)"]
    assert question.choices[-1].is_other and question.image is not None
    # Wrong input is explained next to the field, nothing is added.
    response = client.post(
        url,
        data={
            "csrf_token": token(client),
            "kind": "single",
            "text": "Один вариант",
            "options": "Да",
        },
    )
    assert response.status_code == 400
    assert "Нужно хотя бы два варианта ответа" in response.get_data(as_text=True)
    response = client.post(
        url,
        data={
            "csrf_token": token(client),
            "kind": "number",
            "text": "Число",
            "min_value": "десять",
        },
    )
    assert response.status_code == 400 and "Введите число" in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(SurveyQuestion)) == 1
    # The question page shows it; the image is visible to the publisher.
    page = client.get(f"/polls/manage/{survey.id}").get_data(as_text=True)
    assert "Нужна ли детская площадка?" in page and "С картинкой" in page
    assert client.get(f"/files/{question.image.public_id}").status_code == 200


def test_settings_form_errors_in_russian(client, world):
    as_user(client, world.publisher)
    response = client.post(
        "/polls/manage/new",
        data={
            "csrf_token": token(client),
            "organization_id": str(world.org.id),
            "title": "",
            "mode": "anonymous",
            "starts_at": "2030-01-10T09:00",
            "ends_at": "2030-01-01T09:00",
            "territory_ids": [str(world.other_city.id)],
            "min_level": "standard",
            "min_age": "40",
            "max_age": "18",
        },
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "Введите название опроса." in html
    assert "Окончание должно быть позже начала." in html
    assert "Верхняя граница возраста меньше нижней." in html
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Survey)) == 0


def test_questions_are_locked_once_anyone_answered(client, world):
    survey = build_survey(world, [q(K.SINGLE, "Да или нет?", options=["Да", "Нет"])])
    (question,) = question_ids(survey)
    services.update_question(question, q(K.SINGLE, "Да или нет, честно?", options=["Да", "Нет"]))
    as_user(client, world.adult)
    post_answers(client, survey, {f"q{question.id}": str(question.choices[0].id)})
    with pytest.raises(Conflict, match="уже ответил 1 человек"):
        services.update_question(question, q(K.SINGLE, "Другой текст", options=["Да", "Нет"]))
    with pytest.raises(Conflict):
        services.add_section(survey, "Ещё", None)
    as_user(client, world.publisher)
    response = client.post(
        f"/polls/manage/{survey.id}/questions/{question.id}/delete",
        data={"csrf_token": token(client)},
    )
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Вопросы нельзя изменить: на опрос уже ответил 1 человек" in page
    assert db.session.get(SurveyQuestion, question.id) is not None
    # Anonymity is fixed too, but the end date may move.
    settings = services.SurveySettings(
        title=survey.title,
        description="",
        anonymous=False,
        starts_at=survey.starts_at,
        ends_at=survey.ends_at,
        territory_ids=[world.city.id],
    )
    with pytest.raises(Conflict, match="анонимность и круг участников менять нельзя"):
        services.update_survey(survey, settings)


def test_publishing_checks_the_survey(client, world):
    survey = build_survey(world, [q(K.TEXT, "Что-нибудь")], published=False)
    empty = build_survey(world, [], published=False)
    as_user(client, world.publisher)
    response = client.post(f"/polls/manage/{empty.id}/publish", data={"csrf_token": token(client)})
    assert "нет ни одного вопроса" in client.get(response.headers["Location"]).get_data(
        as_text=True
    )
    assert db.session.get(Survey, empty.id).published_at is None
    response = client.post(f"/polls/manage/{survey.id}/publish", data={"csrf_token": token(client)})
    assert "Опрос опубликован." in client.get(response.headers["Location"]).get_data(as_text=True)
    response = client.post(f"/polls/manage/{survey.id}/close", data={"csrf_token": token(client)})
    db.session.expire_all()
    assert db.session.get(Survey, survey.id).closed_at is not None


def test_copy_as_template_keeps_questions_and_conditions(client, world):
    survey = build_survey(
        world,
        [[q(K.SINGLE, "Машина?", options=["Да", "Нет"])], [q(K.TEXT, "Какая?")]],
        min_age=18,
    )
    first, second = question_ids(survey)
    services.set_condition(second, [first.choices[0].id])
    as_user(client, world.publisher)
    response = client.post(f"/polls/manage/{survey.id}/copy", data={"csrf_token": token(client)})
    copy_id = int(re.search(r"/polls/manage/(\d+)", response.headers["Location"]).group(1))
    copy = db.session.get(Survey, copy_id)
    assert copy.published_at is None and copy.copied_from_id == survey.id and copy.min_age == 18
    c_first, c_second = question_ids(copy)
    assert (c_first.text, c_second.text) == ("Машина?", "Какая?")
    assert c_first.id != first.id
    from participation.polls.engine import load_questionnaire

    qn = load_questionnaire(copy.id)
    assert qn.conditions[c_second.id] == {c_first.choices[0].id}
    assert len(copy.sections) == 2


def test_preview_checks_answers_and_stores_nothing(client, world):
    survey = build_survey(
        world, [q(K.SINGLE, "Да или нет?", options=["Да", "Нет"], required=True)], published=False
    )
    (question,) = question_ids(survey)
    as_user(client, world.publisher)
    page = client.get(f"/polls/manage/{survey.id}/preview").get_data(as_text=True)
    assert "Предпросмотр." in page and "Да или нет?" in page
    data = {"csrf_token": token(client), "section": "0", "action": "submit"}
    response = client.post(f"/polls/manage/{survey.id}/preview", data=data)
    assert response.status_code == 400 and "обязательный" in response.get_data(as_text=True)
    data[f"q{question.id}"] = str(question.choices[0].id)
    response = client.post(f"/polls/manage/{survey.id}/preview", data=data)
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "ответы прошли все проверки. Ничего не сохранено." in page
    for model in (SurveyResponse, SurveyAnswer, SurveyDraft):
        assert db.session.scalar(sa.select(sa.func.count()).select_from(model)) == 0


def test_free_text_moderation(client, world):
    survey = build_survey(world, [q(K.TEXT, "Предложение")], results_public=True)
    (question,) = question_ids(survey)
    as_user(client, world.adult)
    post_answers(client, survey, {f"q{question.id}": "Посадить деревья"})
    answer = db.session.scalar(sa.select(SurveyAnswer))
    assert answer.text_status.value == "pending"
    as_user(client, world.publisher)
    page = client.get(f"/polls/manage/{survey.id}/texts").get_data(as_text=True)
    assert "Посадить деревья" in page
    url = f"/polls/manage/{survey.id}/texts/{answer.id}"
    response = client.post(url, data={"csrf_token": token(client), "decision": "reject"})
    assert "Выберите причину отклонения." in client.get(response.headers["Location"]).get_data(
        as_text=True
    )
    client.post(url, data={"csrf_token": token(client), "decision": "approve"})
    db.session.expire_all()
    assert db.session.get(SurveyAnswer, answer.id).text_status.value == "approved"
    # Residents see approved texts once the survey has closed and results are public.
    services.close_survey(db.session.get(Survey, survey.id))
    as_user(client, world.adult)
    page = client.get(f"/polls/{survey.id}/results").get_data(as_text=True)
    assert "Посадить деревья" in page


def test_condition_on_a_foreign_option_is_refused(client, world):
    survey = build_survey(
        world, [q(K.SINGLE, "Первый", options=["А", "Б"]), q(K.TEXT, "Второй")], published=False
    )
    other = build_survey(world, [q(K.SINGLE, "Чужой", options=["В", "Г"])], published=False)
    _first, second = question_ids(survey)
    foreign = question_ids(other)[0].choices[0]
    as_user(client, world.publisher)
    url = f"/polls/manage/{survey.id}/questions/{second.id}/condition"
    assert "Первый — А" in client.get(url).get_data(as_text=True)
    response = client.post(url, data={"csrf_token": token(client), "option_ids": [str(foreign.id)]})
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    errors = re.findall(r"error-text[^>]*>([^<]*)", html)
    assert "Выберите варианты из списка: только из вопросов выше этого." in html, errors
    from participation.polls.engine import load_questionnaire

    assert load_questionnaire(survey.id).conditions == {}


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("min_age", "восемнадцать", "Введите целое число, например 18."),
        ("starts_at", "завтра", "Введите дату и время, например 01.09.2026 09:00."),
        ("territory_ids", "x", "Выберите значения из списка."),
        ("territory_ids", "999999", "Выберите территорию из списка."),
        ("mode", "secret", "Выберите режим опроса."),
        ("gender", "X", "Выберите пол из списка."),
        ("min_level", "gold", "Выберите учётную запись из списка."),
    ],
)
def test_wrong_settings_are_explained_in_russian(client, world, field, value, message):
    as_user(client, world.publisher)
    data = {
        "csrf_token": token(client),
        "organization_id": str(world.org.id),
        "title": "Опрос",
        "mode": "anonymous",
        "starts_at": "2030-01-10T09:00",
        "ends_at": "2030-01-31T18:00",
        "territory_ids": [str(world.city.id)],
        "min_level": "standard",
        field: value,
    }
    response = client.post("/polls/manage/new", data=data)
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Survey)) == 0


def test_a_refused_question_image_leaves_no_file_on_disk(app, client, world):
    from pathlib import Path

    from participation.core.files import Attachment
    from tests.core.test_files import PDF

    survey = build_survey(
        world, [q(K.SINGLE, "Да или нет?", options=["Да", "Нет"])], published=False
    )
    section = survey.sections[0]
    storage = Path(app.config["STORAGE_DIR"])
    before = {p for p in storage.rglob("*") if p.is_file()}
    as_user(client, world.publisher)
    response = client.post(
        f"/polls/manage/{survey.id}/sections/{section.id}/questions/new",
        data={
            "csrf_token": token(client),
            "kind": "single",
            "text": "Нужна ли детская площадка?",
            "options": "Да\nНет\n",
            "scale_max": "5",
            "image": (io.BytesIO(PDF), "схема.pdf"),
        },
        content_type="multipart/form-data",
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 400 and "только фотографию" in html
    assert "Файл «схема.pdf» не сохранён: выберите его ещё раз." in html
    assert db.session.scalar(sa.select(sa.func.count(Attachment.id))) == 0
    assert {p for p in storage.rglob("*") if p.is_file()} == before


def test_the_edit_page_shows_the_question_as_it_is(client, world):
    survey = build_survey(
        world,
        [
            q(K.SINGLE, "Как вы добираетесь?", options=["Пешком", "Автобус"]),
            q(K.NUMBER, "Сколько минут?", min_value=0.5, max_value=300),
        ],
        published=False,
    )
    single, number = question_ids(survey)
    as_user(client, world.publisher)
    html = client.get(f"/polls/manage/{survey.id}/questions/{single.id}").get_data(as_text=True)
    options = re.search(r'<textarea[^>]*name="options"[^>]*>(.*?)</textarea>', html, re.S)
    assert options.group(1).strip() == "Пешком\nАвтобус"
    html = client.get(f"/polls/manage/{survey.id}/questions/{number.id}").get_data(as_text=True)
    assert re.search(r'name="min_value"[^>]*value="0,5"', html), html
    assert re.search(r'name="max_value"[^>]*value="300"', html)
