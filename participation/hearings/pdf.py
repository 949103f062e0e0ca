"""The notice, the protocol (official and public copies), the conclusion, a participant's extract.

Pure builders: they take a hearing and the data gathered by services.document_data() and return
PDF bytes. Personal identification data (birth date, address) appears only in the official copy
of the protocol, in its annex.
"""

from __future__ import annotations

from datetime import date, datetime

from reportlab.lib.units import mm
from reportlab.platypus import Flowable, KeepTogether, PageBreak

from participation.core.i18n import zone_label
from participation.core.pdf import (
    chunked_table,
    key_values,
    para,
    qr_code,
    render_pdf,
    signature_block,
    spacer,
)
from participation.hearings.labels import (
    ATTENDANCE_LABELS,
    KIND_GENITIVE,
    KIND_LABELS,
    REMARK_REJECTION_LABELS,
    STATUS_LABELS,
)
from participation.hearings.models import Hearing, Participant, ParticipantKind, Remark
from participation.hearings.services import DocumentData, RemarkRow


def _d(value: date | None) -> str:
    return value.strftime("%d.%m.%Y") if value else "—"


def _local(hearing: Hearing, moment: datetime | None, fmt: str = "%d.%m.%Y %H:%M") -> str:
    return moment.astimezone(hearing.tz).strftime(fmt) if moment else "—"


def _period(start: date, end: date) -> str:
    return f"с {_d(start)} по {_d(end)} включительно"


def _meeting(hearing: Hearing) -> str:
    if hearing.meeting_at is None:
        return "—"
    parts = [
        f"{_local(hearing, hearing.meeting_at, '%d.%m.%Y')} "
        f"в {_local(hearing, hearing.meeting_at, '%H:%M')}, "
        f"{zone_label(hearing.territory.timezone, hearing.meeting_at)}"
    ]
    if hearing.meeting_place:
        parts.append(f"место: {hearing.meeting_place}")
    if hearing.meeting_link:
        parts.append(f"онлайн-трансляция: {hearing.meeting_link}")
    return "; ".join(parts)


def _kind(hearing: Hearing) -> str:
    """Genitive: «о результатах публичных слушаний»."""
    return str(KIND_GENITIVE[hearing.kind])


def _kind_nominative(hearing: Hearing) -> str:
    """Nominative, lower case: «проводятся публичные слушания»."""
    return str(KIND_LABELS[hearing.kind]).lower()


def notice_facts(
    hearing: Hearing, link: str, materials: list[str], rule_text: str
) -> list[tuple[str, str]]:
    """The elements of the notice (Town Planning Code art. 5.1 part 6), as label–text pairs."""
    ways = [
        f"в электронной форме через платформу обратной связи ({link}) "
        f"{_period(hearing.remarks_first_day, hearing.remarks_last_day)}, "
        "до 24:00 последнего дня по местному времени"
    ]
    if hearing.is_hearing:
        ways.append("в письменной или устной форме в ходе собрания участников")
    if hearing.submission_ways:
        ways.append(hearing.submission_ways)
    procedure = [
        "оповещение — "
        + (
            _local(hearing, hearing.notice_published_at, "%d.%m.%Y")
            if hearing.notice_published_at
            else "при публикации"
        ),
        "экспозиция проекта — "
        + _period(hearing.exposition_first_day, hearing.exposition_last_day),
        "приём предложений и замечаний — "
        + _period(hearing.remarks_first_day, hearing.remarks_last_day),
    ]
    if hearing.is_hearing:
        procedure.append(f"собрание участников — {_meeting(hearing)}")
    procedure.append(
        "после окончания приёма оформляется протокол, затем публикуется заключение о результатах"
    )
    facts = [
        ("Организатор", hearing.organization.name),
        ("Адрес организатора", hearing.organizer_address),
        ("Проект, подлежащий рассмотрению", hearing.title),
        ("Предмет", hearing.subject),
        ("Территория", hearing.territory.name),
        ("Инициатор проекта", hearing.initiator),
        (
            "Информационные материалы",
            "; ".join(["текст проекта", *materials]) if materials else "текст проекта",
        ),
        ("Порядок и сроки проведения", ";\n".join(procedure) + "."),
        ("Экспозиция: место", hearing.exposition_place),
        ("Экспозиция: даты", _period(hearing.exposition_first_day, hearing.exposition_last_day)),
        ("Экспозиция: часы работы", hearing.exposition_hours),
        ("Консультации", hearing.consultations),
        ("Порядок, сроки и форма внесения предложений", ";\n".join(ways) + "."),
    ]
    if hearing.is_hearing:
        facts.append(("Собрание участников", _meeting(hearing)))
    where = f"платформа обратной связи: {link}"
    if hearing.publication_sources:
        where += f"; {hearing.publication_sources}"
    facts += [
        ("Где размещены проект и материалы", where),
        ("Кто может участвовать", rule_text),
        (
            "Идентификация участников",
            "Участники представляют сведения о себе: фамилию, имя, отчество, дату рождения, "
            "адрес места жительства (регистрации); юридические лица — наименование, ОГРН, "
            "место нахождения и адрес. На платформе сведения берутся из учётной записи "
            "Госуслуг (ЕСИА).",
        ),
    ]
    return facts


