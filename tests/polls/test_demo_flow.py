"""The "done when" path over HTTP: publish for 18+, residents of both ages try, results, files."""

from __future__ import annotations

import csv
import io
import re

import sqlalchemy as sa
from pypdf import PdfReader

from participation.extensions import db
from participation.polls.models import Survey, SurveyQuestion
from tests.polls.conftest import as_user, resident, token


def _question(survey_id: int, text: str) -> SurveyQuestion:
    return db.session.scalar(
        sa.select(SurveyQuestion).where(
            SurveyQuestion.survey_id == survey_id, SurveyQuestion.text == text
        )
    )


def test_municipality_publishes_residents_answer_publisher_downloads(client, world):
    # 1. The municipality's authorized official creates a survey for residents 18+.
    as_user(client, world.publisher)
    assert "Опросы организации" in client.get("/polls/manage").get_data(as_text=True)
    response = client.post(
        "/polls/manage/new",
        data={
            "csrf_token": token(client),
            "organization_id": str(world.org.id),
            "title": "Транспорт в городе",
            "description": "Помогите улучшить транспорт.",
            "mode": "anonymous",
            "starts_at": "2020-01-01T00:00",
            "ends_at": "2099-01-01T00:00",
            "territory_ids": [str(world.city.id)],
            "min_level": "standard",
            "min_age": "18",
        },
    )
    survey_id = int(re.search(r"/polls/manage/(\d+)", response.headers["Location"]).group(1))
    survey = db.session.get(Survey, survey_id)
    section_id = survey.sections[0].id

    def add(kind: str, text: str, **extra) -> SurveyQuestion:
        r = client.post(
            f"/polls/manage/{survey_id}/sections/{section_id}/questions/new",
            data={"csrf_token": token(client), "kind": kind, "text": text, **extra},
        )
        assert r.status_code == 302, r.get_data(as_text=True)[:1500]
        return _question(survey_id, text)

    how = add("single", "Как вы ездите?", options="Автобус\nМашина", required="y")
    rating = add("scale", "Оцените автобусы", scale_max="5", required="y")
    add("text", "Что изменить?", max_length="200")
    # Show the rating only to those who go by bus.
    r = client.post(
        f"/polls/manage/{survey_id}/questions/{rating.id}/condition",
        data={"csrf_token": token(client), "option_ids": [str(how.choices[0].id)]},
    )
    assert r.status_code == 302
    r = client.post(f"/polls/manage/{survey_id}/publish", data={"csrf_token": token(client)})
    assert "Опрос опубликован." in client.get(r.headers["Location"]).get_data(as_text=True)

    # 2. Residents of the right age answer; a 15-year-old is turned away.
    for n, (mode, score) in enumerate([(0, "2"), (0, "4"), (1, None), (0, "5"), (1, None)]):
        person = resident(world, age=25 + 10 * n)
        as_user(client, person)
        page = client.get("/polls/").get_data(as_text=True)
        assert "Транспорт в городе" in page
        data = {
            "csrf_token": token(client),
            "section": "0",
            "action": "submit",
            f"q{how.id}": str(how.choices[mode].id),
        }
        if score:
            data[f"q{rating.id}"] = score
        r = client.post(f"/polls/{survey_id}/answer", data=data)
        assert r.headers["Location"].endswith(f"/polls/{survey_id}/thanks")
        assert "Спасибо, ваш ответ учтён" in client.get(r.headers["Location"]).get_data(
            as_text=True
        )

    teen = resident(world, age=15)
    as_user(client, teen)
    assert "Транспорт в городе" not in client.get("/polls/").get_data(as_text=True)
    page = client.get(f"/polls/{survey_id}").get_data(as_text=True)
    assert "Вам пока нет 18 лет." in page
    r = client.post(
        f"/polls/{survey_id}/answer",
        data={"csrf_token": token(client), "section": "0", "action": "submit"},
    )
    assert "Вам пока нет 18 лет." in client.get(r.headers["Location"]).get_data(as_text=True)

    # 3. The publisher sees results with charts and breakdowns, and downloads the files.
    as_user(client, world.publisher)
    html = client.get(f"/polls/manage/{survey_id}/results").get_data(as_text=True)
    assert "Получено 5 ответов." in html
    assert 'role="img"' in html and "Автобус: 3 (60,0\xa0%); Машина: 2 (40,0\xa0%)" in html
    assert "Среднее: 3,67 из 5" in html
    html = client.get(f"/polls/manage/{survey_id}/results?by=gender").get_data(as_text=True)
    assert "женщины" in html and "3 (60,0\xa0%)" in html

    csv_response = client.get(f"/polls/manage/{survey_id}/export.csv")
    rows = list(csv.reader(io.StringIO(csv_response.data.decode("utf-8-sig")), delimiter=";"))
    assert len(rows) == 6 and "Респондент" not in rows[0]
    xlsx = client.get(f"/polls/manage/{survey_id}/export.xlsx")
    assert xlsx.status_code == 200 and xlsx.data[:2] == b"PK"
    pdf = client.get(f"/polls/manage/{survey_id}/report.pdf")
    text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.data)).pages)
    assert "Итоги опроса «Транспорт в городе»" in text and "Как вы ездите?" in text
    assert "Asia/" not in text and "Europe/" not in text  # the zone as residents say it
    assert "(МСК" in " ".join(text.split())
