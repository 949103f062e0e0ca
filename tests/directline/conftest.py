"""A small region for direct-line tests: the operator, a host government, a ЦУР, a city, residents.

The region's clock is Asia/Vladivostok (UTC+10), not the app's default zone, so a time computed
in the wrong zone shows up as a failed window test.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
import time_machine

from participation.appeals.classifier import Category, Subcategory
from participation.appeals.routing import add_routing_rule
from participation.core.organizations import OrganizationKind as K
from participation.core.territories import TerritoryLevel as L
from participation.core.users import AccountLevel, Role
from participation.directline import services
from participation.directline.models import DirectLine, Question
from participation.extensions import db
from tests import factories as f

TZ = "Asia/Vladivostok"  # UTC+10, no daylight saving


def local(*args: int) -> datetime:
    """A wall-clock moment in the test region, e.g. local(2026, 12, 10, 12, 0), as UTC."""
    return datetime(*args, tzinfo=ZoneInfo(TZ)).astimezone(UTC)


def naive(*args: int) -> datetime:
    """The same moment as the event form takes it: wall clock, no zone."""
    return datetime(*args)


def travel(moment: datetime):
    return time_machine.travel(moment, tick=False)


# The standard schedule (local time): questions from 1 Dec 09:00 until the broadcast ends;
# the broadcast on 10 Dec from 12:00 to 14:00.
OPENS = naive(2026, 12, 1, 9, 0)
STARTS = naive(2026, 12, 10, 12, 0)
ENDS = naive(2026, 12, 10, 14, 0)
COLLECTING = local(2026, 12, 5, 10, 0)
LIVE = local(2026, 12, 10, 12, 30)
AFTER = local(2026, 12, 10, 15, 0)


def ensure_preset_subcategories() -> dict[str, Subcategory]:
    """The message subcategories the preset direct-line topics point at (made if missing)."""
    found = {
        s.code: s
        for s in db.session.scalars(
            sa.select(Subcategory).where(
                Subcategory.code.in_([code for _k, _l, code in services.PRESET_CATEGORIES])
            )
        )
    }
    categories = {c.code: c for c in db.session.scalars(sa.select(Category))}
    for _key, label, code in services.PRESET_CATEGORIES:
        if code in found:
            continue
        prefix = code.split(".")[0]
        category = categories.get(prefix)
        if category is None:
            category = Category(code=prefix, name=f"Категория {prefix}", position=len(categories))
            db.session.add(category)
            categories[prefix] = category
        found[code] = Subcategory(category=category, code=code, name=f"{label} (тема)")
        db.session.add(found[code])
    db.session.flush()
    return found


def new_key() -> str:
    return uuid.uuid4().hex


@pytest.fixture
def world(db_session):
    w = SimpleNamespace()
    w.country = f.territory(L.COUNTRY, timezone="Europe/Moscow")
    w.region = f.territory(L.REGION, parent=w.country, name="Приморская Республика", timezone=TZ)
    w.city = f.territory(L.URBAN_OKRUG, parent=w.region, name="город Тестовск", timezone=TZ)
    w.town = f.territory(L.URBAN_OKRUG, parent=w.region, name="город Соседний", timezone=TZ)
    w.other_region = f.territory(L.REGION, parent=w.country, name="Другая область")
    w.other_city = f.territory(L.URBAN_OKRUG, parent=w.other_region, name="город Чужой")

    w.operator = f.organization(K.OPERATOR, w.country, name="Оператор ПОС")
    w.government = f.organization(K.REGIONAL, w.region, name="Правительство Республики")
    w.cur = f.organization(K.REGIONAL_CENTRE, w.region, name="ЦУР Республики")
    w.city_admin = f.organization(
        K.MUNICIPAL, w.city, name="Администрация г. Тестовска", parent=w.government
    )
    w.other_gov = f.organization(K.REGIONAL, w.other_region, name="Правительство области")

    w.moderator = f.staff(w.operator, Role.MODERATOR, last_name="Модераторова")
    w.host_moderator = f.staff(w.government, Role.MODERATOR, last_name="Пресс-секретарь")
    w.host_authorized = f.staff(w.government, Role.AUTHORIZED, last_name="Уполномоченный")
    w.host_executor = f.staff(w.government, Role.EXECUTOR, last_name="Исполнитель")
    w.foreign_moderator = f.staff(w.other_gov, Role.MODERATOR, last_name="Чужой")
    w.appeals_moderator = w.moderator

    w.resident = f.user(registration_territory=w.city, last_name="Жительница")
    w.resident2 = f.user(registration_territory=w.city, last_name="Сосед")
    w.resident3 = f.user(registration_territory=w.town, last_name="Третий")
    w.simplified = f.user(
        AccountLevel.SIMPLIFIED, registration_territory=w.city, last_name="Упрощённая"
    )
    w.outsider = f.user(registration_territory=w.other_city, last_name="Приезжий")

    w.subs = ensure_preset_subcategories()
    add_routing_rule(w.subs["roads.road_repair"].id, w.city, w.city_admin)
    return w


def make_event(w, **overrides) -> DirectLine:
    """The standard direct line of the region's government (local times above)."""
    host = overrides.pop("host", w.government)
    fields = {
        "title": "Прямая линия с Главой Республики",
        "speaker": "Глава Республики",
        "description": None,
        "questions_open_at": OPENS,
        "questions_close_at": ENDS,
        "starts_at": STARTS,
        "ends_at": ENDS,
        "stream_url": "https://tv.example/live",
        "recording_url": None,
        "categories": ["roads", "health", "housing"],
        "min_account_level": AccountLevel.STANDARD,
        "territory_id": w.region.id,
    }
    fields.update(overrides)
    return services.create_event(host, w.host_authorized, services.EventInput(**fields))


def category(event: DirectLine, key: str = "roads"):
    label = str(services.PRESETS[key][0])
    return next(c for c in event.categories if c.name == label)


def ask(event: DirectLine, author, text: str | None = None, key: str = "roads", **kw) -> Question:
    params = {
        "submission_key": new_key(),
        "category_id": category(event, key).id,
        "text": text if text is not None else "Когда отремонтируют дорогу на улице Ленина? Ямы.",
        "territory_id": author.registration_territory_id,
        "address": None,
    }
    params.update(kw)
    return services.submit_question(event, author, **params).question


def published(event, author, moderator, text=None, key="roads", **kw) -> Question:
    question = ask(event, author, text, key, **kw)
    return services.publish_question(question, moderator)


def at(moment: datetime, delta_minutes: int = 0) -> datetime:
    return moment + timedelta(minutes=delta_minutes)
