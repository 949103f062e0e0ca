"""A small region for message tests: the operator, a ЦУР, a city under a regional government,
staff in every role, two residents and a few topics with a routing rule."""

from __future__ import annotations

import itertools
import uuid
from types import SimpleNamespace

import pytest

from participation.appeals.classifier import Category, Subcategory
from participation.appeals.models import Appeal, Channel
from participation.appeals.routing import add_routing_rule
from participation.appeals.services import submit_appeal
from participation.core.organizations import OrganizationKind as K
from participation.core.territories import TerritoryLevel as L
from participation.core.users import Role
from participation.extensions import db
from tests import factories as f

_codes = itertools.count(1)


def _subcategory(category: Category, name: str, *, fast_track: bool = False, keywords: str = ""):
    n = next(_codes)
    row = Subcategory(
        category=category,
        code=f"test.sub{n}",
        name=name,
        position=n,
        fast_track=fast_track,
        keywords=keywords,
    )
    db.session.add(row)
    db.session.flush()
    return row


@pytest.fixture
def world(db_session):
    """Territories, organizations, staff and topics; attribute names say what each is."""
    w = SimpleNamespace()
    w.country = f.territory(L.COUNTRY, timezone="Europe/Moscow")
    w.region = f.territory(L.REGION, parent=w.country, name="Республика Тест")
    w.city = f.territory(L.URBAN_OKRUG, parent=w.region, name="город Тестовск")
    w.town = f.territory(L.URBAN_OKRUG, parent=w.region, name="город Соседний")

    w.operator = f.organization(K.OPERATOR, w.country, name="Оператор ПОС")
    w.government = f.organization(K.REGIONAL, w.region, name="Правительство Республики Тест")
    w.cur = f.organization(
        K.REGIONAL_CENTRE, w.region, name="ЦУР Республики Тест", parent=w.government
    )
    w.city_admin = f.organization(
        K.MUNICIPAL, w.city, name="Администрация г. Тестовска", parent=w.government
    )
    w.school = f.organization(
        K.INSTITUTION, w.city, name="Школа № 1 г. Тестовска", parent=w.city_admin
    )
    w.town_admin = f.organization(
        K.MUNICIPAL, w.town, name="Администрация г. Соседнего", parent=w.government
    )
    w.federal = f.organization(K.FEDERAL, w.country, name="Федеральное агентство")

    w.moderator = f.staff(w.operator, Role.MODERATOR, last_name="Модераторова")
    w.cur_coordinator = f.staff(w.cur, Role.COORDINATOR, last_name="Цуров")
    w.cur_curator = f.staff(w.cur, Role.CURATOR, last_name="Кураторова")
    w.cur_operator = f.staff(w.cur, Role.OPERATOR, last_name="Операторова")
    w.coordinator = f.staff(w.city_admin, Role.COORDINATOR, last_name="Координаторов")
    w.executor = f.staff(w.city_admin, Role.EXECUTOR, last_name="Исполнителев")
    w.executor2 = f.staff(w.city_admin, Role.EXECUTOR, last_name="Второй")
    w.head = f.staff(w.city_admin, Role.HEAD, last_name="Руководителев")
    w.curator = f.staff(w.city_admin, Role.CURATOR, last_name="Смотрящая")
    w.administrator = f.staff(w.city_admin, Role.ADMINISTRATOR, last_name="Админов")
    w.gov_coordinator = f.staff(w.government, Role.COORDINATOR, last_name="Правительственный")
    w.gov_executor = f.staff(w.government, Role.EXECUTOR, last_name="Министерский")
    w.gov_head = f.staff(w.government, Role.HEAD, last_name="Главный")
    w.town_coordinator = f.staff(w.town_admin, Role.COORDINATOR, last_name="Соседов")
    w.town_executor = f.staff(w.town_admin, Role.EXECUTOR, last_name="Соседний")
    w.town_head = f.staff(w.town_admin, Role.HEAD, last_name="Соседний-Главный")
    w.school_coordinator = f.staff(w.school, Role.COORDINATOR, last_name="Школьный")
    w.federal_coordinator = f.staff(w.federal, Role.COORDINATOR, last_name="Федеральный")

    w.resident = f.user(registration_territory=w.city, last_name="Жительница")
    w.other_resident = f.user(registration_territory=w.city, last_name="Сосед")

    w.roads = Category(code=f"test.cat{next(_codes)}", name="Дороги (тест)", position=1)
    w.yards = Category(code=f"test.cat{next(_codes)}", name="Дворы (тест)", position=2)
    db.session.add_all([w.roads, w.yards])
    db.session.flush()
    w.potholes = _subcategory(
        w.roads, "Ямы и выбоины (тест)", fast_track=True, keywords="яма\nвыбоина\nямы на дороге"
    )
    w.marking = _subcategory(w.roads, "Дорожная разметка (тест)", keywords="разметка\nзебра")
    w.benches = _subcategory(w.yards, "Скамейки (тест)", keywords="скамейка\nлавочка")
    w.retired = _subcategory(w.yards, "Снятая с учёта тема (тест)")
    w.retired.active = False
    add_routing_rule(w.potholes.id, w.city, w.city_admin)
    add_routing_rule(w.benches.id, w.region, w.town_admin)
    db.session.flush()
    return w


def new_key() -> str:
    return uuid.uuid4().hex


def submit(w, author=None, **kw) -> Appeal:
    """A message about a pothole in the city, as the resident sends it from the portal."""
    params = {
        "submitted_by": author or w.resident,
        "submission_key": new_key(),
        "subcategory_id": w.potholes.id,
        "text": "Большая яма на дороге у дома 5 по улице Ленина, машины объезжают по встречке.",
        "territory_id": w.city.id,
        "address": "г. Тестовск, ул. Ленина, д. 5",
        "channel": Channel.PORTAL,
        # Skips the topic suggester (its index is rebuilt for each test's new topics);
        # tests about suggestions pass suggested_subcategory_id=None.
        "suggested_subcategory_id": w.potholes.id,
        "suggestion_confidence": 0.9,
    }
    params.update(kw)
    return submit_appeal(**params).appeal
