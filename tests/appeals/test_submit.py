"""Submission: the form, idempotency, bad input (nothing half-saved), channels, eligibility."""

import io
import re
import threading
import uuid

import pytest
import sqlalchemy as sa

from participation.appeals.models import Appeal, AppealEvent, Channel
from participation.appeals.services import Caller, submit_appeal
from participation.core.errors import DomainError, FieldError
from participation.core.files import Attachment
from participation.core.outbox import OutboxMessage
from participation.core.users import AccountLevel
from participation.extensions import db
from tests import factories as f
from tests.appeals.conftest import new_key, submit
from tests.helpers import csrf_token, login_as

PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00"
    b"\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\xff\xff?\x03\x00\x08\xfc\x02\xfe\xa7\x9a\xa0"
    b"\xa0\x00\x00\x00\x00IEND\xaeB`\x82"
)
TEXT = "Во дворе дома 3 по улице Садовой сломана скамейка, торчат гвозди, дети могут пораниться."


def _count(model):
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def _form(client, w, **overrides):
    page = client.get("/appeals/new").get_data(as_text=True)
    data = {
        "csrf_token": csrf_token(client, "/appeals/new"),
        "submission_key": re.search(r'name="submission_key" type="hidden" value="([^"]+)"', page)[
            1
        ],
        "text": TEXT,
        "subcategory_id": str(w.benches.id),
        "territory_id": str(w.city.id),
        "address": "ул. Садовая, д. 3",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def test_form_page_lists_topics_by_category_and_defaults_to_home_territory(client, world):
    login_as(client, world.resident)
    html = client.get("/appeals/new").get_data(as_text=True)
    assert '<optgroup label="Дороги (тест)">' in html
    assert "Ямы и выбоины (тест)" in html
    assert "Снятая с учёта тема (тест)" not in html  # inactive topics are not offered
    assert re.search(
        rf'<option selected value="{world.city.id}">|<option value="{world.city.id}" selected', html
    )
    assert "Одно сообщение — одна проблема" in html


def test_submission_shows_number_and_due_date_at_once(client, world):
    login_as(client, world.resident)
    response = client.post("/appeals/new", data=_form(client, world), follow_redirects=True)
    html = response.get_data(as_text=True)
    appeal = db.session.scalars(sa.select(Appeal)).one()
    assert f"зарегистрировано под номером {appeal.number}" in html
    due = appeal.answer_due_at.astimezone(world.city.tz).strftime("%d.%m.%Y")
    assert f"Срок ответа — до {due}" in html
    assert (
        appeal.channel == Channel.PORTAL and appeal.executor_organization_id == world.town_admin.id
    )


def test_double_submitted_form_creates_one_message(client, world):
    login_as(client, world.resident)
    data = _form(client, world)
    first = client.post("/appeals/new", data=data)
    second = client.post("/appeals/new", data=data)
    assert first.status_code == second.status_code == 302
    assert first.headers["Location"] == second.headers["Location"]
    assert _count(Appeal) == 1
    assert _count(AppealEvent) == 1


def test_a_resent_form_with_photos_stores_them_once(client, world):
    """The copy is stopped by the unique key before any file is written."""
    login_as(client, world.resident)
    data = _form(client, world)
    responses = [
        client.post(
            "/appeals/new",
            data={**data, "attachments": [(io.BytesIO(PNG), "яма.png")]},
            content_type="multipart/form-data",
        )
        for _ in range(2)
    ]
    assert [r.status_code for r in responses] == [302, 302]
    assert responses[0].headers["Location"] == responses[1].headers["Location"]
    assert _count(Appeal) == 1 and _count(Attachment) == 1


def test_same_key_from_another_person_is_another_message(world):
    key = new_key()
    a = submit(world, submission_key=key)
    b = submit(world, author=world.other_resident, submission_key=key)
    assert a.id != b.id


@pytest.mark.committed
def test_concurrent_double_submit_creates_one_message(app):
    """Two requests with the same key at the same moment: the database keeps one."""
    from participation.appeals.classifier import Category
    from participation.appeals.routing import add_routing_rule
    from participation.core.organizations import OrganizationKind as K
    from participation.core.territories import TerritoryLevel as L
    from tests.appeals.conftest import _subcategory

    # tests/conftest.py leaves an invalid join_transaction_mode behind after rolled-back
    # tests ("conservative_savepoint"); start this committed test from a clean session.
    db.session.remove()
    db.session.configure(bind=None, join_transaction_mode="conditional_savepoint")
    country = f.territory(L.COUNTRY)
    region = f.territory(L.REGION, parent=country)
    city = f.territory(L.URBAN_OKRUG, parent=region)
    f.organization(K.OPERATOR, country)
    admin = f.organization(K.MUNICIPAL, city)
    resident = f.user(registration_territory=city)
    category = Category(code=f"c{uuid.uuid4().hex[:8]}", name="Тест", position=1)
    db.session.add(category)
    db.session.flush()
    topic = _subcategory(category, "Тема")
    add_routing_rule(topic.id, city, admin)
    ids = (resident.id, topic.id, city.id)
    db.session.commit()
    db.session.remove()  # hold no transaction (SQLite: no write lock) while the threads run
    key = new_key()
    barrier = threading.Barrier(2)
    results, errors = [], []

    def send():
        with app.app_context():
            try:
                from participation.core.users import User

                barrier.wait()
                user = db.session.get(User, ids[0])
                submission = submit_appeal(
                    submitted_by=user,
                    submission_key=key,
                    subcategory_id=ids[1],
                    text="Сломана скамейка во дворе, нужно починить.",
                    territory_id=ids[2],
                    address="ул. Садовая, 3",
                    suggested_subcategory_id=ids[1],
                )
                db.session.commit()
                results.append((submission.appeal.id, submission.created))
            except Exception as exc:  # pragma: no cover - reported below
                errors.append(exc)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=send) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert not errors, errors
    assert len({appeal_id for appeal_id, _ in results}) == 1
    assert sorted(created for _, created in results) == [False, True]
    assert _count(Appeal) == 1


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"text": ""}, "text", "Опишите проблему"),
        ({"text": "   "}, "text", "Опишите проблему"),
        ({"text": "Яма"}, "text", "слишком короткий"),
        ({"text": "я" * 2001}, "text", "не больше 2000 символов, сейчас 2001"),
        ({"subcategory_id": ""}, "subcategory_id", "Выберите тему"),
        ({"subcategory_id": "abc"}, "subcategory_id", "Выберите тему"),
        ({"subcategory_id": "999999"}, "subcategory_id", "здесь не принимается"),
        ({"territory_id": ""}, "territory_id", "муниципальное образование"),
        ({"address": "", "latitude": "", "longitude": ""}, "address", "адрес проблемы или точку"),
        ({"address": "а" * 501}, "address", "не длиннее 500"),
        ({"latitude": "54,7", "longitude": ""}, "longitude", "и широту, и долготу"),
        ({"latitude": "сто", "longitude": "55"}, "latitude", "Введите число"),
        ({"latitude": "95", "longitude": "55"}, "latitude", "от −90 до 90"),
        # PostgreSQL cannot store NUL nor compare an integer key with 2**31: no 500, a message
        ({"text": TEXT[:20] + "\x00" + TEXT[20:]}, "text", "Текст содержит недопустимый символ"),
        ({"address": "ул. Садовая\x00"}, "address", "Текст содержит недопустимый символ"),
        ({"subcategory_id": "99999999999"}, "subcategory_id", "Выберите значение из списка"),
        ({"subcategory_id": str(2**31)}, "subcategory_id", "Выберите значение из списка"),
        ({"territory_id": str(10**20)}, "territory_id", "Выберите значение из списка"),
        ({"territory_id": str(-(2**31) - 1)}, "territory_id", "Выберите значение из списка"),
    ],
)
def test_bad_input_is_explained_next_to_the_field_and_nothing_is_saved(
    client, world, overrides, field, message
):
    login_as(client, world.resident)
    response = client.post("/appeals/new", data=_form(client, world, **overrides))
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    error = re.search(rf'id="{field}-error">([^<]*)<', html)
    assert error and message in error[1], html[html.find("error-summary") :][:500]
    assert _count(Appeal) == 0 and _count(AppealEvent) == 0 and _count(OutboxMessage) == 0