def build_notice_pdf(
    hearing: Hearing, *, link: str, materials: list[str], rule_text: str, generated_at: datetime
) -> bytes:
    """Оповещение о начале публичных слушаний / общественных обсуждений."""
    story: list[Flowable] = [
        para(f"ОПОВЕЩЕНИЕ о начале {_kind(hearing)}", "title"),
        para(
            f"Дата опубликования: {_local(hearing, hearing.notice_published_at, '%d.%m.%Y')}"
            if hearing.notice_published_at
            else "Проект оповещения (не опубликовано)",
            "subtitle",
        ),
        key_values(notice_facts(hearing, link, materials, rule_text)),
        spacer(6),
        # The caption never stays at the foot of a page with its code on the next one.
        KeepTogether(
            [
                para("Страница обсуждения на платформе:", "small"),
                qr_code(link, 28 * mm),
                para(link, "small"),
            ]
        ),
    ]
    return render_pdf(
        story,
        title=f"Оповещение: {hearing.title}",
        generated_at=generated_at.astimezone(hearing.tz),
        footer=f"Оповещение о начале {_kind(hearing)}.",
    )


def _remark_table(rows: list[RemarkRow], *, official: bool, public_names: bool) -> list[Flowable]:
    if not rows:
        return [para("Предложения и замечания не поступали.")]
    if official or public_names:
        header = ["№", "Пункт проекта", "Вид", "Содержание", "Участник", "Как поступило"]
        widths = (10 * mm, 20 * mm, 28 * mm, 57 * mm, 32 * mm, 28 * mm)
        data = (
            [
                r.number,
                r.where,
                r.kind,
                r.text,
                r.author_official if official else r.author_public,
                r.source,
            ]
            for r in rows
        )
    else:
        header = ["№", "Пункт проекта", "Вид", "Содержание", "Как поступило"]
        widths = (10 * mm, 24 * mm, 28 * mm, 85 * mm, 28 * mm)
        data = ([r.number, r.where, r.kind, r.text, r.source] for r in rows)
    return chunked_table(header, data, widths)


def _protocol_summary(data: DocumentData) -> list[tuple[str, str]]:
    hearing = data.hearing
    notice = (
        f"опубликовано {_local(hearing, hearing.notice_published_at, '%d.%m.%Y')} "
        f"на платформе обратной связи ({data.link})"
    )
    if hearing.publication_sources:
        notice += f"; также: {hearing.publication_sources}"
    facts = [
        ("Дата оформления протокола", _d(hearing.protocol_date)),
        ("Организатор", f"{hearing.organization.name}, {hearing.organizer_address}"),
        ("Проект", hearing.title),
        ("Информация об оповещении", notice),
        (
            "Срок приёма предложений и замечаний",
            _period(hearing.remarks_first_day, hearing.remarks_last_day),
        ),
        (
            f"Территория, в пределах которой проводились {_kind_nominative(hearing)}",
            hearing.territory.name,
        ),
    ]
    if hearing.is_hearing:
        facts.append(("Собрание участников", _meeting(hearing)))
        facts.append(
            (
                "Зарегистрировано на собрании",
                f"очно — {data.in_person_count}, онлайн — {data.online_count}",
            )
        )
    facts.append(
        (
            "Количество участников",
            f"{data.participant_count}, из них постоянно проживают на территории — "
            f"{data.resident_count}",
        )
    )
    return facts


