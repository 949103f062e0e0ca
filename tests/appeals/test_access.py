"""Access: residents see their own, staff their organization's, executors what is assigned;
anything else is a 404 and is logged."""

import io
import logging

import pytest
import sqlalchemy as sa

from participation.appeals import services as s
from participation.core.files import Attachment
from participation.core.users import Role
from participation.extensions import db
from tests import factories as f
from tests.appeals.conftest import submit
from tests.appeals.test_lifecycle import to_answered, to_work
from tests.appeals.test_submit import PNG
from tests.helpers import csrf_token, login_as


@pytest.fixture
def appeal(world):
    return submit(world)


def test_a_resident_cannot_open_or_rate_someone_elses_message(client, world, appeal, caplog):
    to_answered(world, appeal)
    login_as(client, world.other_resident)
    with caplog.at_level(logging.WARNING, logger="participation.access"):
        assert client.get(f"/my/appeals/{appeal.id}").status_code == 404
    assert "access denied" in caplog.text and f"/my/appeals/{appeal.id}" in caplog.text
    token = csrf_token(client, "/my/appeals")
    assert (
        client.post(
            f"/my/appeals/{appeal.id}/rate", data={"csrf_token": token, "score": "1"}
        ).status_code
        == 404
    )
    assert (
        client.post(
            f"/my/appeals/{appeal.id}/rework", data={"csrf_token": token, "comment": "x"}
        ).status_code
        == 404
    )
    assert s.appeal_rating(appeal) is None and appeal.state == "answered"
    assert client.get("/my/appeals/999999").status_code == 404
    # Own list shows nothing of the other person's.
    assert f"/my/appeals/{appeal.id}" not in client.get("/my/appeals").get_data(as_text=True)


def test_residents_cannot_use_the_backoffice(client, world, appeal):
    login_as(client, world.resident)
    assert client.get("/backoffice/appeals/").status_code == 404
    assert client.get(f"/backoffice/appeals/{appeal.id}").status_code == 404


@pytest.mark.parametrize(
    "who",
    [
        "town_coordinator",
        "federal_coordinator",
        "school_coordinator",
        "gov_executor",
        "administrator",
    ],
)
def test_staff_of_uninvolved_organizations_get_404(client, world, appeal, who, caplog):
    to_work(world, appeal)
    login_as(client, getattr(world, who))
    with caplog.at_level(logging.WARNING, logger="participation.access"):
        assert client.get(f"/backoffice/appeals/{appeal.id}").status_code == 404
    assert "access denied" in caplog.text


def test_staff_of_involved_organizations_see_the_card(client, world, appeal):
    to_work(world, appeal)
    for user in (
        world.moderator,
        world.cur_coordinator,
        world.cur_curator,
        world.coordinator,
        world.head,
        world.curator,
        world.executor,
    ):
        login_as(client, user)
        assert client.get(f"/backoffice/appeals/{appeal.id}").status_code == 200, user


def test_an_executor_sees_only_messages_assigned_to_them(client, world, appeal):
    to_work(world, appeal)
    login_as(client, world.executor2)
    assert client.get(f"/backoffice/appeals/{appeal.id}").status_code == 404
    html = client.get("/backoffice/appeals/?bucket=in_work").get_data(as_text=True)
    assert f'/backoffice/appeals/{appeal.id}"' not in html
    login_as(client, world.executor)
    html = client.get("/backoffice/appeals/?bucket=in_work").get_data(as_text=True)
    assert f'/backoffice/appeals/{appeal.id}"' in html


def test_actions_not_offered_are_refused(client, world, appeal):
    login_as(client, world.coordinator)  # the message is still with the moderator
    token = csrf_token(client, "/backoffice/appeals/")
    response = client.post(
        f"/backoffice/appeals/{appeal.id}/accept",
        data={"csrf_token": token, "accept-state": "moderation"},
    )
    assert response.status_code == 404
    login_as(client, world.moderator)
    for action in ("nonsense", "rate", "assign"):
        response = client.post(
            f"/backoffice/appeals/{appeal.id}/{action}", data={"csrf_token": token}
        )
        assert response.status_code == 404
    assert appeal.state == "moderation"