def test_topic_not_offered_in_this_territory_or_inactive_is_refused(client, world):
    login_as(client, world.resident)
    response = client.post(
        "/appeals/new", data=_form(client, world, subcategory_id=str(world.retired.id))
    )
    assert response.status_code == 400 and "здесь не принимается" in response.get_data(as_text=True)
    territory_is_a_region = _form(client, world, territory_id=str(world.region.id))
    response = client.post("/appeals/new", data=territory_is_a_region)
    assert response.status_code == 400
    assert _count(Appeal) == 0


def test_attachments_are_stored_and_checked(client, world):
    login_as(client, world.resident)
    data = _form(client, world)
    data["attachments"] = [(io.BytesIO(PNG), "яма.png"), (io.BytesIO(PNG), "ещё.png")]
    response = client.post("/appeals/new", data=data, content_type="multipart/form-data")
    assert response.status_code == 302
    appeal = db.session.scalars(sa.select(Appeal)).one()
    files = db.session.scalars(
        sa.select(Attachment).where(Attachment.attached_to_id == str(appeal.id))
    ).all()
    assert sorted(a.original_name for a in files) == ["ещё.png", "яма.png"]
    html = client.get(f"/my/appeals/{appeal.id}").get_data(as_text=True)
    assert f"/files/{files[0].public_id}" in html
    assert client.get(f"/files/{files[0].public_id}").status_code == 200