def build_protocol_pdf(data: DocumentData, *, official: bool, generated_at: datetime) -> bytes:
    """Протокол; only the official copy carries the annex with identification data."""
    hearing = data.hearing
    story: list[Flowable] = [
        para(f"ПРОТОКОЛ № {hearing.protocol_number}", "title"),
        para(f"{_kind(hearing)} по проекту «{hearing.title}»", "subtitle"),
        key_values(_protocol_summary(data)),
        para(
            "1. Предложения и замечания участников, постоянно проживающих на территории, "
            "в пределах которой проводятся " + _kind_nominative(hearing),
            "h2",
        ),
        *_remark_table(data.residents, official=official, public_names=not official),
        para("2. Предложения и замечания иных участников", "h2"),
        *_remark_table(data.others, official=official, public_names=not official),
    ]
    if data.rejected:
        rejected = "; ".join(f"{reason} — {n}" for reason, n in data.rejected)
        story += [
            para("3. Не допущены к рассмотрению по итогам модерации", "h2"),
            para(f"Количество по причинам: {rejected}."),
        ]
    story += [spacer(8), signature_block(["Представитель организатора", "Секретарь"])]
    if official:
        story += [PageBreak(), *_annex(data)]
    else:
        story += [
            spacer(6),
            para(
                "Приложение к протоколу (перечень идентифицированных участников) содержит "
                "персональные данные и в публичной копии не приводится.",
                "small",
            ),
        ]
    copy = "экземпляр организатора" if official else "публичная копия"
    return render_pdf(
        story,
        title=f"Протокол № {hearing.protocol_number}",
        generated_at=generated_at.astimezone(hearing.tz),
        footer=f"Протокол № {hearing.protocol_number} ({copy}).",
    )


def _identity(p: Participant) -> tuple[str, str]:
    if p.kind == ParticipantKind.LEGAL_ENTITY:
        return (
            f"{p.legal_entity_name} (представитель: {p.full_name})",
            f"ОГРН\n{p.legal_entity_ogrn}",
        )
    return p.full_name, _d(p.birth_date)


def _annex(data: DocumentData) -> list[Flowable]:
    hearing = data.hearing
    rows = []
    for i, p in enumerate(data.participants, start=1):
        name, born_or_ogrn = _identity(p)
        how = "через платформу"
        if p.attendance:
            how = f"{str(ATTENDANCE_LABELS[p.attendance]).lower()} на собрании"
        rows.append([i, name, born_or_ogrn, p.address, "да" if p.resident else "нет", how])
    return [
        para(
            f"Приложение к протоколу № {hearing.protocol_number} от {_d(hearing.protocol_date)}",
            "h2",
        ),
        para("Перечень принявших участие в рассмотрении проекта участников"),
        spacer(2),
        *chunked_table(
            [
                "№",
                "Ф. И. О. / наименование",
                "Дата рождения / ОГРН",
                "Адрес",
                "Житель\nтерритории",
                "Участие",
            ],
            rows,
            (8 * mm, 40 * mm, 30 * mm, 42 * mm, 26 * mm, 24 * mm),
        ),
    ]


