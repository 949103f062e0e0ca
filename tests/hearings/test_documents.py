"""Notice, protocol, conclusion and extract: their contents, read back from the PDFs."""

from __future__ import annotations

import io
import re
from datetime import timedelta

import pytest
from pypdf import PdfReader

from participation.core.db import utcnow
from participation.core.errors import DomainError, FieldError
from participation.hearings import pdf, services
from participation.hearings.models import Hearing, HearingKind
from tests.hearings.conftest import CLOSES_ON, OPENS_ON, local, paragraph

IN_WINDOW = local(OPENS_ON + timedelta(days=2))
AFTER = local(CLOSES_ON + timedelta(days=2))


def pdf_text(data: bytes) -> str:
    reader = PdfReader(io.BytesIO(data))
    return " ".join(" ".join(page.extract_text() or "" for page in reader.pages).split())


def _remark(hearing, user, text, number=None, publish=True):
    target = paragraph(hearing, number) if number else None
    remark = services.submit_remark(
        hearing,
        user,
        text=text,
        kind="proposal",
        paragraph_id=target.id if target else None,
        client_token=None,
        now=IN_WINDOW,
    )
    if publish is True:
        services.moderate_remark(remark, hearing_organizer(hearing), publish=True, now=IN_WINDOW)
    elif publish:
        services.moderate_remark(
            remark, hearing_organizer(hearing), publish=False, reason=publish, now=IN_WINDOW
        )
    return remark


def hearing_organizer(hearing: Hearing):
    return hearing._organizer  # set by the fixture below


@pytest.fixture
def finished(discussion, world) -> Hearing:
    """A discussion with remarks of two residents, an outsider, a legal entity, one rejected."""
    discussion._organizer = world.organizer
    _remark(discussion, world.resident, "Перенести уборку снега на 7:00 утра", "2.2")
    _remark(discussion, world.outsider, "Добавить требования к велопарковкам", "1.1")
    _remark(discussion, world.resident2, "Проект в целом поддерживаю полностью")
    _remark(discussion, world.legal_rep, "Разрешить летние веранды кафе", "2.1")
    _remark(discussion, world.resident, "Спам спам спам", "1.2", publish="advertising")
    services.issue_protocol(discussion, world.organizer, number="12-ОО", now=AFTER)
    return discussion


def _recommend_all(hearing, world):
    for number in services.remarks_without_recommendation(hearing):
        remark = _by_number(hearing, number)
        services.set_recommendation(
            remark,
            world.organizer,
            decision="accept" if number % 2 else "decline",
            reason=f"Обоснование по замечанию номер {number}: соответствует СП 42.13330.",
            now=AFTER,
        )


def _by_number(hearing, number):
    import sqlalchemy as sa

    from participation.extensions import db
    from participation.hearings.models import Remark

    return db.session.scalar(
        sa.select(Remark).where(Remark.hearing_id == hearing.id, Remark.number == number)
    )


def test_the_notice_pdf_lists_every_element_of_the_notice(discussion, app):
    with app.test_request_context():
        facts = pdf.notice_facts(
            discussion, "http://x/hearings/1", ["Схема территории"], "Правило."
        )
        text = pdf_text(
            pdf.build_notice_pdf(
                discussion,
                link="http://x/hearings/1",
                materials=["Схема территории"],
                rule_text="Обсуждение доступно жителям региона.",
                generated_at=utcnow(),
            )
        )
    labels = [label for label, _value in facts]
    for label in (
        "Организатор",
        "Адрес организатора",
        "Проект, подлежащий рассмотрению",
        "Инициатор проекта",
        "Информационные материалы",
        "Порядок и сроки проведения",
        "Экспозиция: место",
        "Экспозиция: даты",
        "Экспозиция: часы работы",
        "Консультации",
        "Порядок, сроки и форма внесения предложений",
        "Где размещены проект и материалы",
    ):
        assert label in labels
    assert "ОПОВЕЩЕНИЕ о начале общественных обсуждений" in text
    assert "Дата опубликования: 01.06.2026" in text
    assert "с 08.06.2026 по 21.06.2026 включительно" in text
    assert "пн–пт с 9:00 до 18:00" in text
    assert "Схема территории" in text
    assert "ufa.example" in text


def test_the_notice_of_a_public_hearing_names_the_meeting(make_hearing, app):
    hearing = make_hearing(kind=HearingKind.PUBLIC_HEARING)
    with app.test_request_context():
        text = pdf_text(
            pdf.build_notice_pdf(
                hearing, link="http://x", materials=[], rule_text="—", generated_at=utcnow()
            )
        )
    assert "публичных слушаний" in text
    assert "Собрание участников" in text
    assert "19.06.2026 в 18:00" in text and "Дом культуры" in text
    # The zone once, with its own brackets: not «(екатеринбургское время (МСК+2))».
    assert "19.06.2026 в 18:00, екатеринбургское время (МСК+2); место: Дом культуры" in text
    assert "((" not in text and "))" not in text