@pytest.mark.parametrize(
    ("files", "message"),
    [
        ([(b"<html><script>alert(1)</script></html>", "scan.pdf")], "не является фотографией"),
        ([(b"just text", "photo.jpg")], "не является фотографией"),
        ([(b"\x89PNG" + b"0" * (1024 * 1024 + 10), "big.png")], "больше 1 МБ"),
        ([(PNG, f"{i}.png") for i in range(6)], "не больше 5 файлов"),
    ],
)
def test_bad_attachments_leave_nothing_behind(client, world, files, message):
    login_as(client, world.resident)
    data = _form(client, world)
    data["attachments"] = [(io.BytesIO(content), name) for content, name in files]
    response = client.post("/appeals/new", data=data, content_type="multipart/form-data")
    html = response.get_data(as_text=True)
    assert response.status_code in (400, 413)
    if response.status_code == 400:
        assert message in html
    assert _count(Appeal) == 0
    # Only the acceptable files are kept, as the resident's staged uploads (listed again).
    kept = db.session.scalars(sa.select(Attachment)).all()
    assert all(a.attached_to_type == "staged" for a in kept)
    assert len(kept) <= 5 and all(a.original_name in html for a in kept)


def test_minimum_account_level_is_configurable(app, client, world):
    simplified = f.user(AccountLevel.SIMPLIFIED, registration_territory=world.city)
    login_as(client, simplified)
    assert client.get("/appeals/new").status_code == 200
    app.config["APPEALS_MIN_ACCOUNT_LEVEL"] = "confirmed"
    try:
        response = client.get("/appeals/new")
        assert response.status_code == 403
        assert "нужна подтверждённая" in response.get_data(as_text=True)
        with pytest.raises(DomainError):
            submit(world, author=simplified)
    finally:
        app.config.pop("APPEALS_MIN_ACCOUNT_LEVEL")


