"""The СЭД side of the organisation API: registering a message in the СЭД (and its folder in the
staff inbox), letters filed from the СЭД («Из СЭД»), statuses and answers through the same
workflow as the staff card (409 naming the state, 403 for another's message), bad files, and
nothing half-saved when anything is refused."""

from __future__ import annotations

import io
import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from participation.appeals import services as s
from participation.appeals.models import Appeal, AppealAnswer, AppealEvent, Arrival
from participation.appeals.workflow import AppealState
from participation.core.audit import AuditEntry
from participation.core.db import utcnow
from participation.core.errors import DomainError
from participation.core.files import Attachment
from participation.extensions import db
from tests.api.openapi_check import check_problem
from tests.api.sed_fixtures import (  # noqa: F401  (fixtures)
    PDF,
    headers,
    pdf,
    post,
    sed_world,
    to_assignment,
    world,
)
from tests.appeals.conftest import submit
from tests.helpers import csrf_token, login_as

TODAY = utcnow().date()


def _url(appeal, tail: str = "") -> str:
    return f"/api/v1/org/messages/{appeal.id}{tail}"


def _count(model) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def _numbers(html: str) -> set[int]:
    return set(map(int, re.findall(r'href="/backoffice/appeals/(\d+)"', html)))


# --- registration in the СЭД -------------------------------------------------------------------


def test_register_then_the_same_again_then_another_number(client, sed):
    w = sed
    appeal = to_assignment(w)
    db.session.commit()
    url = _url(appeal, "/sed-registration")
    response = post(client, url, w.token, json={"number": "01-15/123", "date": TODAY.isoformat()})
    assert response.status_code == 201
    card = response.get_json()
    assert card["sed"]["number"] == "01-15/123" and card["sed"]["date"] == TODAY.isoformat()
    assert card["sed"]["organization"]["name"] == "Администрация г. Тестовска"
    assert card["state"] == "assignment" and card["bucket"] == "new"  # the workflow is untouched
    assert card["history"][-1]["action"] == "sed_registered"
    assert card["history"][-1]["label"] == "Зарегистрировано в СЭД организации"
    audit = db.session.scalar(
        sa.select(AuditEntry).where(AuditEntry.action == "appeal.sed_registered")
    )
    assert audit.object_id == str(appeal.id) and audit.actor_id == w.key.user_id
    # The same registration again: nothing new.
    again = post(client, url, w.token, json={"number": "01-15/123", "date": TODAY.isoformat()})
    assert again.status_code == 200
    events = sa.select(sa.func.count()).where(
        AppealEvent.appeal_id == appeal.id, AppealEvent.action == "sed_registered"
    )
    assert db.session.scalar(events) == 1
    # Another number for a message registered here already: a conflict, nothing changes.
    other = post(client, url, w.token, json={"number": "01-15/999", "date": TODAY.isoformat()})
    assert other.status_code == 409
    assert "01-15/123" in check_problem(other)["detail"]
    db.session.expire_all()
    assert db.session.get(Appeal, appeal.id).sed_number == "01-15/123"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"number": "  ", "date": TODAY.isoformat()}, "number"),
        ({"number": "x" * 65, "date": TODAY.isoformat()}, "number"),
        ({"number": "1\x07", "date": TODAY.isoformat()}, "number"),
        ({"number": "12", "date": (TODAY + timedelta(days=3)).isoformat()}, "date"),
        ({"number": "12", "date": "31.12.2026"}, "date"),
        ({"number": "12"}, "date"),
        ({"number": "12", "date": TODAY.isoformat(), "extra": 1}, "extra"),
    ],
)
def test_bad_registration_is_refused_by_the_field_and_saves_nothing(client, sed, body, field):
    w = sed
    appeal = to_assignment(w)
    db.session.commit()
    response = post(client, _url(appeal, "/sed-registration"), w.token, json=body)
    assert response.status_code == 422
    assert field in check_problem(response)["errors"]
    db.session.expire_all()
    assert db.session.get(Appeal, appeal.id).sed_number is None


