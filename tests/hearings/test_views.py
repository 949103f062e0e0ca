"""Hearings over HTTP: public pages, personal data, bad input, permissions, the demo path."""

from __future__ import annotations

import io
import re
from datetime import date, time, timedelta

import pytest
import sqlalchemy as sa
from pypdf import PdfReader

from participation.core.outbox import Notification
from participation.core.users import Role
from participation.extensions import db
from participation.hearings import services
from participation.hearings.models import Hearing, Remark, RemarkStatus
from tests import factories
from tests.hearings.conftest import CLOSES_ON, OPENS_ON, local, paragraph, travel
from tests.helpers import login_as

IN_WINDOW = local(OPENS_ON + timedelta(days=2))
AFTER = local(CLOSES_ON + timedelta(days=2))
CSRF = re.compile(r'name="csrf_token"(?: type="hidden")? value="([^"]+)"')
TOKEN = re.compile(r'name="client_token"(?: type="hidden")? value="([^"]*)"')


def text(response) -> str:
    return response.get_data(as_text=True)


def csrf(client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return CSRF.search(text(response)).group(1)


def pdf_text(data: bytes) -> str:
    reader = PdfReader(io.BytesIO(data))
    return " ".join(" ".join(p.extract_text() or "" for p in reader.pages).split())


def remark_count() -> int:
    return db.session.scalar(sa.select(sa.func.count(Remark.id)))


def post_remark(client, hearing, number="2.2", text_="Предлагаю уточнить срок уборки.", **extra):
    target = paragraph(hearing, number)
    form_url = f"/hearings/{hearing.id}/remarks/new?paragraph={target.id}"
    page = client.get(form_url)
    assert page.status_code == 200, text(page)
    data = {
        "csrf_token": CSRF.search(text(page)).group(1),
        "client_token": TOKEN.search(text(page)).group(1),
        "paragraph_id": str(target.id),
        "kind": "proposal",
        "text": text_,
    }
    data.update(extra)
    return client.post(f"/hearings/{hearing.id}/remarks/new", data=data), data


# --- public pages ----------------------------------------------------------------------------


def test_public_list_shows_published_hearings_by_municipality_and_stage(
    client, make_hearing, world
):
    published = make_hearing()
    draft = make_hearing(publish=False, title="Черновик проекта бюджета")
    with travel(IN_WINDOW):
        page = text(client.get("/hearings/"))
        assert published.title in page and draft.title not in page
        assert "Приём предложений и замечаний" in page
        assert published.title in text(client.get(f"/hearings/?territory={world.ufa.id}"))
        assert published.title not in text(
            client.get(f"/hearings/?territory={world.sterlitamak.id}")
        )
        assert published.title in text(client.get("/hearings/?stage=remarks_open"))
        assert published.title not in text(client.get("/hearings/?stage=conclusion"))
        assert client.get("/hearings/?stage=nonsense&territory=abc").status_code == 200


def test_the_hearing_page_shows_the_draft_timeline_and_how_to_take_part(client, discussion, world):
    with travel(IN_WINDOW):
        page = text(client.get(f"/hearings/{discussion.id}"))
    assert "Раздел 2. Содержание территорий" in page
    assert "Снег с тротуаров убирается до 8:00." in page
    assert 'aria-current="step"' in page
    assert "с 08.06.2026 по 21.06.2026 включительно" in page
    assert "Войдите через Госуслуги" in page  # anonymous visitor
    assert f"/hearings/{discussion.id}/notice.pdf" in page


def test_an_unpublished_hearing_is_hidden_from_the_public_but_not_from_its_organizer(
    client, make_hearing, world
):
    draft = make_hearing(publish=False)
    assert client.get(f"/hearings/{draft.id}").status_code == 404
    assert client.get(f"/hearings/{draft.id}/notice.pdf").status_code == 404
    login_as(client, world.resident)
    assert client.get(f"/hearings/{draft.id}").status_code == 404
    login_as(client, world.organizer)
    assert client.get(f"/hearings/{draft.id}").status_code == 200


def test_the_notice_page_and_pdf(client, discussion):
    page = text(client.get(f"/hearings/{discussion.id}/notice"))
    assert "Оповещение о начале общественных обсуждений" in page
    assert "Дата опубликования: 01.06.2026" in page
    response = client.get(f"/hearings/{discussion.id}/notice.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert "ОПОВЕЩЕНИЕ о начале общественных обсуждений" in pdf_text(response.data)


# --- remarks over HTTP: eligibility and bad input ------------------------------------------------


def test_a_resident_posts_a_remark_and_sees_it_waiting_for_moderation(client, discussion, world):
    with travel(IN_WINDOW):
        login_as(client, world.resident)
        response, _data = post_remark(client, discussion)
        assert response.status_code == 302
        page = text(client.get(response.location))
    assert "отправлено на модерацию" in page
    assert "На модерации" in page
    assert remark_count() == 1


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"text": "   "}, "Напишите текст предложения или замечания."),
        ({"text": "я" * 5001}, "Текст длиннее 5000 знаков"),
        ({"kind": "complaint"}, "Выберите: предложение или замечание."),
    ],
)
def test_bad_remarks_are_refused_next_to_the_field_and_nothing_is_saved(
    client, discussion, world, extra, message
):
    with travel(IN_WINDOW):
        login_as(client, world.resident)
        response, _data = post_remark(client, discussion, **extra)
    assert response.status_code == 400
    assert message in text(response)
    assert remark_count() == 0