def test_anonymous_visitor_is_sent_to_login(client, world):
    response = client.get("/appeals/new")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_widget_narrows_topics_and_records_the_owner(client, world):
    login_as(client, world.resident)
    code = world.town_admin.widget_code
    html = client.get(f"/appeals/new?widget={code}").get_data(as_text=True)
    assert "Скамейки (тест)" in html and "Ямы и выбоины (тест)" not in html
    assert "Администрация г. Соседнего" in html
    data = _form(client, world)
    response = client.post(f"/appeals/new?widget={code}", data=data)
    assert response.status_code == 302
    appeal = db.session.scalars(sa.select(Appeal)).one()
    assert appeal.channel == Channel.WIDGET and appeal.widget_organization_id == world.town_admin.id
    # A topic outside the organization's list is refused even if posted by hand.
    data = _form(client, world, subcategory_id=str(world.potholes.id))
    response = client.post(f"/appeals/new?widget={code}", data=data)
    assert response.status_code == 400
    assert client.get("/appeals/new?widget=nonsense").status_code == 404


def test_widget_without_a_rule_routes_to_its_owner(world):
    appeal = submit(
        world,
        channel=Channel.WIDGET,
        widget_organization_id=world.school.id,
        subcategory_id=world.marking.id,
        suggested_subcategory_id=world.marking.id,
    )
    assert appeal.executor_organization_id == world.school.id and not appeal.auto_routed


def test_operator_enters_a_message_for_a_caller(client, world):
    login_as(client, world.cur_operator)
    page = client.get("/backoffice/appeals/new").get_data(as_text=True)
    key = re.search(r'name="submission_key" type="hidden" value="([^"]+)"', page)[1]
    data = {
        "csrf_token": csrf_token(client, "/backoffice/appeals/new"),
        "submission_key": key,
        "caller_name": "Петров Иван",
        "caller_phone": "",
        "caller_email": "",
        "text": TEXT,
        "subcategory_id": str(world.benches.id),
        "territory_id": str(world.city.id),
        "address": "ул. Садовая, 3",
    }
    response = client.post("/backoffice/appeals/new", data=data)
    assert response.status_code == 400 and "телефон или электронную почту" in response.get_data(
        as_text=True
    )
    data["caller_phone"] = "+7 (347) 122-00-00"
    data["caller_email"] = "caller@example.org"
    response = client.post("/backoffice/appeals/new", data=data)
    assert response.status_code == 302
    appeal = db.session.scalars(sa.select(Appeal)).one()
    assert appeal.channel == Channel.OPERATOR and appeal.author_id is None
    assert appeal.submitted_by_id == world.cur_operator.id
    assert appeal.caller_name == "Петров Иван"
    # The operator can open what they entered; a resident cannot enter as an operator.
    assert client.get(f"/backoffice/appeals/{appeal.id}").status_code == 200
    with pytest.raises(DomainError):
        submit(world, channel=Channel.OPERATOR, caller=Caller("Кто-то", "123456"))


def test_suggest_button_preselects_a_topic_and_shows_confidence(client, world):
    login_as(client, world.resident)
    data = _form(client, world, subcategory_id="", suggest="1")
    data["text"] = "На дороге огромная яма, пробил колесо, прошу заделать выбоину."
    response = client.post("/appeals/new", data=data)
    html = response.get_data(as_text=True)
    assert "Похоже, это:" in html and "уверенность" in html
    assert re.search(rf'<option selected value="{world.potholes.id}">', html)
    assert _count(Appeal) == 0


def test_suggestion_is_kept_for_learning(world):
    appeal = submit(world, suggested_subcategory_id=None, suggestion_confidence=None)
    assert appeal.suggested_subcategory_id == world.potholes.id
    assert 0 < appeal.suggestion_confidence <= 1


def test_submission_key_must_look_like_one(world):
    with pytest.raises(FieldError):
        submit(world, submission_key="x")


# --- files sent with a refused form: kept for the resident, nothing stray left on disk ----------


def _storage(app) -> set:
    from pathlib import Path

    return {p for p in Path(app.config["STORAGE_DIR"]).rglob("*") if p.is_file()}


def _staged_ids(html: str) -> list[str]:
    return re.findall(r'name="staged_files" value="([^"]+)"', html)


