"""Exports: CSV and XLSX of responses, large ones as a job with progress, the PDF report."""

from __future__ import annotations

import csv
import io
import re
import zipfile

import sqlalchemy as sa
from pypdf import PdfReader

from participation.core.users import Gender
from participation.extensions import db
from participation.polls import exports
from participation.polls.answering import submit_response
from participation.polls.models import QuestionKind, SurveyExport
from tests.polls.conftest import as_user, build_survey, q, question_ids, resident, token

K = QuestionKind


def _survey_with_answers(world, anonymous: bool, people: int = 6):
    survey = build_survey(
        world,
        [
            q(K.SINGLE, "Нужен ли новый парк?", options=["Да", "Нет"], has_other=True),
            q(K.TEXT, "Ваше предложение"),
            q(K.MATRIX, "Оцените", options=["Хорошо", "Плохо"], rows=["Дороги", "Парки"]),
            q(K.RANKING, "Что важнее?", options=["Школы", "Больницы"]),
            q(K.DATE, "Дата переезда"),
            q(K.NUMBER, "Сколько детей?"),
        ],
        anonymous=anonymous,
    )
    park, text, matrix, ranking, moved, kids = question_ids(survey)
    residents = []
    for i in range(people):
        person = resident(
            world,
            age=30,
            gender=Gender.FEMALE,
            last_name=f"Уникальнова{i}",
            email=f"u{i}@mail.example",
        )
        residents.append(person)
        answers = {
            str(park.id): {"o": [park.choices[i % 2].id]},
            str(text.id): {"t": f"=Предложение {i}"},
            str(matrix.id): {"m": {str(matrix.rows[0].id): matrix.choices[0].id}},
            str(ranking.id): {"r": {str(ranking.choices[0].id): 2, str(ranking.choices[1].id): 1}},
            str(moved.id): {"d": "2020-03-15"},
            str(kids.id): {"n": 2},
        }
        if i == 0:
            answers[str(park.id)] = {"o": [park.choices[2].id], "other": "Сквер"}
        submit_response(survey, person, answers)
    db.session.flush()
    return survey, residents


def _publisher(client, world):
    as_user(client, world.publisher)


def _csv(client, survey) -> list[list[str]]:
    response = client.get(f"/polls/manage/{survey.id}/export.csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"  # said once
    text = response.get_data(as_text=True)
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text.lstrip("\ufeff")), delimiter=";"))


def test_anonymous_csv_has_no_person_data(client, world):
    survey, people = _survey_with_answers(world, anonymous=True)
    _publisher(client, world)
    rows = _csv(client, survey)
    header, body = rows[0], rows[1:]
    assert "Респондент" not in header
    assert header[:5] == [
        "№ ответа",
        "Дата и время ответа",
        "Возрастная группа",
        "Пол",
        "Муниципалитет",
    ]
    assert len(body) == len(people)
    flat = " ".join(" ".join(r) for r in rows)
    for person in people:
        assert (
            person.last_name not in flat
            and person.email not in flat
            and person.esia_oid not in flat
        )
    first = body[0]
    assert first[2:5] == ["25–34 года", "женщины", "город Уфа"]
    assert "Другое (укажите): Сквер" in first
    assert "'=Предложение 0" in first  # no formula injection
    assert "Хорошо" in first and "15.03.2020" in first and "2" in first


def test_named_csv_shows_who_answered(client, world):
    survey, people = _survey_with_answers(world, anonymous=False)
    _publisher(client, world)
    rows = _csv(client, survey)
    assert rows[0][1] == "Респондент"
    assert any(people[0].last_name in r[1] for r in rows[1:])


def test_anonymous_csv_hides_small_groups(client, world):
    survey, _people = _survey_with_answers(world, anonymous=True, people=2)
    _publisher(client, world)
    rows = _csv(client, survey)
    assert rows[1][2:5] == ["скрыто (мало ответов)"] * 3


def _xlsx_text(data: bytes) -> str:
    with zipfile.ZipFile(io.BytesIO(data)) as book:
        names = [
            n
            for n in book.namelist()
            if n.startswith("xl/worksheets/") or n == "xl/sharedStrings.xml"
        ]
        return " ".join(book.read(n).decode("utf-8") for n in names)


def test_xlsx_export(client, world):
    survey, people = _survey_with_answers(world, anonymous=True)
    _publisher(client, world)
    response = client.get(f"/polls/manage/{survey.id}/export.xlsx")
    assert response.status_code == 200
    assert response.headers["Content-Disposition"].startswith("attachment")
    text = _xlsx_text(response.data)
    assert "Нужен ли новый парк?" in text and "Другое (укажите): Сквер" in text
    assert all(p.last_name not in text and p.email not in text for p in people)