def test_a_number_of_the_day_names_one_message(client, sed):
    w = sed
    first, second = to_assignment(w), to_assignment(w)
    s.register_in_sed(first, w.coordinator, w.city_admin, "77", TODAY)
    db.session.commit()
    body = {"number": "77", "date": TODAY.isoformat()}
    response = post(client, _url(second, "/sed-registration"), w.token, json=body)
    assert response.status_code == 422
    assert f"№ {first.number}" in check_problem(response)["errors"]["number"][0]


def test_registration_needs_the_write_scope_and_a_message_of_ours(client, sed):
    w = sed
    ours = to_assignment(w)
    theirs = to_assignment(w, subcategory_id=w.benches.id, territory_id=w.town.id)
    closed = to_assignment(w)
    s.assign_executor(closed, w.coordinator, w.executor.id)
    s.submit_draft(closed, w.executor, "Яму заделали.")
    s.approve_answer(closed, w.head)
    s.rate_appeal(closed, w.resident, 5)
    db.session.commit()
    body = {"number": "5", "date": TODAY.isoformat()}
    read_only = post(client, _url(ours, "/sed-registration"), w.read_token, json=body)
    assert read_only.status_code == 403
    assert "messages:write" in check_problem(read_only)["detail"]
    assert post(client, _url(theirs, "/sed-registration"), w.token, json=body).status_code == 404
    late = post(client, _url(closed, "/sed-registration"), w.token, json=body)
    assert late.status_code == 409 and "«Закрыто»" in check_problem(late)["detail"]


def test_registered_messages_fill_the_sed_folder_in_the_staff_inbox(client, sed):
    w = sed
    waiting = to_assignment(w)
    working = to_assignment(w)
    answered = to_assignment(w)
    unregistered = to_assignment(w)
    for appeal in (working, answered):
        s.assign_executor(appeal, w.coordinator, w.executor.id)
    s.submit_draft(answered, w.executor, "Проект ответа")
    for n, appeal in enumerate((waiting, working, answered)):
        s.register_in_sed(appeal, w.coordinator, w.city_admin, f"01-{n}", TODAY)
    db.session.commit()
    login_as(client, w.coordinator)
    html = client.get("/backoffice/appeals/").get_data(as_text=True)
    assert "Отправлено в СЭД" in html
    assert re.search(r'bucket=sed_in_work"[^>]*>\s*в работе <span class="count">2</span>', html)
    assert re.search(
        r'bucket=sed_answered"[^>]*>\s*получен ответ <span class="count">1</span>', html
    )
    # Each registered message is in the СЭД folder and still in its own.
    page = client.get("/backoffice/appeals/?bucket=sed_in_work").get_data(as_text=True)
    assert "Отправлено в СЭД: в работе" in page
    assert _numbers(page) == {waiting.id, working.id}
    assert "СЭД № 01-0 от" in page
    assert _numbers(client.get("/backoffice/appeals/?bucket=sed_answered").get_data(True)) == {
        answered.id
    }
    assert _numbers(client.get("/backoffice/appeals/").get_data(True)) == {
        waiting.id,
        unregistered.id,
    }
    card = client.get(f"/backoffice/appeals/{working.id}").get_data(as_text=True)
    assert "Регистрация в СЭД" in card and "№ 01-1 от" in card
    assert "Зарегистрировано в СЭД организации" in card
    # The API's folder reads the same messages.
    api = client.get(
        "/api/v1/org/inbox", query_string={"folder": "sed_in_work"}, headers=headers(w.token)
    )
    assert [i["id"] for i in api.get_json()["items"]] == [waiting.id, working.id]


# --- letters filed from the СЭД ----------------------------------------------------------------