def test_a_paragraph_of_another_hearing_is_refused(client, discussion, make_hearing, world):
    other = make_hearing(title="Другой проект")
    foreign = paragraph(other, "1.1")
    with travel(IN_WINDOW):
        login_as(client, world.resident)
        response, _data = post_remark(client, discussion, paragraph_id=str(foreign.id))
        assert response.status_code == 400
        assert "Такого пункта нет в проекте этого обсуждения" in text(response)
        response, _data = post_remark(client, discussion, paragraph_id="abc")
        assert response.status_code == 400
    assert remark_count() == 0


def test_a_double_submit_keeps_one_remark(client, discussion, world):
    with travel(IN_WINDOW):
        login_as(client, world.resident)
        first, data = post_remark(client, discussion)
        second = client.post(f"/hearings/{discussion.id}/remarks/new", data=data)
        assert first.status_code == second.status_code == 302
        assert "уже отправлено" in text(client.get(second.location))
    assert remark_count() == 1


@pytest.mark.parametrize(
    ("who", "when", "message"),
    [
        ("simplified", IN_WINDOW, "Ваша учётная запись Госуслуг — упрощённая"),
        ("kazan_user", IN_WINDOW, "вне территории «Республика Башкортостан»"),
        ("resident", AFTER, "Приём предложений и замечаний завершён"),
    ],
)
def test_ineligible_people_see_the_reason_and_cannot_post(
    client, discussion, world, who, when, message
):
    target = paragraph(discussion, "2.2")
    with travel(IN_WINDOW):
        login_as(client, world.resident)
        token = csrf(client, f"/hearings/{discussion.id}/remarks/new")
    with travel(when):
        login_as(client, getattr(world, who))
        page = text(client.get(f"/hearings/{discussion.id}"))
        assert message in page
        response = client.post(
            f"/hearings/{discussion.id}/remarks/new",
            data={
                "csrf_token": token,
                "paragraph_id": target.id,
                "kind": "proposal",
                "text": "Текст",
            },
        )
        assert response.status_code == 302
        assert message in text(client.get(response.location))
    assert remark_count() == 0


def test_anonymous_visitors_are_sent_to_login(client, discussion):
    with travel(IN_WINDOW):
        response = client.get(f"/hearings/{discussion.id}/remarks/new")
    assert response.status_code == 302 and "/login" in response.location


