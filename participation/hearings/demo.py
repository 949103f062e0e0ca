# ruff: noqa: E501  (the demo drafts keep one paragraph per line, as organizers paste them)
"""Demo hearings for Уфа: landscaping rules open for remarks now, and a finished public hearing.

`seed_hearings_demo()` is called by `flask demo seed`. Hearings are matched by organizer and
title, so a second run adds nothing. Dates are placed around the day of the first run: the
discussion of the landscaping rules is then in its remarks window, and the planning project's
hearing has its protocol and conclusion. `rewind_hearing()` (behind `flask hearings rewind`)
moves a hearing's calendar into the past, so the whole path to the conclusion can be tried
in development without waiting for the window to close.
"""

from __future__ import annotations

import io
from datetime import UTC, date, datetime, time, timedelta

import sqlalchemy as sa

from participation.core.db import utcnow
from participation.core.organizations import Organization
from participation.core.pdf import para, render_pdf, spacer
from participation.core.users import User
from participation.demo import data
from participation.extensions import db
from participation.hearings import services
from participation.hearings.draft import split_draft
from participation.hearings.models import (
    Attendance,
    DraftParagraph,
    Hearing,
    HearingKind,
    Participant,
    ParticipantKind,
    Remark,
)
from participation.hearings.stages import local_today

LANDSCAPING_TITLE = (
    "Проект решения Совета городского округа город Уфа Республики Башкортостан "
    "«Об утверждении Правил благоустройства территории городского округа город Уфа "
    "Республики Башкортостан»"
)
PLANNING_TITLE = (
    "Проект планировки и проект межевания территории квартала, ограниченного улицами "
    "Менделеева, Кирова, Бессонова и Лесным проездом в Кировском районе городского округа "
    "город Уфа Республики Башкортостан"
)