def test_the_notice_keeps_the_caption_of_its_code_on_the_page_of_the_code(discussion, app):
    """However long the notice, «Страница обсуждения на платформе:» is never left alone at the
    foot of a page with its QR code and address on the next."""
    link = "http://x/hearings/1"
    pages_seen = set()
    with app.test_request_context():
        for lines in range(0, 80, 2):
            data = pdf.build_notice_pdf(
                discussion,
                link=link,
                materials=[],
                rule_text=" ".join(["Обсуждение доступно жителям региона."] * (1 + lines)),
                generated_at=utcnow(),
            )
            pages = [
                " ".join((p.extract_text() or "").split())
                for p in PdfReader(io.BytesIO(data)).pages
            ]
            pages_seen.add(len(pages))
            caption = [i for i, p in enumerate(pages) if "Страница обсуждения на платформе:" in p]
            assert len(caption) == 1
            assert link in pages[caption[0]], lines
    assert {1, 2} <= pages_seen  # the caption was tried at every height of the first page


def _between(text: str, start: str, end: str) -> str:
    return text[text.index(start) : text.index(end, text.index(start))]


def test_the_protocol_splits_remarks_by_residency_and_only_the_official_copy_has_the_annex(
    finished, app
):
    with app.test_request_context():
        data = services.document_data(finished)
        official = pdf_text(pdf.build_protocol_pdf(data, official=True, generated_at=AFTER))
        public = pdf_text(pdf.build_protocol_pdf(data, official=False, generated_at=AFTER))
    assert data.participant_count == 4 and data.resident_count == 3
    for text in (official, public):
        assert "ПРОТОКОЛ № 12-ОО" in text
        assert "Дата оформления протокола 23.06.2026" in text
        assert "опубликовано 01.06.2026 на платформе обратной связи" in text
        assert "с 08.06.2026 по 21.06.2026 включительно" in text
        assert "городской округ город Уфа" in text
        # Case agreement: the kind is the subject of «проводятся» (nominative), and the
        # territory's label names what was held there.
        assert "в пределах которой проводятся общественные обсуждения" in text
        assert "проводятся общественных обсуждений" not in text
        assert "Территория, в пределах которой проводились общественные обсуждения" in text
        residents = _between(
            text, "1. Предложения и замечания участников, постоянно", "2. Предложения"
        )
        others = _between(text, "2. Предложения и замечания иных участников", "Не допущены")
        assert "Перенести уборку снега на 7:00 утра" in residents
        assert "Проект в целом поддерживаю полностью" in residents
        assert "Разрешить летние веранды кафе" in residents
        assert "Добавить требования к велопарковкам" not in residents
        assert "Добавить требования к велопарковкам" in others
        assert "Спам" not in text  # rejected: counted by reason, not reproduced
        assert "Коммерческая или рекламная информация — 1" in text
    # Official copy: full names and the annex with identification data.
    assert "Иванова Мария Петровна" in official
    assert "Перечень принявших участие в рассмотрении проекта участников" in official
    assert "17.03.1988" in official and "ул. Ленина, д. 24" in official
    assert "ОГРН 1150280012343" in official
    # How each took part, worded alike: «через платформу», «очно на собрании».
    annex = official[official.index("Перечень принявших участие") :]
    assert "через платформу" in annex
    assert not re.search(r"\bплатформа\b", annex)
    # Public copy: reduced names, no annex, no birth dates or addresses.
    assert "Мария И." in public
    assert "Иванова" not in public and "Петровна" not in public
    assert "17.03.1988" not in public and "ул. Ленина" not in public
    assert "в публичной копии не приводится" in public


def test_the_conclusion_is_refused_while_a_recommendation_is_missing(finished, world, app):
    with app.test_request_context(), pytest.raises(DomainError) as refused:
        services.publish_conclusion(finished, world.organizer, text="Одобрить.", now=AFTER)
    message = refused.value.message
    assert message.startswith("Заключение нельзя выпустить: нет рекомендации организатора по 4")
    assert "№ 1, 2, 3, 4" in message
    assert finished.conclusion_published_at is None
    _recommend_all(finished, world)
    with app.test_request_context(), pytest.raises(FieldError):
        services.publish_conclusion(finished, world.organizer, text="  ", now=AFTER)