# --- personal data -------------------------------------------------------------------------------


@pytest.fixture
def concluded(discussion, world):
    """Remarks of two residents and an outsider, protocol, recommendations, conclusion."""
    remarks = []
    for user, number in (
        (world.resident, "2.2"),
        (world.resident2, "1.1"),
        (world.outsider, "2.1"),
    ):
        remark = services.submit_remark(
            discussion,
            user,
            text=f"Предложение к пункту {number}: уточнить формулировку.",
            kind="proposal",
            paragraph_id=paragraph(discussion, number).id,
            client_token=None,
            now=IN_WINDOW,
        )
        services.moderate_remark(remark, world.organizer, publish=True, now=IN_WINDOW)
        remarks.append(remark)
    services.issue_protocol(discussion, world.organizer, number="3", now=AFTER)
    for remark in remarks:
        services.set_recommendation(
            remark, world.organizer, decision="accept", reason="Учтено в новой редакции.", now=AFTER
        )
    services.publish_conclusion(discussion, world.organizer, text="Одобрить проект.", now=AFTER)
    return discussion


PERSONAL = (
    "17.03.1988",
    "02.11.1979",
    "09.01.1970",
    "ул. Ленина",
    "ул. Мингажева",
    "Коммунистическая",
    "Иванова",
    "Петровна",
    "Сидоров",
    "Григорьев",
)


def test_public_pages_and_documents_never_show_personal_data(client, concluded, world):
    p22 = paragraph(concluded, "2.2")
    pages = [
        "/hearings/",
        f"/hearings/{concluded.id}",
        f"/hearings/{concluded.id}/paragraphs/{p22.id}",
        f"/hearings/{concluded.id}/general",
        f"/hearings/{concluded.id}/notice",
    ]
    with travel(AFTER + timedelta(days=1)):
        login_as(client, world.kazan_user)  # any visitor: here a logged-in stranger
        for url in pages:
            html = text(client.get(url))
            for secret in PERSONAL:
                assert secret not in html, (url, secret)
        assert "Мария И." in text(client.get(f"/hearings/{concluded.id}/paragraphs/{p22.id}"))
        assert "Учтено в новой редакции." in text(
            client.get(f"/hearings/{concluded.id}/paragraphs/{p22.id}")
        )
        for url in (
            f"/hearings/{concluded.id}/protocol.pdf",
            f"/hearings/{concluded.id}/conclusion.pdf",
        ):
            document = pdf_text(client.get(url).data)
            for secret in PERSONAL:
                assert secret not in document, (url, secret)


def test_the_official_protocol_is_for_organizers_only(client, concluded, world):
    url = f"/backoffice/hearings/{concluded.id}/protocol.pdf"
    login_as(client, world.resident)
    assert client.get(url).status_code == 404
    login_as(client, world.executor)
    assert client.get(url).status_code == 404
    login_as(client, world.organizer)
    response = client.get(url)
    assert response.status_code == 200
    document = pdf_text(response.data)
    assert "17.03.1988" in document and "Иванова Мария Петровна" in document


def test_a_participant_downloads_only_their_own_extract(client, concluded, world):
    url = f"/hearings/{concluded.id}/extract.pdf"
    login_as(client, world.resident)
    document = pdf_text(client.get(url).data)
    assert "Иванова Мария Петровна" in document and "пункту 2.2" in document
    assert "Сидоров" not in document
    login_as(client, world.kazan_user)  # took no part
    assert client.get(url).status_code == 404


# --- management pages: permissions ---------------------------------------------------------


def test_only_organizers_of_the_organizing_body_manage_hearings(client, discussion, world):
    login_as(client, world.executor)
    assert client.get("/backoffice/hearings/").status_code == 403
    assert client.get(f"/backoffice/hearings/{discussion.id}").status_code == 404
    other_org = factories.organization(territory_=world.sterlitamak)
    stranger = factories.staff(other_org, Role.AUTHORIZED)
    login_as(client, stranger)
    assert client.get("/backoffice/hearings/").status_code == 200
    assert client.get(f"/backoffice/hearings/{discussion.id}").status_code == 404
    login_as(client, world.resident)
    assert client.get(f"/backoffice/hearings/{discussion.id}").status_code == 404