LANDSCAPING_DRAFT = """Раздел 1. Общие положения
1.1. Настоящие Правила благоустройства территории городского округа город Уфа Республики Башкортостан (далее — Правила) разработаны в соответствии с Федеральным законом от 6 октября 2003 года № 131-ФЗ «Об общих принципах организации местного самоуправления в Российской Федерации», Градостроительным кодексом Российской Федерации и устанавливают единые требования к благоустройству территории городского округа.
1.2. Правила обязательны для исполнения органами местного самоуправления, юридическими лицами, индивидуальными предпринимателями и гражданами — собственниками, владельцами и пользователями земельных участков, зданий, строений и сооружений, расположенных на территории городского округа.
1.3. Границы прилегающих территорий определяются в соответствии с разделом 7 настоящих Правил и отображаются на схемах границ прилегающих территорий.
1.4. Контроль за соблюдением Правил осуществляет Администрация городского округа город Уфа Республики Башкортостан в пределах своих полномочий.
Раздел 2. Основные понятия
2.1. Благоустройство территории — деятельность по реализации комплекса мероприятий, установленного настоящими Правилами, направленная на обеспечение и повышение комфортности условий проживания граждан, поддержание и улучшение санитарного и эстетического состояния территории.
2.2. Прилегающая территория — территория общего пользования, которая прилегает к зданию, строению, сооружению, земельному участку, если такой земельный участок образован, и границы которой определены настоящими Правилами.
2.3. Элементы благоустройства — декоративные, технические, планировочные, конструктивные устройства, элементы озеленения, виды оборудования и оформления, малые архитектурные формы, нестационарные объекты, информационные щиты и указатели.
Раздел 3. Уборка территории
3.1. Уборка территорий общего пользования в летний период (с 15 апреля по 15 октября) включает подметание, мойку и полив проезжей части, тротуаров и площадей и производится ежедневно до 8 часов утра.
3.2. Уборка территорий в зимний период (с 16 октября по 14 апреля) включает очистку от снега и льда, обработку противогололёдными материалами и вывоз снега.
3.3. Тротуары, пешеходные дорожки и остановки общественного транспорта очищаются от снега и обрабатываются противогололёдными материалами в течение 4 часов после окончания снегопада.
3.4. Сброс снега и льда с кровель зданий производится собственниками зданий с обязательным ограждением опасных участков и немедленным вывозом сброшенного снега с тротуаров.
3.5. Запрещается складирование снега на детских и спортивных площадках, газонах, в зонах прохода к подъездам и на контейнерных площадках.
Раздел 4. Озеленение
4.1. Создание, содержание и восстановление зелёных насаждений на территориях общего пользования обеспечивает Администрация городского округа.
4.2. Снос зелёных насаждений допускается только на основании порубочного билета, выдаваемого в порядке, установленном Администрацией городского округа.
4.3. При сносе зелёных насаждений производится компенсационное озеленение: не менее трёх деревьев за каждое снесённое дерево в ближайший сезон посадки.
4.4. Газоны скашиваются при достижении травяным покровом высоты 15 сантиметров.
Раздел 5. Детские и спортивные площадки
5.1. Детские площадки размещаются на расстоянии не менее 20 метров от контейнерных площадок и открытых автостоянок.
5.2. Покрытие детских площадок под игровым оборудованием выполняется из ударопоглощающих материалов (резиновое покрытие, песок, мелкий гравий).
5.3. Игровое оборудование должно соответствовать требованиям ГОСТ Р 52169-2012 и ежегодно проходить основной осмотр.
5.4. Спортивные площадки оборудуются ограждением высотой от 2,5 до 3 метров.
Раздел 6. Освещение и малые архитектурные формы
6.1. Улицы, дороги, площади, пешеходные дорожки и внутриквартальные территории освещаются в тёмное время суток по графику, утверждённому Администрацией городского округа.
6.2. Собственники зданий, выходящих фасадами на магистральные улицы, обеспечивают архитектурно-художественную подсветку фасадов.
6.3. Скамьи и урны устанавливаются у входов в здания, на остановках общественного транспорта, в парках и скверах; урны очищаются не реже одного раза в сутки.
Раздел 7. Содержание прилегающих территорий
7.1. Собственники и иные законные владельцы зданий, строений, сооружений и земельных участков участвуют в содержании прилегающих территорий.
7.2. Граница прилегающей территории проходит на расстоянии 10 метров от границ земельного участка, а если земельный участок не образован — 15 метров от внешних стен здания, строения, сооружения.
7.3. Летние кафе (сезонные веранды) размещаются с 15 апреля по 15 октября при условии сохранения ширины пешеходной части тротуара не менее 2 метров.
Раздел 8. Заключительные положения
8.1. Нарушение настоящих Правил влечёт ответственность в соответствии с Кодексом Республики Башкортостан об административных правонарушениях.
8.2. Настоящие Правила вступают в силу со дня их официального опубликования.
"""

PLANNING_DRAFT = """Раздел 1. Положение о характеристиках планируемого развития территории
1.1. Площадь территории в границах проектирования составляет 12,6 га.
1.2. Проектом предусматривается размещение жилых домов средней этажности (до 9 этажей) общей площадью 48 тыс. кв. м.
1.3. Предусматривается размещение детского сада на 220 мест и встроенной поликлиники.
Раздел 2. Транспортное обслуживание
2.1. Предусмотрено устройство внутриквартального проезда шириной 6 метров с выездами на ул. Менделеева и ул. Бессонова.
2.2. Для постоянного хранения автомобилей предусмотрен подземный паркинг на 540 машино-мест.
Раздел 3. Проект межевания территории
3.1. Образуются 9 земельных участков, в том числе 2 земельных участка территорий общего пользования.
3.2. Вид разрешённого использования образуемых участков — среднеэтажная жилая застройка (код 2.5).
"""

EXPOSITION_PLACE = (
    "Республика Башкортостан, г. Уфа, пр. Октября, д. 120, здание Администрации, холл 1 этажа"
)


