"""Resident API: sending a message with photos (multipart), the form's checks, idempotency."""

from __future__ import annotations

import io
import threading
import time
from pathlib import Path

import pytest
import sqlalchemy as sa

from participation.api.models import IdempotentRequest
from participation.appeals.models import Appeal, Channel
from participation.core.files import Attachment
from participation.core.outbox import OutboxMessage
from participation.core.users import AccountLevel
from participation.extensions import db
from tests import factories as f
from tests.api.openapi_check import check_problem
from tests.api.resident_support import Tokens, jpeg, pdf, posting
from tests.appeals.conftest import world  # noqa: F401  (the region, its staff and topics)

TEXT = "Большая яма на дороге у дома 5 по улице Ленина, машины объезжают по встречке."


@pytest.fixture
def mint(db_session):
    return Tokens()


@pytest.fixture
def token(mint, world):  # noqa: F811
    return mint(world.resident)


def form(w, **overrides):
    data = {
        "subcategory_id": str(w.potholes.id),
        "text": TEXT,
        "territory_id": str(w.city.id),
        "address": "г. Тестовск, ул. Ленина, д. 5",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def post(client, token, data, key=None):
    return client.post(
        "/api/v1/my/appeals",
        data=data,
        headers=posting(token, key),
        content_type="multipart/form-data",
    )


def count(model) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def stored_files(app) -> list[Path]:
    return [p for p in Path(app.config["STORAGE_DIR"]).rglob("*") if p.is_file()]


def test_message_with_photos_is_registered_on_the_api_channel(client, world, token):  # noqa: F811
    w = world
    data = form(
        w,
        latitude="54,7388",
        longitude="55.9721",
        attachments=[(io.BytesIO(jpeg()), "яма.jpg"), (io.BytesIO(pdf()), "акт.pdf")],
    )
    response = post(client, token, data)
    assert response.status_code == 201, response.get_json()
    card = response.get_json()
    assert response.headers["Location"] == f"/api/v1/my/appeals/{card['id']}"
    assert card["status"] == {"code": "moderation", "label": "Проверяется модератором"}
    assert card["channel"] == {"code": "api", "label": "Мобильное приложение"}
    # The same routing and deadline as the form: potholes are fast-track, 10 days.
    assert card["organization"]["name"] == w.city_admin.name
    assert card["fast_track"] and card["deadline"]["term_days"] == 10
    assert (
        card["deadline"]["countdown"].startswith("9 дней")
        or "10 дней" in (card["deadline"]["countdown"])
    )
    assert (card["latitude"], card["longitude"]) == (54.7388, 55.9721)
    assert [(x["name"], x["content_type"]) for x in card["files"]] == [
        ("яма.jpg", "image/jpeg"),
        ("акт.pdf", "application/pdf"),
    ]
    assert [h["action"] for h in card["history"]] == ["submit"]
    appeal = db.session.get(Appeal, card["id"])
    assert appeal.channel == Channel.API and appeal.author_id == w.resident.id
    assert appeal.suggested_subcategory_id is not None  # the suggester ran, as for the form
    # The resident's own file downloads with the same token.
    photo = client.get(card["files"][0]["url"], headers={"Authorization": f"Bearer {token}"})
    assert photo.status_code == 200 and photo.mimetype == "image/jpeg"
    # The registration notice, as for the form.
    notice = db.session.scalars(
        sa.select(OutboxMessage).where(OutboxMessage.user_id == w.resident.id)
    ).first()
    assert f"№ {appeal.number}" in notice.subject


def test_a_retried_submission_creates_one_message(client, world, token):  # noqa: F811
    def photo():
        return form(world, attachments=[(io.BytesIO(jpeg()), "яма.jpg")])

    first = post(client, token, photo(), key="retry-1")
    again = post(client, token, photo(), key="retry-1")
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.get_json() == first.get_json()
    assert count(Appeal) == 1 and count(Attachment) == 1
    # The same key with another body is refused.
    other = post(client, token, form(world, text=TEXT + " Ещё одна."), key="retry-1")
    assert other.status_code == 422
    assert check_problem(other)["type"].endswith("#problem-idempotency-key-reused")
    # Once the stored answer is forgotten, the form's own key still finds the message.
    db.session.execute(sa.delete(IdempotentRequest))
    db.session.commit()
    late = post(client, token, photo(), key="retry-1")
    assert late.status_code == 200 and late.get_json()["id"] == first.get_json()["id"]
    assert late.headers["Location"] == first.headers["Location"]
    assert count(Appeal) == 1 and count(Attachment) == 1


def test_submission_needs_an_idempotency_key(client, world, token):  # noqa: F811
    response = client.post(
        "/api/v1/my/appeals",
        data=form(world),
        headers={"Authorization": f"Bearer {token}"},
        content_type="multipart/form-data",
    )
    assert response.status_code == 400
    assert check_problem(response)["type"].endswith("#problem-idempotency-key-missing")
    assert count(Appeal) == 0


@pytest.mark.parametrize(
    ("overrides", "field", "words"),
    [
        ({"text": None}, "text", "Обязательное поле"),
        ({"text": "Яма"}, "text", "Текст слишком короткий"),
        ({"text": "Яма\x00 на дороге у дома пять"}, "text", "недопустимый символ"),
        ({"subcategory_id": "яма"}, "subcategory_id", "целое число"),
        ({"subcategory_id": "99999999999"}, "subcategory_id", "Номер от 1"),
        ({"territory_id": None}, "territory_id", "Обязательное поле"),
        ({"address": None}, "address", "Укажите адрес проблемы или точку на карте"),
        ({"latitude": "север"}, "latitude", "Введите число"),
        ({"latitude": "54.7"}, "longitude", "Укажите и широту, и долготу"),
        ({"latitude": "95", "longitude": "55"}, "latitude", "Широта — число от −90 до 90"),
        ({"colour": "красный"}, "colour", "Неизвестное поле"),
        ({"attachments": "не файл"}, "attachments.0", "Ожидается файл"),
    ],
)
def test_bad_fields_are_named_and_nothing_is_saved(
    client,
    world,  # noqa: F811
    token,
    overrides,
    field,
    words,
):
    response = post(client, token, form(world, **overrides))
    assert response.status_code == 422, response.get_json()
    body = check_problem(response)
    assert any(words in text for text in body["errors"][field]), body
    assert count(Appeal) == 0


def test_topics_and_territories_are_checked_by_the_service(client, world, token):  # noqa: F811
    w = world
    retired = post(client, token, form(w, subcategory_id=str(w.retired.id)))
    assert retired.status_code == 422
    assert "Эта тема здесь не принимается" in check_problem(retired)["errors"]["subcategory_id"][0]
    region = post(client, token, form(w, territory_id=str(w.region.id)))
    assert "муниципальное образование" in check_problem(region)["errors"]["territory_id"][0]
    unknown = post(client, token, form(w, subcategory_id="424242"))
    assert unknown.status_code == 422
    assert count(Appeal) == 0


def test_files_are_checked_by_content_and_size(app, client, world, token):  # noqa: F811
    before = stored_files(app)
    fake = post(client, token, form(world, attachments=[(io.BytesIO(b"just text"), "фото.jpg")]))
    assert fake.status_code == 422
    assert "не является фотографией" in check_problem(fake)["errors"]["attachments"][0]
    big = jpeg() + b"\0" * (app.config["MAX_UPLOAD_BYTES"])
    oversized = post(client, token, form(world, attachments=[(io.BytesIO(big), "большое.jpg")]))
    assert oversized.status_code == 422
    assert "больше 1 МБ" in check_problem(oversized)["errors"]["attachments"][0]
    # A good photo next to a bad one: neither is kept.
    mixed = [(io.BytesIO(jpeg()), "хорошее.jpg"), (io.BytesIO(b"%!PS"), "плохое.pdf")]
    assert post(client, token, form(world, attachments=mixed)).status_code == 422
    many = [(io.BytesIO(jpeg()), f"{n}.jpg") for n in range(6)]
    too_many = post(client, token, form(world, attachments=many))
    assert "не больше 5 файлов" in check_problem(too_many)["errors"]["attachments"][0]
    assert count(Appeal) == 0 and count(Attachment) == 0
    assert stored_files(app) == before


def test_a_request_over_the_size_limit_is_413(app, client, world, token):  # noqa: F811
    huge = b"\xff" * (app.config["MAX_CONTENT_LENGTH"] + 1)
    response = post(client, token, form(world, attachments=[(io.BytesIO(huge), "x.jpg")]))
    assert response.status_code == 413
    assert check_problem(response)["type"].endswith("#problem-payload-too-large")
    assert count(Appeal) == 0


def test_wrong_content_type_is_415(client, world, token):  # noqa: F811
    response = client.post("/api/v1/my/appeals", json=form(world), headers=posting(token))
    assert response.status_code == 415
    assert "multipart/form-data" in check_problem(response)["detail"]
    assert response.headers["Accept-Post"] == "multipart/form-data"
    assert count(Appeal) == 0


def test_an_ineligible_resident_is_told_why(app, client, world, mint):  # noqa: F811
    simple = f.user(AccountLevel.SIMPLIFIED, registration_territory=world.city)
    token = mint(simple)
    app.config["APPEALS_MIN_ACCOUNT_LEVEL"] = AccountLevel.STANDARD.value
    try:
        response = post(client, token, form(world))
    finally:
        app.config.pop("APPEALS_MIN_ACCOUNT_LEVEL")
    assert response.status_code == 403
    body = check_problem(response)
    assert body["type"].endswith("#problem-not-eligible")
    assert "упрощённая" in body["detail"] and "стандартная" in body["detail"]
    assert count(Appeal) == 0


def test_topic_suggestions(client, world, token):  # noqa: F811
    response = client.post(
        "/api/v1/topic-suggestions",
        json={"text": "Огромная яма на дороге, выбоина во всю полосу"},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 200, response.get_json()
    found = response.get_json()["suggestions"]
    assert found[0]["subcategory_id"] == world.potholes.id and found[0]["fast_track"]
    empty = client.post(
        "/api/v1/topic-suggestions", json={}, headers={"Authorization": f"Bearer {token}"}
    )
    assert check_problem(empty)["errors"] == {"text": ["Обязательное поле."]}


@pytest.mark.parametrize(
    "raw",
    [
        '{"text": "яма",',  # cut off
        '{"text": ' + "1" * 5000 + "}",  # an integer Python refuses to read
        '{"text": ' + "[" * 100_000 + "]" * 100_000 + "}",  # nesting beyond the stack
    ],
)
def test_json_that_cannot_be_read_is_400(client, token, raw):
    response = client.post(
        "/api/v1/topic-suggestions",
        data=raw,
        content_type="application/json",
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 400
    assert check_problem(response)["type"].endswith("#problem-malformed-json")


@pytest.mark.postgres
@pytest.mark.committed
def test_concurrent_retries_of_one_submission_make_one_message(app, world, mint):  # noqa: F811
    """Four copies of one submission at once (a flaky network): one message, one photo. A copy
    that arrives while the first is still running is told to retry (409, Retry-After) — on
    SQLite, which has no row lock to wait on; PostgreSQL waits for the first and replays."""
    token = mint(world.resident)
    data = form(world)
    db.session.commit()
    db.session.remove()  # hold no transaction while the threads run
    barrier = threading.Barrier(4)
    results, errors = [], []

    def send():
        try:
            barrier.wait()
            for _attempt in range(50):
                photo = [(io.BytesIO(jpeg()), "яма.jpg")]
                response = post(app.test_client(), token, {**data, "attachments": photo}, "flaky")
                if response.status_code != 409:  # 409: the first is still running; retry
                    break
                assert response.headers["Retry-After"]
                time.sleep(0.1)
            results.append((response.status_code, response.get_json()["id"]))
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=send) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, errors
    assert {status for status, _id in results} == {201}
    assert len({appeal_id for _status, appeal_id in results}) == 1
    assert count(Appeal) == 1 and count(Attachment) == 1