def test_a_refused_file_leaves_no_stray_file_on_disk(app, client, world):
    login_as(client, world.resident)
    before = _storage(app)
    data = _form(client, world)
    data["attachments"] = [(io.BytesIO(PNG), "яма.png"), (io.BytesIO(b"MZ\x90\x00" * 50), "x.jpg")]
    response = client.post("/appeals/new", data=data, content_type="multipart/form-data")
    assert response.status_code == 400
    assert "не является фотографией" in response.get_data(as_text=True)
    assert _count(Appeal) == 0
    keys = set(db.session.scalars(sa.select(Attachment.storage_key)))
    root = app.config["STORAGE_DIR"]
    new_files = {p.relative_to(root).as_posix() for p in _storage(app) - before}
    assert new_files <= keys  # every file written has its row (the kept photo), no orphan
    assert len(new_files) == 1


def test_photos_are_kept_after_a_validation_error(client, world):
    login_as(client, world.resident)
    data = _form(client, world, text="")
    data["attachments"] = [(io.BytesIO(PNG), "яма.png")]
    response = client.post("/appeals/new", data=data, content_type="multipart/form-data")
    html = response.get_data(as_text=True)
    assert response.status_code == 400 and "Опишите проблему" in html
    assert "яма.png" in html and "убрать" in html
    staged = _staged_ids(html)
    assert len(staged) == 1
    assert f"/files/{staged[0]}/thumbnail" in html

    fixed = {
        **_form(client, world),
        "submission_key": data["submission_key"],
        "staged_files": staged,
    }
    response = client.post("/appeals/new", data=fixed)
    assert response.status_code == 302
    appeal = db.session.scalars(sa.select(Appeal)).one()
    files = db.session.scalars(sa.select(Attachment)).all()
    assert [(a.original_name, a.attached_to_type, a.attached_to_id) for a in files] == [
        ("яма.png", "appeal", str(appeal.id))
    ]


def test_a_kept_photo_can_be_removed(client, world):
    login_as(client, world.resident)
    data = _form(client, world, text="")
    data["attachments"] = [(io.BytesIO(PNG), "яма.png")]
    html = client.post("/appeals/new", data=data, content_type="multipart/form-data").get_data(
        as_text=True
    )
    staged = _staged_ids(html)
    fixed = {**_form(client, world), "staged_files": staged, "remove_staged": staged}
    assert client.post("/appeals/new", data=fixed).status_code == 302
    appeal = db.session.scalars(sa.select(Appeal)).one()
    assert not db.session.scalars(
        sa.select(Attachment).where(Attachment.attached_to_id == str(appeal.id))
    ).all()


def test_nobody_claims_another_residents_kept_photo(client, world):
    login_as(client, world.other_resident)
    data = _form(client, world, text="")
    data["attachments"] = [(io.BytesIO(PNG), "чужое.png")]
    html = client.post("/appeals/new", data=data, content_type="multipart/form-data").get_data(
        as_text=True
    )
    theirs = _staged_ids(html)
    login_as(client, world.resident)
    response = client.post("/appeals/new", data={**_form(client, world), "staged_files": theirs})
    assert response.status_code == 302
    photo = db.session.scalars(sa.select(Attachment)).one()
    assert photo.attached_to_type == "staged" and photo.uploaded_by_id == world.other_resident.id
    assert "чужое.png" not in client.get(response.headers["Location"]).get_data(as_text=True)


def test_photos_show_as_thumbnails_to_those_who_may_see_them(client, world):
    from tests.core.test_files import _photo

    login_as(client, world.resident)
    data = _form(client, world)
    data["attachments"] = [(io.BytesIO(_photo((1200, 900))), "яма.jpg")]
    response = client.post("/appeals/new", data=data, content_type="multipart/form-data")
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    photo = db.session.scalars(sa.select(Attachment)).one()
    thumb = f"/files/{photo.public_id}/thumbnail"
    assert f'src="{thumb}"' in html and "Фото «яма.jpg»" in html
    assert client.get(thumb).status_code == 200
    login_as(client, world.other_resident)
    assert client.get(thumb).status_code == 404