def _user(slug: str) -> User:
    oid = data.PERSONAS[slug]["esia_oid"]
    return db.session.scalar(sa.select(User).where(User.esia_oid == oid))


def _organization(slug: str) -> Organization:
    name = next(o["name"] for o in data.ORGANIZATIONS if o["slug"] == slug)
    return db.session.scalar(sa.select(Organization).where(Organization.name == name))


def _exists(organization: Organization, title: str) -> bool:
    return (
        db.session.scalar(
            sa.select(Hearing.id).where(
                Hearing.organization_id == organization.id, Hearing.title == title
            )
        )
        is not None
    )


def _at(day: date, at: time, tz) -> datetime:
    return datetime.combine(day, at, tzinfo=tz).astimezone(UTC)


def _pdf_of(title: str, paragraphs: list[str], now: datetime) -> bytes:
    story = [para(title, "title"), spacer(4), *[para(p) for p in paragraphs]]
    return render_pdf(story, title=title, generated_at=now)


def _draft_pdf(title: str, draft_text: str, now: datetime) -> tuple[io.BytesIO, str]:
    lines = []
    for section, items in split_draft(draft_text):
        lines.append(section)
        lines += [f"{number}. {text}" for number, text in items]
    return io.BytesIO(_pdf_of(title, lines, now)), "Проект решения.pdf"


def _paragraph(hearing: Hearing, number: str) -> int:
    return db.session.scalar(
        sa.select(DraftParagraph.id).where(
            DraftParagraph.hearing_id == hearing.id, DraftParagraph.number == number
        )
    )


def seed_hearings_demo() -> int:
    """Add the demo hearings of Уфа that are missing; returns how many were created."""
    organization = _organization("ufa-admin")
    organizer = _user("ufa-authorized")
    if organization is None or organizer is None:
        return 0
    created = 0
    if not _exists(organization, LANDSCAPING_TITLE):
        _seed_landscaping(organization, organizer)
        created += 1
    if not _exists(organization, PLANNING_TITLE):
        _seed_planning(organization, organizer)
        created += 1
    return created


def _seed_landscaping(organization: Organization, organizer: User) -> Hearing:
    tz = organization.territory.tz
    now = utcnow()
    today = local_today(tz, now)
    opens, closes = today - timedelta(days=3), today + timedelta(days=11)
    hearing = services.create_hearing(
        organization,
        organizer,
        services.HearingInput(
            kind=HearingKind.PUBLIC_DISCUSSION,
            title=LANDSCAPING_TITLE,
            subject=(
                "Новая редакция Правил благоустройства: сроки уборки снега и наледи, "
                "компенсационное озеленение, требования к детским площадкам, границы "
                "прилегающих территорий и размещение летних кафе."
            ),
            territory_id=organization.territory_id,
            initiator="Глава Администрации городского округа город Уфа Республики Башкортостан",
            organizer_address=organization.address or "",
            draft_text=LANDSCAPING_DRAFT,
            exposition_place=EXPOSITION_PLACE,
            exposition_starts_on=opens,
            exposition_ends_on=closes,
            exposition_hours="понедельник — пятница с 9:00 до 18:00, перерыв с 13:00 до 14:00",
            consultations=(
                "Консультации проводят специалисты Управления по благоустройству по вторникам "
                "и четвергам с 15:00 до 17:00 на экспозиции и по телефону +7 (347) 279-05-00."
            ),
            remarks_opens_on=opens,
            remarks_closes_on=closes,
            submission_ways=(
                "в письменной форме по адресу организатора; записью в книге (журнале) учёта "
                "посетителей экспозиции"
            ),
            publication_sources=(
                "официальный сайт Администрации городского округа город Уфа (ufa.example), "
                "газета «Вечерняя Уфа»"
            ),
        ),
        # Stamped in the city's time, as every document of the platform.
        draft_pdf=_draft_pdf(LANDSCAPING_TITLE, LANDSCAPING_DRAFT, now.astimezone(tz)),
    )
    note = _pdf_of(
        "Пояснительная записка к проекту Правил благоустройства",
        [
            "Проект подготовлен в связи с изменением Федерального закона № 131-ФЗ и "
            "методических рекомендаций Минстроя России по разработке правил благоустройства.",
            "Основные изменения: сокращение срока очистки тротуаров от снега до 4 часов, "
            "компенсационное озеленение, новые требования к детским площадкам.",
        ],
        now.astimezone(tz),
    )
    services.add_material(
        hearing, organizer, "Пояснительная записка", io.BytesIO(note), "Пояснительная записка.pdf"
    )
    services.publish_notice(hearing, organizer, now=_at(today - timedelta(days=10), time(10), tz))
    # One remark is already there, from a business: the counts show on the draft at once.
    rep = _user("legal-rep-ufa")
    if rep is not None:
        remark = services.submit_remark(
            hearing,
            rep,
            text=(
                "Предлагаем допустить размещение летних веранд с 1 апреля по 31 октября: "
                "в Уфе тёплая погода держится дольше, чем предусмотрено проектом."
            ),
            kind="proposal",
            paragraph_id=_paragraph(hearing, "7.3"),
            client_token=None,
            now=_at(opens, time(11), tz),
        )
        services.moderate_remark(remark, organizer, publish=True, now=_at(opens, time(15), tz))
    return hearing


