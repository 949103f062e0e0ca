"""Fixtures of hearings: a region with two municipalities, an organizer, residents, a draft."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Any

import pytest
import time_machine

from participation.core.organizations import Organization
from participation.core.territories import Territory, TerritoryLevel
from participation.core.users import AccountLevel, Role, User, UserKind
from participation.hearings import services
from participation.hearings.models import Hearing, HearingKind
from tests import factories

TZ = "Asia/Yekaterinburg"  # UTC+5, no daylight saving

DRAFT = """Раздел 1. Общие положения
1.1. Настоящие Правила устанавливают требования к благоустройству территории.
1.2. Правила обязательны для всех лиц на территории городского округа.
Раздел 2. Содержание территорий
2.1. Уборка территорий общего пользования проводится ежедневно.
2.2. Снег с тротуаров убирается до 8:00.
"""

# The calendar of the standard discussion (local days in Asia/Yekaterinburg).
NOTICE_AT = datetime(2026, 6, 1, 5, 0, tzinfo=UTC)  # 10:00 local
OPENS_ON = date(2026, 6, 8)
CLOSES_ON = date(2026, 6, 21)
MEETING_ON = date(2026, 6, 19)
MEETING_TIME = time(18, 0)


def local(day: date, at: time = time(12, 0)) -> datetime:
    """A moment given as local wall-clock time in the test territory, as UTC."""
    from zoneinfo import ZoneInfo

    return datetime.combine(day, at, tzinfo=ZoneInfo(TZ)).astimezone(UTC)


def travel(moment: datetime):
    return time_machine.travel(moment, tick=False)


@dataclass
class World:
    region: Territory
    ufa: Territory
    sterlitamak: Territory
    kazan: Territory
    organization: Organization
    organizer: User
    resident: User  # confirmed, Уфа
    resident2: User  # confirmed, Уфа
    outsider: User  # confirmed, Стерлитамак (same region, another municipality)
    kazan_user: User  # confirmed, another region
    simplified: User  # simplified account, Уфа
    legal_rep: User  # legal entity, Уфа
    executor: User  # staff of the organizer without the right to run hearings


def _resident(territory: Territory, address: str, **kw: Any) -> User:
    return factories.user(registration_territory=territory, registration_address=address, **kw)


@pytest.fixture
def world(db_session) -> World:
    country = factories.territory(TerritoryLevel.COUNTRY, timezone="Europe/Moscow")
    region = factories.territory(
        TerritoryLevel.REGION, parent=country, name="Республика Башкортостан", timezone=TZ
    )
    other_region = factories.territory(
        TerritoryLevel.REGION, parent=country, name="Республика Татарстан", timezone="Europe/Moscow"
    )
    ufa = factories.territory(parent=region, name="городской округ город Уфа", timezone=TZ)
    sterlitamak = factories.territory(
        parent=region, name="городской округ город Стерлитамак", timezone=TZ
    )
    kazan = factories.territory(
        parent=other_region, name="городской округ город Казань", timezone="Europe/Moscow"
    )
    organization = factories.organization(
        territory_=ufa,
        name="Администрация городского округа город Уфа",
        address="450098, г. Уфа, пр. Октября, д. 120",
    )
    return World(
        region=region,
        ufa=ufa,
        sterlitamak=sterlitamak,
        kazan=kazan,
        organization=organization,
        organizer=factories.staff(
            organization, Role.AUTHORIZED, last_name="Валиев", first_name="Тимур"
        ),
        resident=_resident(
            ufa,
            "450077, г. Уфа, ул. Ленина, д. 24, кв. 15",
            last_name="Иванова",
            first_name="Мария",
            middle_name="Петровна",
            birth_date=date(1988, 3, 17),
        ),
        resident2=_resident(
            ufa,
            "450092, г. Уфа, ул. Мингажева, д. 107, кв. 42",
            last_name="Сидоров",
            first_name="Павел",
            middle_name="Николаевич",
            birth_date=date(1979, 11, 2),
        ),
        outsider=_resident(
            sterlitamak,
            "453124, г. Стерлитамак, ул. Коммунистическая, д. 61, кв. 12",
            last_name="Григорьев",
            first_name="Николай",
            middle_name="Владимирович",
            birth_date=date(1970, 1, 9),
        ),
        kazan_user=_resident(
            kazan, "420111, г. Казань, ул. Баумана, д. 19, кв. 5", last_name="Хасанова"
        ),
        simplified=_resident(
            ufa, "450105, г. Уфа, ул. Гагарина, д. 41", level=AccountLevel.SIMPLIFIED
        ),
        legal_rep=_resident(
            ufa,
            "450059, г. Уфа, ул. Рихарда Зорге, д. 9",
            kind=UserKind.LEGAL_REP,
            last_name="Фёдоров",
            first_name="Игорь",
            legal_entity_name="ООО «Ромашка»",
            legal_entity_ogrn="1150280012343",
        ),
        executor=factories.staff(organization, Role.EXECUTOR),
    )


def hearing_input(world: World, **overrides: Any) -> services.HearingInput:
    values: dict[str, Any] = {
        "kind": HearingKind.PUBLIC_DISCUSSION,
        "title": "Проект Правил благоустройства территории городского округа город Уфа",
        "subject": "Требования к содержанию и уборке территорий.",
        "territory_id": world.ufa.id,
        "initiator": "Администрация городского округа город Уфа",
        "organizer_address": "450098, г. Уфа, пр. Октября, д. 120",
        "draft_text": DRAFT,
        "exposition_place": "г. Уфа, пр. Октября, д. 120, холл 1 этажа",
        "exposition_starts_on": OPENS_ON,
        "exposition_ends_on": CLOSES_ON,
        "exposition_hours": "пн–пт с 9:00 до 18:00",
        "consultations": "по средам с 15:00 до 17:00, каб. 101",
        "remarks_opens_on": OPENS_ON,
        "remarks_closes_on": CLOSES_ON,
        "publication_sources": "официальный сайт Администрации ufa.example",
    }
    if overrides.get("kind") == HearingKind.PUBLIC_HEARING:
        values.update(
            meeting_date=MEETING_ON,
            meeting_time=MEETING_TIME,
            meeting_place="Дом культуры, ул. Ленина, д. 1",
        )
    values.update(overrides)
    return services.HearingInput(**values)


@pytest.fixture
def make_hearing(world: World):
    """Create (and by default publish on NOTICE_AT) a hearing of the world's organizer."""

    def _make(publish: bool = True, **overrides: Any) -> Hearing:
        hearing = services.create_hearing(
            world.organization, world.organizer, hearing_input(world, **overrides)
        )
        if publish:
            services.publish_notice(hearing, world.organizer, now=NOTICE_AT)
        return hearing

    return _make


@pytest.fixture
def discussion(make_hearing) -> Hearing:
    return make_hearing()


def paragraph(hearing: Hearing, number: str):
    import sqlalchemy as sa

    from participation.extensions import db
    from participation.hearings.models import DraftParagraph

    return db.session.scalar(
        sa.select(DraftParagraph).where(
            DraftParagraph.hearing_id == hearing.id, DraftParagraph.number == number
        )
    )
