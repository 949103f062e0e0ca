"""Open data: published hearings and discussions, their documents and the draft's text.

The documents are the organizer's (notice, draft, materials, public protocol, conclusion);
their links open without login. No participant, remark or address of a person is listed.
"""

from __future__ import annotations

import io
from datetime import timedelta
from urllib.parse import urlsplit

import pytest

from participation.core.db import utcnow
from participation.core.pdf import para, render_pdf
from participation.core.users import Role
from participation.hearings import services
from participation.hearings.models import HearingKind
from tests import factories
from tests.api.opendata_helpers import assert_no_personal_data, csv_rows, problem
from tests.hearings.conftest import CLOSES_ON, OPENS_ON, hearing_input, local, paragraph
from tests.hearings.conftest import make_hearing as make_hearing  # a fixture
from tests.hearings.conftest import world as world  # a fixture

IN_WINDOW = local(OPENS_ON + timedelta(days=2))
AFTER = local(CLOSES_ON + timedelta(days=2))
REMARK = "Перенести уборку снега на 7:00 утра, у дома 24 на Ленина скользко"


def _pdf(title: str) -> bytes:
    return render_pdf([para(title)], title=title, generated_at=utcnow())


@pytest.fixture
def documented(world, make_hearing):
    """A discussion with a draft PDF and a material, remarks, a protocol and a conclusion."""
    hearing = services.create_hearing(
        world.organization,
        world.organizer,
        hearing_input(world),
        draft_pdf=(io.BytesIO(_pdf("Проект правил")), "Проект правил.pdf"),
    )
    services.add_material(
        hearing, world.organizer, "Схема границ", io.BytesIO(_pdf("Схема")), "schema.pdf"
    )
    services.publish_notice(hearing, world.organizer, now=local(OPENS_ON - timedelta(days=7)))
    for user, text, number in (
        (world.resident, REMARK, "2.2"),
        (world.legal_rep, "Разрешить летние веранды кафе", "2.1"),
    ):
        remark = services.submit_remark(
            hearing,
            user,
            text=text,
            kind="proposal",
            paragraph_id=paragraph(hearing, number).id,
            client_token=None,
            now=IN_WINDOW,
        )
        services.moderate_remark(remark, world.organizer, publish=True, now=IN_WINDOW)
    services.issue_protocol(hearing, world.organizer, number="12-ОО", now=AFTER)
    for remark_number in services.remarks_without_recommendation(hearing):
        from participation.extensions import db
        from participation.hearings.models import Remark

        remark = db.session.query(Remark).filter_by(hearing_id=hearing.id, number=remark_number)
        services.set_recommendation(
            remark.one(),
            world.organizer,
            decision="accept",
            reason="Соответствует своду правил СП 42.13330, учесть в редакции.",
            now=AFTER,
        )
    services.publish_conclusion(
        hearing, world.organizer, text="Рекомендовать утвердить с учётом предложений.", now=AFTER
    )
    return hearing


def _path(url: str) -> str:
    return urlsplit(url).path


def test_the_list_holds_published_hearings_with_filters(client, world, make_hearing):
    published = make_hearing()
    make_hearing(publish=False, title="Черновик проекта")
    neighbour = factories.organization(territory_=world.sterlitamak)
    organizer = factories.staff(neighbour, Role.AUTHORIZED)
    hearing = services.create_hearing(
        neighbour,
        organizer,
        hearing_input(world, kind=HearingKind.PUBLIC_HEARING, territory_id=world.sterlitamak.id),
    )
    services.publish_notice(hearing, organizer, now=local(OPENS_ON - timedelta(days=7)))
    body = client.get("/api/v1/open/hearings").get_json()
    assert {item["id"] for item in body["items"]} == {published.id, hearing.id}
    item = next(i for i in body["items"] if i["id"] == published.id)
    assert item["kind_label"] == "Общественные обсуждения"
    assert item["remarks_first_day"] == OPENS_ON.isoformat()
    assert item["remarks_last_day"] == CLOSES_ON.isoformat()
    assert item["stage"] == "remarks_closed"
    by_city = client.get(f"/api/v1/open/hearings?municipality={world.sterlitamak.id}").get_json()
    assert [i["id"] for i in by_city["items"]] == [hearing.id]
    by_region = client.get(f"/api/v1/open/hearings?region={world.region.id}").get_json()
    assert by_region["total"] == 2
    by_stage = client.get("/api/v1/open/hearings?stage=conclusion").get_json()
    assert by_stage["items"] == []
    problem(client.get("/api/v1/open/hearings?stage=draft"), 422)
    problem(client.get(f"/api/v1/open/hearings?region={world.ufa.id}"), 422)