def _letter(w, **changes):
    data = {
        "sed_number": "вх-2026/501",
        "sed_date": TODAY.isoformat(),
        "applicant_name": "Бумажная Анна Петровна",
        "applicant_email": "anna.paper@example.org",
        "subcategory_id": str(w.benches.id),
        "territory_id": str(w.city.id),
        "text": "Прошу отремонтировать скамейку у подъезда дома 3 по улице Садовой.",
        "address": "г. Тестовск, ул. Садовая, д. 3",
        "files": [pdf("скан письма.pdf")],
    }
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def test_a_letter_from_the_sed_is_a_message_of_the_operator_channel_from_sed(client, sed):
    w = sed
    response = post(client, "/api/v1/org/messages", w.token, data=_letter(w))
    assert response.status_code == 201, response.get_json()
    card = response.get_json()
    assert response.headers["Location"] == f"/api/v1/org/messages/{card['id']}"
    assert card["channel"] == "operator" and card["arrival"] == "from_sed"
    assert card["state"] == "moderation"  # moderation is not skipped
    assert card["executor_organization"]["name"] == "Администрация г. Тестовска"
    assert card["sed"]["number"] == "вх-2026/501"
    assert card["applicant"]["name"] == "Бумажная Анна Петровна"
    assert [f["name"] for f in card["files"]] == ["скан письма.pdf"]
    appeal = db.session.get(Appeal, card["id"])
    assert appeal.author_id is None and appeal.caller_email == "anna.paper@example.org"
    assert not appeal.auto_routed  # addressed to the organization, not routed by a rule
    # Moderation and the ЦУР pass it on; it arrives «Из СЭД», not «после модерации».
    s.accept_appeal(appeal, w.moderator)
    s.confirm_addressee(appeal, w.cur_coordinator)
    db.session.commit()
    assert appeal.arrival == Arrival.FROM_SED and appeal.holder_organization_id == w.city_admin.id
    listed = client.get(
        "/api/v1/org/inbox", query_string={"stage": "from_sed"}, headers=headers(w.token)
    )
    assert [i["id"] for i in listed.get_json()["items"]] == [appeal.id]
    login_as(client, w.coordinator)
    html = client.get("/backoffice/appeals/?stage=from_sed").get_data(as_text=True)
    assert _numbers(html) == {appeal.id}
    assert re.search(r'<option value="from_sed" selected>Из СЭД \(1\)</option>', html)
    # In the СЭД folder as soon as the city holds it.
    assert _numbers(client.get("/backoffice/appeals/?bucket=sed_in_work").get_data(True)) == {
        appeal.id
    }


@pytest.mark.parametrize(
    ("changes", "status", "field"),
    [
        ({"applicant_email": None}, 422, "caller_phone"),  # no contact to send the answer to
        ({"applicant_phone": "звоните"}, 422, "caller_phone"),
        ({"applicant_name": " "}, 422, "caller_name"),
        ({"text": "Коротко"}, 422, "text"),
        ({"territory_id": "999999"}, 422, "territory_id"),
        ({"sed_date": (TODAY + timedelta(days=3)).isoformat()}, 422, "sed_date"),
        ({"sed_number": ""}, 422, "sed_number"),
        ({"files": [(io.BytesIO(b"just text, not a scan"), "scan.pdf")]}, 422, "files"),
        ({"files": [pdf(f"{n}.pdf") for n in range(6)]}, 422, "files"),
        ({"latitude": "91", "longitude": "10"}, 422, "latitude"),
        ({"unknown": "1"}, 422, "unknown"),
    ],
)
def test_a_bad_letter_is_refused_by_the_field_and_saves_nothing(
    client, sed, changes, status, field
):
    w = sed
    before = (_count(Appeal), _count(Attachment))
    response = post(client, "/api/v1/org/messages", w.token, data=_letter(w, **changes))
    assert response.status_code == status, response.get_json()
    assert field in check_problem(response)["errors"]
    db.session.expire_all()
    assert (_count(Appeal), _count(Attachment)) == before


def test_the_same_letter_twice_is_a_conflict(client, sed):
    w = sed
    first = post(client, "/api/v1/org/messages", w.token, data=_letter(w))
    assert first.status_code == 201
    again = post(client, "/api/v1/org/messages", w.token, data=_letter(w))
    assert again.status_code == 409
    assert f"№ {first.get_json()['number']}" in check_problem(again)["detail"]
    assert _count(Appeal) == 1


def test_a_letter_is_sent_as_multipart_only(client, sed):
    w = sed
    response = post(client, "/api/v1/org/messages", w.token, json={"sed_number": "1"})
    assert response.status_code == 415
    assert "multipart/form-data" in check_problem(response)["detail"]


# --- statuses and answers ----------------------------------------------------------------------


