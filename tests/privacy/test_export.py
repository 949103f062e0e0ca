"""A resident's download of their own data: only theirs, never how they voted, behind login,
CSRF and a rate limit, audit-logged."""

from __future__ import annotations

import io
import json
import zipfile
from datetime import date

import sqlalchemy as sa

from participation.appeals import services as s
from participation.core.audit import AuditEntry
from participation.core.files import Attachment, attachment_path, store_file
from participation.core.outbox import notify
from participation.extensions import db
from participation.polls.models import (
    AgeBand,
    QuestionKind,
    Survey,
    SurveyAnswer,
    SurveyParticipant,
    SurveyQuestion,
    SurveyResponse,
    SurveySection,
    TextStatus,
)
from participation.voting.services import cast_ballot
from tests.appeals.conftest import submit
from tests.helpers import csrf_token, login_as
from tests.reports.conftest import directline, hearing, local, question, remark
from tests.voting.helpers import Town, campaign

URL = "/my/profile/data.zip"


def _give_data(w, person, marker: str, survey: Survey, vote) -> None:
    """A message with a photo, answered and rated; a named survey answer; a ballot; a
    direct-line question; a hearing remark; a notice in the feed — all carrying `marker`."""
    appeal = submit(w, author=person, text=f"Яма у дома {marker}", address=f"ул. {marker}, 1")
    store_file(
        f"photo of {marker}".encode(),
        f"{marker}.jpg",
        "image/jpeg",
        uploaded_by_id=person.id,
        attached_to=("appeal", appeal.id),
    )
    s.accept_appeal(appeal, w.moderator)
    s.confirm_addressee(appeal, w.cur_coordinator)
    s.assign_executor(appeal, w.coordinator, w.executor.id)
    s.submit_draft(appeal, w.executor, f"Ответ для {marker}")
    s.approve_answer(appeal, w.head)
    s.rate_appeal(appeal, person, 4, f"Спасибо от {marker}")

    response = SurveyResponse(survey_id=survey.id, respondent_id=person.id, age_band=AgeBand.A25_34)
    db.session.add(response)
    db.session.flush()
    db.session.add(
        SurveyAnswer(
            response_id=response.id,
            question_id=survey.question.id,
            text_value=f"Скамейки {marker}",
            text_status=TextStatus.APPROVED,
        )
    )
    db.session.add(
        SurveyParticipant(survey_id=survey.id, user_id=person.id, answered_on=date.today())
    )

    cast_ballot(vote, person, [vote.objects[0 if marker == "Альфа" else 1].id])

    line = directline(w, w.government)
    w.resident = person  # the row maker asks in the resident's name
    q = question(w, line, w.city, local(date(2026, 5, 5)))
    q.text = f"Вопрос {marker}"
    h = hearing(w.city_admin, w.city, date(2026, 5, 1), date(2026, 5, 14))
    r = remark(h, local(date(2026, 5, 2)), text=f"Замечание {marker}")
    r.author_id = person.id
    notify(person.id, f"export-{marker}", f"Уведомление {marker}", f"Текст {marker}")
    db.session.flush()


def _survey(w) -> Survey:
    survey = Survey(
        organization_id=w.city_admin.id,
        title="Именной опрос",
        anonymous=False,
        starts_at=local(date(2026, 4, 1)),
        ends_at=local(date(2026, 4, 30)),
    )
    db.session.add(survey)
    db.session.flush()
    section = SurveySection(survey_id=survey.id)
    db.session.add(section)
    db.session.flush()
    survey.question = SurveyQuestion(
        survey_id=survey.id, section_id=section.id, kind=QuestionKind.TEXT, text="Что улучшить?"
    )
    db.session.add(survey.question)
    db.session.flush()
    return survey


def _two_residents(w):
    town = Town()
    town.city = w.city  # the vote is in the residents' own city
    town.admin = w.city_admin
    vote = campaign(town)
    survey = _survey(w)
    alpha = w.resident
    alpha.last_name, alpha.phone = "Альфа-Жительница", "+79990000001"
    beta = w.other_resident
    beta.last_name, beta.phone = "Бета-Сосед", "+79990000002"
    _give_data(w, alpha, "Альфа", survey, vote)
    _give_data(w, beta, "Бета", survey, vote)
    return alpha, beta, vote


def _download(client, person):
    login_as(client, person)
    token = csrf_token(client, "/my/profile")
    return client.post(URL, data={"csrf_token": token})