def _seed_planning(organization: Organization, organizer: User) -> Hearing:
    tz = organization.territory.tz
    now = utcnow()
    today = local_today(tz, now)
    opens, closes = today - timedelta(days=52), today - timedelta(days=32)
    meeting_day = today - timedelta(days=35)
    hearing = services.create_hearing(
        organization,
        organizer,
        services.HearingInput(
            kind=HearingKind.PUBLIC_HEARING,
            title=PLANNING_TITLE,
            subject=(
                "Размещение жилой застройки средней этажности, детского сада и поликлиники; "
                "внутриквартальный проезд и подземный паркинг; образование земельных участков."
            ),
            territory_id=organization.territory_id,
            initiator="ООО «Специализированный застройщик «Уфа-Сити»",
            organizer_address=organization.address or "",
            draft_text=PLANNING_DRAFT,
            exposition_place=EXPOSITION_PLACE,
            exposition_starts_on=opens,
            exposition_ends_on=closes,
            exposition_hours="понедельник — пятница с 9:00 до 18:00",
            consultations="По средам с 14:00 до 17:00 на экспозиции.",
            remarks_opens_on=opens,
            remarks_closes_on=closes,
            meeting_date=meeting_day,
            meeting_time=time(18, 30),
            meeting_place="г. Уфа, ул. Менделеева, д. 130, актовый зал школы № 104",
            meeting_link="https://ufa.example/live/hearing",
            publication_sources="официальный сайт Администрации городского округа город Уфа (ufa.example)",
        ),
    )
    services.publish_notice(hearing, organizer, now=_at(today - timedelta(days=60), time(10), tz))

    def platform(slug: str, number: str | None, text: str, day: date) -> Remark | None:
        user = _user(slug)
        if user is None:
            return None
        remark = services.submit_remark(
            hearing,
            user,
            text=text,
            kind="proposal",
            paragraph_id=_paragraph(hearing, number) if number else None,
            client_token=None,
            now=_at(day, time(20), tz),
        )
        services.moderate_remark(
            remark, organizer, publish=True, now=_at(day + timedelta(days=1), time(10), tz)
        )
        return remark

    answers: list[tuple[Remark | None, str, str]] = [
        (
            platform(
                "resident-confirmed-ufa",
                "1.3",
                "Предлагаю увеличить детский сад до 280 мест: в микрорайоне уже не хватает мест.",
                opens + timedelta(days=2),
            ),
            "accept",
            "Учтено: вместимость детского сада увеличена до 280 мест в доработанном проекте.",
        ),
        (
            platform(
                "resident-sterlitamak",
                "2.2",
                "Подземный паркинг — хорошо, но у подъездов нужны гостевые парковки.",
                opens + timedelta(days=5),
            ),
            "decline",
            "Гостевые стоянки предусмотрены нормативами (СП 42.13330.2016) на площадках в "
            "пределах квартала; размещение у подъездов сократит площадь озеленения дворов.",
        ),
    ]
    meeting = _at(meeting_day, time(19), tz)
    people = [
        (
            services.AttendeeInput(
                kind=ParticipantKind.PERSON,
                attendance=Attendance.IN_PERSON,
                last_name="Шарафутдинов",
                first_name="Рамиль",
                middle_name="Ильдарович",
                birth_date=date(1962, 8, 14),
                address="450071, Республика Башкортостан, г. Уфа, ул. Менделеева, д. 134, кв. 51",
                resident=True,
            ),
            "2.1",
            "Выезд на ул. Бессонова создаст заторы утром; нужен светофор на выезде.",
            "accept",
            "Учтено: в проект включено устройство светофорного объекта на пересечении "
            "проезда с ул. Бессонова.",
        ),
        (
            services.AttendeeInput(
                kind=ParticipantKind.PERSON,
                attendance=Attendance.ONLINE,
                last_name="Лаптева",
                first_name="Ольга",
                middle_name="Викторовна",
                birth_date=date(1979, 12, 3),
                address="450105, Республика Башкортостан, г. Уфа, ул. Юрия Гагарина, д. 12, кв. 8",
                resident=True,
            ),
            None,
            "Проект в целом поддерживаю: кварталу нужны детский сад и поликлиника.",
            "accept",
            "Поддержка проекта принята к сведению; проект рекомендуется к утверждению.",
        ),
    ]
    for person, number, text, decision, reason in people:
        participant: Participant = services.register_attendee(
            hearing, organizer, person, now=meeting
        )
        speech = services.record_speech(
            hearing,
            organizer,
            participant_id=participant.id,
            paragraph_id=_paragraph(hearing, number) if number else None,
            kind="remark",
            text=text,
            now=meeting,
        )
        answers.append((speech, decision, reason))
    protocol_at = _at(closes + timedelta(days=3), time(11), tz)
    services.issue_protocol(
        hearing, organizer, number=f"{hearing.id}-ПС/{closes.year}", now=protocol_at
    )
    for remark, decision, reason in answers:
        if remark is not None:
            services.set_recommendation(
                remark, organizer, decision=decision, reason=reason, now=protocol_at
            )
    services.publish_conclusion(
        hearing,
        organizer,
        text=(
            "Публичные слушания признаны состоявшимися. Рекомендовать Главе Администрации "
            "городского округа город Уфа утвердить проект планировки и проект межевания "
            "территории с учётом предложений № 1 и № 3 (увеличение вместимости детского сада, "
            "светофорный объект на выезде на ул. Бессонова)."
        ),
        now=_at(closes + timedelta(days=7), time(15), tz),
    )
    return hearing


def rewind_hearing(hearing: Hearing, days: int) -> Hearing:
    """Move the hearing's calendar (and its remarks) `days` days into the past. Development only."""
    if hearing.protocol_issued_at is not None:
        raise ValueError("the protocol is issued: the calendar is final")
    shift = timedelta(days=days)
    for column in (
        "notice_published_at",
        "exposition_starts_at",
        "exposition_ends_at",
        "remarks_open_at",
        "remarks_close_at",
        "meeting_at",
    ):
        value = getattr(hearing, column)
        if value is not None:
            setattr(hearing, column, value - shift)
    for remark in db.session.scalars(sa.select(Remark).where(Remark.hearing_id == hearing.id)):
        remark.submitted_at = remark.submitted_at - shift
        if remark.moderated_at is not None:
            remark.moderated_at = remark.moderated_at - shift
    db.session.flush()
    return hearing