def test_the_documents_are_listed_in_the_order_of_the_procedure(client, documented):
    body = client.get(f"/api/v1/open/hearings/{documented.id}/documents").get_json()
    kinds = [d["kind"] for d in body["documents"]]
    assert kinds == ["notice", "draft", "material", "protocol", "conclusion"]
    docs = {d["kind"]: d for d in body["documents"]}
    assert docs["protocol"]["title"] == "Протокол № 12-ОО от " + documented.protocol_date.strftime(
        "%d.%m.%Y"
    )
    assert docs["material"]["title"] == "Схема границ"
    assert docs["draft"]["content_type"] == "application/pdf" and docs["draft"]["size"] > 100
    assert len(docs["draft"]["sha256"]) == 64
    card = client.get(f"/api/v1/open/hearings/{documented.id}").get_json()
    assert card["documents"] == body["documents"]
    assert card["stage"] == "conclusion" and card["protocol_number"] == "12-ОО"
    stage = client.get("/api/v1/open/hearings?stage=conclusion").get_json()
    assert [i["id"] for i in stage["items"]] == [documented.id]


def test_every_document_link_opens_without_login(client, documented):
    import hashlib

    body = client.get(f"/api/v1/open/hearings/{documented.id}/documents").get_json()
    for doc in body["documents"]:
        response = client.get(_path(doc["url"]))
        assert response.status_code == 200, doc
        assert response.mimetype == doc["content_type"], doc
        assert response.get_data().startswith(b"%PDF"), doc
        if doc["sha256"]:
            assert hashlib.sha256(response.get_data()).hexdigest() == doc["sha256"]


def test_documents_appear_as_the_procedure_goes(client, make_hearing):
    hearing = make_hearing()
    body = client.get(f"/api/v1/open/hearings/{hearing.id}/documents").get_json()
    assert [d["kind"] for d in body["documents"]] == ["notice"]
    card = client.get(f"/api/v1/open/hearings/{hearing.id}").get_json()
    assert card["protocol_number"] is None and card["conclusion_date"] is None


def test_the_draft_text_by_sections_and_in_csv(client, documented):
    body = client.get(f"/api/v1/open/hearings/{documented.id}/draft").get_json()
    assert [s["title"] for s in body["sections"]] == [
        "Раздел 1. Общие положения",
        "Раздел 2. Содержание территорий",
    ]
    assert body["sections"][1]["paragraphs"][1] == {
        "number": "2.2",
        "text": "Снег с тротуаров убирается до 8:00.",
    }
    table = csv_rows(client.get(f"/api/v1/open/hearings/{documented.id}/draft?format=csv"))
    assert table[0] == ["Раздел", "Пункт", "Текст"]
    assert table[4] == [
        "Раздел 2. Содержание территорий",
        "2.2",
        "Снег с тротуаров убирается до 8:00.",
    ]
    docs = csv_rows(client.get(f"/api/v1/open/hearings/{documented.id}/documents?format=csv"))
    assert docs[0] == ["Вид", "Документ", "Дата", "Ссылка", "Тип файла", "Размер, байт", "SHA-256"]
    assert [row[0] for row in docs[1:]] == ["notice", "draft", "material", "protocol", "conclusion"]


def test_unknown_and_unpublished_hearings_are_404(client, make_hearing):
    draft = make_hearing(publish=False)
    for path in ("", "/documents", "/draft"):
        problem(client.get(f"/api/v1/open/hearings/{draft.id}{path}"), 404)
        problem(client.get(f"/api/v1/open/hearings/999999{path}"), 404)


def test_hearing_reads_have_etags(client, documented):
    for path in (
        "/api/v1/open/hearings",
        "/api/v1/open/hearings?format=csv",
        f"/api/v1/open/hearings/{documented.id}",
        f"/api/v1/open/hearings/{documented.id}/documents?format=csv",
        f"/api/v1/open/hearings/{documented.id}/draft",
    ):
        etag = client.get(path).headers["ETag"]
        assert client.get(path, headers={"If-None-Match": etag}).status_code == 304, path


def test_nothing_personal_in_hearing_answers(client, documented, world):
    bodies = [
        client.get(path).get_data(as_text=True)
        for path in (
            "/api/v1/open/hearings",
            "/api/v1/open/hearings?format=csv",
            f"/api/v1/open/hearings/{documented.id}",
            f"/api/v1/open/hearings/{documented.id}?format=csv",
            f"/api/v1/open/hearings/{documented.id}/documents",
            f"/api/v1/open/hearings/{documented.id}/draft?format=csv",
        )
    ]
    assert_no_personal_data(
        bodies,
        REMARK,
        "летние веранды",
        "Иванова",
        "Петровна",
        "ул. Ленина, д. 24",
        "1988-03-17",  # the birth date (a bare "1988" is also an id or a size now and then)
        "17.03.1988",
        "Фёдоров",
        "1150280012343",
        world.resident.email,
        "Валиев",
    )