def test_take_postpone_resume_answer_go_through_the_workflow(client, sed):
    w = sed
    appeal = to_assignment(w)
    db.session.commit()
    taken = post(client, _url(appeal, "/assign"), w.token, json={"state": "assignment"})
    assert taken.status_code == 200
    card = taken.get_json()
    assert card["state"] == "in_work" and card["executor"]["id"] == w.key.user_id
    assert {a["action"] for a in card["actions"]} >= {"postpone", "submit_draft"}
    until = (utcnow() + timedelta(days=15)).date().isoformat()
    postponed = post(
        client,
        _url(appeal, "/postpone"),
        w.token,
        json={"until": until, "reason": "Ждём подрядчика"},
    )
    assert postponed.status_code == 200
    card = postponed.get_json()
    assert card["state"] == "postponed" and card["postponement_reason"] == "Ждём подрядчика"
    resumed = post(client, _url(appeal, "/resume"), w.token, json={"comment": "Подрядчик вышел"})
    assert resumed.get_json()["state"] == "in_work"
    answered = post(
        client,
        _url(appeal, "/answer"),
        w.token,
        data={"text": "Яму заделали 3 июня.", "files": [pdf("акт.pdf")], "state": "in_work"},
    )
    assert answered.status_code == 200, answered.get_json()
    card = answered.get_json()
    assert card["state"] == "approval"  # to the head, as from the staff card
    assert card["answers"][0]["status"] == "submitted"
    assert [f["name"] for f in card["answers"][0]["files"]] == ["акт.pdf"]
    # Approving is the head's, never the key's; as the staff card, the key's coordinator role
    # may only hand the message to another executor (a leaving one's, with the head).
    assert [a["action"] for a in card["actions"]] == ["reassign"]
    # The answer's file is downloadable with the key.
    file = client.get(card["answers"][0]["files"][0]["url"], headers=headers(w.token))
    assert file.status_code == 200 and file.get_data() == PDF
    actions = [e["action"] for e in card["history"]]
    assert actions[-4:] == ["assign", "postpone", "resume", "submit_draft"]
    # The resident heard about the postponement (as from the staff card).
    assert any("отложено" in n.subject for n in _notices(w.resident))


def _notices(user):
    from participation.core.outbox import OutboxMessage

    return db.session.scalars(sa.select(OutboxMessage).where(OutboxMessage.user_id == user.id))


@pytest.mark.parametrize(
    ("tail", "body", "state_label"),
    [
        ("/answer", {"text": "Ответ"}, "Назначение исполнителя"),
        ("/postpone", {"until": "2030-01-01", "reason": "Нет"}, "Назначение исполнителя"),
        ("/resume", {}, "Назначение исполнителя"),
        ("/reassign", {"executor_id": 1}, "Назначение исполнителя"),
    ],
)
def test_a_transition_the_state_does_not_allow_is_409_naming_the_state(
    client, sed, tail, body, state_label
):
    w = sed
    appeal = to_assignment(w)
    db.session.commit()
    before = _count(AppealEvent)
    if tail == "/answer":
        response = post(client, _url(appeal, tail), w.token, data=body)
    else:
        response = post(client, _url(appeal, tail), w.token, json=body)
    assert response.status_code == 409
    detail = check_problem(response)["detail"]
    assert f"«{state_label}» (assignment)" in detail
    db.session.expire_all()
    assert db.session.get(Appeal, appeal.id).state == AppealState.ASSIGNMENT
    assert _count(AppealEvent) == before


def test_a_stale_state_is_409_and_nothing_moves(client, sed):
    w = sed
    appeal = to_assignment(w)
    s.assign_executor(appeal, w.coordinator, w.executor.id)
    db.session.commit()
    response = post(client, _url(appeal, "/assign"), w.token, json={"state": "assignment"})
    assert response.status_code == 409
    assert "«В работе» (in_work)" in check_problem(response)["detail"]