def test_the_zip_holds_all_of_my_data_and_nothing_of_anyone_else(world, client, run_jobs):
    alpha, beta, vote = _two_residents(world)
    db.session.commit()
    run_jobs()  # with Redis, the relay that fills the feed runs in a worker

    response = _download(client, alpha)

    assert response.status_code == 200, response.status_code
    assert response.mimetype == "application/zip"
    assert "attachment" in response.headers["Content-Disposition"]
    archive = zipfile.ZipFile(io.BytesIO(response.data))
    names = set(archive.namelist())
    assert {
        "profile.json",
        "messages.json",
        "ratings.json",
        "surveys.json",
        "votes.json",
        "directline.json",
        "hearings.json",
        "notifications.json",
        "README.txt",
    } <= names
    data = {n: json.loads(archive.read(n)) for n in names if n.endswith(".json")}
    assert data["profile.json"]["last_name"] == "Альфа-Жительница"
    assert data["profile.json"]["phone"] == "+79990000001"
    [message] = data["messages.json"]
    assert message["text"] == "Яма у дома Альфа" and message["address"] == "ул. Альфа, 1"
    assert [a["text"] for a in message["answers"]] == ["Ответ для Альфа"]
    assert message["rating"]["score"] == 4
    assert [h["to_state"] for h in message["history"]][-1] == "closed"
    [photo] = message["files"]
    assert archive.read(photo) == "photo of Альфа".encode()
    assert [r["comment"] for r in data["ratings.json"]] == ["Спасибо от Альфа"]
    [taken] = data["surveys.json"]
    assert taken["answers"] == [{"question": "Что улучшить?", "text_value": "Скамейки Альфа"}]
    # Only that I voted: the vote's title and day, no object, no choice, no receipt.
    [voted] = data["votes.json"]
    assert set(voted) == {"vote_id", "title", "voted_on", "channel"}
    blob = b"".join(archive.read(n) for n in names)
    for obj in vote.objects:
        assert obj.title.encode() not in blob
    assert [q["text"] for q in data["directline.json"]] == ["Вопрос Альфа"]
    assert [r["text"] for r in data["hearings.json"]["remarks"]] == ["Замечание Альфа"]
    assert "Уведомление Альфа" in [n["title"] for n in data["notifications.json"]]
    # Nothing of the other resident, anywhere in the archive.
    for theirs in ("Бета", "+79990000002", beta.email):
        assert theirs.encode() not in blob, theirs

    entry = db.session.scalar(sa.select(AuditEntry).where(AuditEntry.action == "privacy.export"))
    assert entry.actor_id == alpha.id and entry.object_id == str(alpha.id)
    assert entry.details["counts"]["messages"] == 1 and entry.details["counts"]["files"] == 1


def test_the_other_resident_gets_only_theirs(world, client):
    alpha, beta, _vote = _two_residents(world)
    db.session.commit()
    archive = zipfile.ZipFile(io.BytesIO(_download(client, beta).data))
    blob = b"".join(archive.read(n) for n in archive.namelist())
    assert "Яма у дома Бета".encode() in blob
    assert "Альфа".encode() not in blob and alpha.email.encode() not in blob


def test_an_anonymous_visitor_is_sent_to_log_in(client):
    token = csrf_token(client, "/")  # the language switch's form
    response = client.post(URL, data={"csrf_token": token})
    assert response.status_code in (302, 303)
    assert "/login" in response.headers["Location"]
    assert client.get("/my/profile").status_code in (302, 303)


def test_the_profile_page_offers_the_download(world, client):
    login_as(client, world.resident)
    page = client.get("/my/profile").get_data(as_text=True)
    assert 'action="/my/profile/data.zip"' in page and "Скачать мои данные (ZIP)" in page


def test_without_the_form_token_nothing_is_downloaded(world, client):
    login_as(client, world.resident)
    assert client.post(URL).status_code == 400


def test_downloads_are_rate_limited_per_person(world, client, app):
    login_as(client, world.resident)
    token = csrf_token(client, "/my/profile")
    limit = int(app.config["PERSONAL_DATA_EXPORT_LIMIT"].split("/")[0])
    for _ in range(limit):
        assert client.post(URL, data={"csrf_token": token}).status_code == 200
    refused = client.post(URL, data={"csrf_token": token})
    assert refused.status_code == 429
    assert (
        db.session.scalar(sa.select(sa.func.count()).where(AuditEntry.action == "privacy.export"))
        == limit
    )


def test_a_file_gone_from_storage_is_left_out_and_the_rest_still_downloads(world, client):
    alpha, _beta, _vote = _two_residents(world)
    db.session.commit()
    [photo] = db.session.scalars(
        sa.select(Attachment).where(Attachment.uploaded_by_id == alpha.id)
    ).all()
    attachment_path(photo).unlink()

    response = _download(client, alpha)

    assert response.status_code == 200
    archive = zipfile.ZipFile(io.BytesIO(response.data))
    assert not [n for n in archive.namelist() if n.startswith("files/")]
    [message] = json.loads(archive.read("messages.json"))
    assert message["text"] == "Яма у дома Альфа" and message["files"] == []