def test_the_card_shows_only_the_actions_the_user_may_take(client, world, appeal):
    login_as(client, world.moderator)
    html = client.get(f"/backoffice/appeals/{appeal.id}").get_data(as_text=True)
    for label in ("Принять и передать на координацию", "Изменить категорию", "Отклонить"):
        assert label in html
    assert "Назначить исполнителя" not in html
    login_as(client, world.cur_curator)
    html = client.get(f"/backoffice/appeals/{appeal.id}").get_data(as_text=True)
    assert "Сейчас у вас нет действий" in html


def test_attachments_follow_the_message_access(client, world):
    login_as(client, world.resident)
    appeal = submit(world, files=[_upload()])
    db.session.flush()
    attachment = db.session.scalars(sa.select(Attachment)).one()
    url = f"/files/{attachment.public_id}"
    assert client.get(url).status_code == 200
    login_as(client, world.other_resident)
    assert client.get(url).status_code == 404
    login_as(client, world.town_coordinator)
    assert client.get(url).status_code == 404
    login_as(client, world.moderator)
    assert client.get(url).status_code == 200
    # Draft answer files: staff only until the head approves, then the author too.
    to_work(world, appeal)
    s.submit_draft(appeal, world.executor, "Ответ с фото", [_upload()])
    answer_file = db.session.scalars(
        sa.select(Attachment).where(Attachment.attached_to_type == "appeal_answer")
    ).one()
    answer_url = f"/files/{answer_file.public_id}"
    login_as(client, world.resident)
    assert client.get(answer_url).status_code == 404
    login_as(client, world.head)
    assert client.get(answer_url).status_code == 200
    s.approve_answer(appeal, world.head)
    login_as(client, world.resident)
    assert client.get(answer_url).status_code == 200


def test_curator_page_is_for_curators(client, world, appeal):
    login_as(client, world.coordinator)
    assert client.get("/backoffice/appeals/curator").status_code == 404
    login_as(client, world.curator)
    assert client.get("/backoffice/appeals/curator").status_code == 200


def test_operator_page_is_for_operators(client, world):
    login_as(client, world.coordinator)
    assert client.get("/backoffice/appeals/new").status_code == 404


def _upload():
    from werkzeug.datastructures import FileStorage

    return FileStorage(stream=io.BytesIO(PNG), filename="photo.png", content_type="image/png")


def test_role_in_one_organization_does_not_open_another(client, world, appeal):
    # A coordinator of the ЦУР who is also an executor somewhere else sees only what each
    # organization may see.
    person = f.staff(world.town_admin, Role.EXECUTOR)
    login_as(client, person)
    assert client.get(f"/backoffice/appeals/{appeal.id}").status_code == 404


def test_the_answers_photos_are_kept_after_a_refused_draft(client, world, appeal):
    import re

    to_work(world, appeal)
    db.session.commit()
    login_as(client, world.executor)
    token = csrf_token(client, f"/backoffice/appeals/{appeal.id}")
    url = f"/backoffice/appeals/{appeal.id}/submit_draft"
    state = {"csrf_token": token, "submit_draft-state": appeal.state.value}
    response = client.post(
        url,
        data={
            **state,
            "submit_draft-text": "",
            "submit_draft-attachments": [(io.BytesIO(PNG), "после.png")],
        },
        content_type="multipart/form-data",
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 400 and "Напишите текст ответа" in html
    staged = re.findall(r'name="staged_files" value="([^"]+)"', html)
    assert len(staged) == 1 and "после.png" in html
    response = client.post(
        url, data={**state, "submit_draft-text": "Яму заделали.", "staged_files": staged}
    )
    assert response.status_code == 302
    photo = db.session.scalars(sa.select(Attachment)).one()
    assert photo.attached_to_type == "appeal_answer" and photo.original_name == "после.png"
