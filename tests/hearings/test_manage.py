"""Preparing a hearing: editing the draft before publication, materials, the protocol reminder."""

from __future__ import annotations

import base64
import io
from datetime import timedelta

import pytest
import sqlalchemy as sa

from participation.core.db import utcnow
from participation.core.errors import Conflict, FieldError
from participation.core.files import Attachment
from participation.core.outbox import OutboxMessage
from participation.core.pdf import para, render_pdf
from participation.extensions import db
from participation.hearings import services, tasks
from participation.hearings.models import DraftParagraph, HearingMaterial
from tests.hearings.conftest import CLOSES_ON, hearing_input, local, travel
from tests.helpers import csrf_token, login_as

PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
)


def a_pdf() -> bytes:
    return render_pdf([para("Схема границ территории")], title="Схема", generated_at=utcnow())


def test_the_draft_is_split_again_when_an_unpublished_hearing_is_edited(make_hearing, world):
    hearing = make_hearing(publish=False)
    services.update_hearing(
        hearing, world.organizer, hearing_input(world, draft_text="1. Единственный пункт.")
    )
    numbers = db.session.scalars(
        sa.select(DraftParagraph.number).where(DraftParagraph.hearing_id == hearing.id)
    ).all()
    assert numbers == ["1"]


def test_a_published_hearing_is_frozen(discussion, world):
    with pytest.raises(Conflict) as error:
        services.update_hearing(discussion, world.organizer, hearing_input(world))
    assert "менять нельзя" in error.value.message
    with pytest.raises(Conflict):
        services.add_material(discussion, world.organizer, "Схема", io.BytesIO(a_pdf()), "s.pdf")


def test_the_draft_pdf_must_be_a_pdf_and_a_refused_file_is_not_stored(make_hearing, world):
    hearing = make_hearing(publish=False)
    with pytest.raises(FieldError) as error:
        services.update_hearing(
            hearing, world.organizer, hearing_input(world), draft_pdf=(io.BytesIO(PNG), "draft.pdf")
        )
    assert error.value.field == "draft_pdf" and "PDF" in error.value.message
    assert db.session.scalar(sa.select(sa.func.count(Attachment.id))) == 0
    services.update_hearing(
        hearing, world.organizer, hearing_input(world), draft_pdf=(io.BytesIO(a_pdf()), "draft.pdf")
    )
    assert hearing.draft_attachment.content_type == "application/pdf"


def test_materials_are_uploaded_and_public_once_published(client, make_hearing, world):
    hearing = make_hearing(publish=False)
    login_as(client, world.organizer)
    page = f"/backoffice/hearings/{hearing.id}"
    token = csrf_token(client, page)
    response = client.post(
        f"{page}/materials",
        data={"csrf_token": token, "title": "", "file": (io.BytesIO(a_pdf()), "schema.pdf")},
        content_type="multipart/form-data",
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 400 and "Назовите материал." in html
    assert "Файл «schema.pdf» не сохранён: выберите его ещё раз." in html  # told plainly
    assert db.session.scalar(sa.select(sa.func.count(Attachment.id))) == 0
    response = client.post(
        f"{page}/materials",
        data={
            "csrf_token": token,
            "title": "Схема границ",
            "file": (io.BytesIO(a_pdf()), "schema.pdf"),
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 302
    material = db.session.scalar(sa.select(HearingMaterial))
    url = f"/files/{material.attachment.public_id}"
    client.post("/logout", data={"csrf_token": csrf_token(client, page)})
    assert client.get(url).status_code == 404  # unpublished: not for the public yet
    services.publish_notice(hearing, world.organizer, now=local(CLOSES_ON) - timedelta(days=30))
    assert client.get(url).status_code == 200
    assert "Схема границ" in client.get(f"/hearings/{hearing.id}").get_data(as_text=True)


def test_the_edit_page_shows_the_local_dates_and_saves(client, make_hearing, world):
    hearing = make_hearing(publish=False)
    login_as(client, world.organizer)
    html = client.get(f"/backoffice/hearings/{hearing.id}/edit").get_data(as_text=True)
    assert 'value="2026-06-21"' in html  # the last day, not the exclusive midnight after it


def _reminders(user_id: int) -> list[OutboxMessage]:
    return db.session.scalars(
        sa.select(OutboxMessage).where(
            OutboxMessage.user_id == user_id,
            OutboxMessage.dedup_key.like("hearing:%:window-closed:%"),
        )
    ).all()


def test_organizers_are_reminded_once_when_the_window_closes(discussion, world, app):
    with travel(local(CLOSES_ON)), app.test_request_context():
        tasks.remind_protocol_due()
    assert _reminders(world.organizer.id) == []
    with travel(local(CLOSES_ON + timedelta(days=1))), app.test_request_context():
        tasks.remind_protocol_due()
        tasks.remind_protocol_due()
    sent = _reminders(world.organizer.id)
    assert len(sent) == 1 and "оформите протокол" in sent[0].subject
    assert sent[0].link.endswith(f"/backoffice/hearings/{discussion.id}")
    assert _reminders(world.executor.id) == []


def test_the_demo_rewind_command_closes_the_window_for_development(app, discussion):
    from participation.hearings.stages import Stage, stage_at

    with travel(local(CLOSES_ON - timedelta(days=5))):
        result = app.test_cli_runner().invoke(args=["hearings", "rewind", str(discussion.id)])
        assert result.exit_code == 0, result.output
        db.session.refresh(discussion)
        assert stage_at(discussion, utcnow()) == Stage.REMARKS_CLOSED
        assert discussion.remarks_last_day < local(CLOSES_ON).date()
    missing = app.test_cli_runner().invoke(args=["hearings", "rewind", "999999"])
    assert missing.exit_code != 0 and "нет" in missing.output