def test_the_conclusion_carries_counts_protocol_and_a_reasoned_recommendation_on_each(
    finished, world, app
):
    _recommend_all(finished, world)
    services.publish_conclusion(
        finished,
        world.organizer,
        text="Рекомендовать проект к утверждению с учётом предложений.",
        now=AFTER,
    )
    with app.test_request_context():
        text = pdf_text(
            pdf.build_conclusion_pdf(services.document_data(finished), generated_at=AFTER)
        )
    assert "ЗАКЛЮЧЕНИЕ о результатах общественных обсуждений" in text
    assert "в пределах которой проводятся общественные обсуждения" in text
    assert "проводятся общественных обсуждений" not in text
    assert "Дата оформления заключения 23.06.2026" in text
    assert "Количество участников 4" in text
    assert "протокол № 12-ОО от 23.06.2026" in text
    residents = _between(text, "1. Предложения и замечания участников, постоянно", "2. Предложения")
    others = _between(text, "2. Предложения и замечания иных участников", "3. Выводы")
    assert "Перенести уборку снега" in residents and "велопарковкам" in others
    assert "Учесть" in text and "Не учитывать" in text
    for number in (1, 2, 3, 4):
        assert f"Обоснование по замечанию номер {number}" in text
    assert "Рекомендовать проект к утверждению с учётом предложений." in text
    assert "Иванова" not in text and "17.03.1988" not in text  # no personal data in a public act


def test_a_participant_extract_shows_only_their_own_remarks(finished, world, app):
    participant = services.participant_of(finished, world.resident)
    with app.test_request_context():
        text = pdf_text(
            pdf.build_extract_pdf(
                finished,
                participant,
                services.participant_remark_rows(finished, participant),
                generated_at=AFTER,
            )
        )
    assert "ВЫПИСКА из протокола № 12-ОО от 23.06.2026" in text
    assert "Иванова Мария Петровна" in text
    assert "Перенести уборку снега на 7:00 утра" in text
    assert "Отклонено" in text  # their rejected remark, with its status
    assert "велопарковкам" not in text and "Григорьев" not in text


def test_the_protocol_counts_and_the_extract_names_the_hearings_own_grounds(discussion, world, app):
    discussion._organizer = world.organizer
    _remark(discussion, world.resident, "Перенести уборку снега на 7:00 утра", "2.2")
    _remark(discussion, world.resident, "Перенести уборку снега на 7:00", "2.2", "repeated")
    _remark(discussion, world.outsider, "Добавить велопарковки", "1.1", "out_of_time")
    _remark(discussion, world.resident2, "Убрать пункт", "1.2", "out_of_time")
    _remark(discussion, world.legal_rep, "Без подписи", None, "unidentified")
    services.issue_protocol(discussion, world.organizer, number="14-ОО", now=AFTER)
    participant = services.participant_of(discussion, world.resident)
    with app.test_request_context():
        data = services.document_data(discussion)
        protocol = pdf_text(pdf.build_protocol_pdf(data, official=False, generated_at=AFTER))
        extract = pdf_text(
            pdf.build_extract_pdf(
                discussion,
                participant,
                services.participant_remark_rows(discussion, participant),
                generated_at=AFTER,
            )
        )
    assert (
        "Количество по причинам: Не позволяет установить участника — 1; "
        "Поступило вне срока — 2; Повторяет ранее поданное замечание — 1." in protocol
    )
    assert "Отклонено: повторяет ранее поданное замечание" in extract


def test_the_protocol_waits_for_the_window_and_needs_a_unique_number(
    discussion, make_hearing, world
):
    with pytest.raises(DomainError) as early:
        services.issue_protocol(discussion, world.organizer, number="1", now=IN_WINDOW)
    assert "до 21.06.2026 включительно" in early.value.message
    services.issue_protocol(discussion, world.organizer, number="1", now=AFTER)
    other = make_hearing(title="Второй проект")
    with pytest.raises(FieldError) as taken:
        services.issue_protocol(other, world.organizer, number="1", now=AFTER)
    assert "уже есть" in taken.value.message
    with pytest.raises(FieldError):
        services.issue_protocol(other, world.organizer, number="   ", now=AFTER)


def test_participants_hear_of_the_conclusion_from_the_sweep_when_its_job_was_lost(
    finished, world, monkeypatch
):
    import sqlalchemy as sa

    from participation.core.jobs import run_sweeps
    from participation.core.outbox import Notification
    from participation.extensions import db
    from participation.hearings.models import Participant

    _recommend_all(finished, world)
    with monkeypatch.context() as lost:  # Redis down when the conclusion came out
        lost.setattr("participation.core.jobs._dispatch", lambda *args: None)
        services.publish_conclusion(finished, world.organizer, text="Одобрить.", now=AFTER)
        finished.conclusion_published_at = utcnow() - timedelta(minutes=10)
        db.session.commit()
    people = set(
        db.session.scalars(
            sa.select(Participant.user_id).where(
                Participant.hearing_id == finished.id, Participant.user_id.is_not(None)
            )
        )
    )

    def told() -> list[int]:
        return list(
            db.session.scalars(
                sa.select(Notification.user_id).where(Notification.title.like("%заключение%"))
            )
        )

    assert people and told() == []
    run_sweeps()
    run_sweeps()
    assert sorted(told()) == sorted(people)  # everyone, once