def test_a_remark_of_another_hearing_cannot_be_reached_through_this_one(
    client, discussion, make_hearing, world
):
    other = make_hearing(title="Другой проект")
    remark = services.submit_remark(
        other,
        world.resident,
        text="Текст",
        kind="remark",
        paragraph_id=None,
        client_token=None,
        now=IN_WINDOW,
    )
    login_as(client, world.organizer)
    assert (
        client.get(f"/backoffice/hearings/{discussion.id}/remarks/{remark.id}").status_code == 404
    )
    token = csrf(client, f"/backoffice/hearings/{other.id}/remarks/{remark.id}")
    response = client.post(
        f"/backoffice/hearings/{discussion.id}/remarks/{remark.id}/moderate",
        data={"csrf_token": token, "decision": "publish"},
    )
    assert response.status_code == 404
    assert db.session.get(Remark, remark.id).status == RemarkStatus.PENDING


def _pending_remark(hearing, user) -> Remark:
    return services.submit_remark(
        hearing,
        user,
        text="Предлагаю уточнить срок уборки снега.",
        kind="proposal",
        paragraph_id=paragraph(hearing, "2.2").id,
        client_token=None,
        now=IN_WINDOW,
    )


@pytest.mark.parametrize(
    ("code", "label"),
    [
        ("unidentified", "Не позволяет установить участника"),
        ("repeated", "Повторяет ранее поданное замечание"),
        ("out_of_time", "Поступило вне срока"),
    ],
)
def test_the_organizer_rejects_a_remark_on_a_hearings_own_ground_and_both_sides_see_it(
    client, discussion, world, code, label
):
    remark = _pending_remark(discussion, world.resident)
    page = f"/backoffice/hearings/{discussion.id}/remarks/{remark.id}"
    login_as(client, world.organizer)
    form = text(client.get(page))
    assert f'<option value="{code}">{label}</option>' in form
    assert "Несколько проблем в одном сообщении" not in form
    response = _post(client, f"{page}/moderate", {"decision": "reject", "reason": code}, page)
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Remark, remark.id).rejection_reason == code
    assert f"Отклонено: {label}" in text(client.get(page))
    login_as(client, world.resident)
    assert f"Причина отклонения: {label}" in text(client.get(f"/hearings/{discussion.id}"))


@pytest.mark.parametrize("code", ["several_problems", "spam", ""])
def test_a_reason_outside_the_hearings_list_is_refused_and_nothing_is_saved(
    client, discussion, world, code
):
    remark = _pending_remark(discussion, world.resident)
    page = f"/backoffice/hearings/{discussion.id}/remarks/{remark.id}"
    login_as(client, world.organizer)
    response = _post(client, f"{page}/moderate", {"decision": "reject", "reason": code}, page)
    assert response.status_code == 400
    assert "Выберите причину отклонения из списка." in text(response)
    db.session.expire_all()
    stored = db.session.get(Remark, remark.id)
    assert stored.status == RemarkStatus.PENDING and stored.rejection_reason is None
    assert not db.session.scalars(
        sa.select(Notification).where(Notification.user_id == world.resident.id)
    ).all()


def test_management_posts_need_the_csrf_token(client, make_hearing, world):
    draft = make_hearing(publish=False)
    login_as(client, world.organizer)
    assert client.post(f"/backoffice/hearings/{draft.id}/publish").status_code == 400
    db.session.expire_all()
    assert db.session.get(Hearing, draft.id).notice_published_at is None