def test_large_export_runs_as_a_job_with_progress(client, world, monkeypatch, run_jobs):
    survey, people = _survey_with_answers(world, anonymous=True, people=7)
    monkeypatch.setattr("participation.polls.report_views.SYNC_EXPORT_LIMIT", 3)
    monkeypatch.setattr(exports, "PAGE_SIZE", 2)
    seen: list[int] = []
    real = exports._with_progress

    def spy(rows, progress, counter):
        def record(done):
            seen.append(done)
            progress(done)

        return real(rows, record if progress else None, counter)

    monkeypatch.setattr(exports, "_with_progress", spy)
    _publisher(client, world)
    page = client.get(f"/polls/manage/{survey.id}/export.csv").get_data(as_text=True)
    assert "готовится в фоне" in page
    response = client.post(
        f"/polls/manage/{survey.id}/export.csv", data={"csrf_token": token(client)}
    )
    assert response.status_code == 302
    run_jobs()
    job = db.session.scalar(sa.select(SurveyExport))
    db.session.refresh(job)
    assert job.status.value == "done" and job.rows_done == 7 and job.rows_total == 7
    assert seen == [2, 4, 6]  # progress was reported page by page
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Готово: выгружено 7 ответов." in page or "Готово" in page
    download = client.get(f"/polls/manage/{survey.id}/exports/{job.id}/download")
    assert download.status_code == 200
    text = download.data.decode("utf-8-sig")
    assert len(list(csv.reader(io.StringIO(text), delimiter=";"))) == 8
    assert all(p.last_name not in text for p in people)
    status = client.get(f"/polls/manage/{survey.id}/exports/{job.id}?format=json").get_json()
    assert status == {"status": "done", "percent": 100, "rows_done": 7}


def test_export_job_of_another_survey_is_404(client, world):
    survey, _ = _survey_with_answers(world, anonymous=True, people=1)
    other = build_survey(world, [q(K.TEXT, "Другой")])
    job = SurveyExport(survey_id=other.id, requested_by_id=world.publisher.id, format="csv")
    db.session.add(job)
    db.session.flush()
    _publisher(client, world)
    assert client.get(f"/polls/manage/{survey.id}/exports/{job.id}").status_code == 404


def test_pdf_report_in_russian_with_charts_and_breakdowns(client, world, tmp_path):
    survey, people = _survey_with_answers(world, anonymous=True, people=6)
    _publisher(client, world)
    response = client.get(f"/polls/manage/{survey.id}/report.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    (tmp_path / "report.pdf").write_bytes(response.data)
    reader = PdfReader(io.BytesIO(response.data))
    text = "\n".join(page.extract_text() for page in reader.pages)
    assert "Итоги опроса «Опрос о городе»" in text
    assert "Нужен ли новый парк?" in text and "Получено ответов" in text
    assert "Разбивка: По возрасту" in text and "Разбивка: По полу" in text
    assert "25–34 года" in text
    assert re.search(r"Да\s+3\s+50,0 %", text) or "50,0 %" in text
    assert "анонимный" in text
    assert all(p.last_name not in text for p in people)


def test_the_pdf_report_keeps_whole_words_in_headers_and_one_pair_of_brackets(client, world):
    survey = build_survey(
        world,
        [
            q(
                QuestionKind.MATRIX,
                "Оцените состояние",
                options=["Хорошее", "Удовлетворительное", "Неудовлетворительное", "Плохое"],
                rows=["Дворы", "Тротуары"],
            )
        ],
    )
    _publisher(client, world)
    response = client.get(f"/polls/manage/{survey.id}/report.pdf")
    assert response.status_code == 200
    lines = [
        line.strip()
        for page in PdfReader(io.BytesIO(response.data)).pages
        for line in page.extract_text().splitlines()
    ]
    text = " ".join(lines)
    # Each column label on one line, not «Удовлетворительн / ое».
    assert any("Удовлетворительное" in line for line in lines)
    assert any("Неудовлетворительное" in line for line in lines)
    assert not any(line in ("ое", "ное") for line in lines)
    # The period: «…, екатеринбургское время (МСК+2)», not «(… (МСК+2))».
    assert "время (МСК" in text and "((" not in text and "))" not in text


def test_exports_whose_job_was_lost_are_made_by_the_sweep(world, run_jobs):
    """Queued while Redis was down, or running when its worker was killed: the sweep queues
    the export again once it has waited too long, and it finishes once."""
    from datetime import timedelta

    from participation.core.db import utcnow
    from participation.core.jobs import run_sweeps
    from participation.polls.models import ExportStatus

    survey, _ = _survey_with_answers(world, anonymous=True, people=2)
    long_ago = utcnow() - timedelta(hours=1)
    queued, running = (
        SurveyExport(
            survey_id=survey.id,
            requested_by_id=world.publisher.id,
            format="csv",
            status=status,
            created_at=long_ago,
        )
        for status in (ExportStatus.QUEUED, ExportStatus.RUNNING)
    )
    running.rows_done, running.rows_total, running.storage_key = 1, 2, "polls-exports/gone.csv"
    db.session.add_all([queued, running])
    db.session.commit()
    run_sweeps()
    run_jobs()
    for job in (queued, running):
        db.session.refresh(job)
        assert (job.status, job.rows_done) == (ExportStatus.DONE, 2)
    assert running.storage_key != "polls-exports/gone.csv"