def _recommendation_table(rows: list[RemarkRow]) -> list[Flowable]:
    if not rows:
        return [para("Предложения и замечания не поступали.")]
    return chunked_table(
        [
            "№",
            "Пункт проекта",
            "Содержание предложения или замечания",
            "Рекомендация",
            "Обоснование",
        ],
        (
            [
                r.number,
                f"{r.where}\n{r.kind}",
                r.text,
                r.recommendation or "—",
                r.recommendation_reason or "—",
            ]
            for r in rows
        ),
        (10 * mm, 28 * mm, 52 * mm, 30 * mm, 55 * mm),
    )


def build_conclusion_pdf(data: DocumentData, *, generated_at: datetime) -> bytes:
    """Заключение о результатах: counts, the protocol, a reasoned recommendation on each remark."""
    hearing = data.hearing
    story: list[Flowable] = [
        para(f"ЗАКЛЮЧЕНИЕ о результатах {_kind(hearing)}", "title"),
        para(f"от {_d(hearing.conclusion_date)}", "subtitle"),
        key_values(
            [
                ("Дата оформления заключения", _d(hearing.conclusion_date)),
                ("Наименование проекта", hearing.title),
                ("Организатор", hearing.organization.name),
                ("Территория", hearing.territory.name),
                ("Количество участников", str(data.participant_count)),
                (
                    "Протокол, на основании которого подготовлено заключение",
                    f"протокол № {hearing.protocol_number} от {_d(hearing.protocol_date)}",
                ),
            ]
        ),
        para(
            "1. Предложения и замечания участников, постоянно проживающих на территории, "
            "в пределах которой проводятся " + _kind_nominative(hearing),
            "h2",
        ),
        *_recommendation_table(data.residents),
        para("2. Предложения и замечания иных участников", "h2"),
        *_recommendation_table(data.others),
        para("3. Выводы по результатам " + _kind(hearing), "h2"),
        para(hearing.conclusion_text or ""),
        spacer(8),
        signature_block(["Представитель организатора"]),
    ]
    return render_pdf(
        story,
        title=f"Заключение о результатах: {hearing.title}",
        generated_at=generated_at.astimezone(hearing.tz),
        footer=f"Заключение о результатах {_kind(hearing)} от {_d(hearing.conclusion_date)}.",
    )


def _status(remark: Remark) -> str:
    """«Опубликовано», or «Отклонено: поступило вне срока» with the ground of the rejection."""
    status = str(STATUS_LABELS[remark.status])
    if remark.rejection_reason is None:
        return status
    reason = str(REMARK_REJECTION_LABELS[remark.rejection_reason])
    return f"{status}: {reason[:1].lower()}{reason[1:]}"


def build_extract_pdf(
    hearing: Hearing,
    participant: Participant,
    rows: list[tuple[RemarkRow, Remark]],
    *,
    generated_at: datetime,
) -> bytes:
    """Выписка из протокола: one participant's own proposals and remarks."""
    table = chunked_table(
        ["№", "Пункт проекта", "Вид", "Содержание", "Статус"],
        ([row.number, row.where, row.kind, row.text, _status(remark)] for row, remark in rows),
        (10 * mm, 25 * mm, 28 * mm, 82 * mm, 30 * mm),
    )
    story: list[Flowable] = [
        para(
            f"ВЫПИСКА из протокола № {hearing.protocol_number} от {_d(hearing.protocol_date)}",
            "title",
        ),
        para(f"{_kind(hearing)} по проекту «{hearing.title}»", "subtitle"),
        key_values(
            [
                ("Организатор", hearing.organization.name),
                ("Участник", participant.official_name),
                (
                    "Постоянно проживает на территории",
                    f"да ({hearing.territory.name})" if participant.resident else "нет",
                ),
                (
                    "Срок приёма предложений и замечаний",
                    _period(hearing.remarks_first_day, hearing.remarks_last_day),
                ),
            ]
        ),
        para("Предложения и замечания участника", "h2"),
        *table,
    ]
    return render_pdf(
        story,
        title=f"Выписка из протокола № {hearing.protocol_number}",
        generated_at=generated_at.astimezone(hearing.tz),
        footer=f"Выписка из протокола № {hearing.protocol_number}.",
    )