def test_another_executors_message_is_403_and_the_head_approval_stays_a_person(client, sed):
    w = sed
    appeal = to_assignment(w)
    s.assign_executor(appeal, w.coordinator, w.executor.id)
    db.session.commit()
    response = post(client, _url(appeal, "/answer"), w.token, data={"text": "Ответ за другого"})
    assert response.status_code == 403
    assert "Исполнителев" in check_problem(response)["detail"]
    assert _count(AppealAnswer) == 0
    # There is no way to approve through the API at all.
    path = _url(appeal, "/approve")
    assert post(client, path, w.token, json={}).status_code in (404, 405)


def test_a_message_that_left_the_organization_cannot_be_acted_on(client, sed):
    w = sed
    appeal = to_assignment(w)
    s.redirect_appeal(appeal, w.coordinator, w.town_admin.id, "Это территория соседей")
    db.session.commit()
    response = post(client, _url(appeal, "/assign"), w.token, json={})
    assert response.status_code == 403
    assert "Администрация г. Соседнего" in check_problem(response)["detail"]


@pytest.mark.parametrize(
    ("files", "status"),
    [
        ([(io.BytesIO(b"MZ\x90\x00 not a document"), "answer.pdf")], 422),
        ([(io.BytesIO(b""), "empty.pdf")], 422),
        ([pdf(f"{n}.pdf") for n in range(6)], 422),
        ([(io.BytesIO(PDF + b"0" * (1024 * 1024 + 10)), "big.pdf")], 422),
        ([(io.BytesIO(b"%PDF" + b"0" * (3 * 1024 * 1024)), "huge.pdf")], 413),
    ],
)
def test_bad_answer_files_are_refused_and_nothing_is_saved(client, sed, files, status):
    w = sed
    appeal = to_assignment(w)
    s.assign_executor(appeal, w.coordinator, w.key.user_id)
    db.session.commit()
    before = (_count(AppealAnswer), _count(Attachment), _count(AppealEvent))
    response = post(
        client, _url(appeal, "/answer"), w.token, data={"text": "Ответ", "files": files}
    )
    assert response.status_code == status
    body = check_problem(response)
    if status == 422:
        assert "files" in body["errors"]
    db.session.expire_all()
    assert (_count(AppealAnswer), _count(Attachment), _count(AppealEvent)) == before
    assert db.session.get(Appeal, appeal.id).state == AppealState.IN_WORK


def test_an_answer_is_multipart_and_needs_text(client, sed):
    w = sed
    appeal = to_assignment(w)
    s.assign_executor(appeal, w.coordinator, w.key.user_id)
    db.session.commit()
    as_json = post(client, _url(appeal, "/answer"), w.token, json={"text": "Ответ"})
    assert as_json.status_code == 415
    empty = post(client, _url(appeal, "/answer"), w.token, data={"text": "   "})
    assert empty.status_code == 422 and "text" in check_problem(empty)["errors"]
    assert _count(AppealAnswer) == 0


def test_a_retried_answer_is_sent_once(client, sed):
    w = sed
    appeal = to_assignment(w)
    s.assign_executor(appeal, w.coordinator, w.key.user_id)
    db.session.commit()
    key = "answer-retry-0001"
    first = post(
        client, _url(appeal, "/answer"), w.token, data={"text": "Ответ", "files": [pdf()]}, key=key
    )
    again = post(
        client, _url(appeal, "/answer"), w.token, data={"text": "Ответ", "files": [pdf()]}, key=key
    )
    assert first.status_code == again.status_code == 200
    assert again.headers["Idempotent-Replayed"] == "true"
    assert _count(AppealAnswer) == 1 and _count(Attachment) == 1


def test_executors_list_names_who_may_be_assigned(client, sed):
    w = sed
    response = client.get("/api/v1/org/executors", headers=headers(w.read_token))
    names = {e["name"] for e in response.get_json()["executors"]}
    assert {w.executor.full_name, w.executor2.full_name} <= names
    appeal = to_assignment(w)
    db.session.commit()
    given = post(client, _url(appeal, "/assign"), w.token, json={"executor_id": w.executor2.id})
    assert given.get_json()["executor"]["name"] == w.executor2.full_name
    wrong = to_assignment(w)
    db.session.commit()
    refused = post(client, _url(wrong, "/assign"), w.token, json={"executor_id": w.head.id})
    assert refused.status_code == 422 and "executor_id" in check_problem(refused)["errors"]