def _hearing_form(**overrides) -> dict[str, str]:
    values = {
        "kind": "public_discussion",
        "title": "Проект Правил благоустройства территории городского округа город Уфа",
        "subject": "Новая редакция правил благоустройства.",
        "initiator": "Администрация городского округа город Уфа",
        "organizer_address": "450098, г. Уфа, пр. Октября, д. 120",
        "draft_text": "Раздел 1. Общие положения\n1.1. Правила обязательны для всех.\n"
        "Раздел 3. Уборка территории\n3.3. Тротуары очищаются от снега в течение 4 часов.\n"
        "3.5. Запрещается складирование снега на детских площадках.",
        "exposition_place": "г. Уфа, пр. Октября, д. 120",
        "exposition_starts_on": "2026-06-08",
        "exposition_ends_on": "2026-06-21",
        "exposition_hours": "пн–пт с 9:00 до 18:00",
        "consultations": "по средам с 15:00 до 17:00",
        "remarks_opens_on": "2026-06-08",
        "remarks_closes_on": "2026-06-21",
        "min_account_level": "confirmed",
        "participant_scope": "region",
    }
    values.update(overrides)
    return values


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"title": ""}, "Укажите наименование проекта."),
        (
            {"remarks_closes_on": "2026-06-01"},
            "Последний день приёма не может быть раньше первого.",
        ),
        ({"exposition_starts_on": "31.02.2026"}, "Неверное значение даты."),
        ({"draft_text": "1.1. Первый.\n1.1. Второй."}, "Пункт 1.1 встречается дважды"),
        ({"kind": "public_hearing"}, "Для публичных слушаний укажите дату собрания."),
        ({"territory_id": "999999"}, "Выберите территорию вашего муниципального образования."),
        ({"min_account_level": "simplified"}, "Выберите уровень из списка."),
    ],
)
def test_bad_hearing_forms_are_refused_in_russian_and_nothing_is_saved(
    client, world, overrides, message
):
    login_as(client, world.organizer)
    data = _hearing_form(**{"territory_id": str(world.ufa.id), **overrides})
    data["csrf_token"] = csrf(client, "/backoffice/hearings/new")
    response = client.post("/backoffice/hearings/new", data=data)
    assert response.status_code == 400
    assert message in text(response)
    assert db.session.scalar(sa.select(sa.func.count(Hearing.id))) == 0


def test_conclusion_refused_over_http_while_a_recommendation_is_missing(client, discussion, world):
    remark = services.submit_remark(
        discussion,
        world.resident,
        text="Текст предложения",
        kind="proposal",
        paragraph_id=None,
        client_token=None,
        now=IN_WINDOW,
    )
    services.moderate_remark(remark, world.organizer, publish=True, now=IN_WINDOW)
    services.issue_protocol(discussion, world.organizer, number="9", now=AFTER)
    with travel(AFTER):
        login_as(client, world.organizer)
        token = csrf(client, f"/backoffice/hearings/{discussion.id}")
        response = client.post(
            f"/backoffice/hearings/{discussion.id}/conclusion",
            data={"csrf_token": token, "text": "Одобрить."},
        )
    assert response.status_code == 409
    assert (
        "Заключение нельзя выпустить: нет рекомендации организатора по 1 замечанию (№ 1)"
        in text(response)
    )
    db.session.expire_all()
    assert db.session.get(Hearing, discussion.id).conclusion_published_at is None


# --- the «done when» path, as a new user would try it --------------------------------------------


def _post(client, url: str, data: dict, page: str | None = None):
    data = {"csrf_token": csrf(client, page or url), **data}
    return client.post(url, data=data)