def test_the_ui_head_approves_what_the_api_sent(client, sed):
    """The answer sent through the API waits in the head's «На согласовании» like any other."""
    w = sed
    appeal = to_assignment(w)
    db.session.commit()
    post(client, _url(appeal, "/assign"), w.token, json={})
    post(client, _url(appeal, "/answer"), w.token, data={"text": "Скамейку починили."})
    login_as(client, w.head)
    html = client.get("/backoffice/appeals/").get_data(as_text=True)
    assert appeal.id in _numbers(html)
    token = csrf_token(client, f"/backoffice/appeals/{appeal.id}")
    done = client.post(
        f"/backoffice/appeals/{appeal.id}/approve",
        data={"csrf_token": token, "approve-state": "approval"},
    )
    assert done.status_code == 302
    db.session.expire_all()
    assert db.session.get(Appeal, appeal.id).state == AppealState.ANSWERED
    # …and the СЭД sees its answer went out.
    card = client.get(_url(appeal), headers=headers(w.token)).get_json()
    assert card["state"] == "answered" and card["answers"][0]["status"] == "approved"


# --- submissions on the operator channel stay the operator's ----------------------------------


def test_only_an_operator_names_an_addressee(sed):
    w = sed
    with pytest.raises(DomainError, match="только оператор"):
        submit(w, addressee=w.city_admin)


def test_registration_of_a_message_now_with_another_organization_is_403(client, sed):
    w = sed
    appeal = to_assignment(w)
    s.redirect_appeal(appeal, w.coordinator, w.town_admin.id, "Это территория соседей")
    db.session.commit()
    body = {"number": "9", "date": TODAY.isoformat()}
    response = post(client, _url(appeal, "/sed-registration"), w.token, json=body)
    assert response.status_code == 403
    assert "Администрация г. Соседнего" in check_problem(response)["detail"]
    db.session.expire_all()
    assert db.session.get(Appeal, appeal.id).sed_number is None


def test_files_are_downloaded_with_the_key_only_through_their_message(client, sed):
    w = sed
    filed = post(client, "/api/v1/org/messages", w.token, data=_letter(w)).get_json()
    other = to_assignment(w)
    db.session.commit()
    [scan] = filed["files"]
    got = client.get(scan["url"], headers=headers(w.read_token))
    assert got.status_code == 200 and got.get_data() == PDF
    assert got.mimetype == "application/pdf"
    # The same file through another message's URL, an unknown file, no key: refused.
    foreign = client.get(_url(other, f"/files/{scan['id']}"), headers=headers(w.token))
    assert foreign.status_code == 404
    unknown = client.get(
        _url(other, "/files/00000000-0000-0000-0000-000000000000"), headers=headers(w.token)
    )
    assert unknown.status_code == 404
    assert client.get(scan["url"]).status_code == 401
    assert client.get(scan["url"], headers=headers(w.town_token)).status_code == 404


@pytest.mark.committed
def test_the_same_letter_sent_twice_at_once_makes_one_message(app, sed):
    import threading

    from tests.api.openapi_check import ValidatingClient

    w = sed
    token = w.token
    letter_ids = {"benches": w.benches.id, "city": w.city.id}
    db.session.commit()
    db.session.remove()  # hold no transaction (SQLite: no write lock) while the threads run
    barrier = threading.Barrier(2)
    statuses, errors = [], []

    def send():
        client = ValidatingClient(app, app.response_class)
        data = {
            "sed_number": "вх-одновременно",
            "sed_date": TODAY.isoformat(),
            "applicant_name": "Одновременная Ольга",
            "applicant_phone": "+7 900 000-00-00",
            "subcategory_id": str(letter_ids["benches"]),
            "territory_id": str(letter_ids["city"]),
            "text": "Прошу починить скамейку у подъезда дома 3 по улице Садовой.",
            "address": "ул. Садовая, 3",
        }
        try:
            barrier.wait()
            statuses.append(post(client, "/api/v1/org/messages", token, data=data).status_code)
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=send) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors, errors
    assert sorted(statuses) == [201, 409]
    assert _count(Appeal) == 1