def test_ufa_discusses_landscaping_rules_from_notice_to_conclusion(client, world, run_jobs):
    # 1. Уфа's authorized official publishes the draft for discussion.
    with travel(local(date(2026, 6, 1), time(9, 0))):
        login_as(client, world.organizer)
        response = _post(
            client,
            "/backoffice/hearings/new",
            _hearing_form(territory_id=str(world.ufa.id)),
        )
        assert response.status_code == 302, text(response)
        hearing_id = int(re.search(r"/backoffice/hearings/(\d+)$", response.location).group(1))
        manage = f"/backoffice/hearings/{hearing_id}"
        assert _post(client, f"{manage}/publish", {}, page=manage).status_code == 302
        assert "Оповещение опубликовано" in text(client.get(manage))
    hearing = db.session.get(Hearing, hearing_id)

    # 2. Two residents of Уфа and one of Стерлитамак leave remarks on paragraphs.
    authors = [
        (world.resident, "3.3", "Очищать тротуары не за 4, а за 2 часа после снегопада."),
        (world.resident2, "3.5", "Добавить запрет складировать снег у остановок."),
        (world.outsider, "1.1", "Распространить правила на садовые товарищества."),
    ]
    with travel(local(date(2026, 6, 10), time(12, 0))):
        for user, number, words in authors:
            login_as(client, user)
            response, _data = post_remark(client, hearing, number=number, text_=words)
            assert response.status_code == 302
        public = text(client.get(f"/hearings/{hearing_id}"))
        assert "0 замечаний" in public  # nothing public before moderation

    # 3. The organizer moderates and answers each remark.
    remarks = db.session.scalars(
        sa.select(Remark).where(Remark.hearing_id == hearing_id).order_by(Remark.number)
    ).all()
    assert [r.resident for r in remarks] == [True, True, False]
    with travel(local(date(2026, 6, 11), time(10, 0))):
        login_as(client, world.organizer)
        for remark in remarks:
            page = f"{manage}/remarks/{remark.id}"
            assert (
                _post(client, f"{page}/moderate", {"decision": "publish"}, page).status_code == 302
            )
            answer = {
                "decision": "accept",
                "reason": f"Учтено: пункт дополнен по замечанию № {remark.number}.",
            }
            if remark.number == 3:
                answer = {
                    "decision": "decline",
                    "reason": "Садовые товарищества не входят в предмет правил.",
                }
            assert _post(client, f"{page}/recommend", answer, page).status_code == 302
        p33 = paragraph(hearing, "3.3")
        assert "Мария И." in text(client.get(f"/hearings/{hearing_id}/paragraphs/{p33.id}"))

    # 4. After the window closes by itself: protocol and conclusion.
    with travel(local(date(2026, 6, 23), time(11, 0))):
        login_as(client, world.organizer)
        response = _post(client, f"{manage}/protocol", {"number": "14-ОО"}, page=manage)
        assert response.status_code == 302
        protocol = client.get(f"{manage}/protocol.pdf")
        assert protocol.status_code == 200
        protocol_text = pdf_text(protocol.data)
        response = _post(
            client,
            f"{manage}/conclusion",
            {"text": "Рекомендовать проект к утверждению с учётом предложений № 1 и № 2."},
            page=manage,
        )
        assert response.status_code == 302
        run_jobs()
        conclusion_text = pdf_text(client.get(f"/hearings/{hearing_id}/conclusion.pdf").data)

    assert "ПРОТОКОЛ № 14-ОО" in protocol_text
    assert "общественных обсуждений по проекту «Проект Правил благоустройства" in protocol_text
    residents_part = protocol_text.split("2. Предложения и замечания иных участников")[0]
    assert "за 2 часа после снегопада" in residents_part
    assert "снег у остановок" in residents_part
    assert "садовые товарищества" not in residents_part
    assert "Григорьев Николай Владимирович" in protocol_text  # the official's copy: full names
    assert "ЗАКЛЮЧЕНИЕ о результатах общественных обсуждений" in conclusion_text
    assert "протокол № 14-ОО от 23.06.2026" in conclusion_text
    assert "Количество участников 3" in conclusion_text
    assert "Не учитывать" in conclusion_text and "Садовые товарищества не входят" in conclusion_text
    told = db.session.scalars(
        sa.select(Notification.user_id).where(Notification.title.like("Опубликовано заключение%"))
    ).all()
    assert {world.resident.id, world.resident2.id} <= set(told)
