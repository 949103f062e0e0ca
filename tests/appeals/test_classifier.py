"""The classifier: seed data, answer terms and regional fast-track, administration pages."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from participation.appeals.classifier import (
    Category,
    RegionFastTrack,
    Subcategory,
    TopicCorrection,
    answer_term,
    fast_track_subcategory_ids,
    is_fast_track,
    record_correction,
    seed_classifier,
    set_region_fast_track,
    subcategory_by_code,
)
from participation.appeals.classifier_data import CLASSIFIER
from participation.core.audit import AuditEntry
from participation.core.errors import FieldError
from participation.core.organizations import OrganizationKind
from participation.core.territories import TerritoryLevel
from participation.core.users import Role
from participation.extensions import db
from tests import factories
from tests.helpers import login_as

DOMAIN_CATEGORIES = [
    "Автомобильные дороги",
    "Благоустройство",
    "Дворы и территории общего пользования",
    "Медицина",
    "Многоквартирные дома",
    "Мусор",
    "Образование",
    "Общественный транспорт",
    "Плата за ЖКУ",
    "Связь и телевидение",
    "Социальное обслуживание",
    "Экономика и бизнес",
    "Водоснабжение",
    "Газоснабжение",
    "Информационные технологии",
    "Культура",
    "МФЦ «Мои документы»",
    "Портал госуслуг",
    "Природа и экология",
    "Строительство",
]
DOMAIN_FAST_TRACK = [
    "Светофоры",
    "Среда для инвалидов",
    "Тротуары",
    "Уборка снега",
    "Ямы и выбоины",
    "Дорожная разметка",
]


def _count(model) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def _sub(name: str) -> Subcategory:
    return db.session.scalars(sa.select(Subcategory).where(Subcategory.name == name)).one()


def _audit(action: str) -> list[AuditEntry]:
    return list(db.session.scalars(sa.select(AuditEntry).where(AuditEntry.action == action)))


# --- seed --------------------------------------------------------------------------------------


def test_seed_is_realistic_and_idempotent():
    created = seed_classifier()
    categories, subcategories = _count(Category), _count(Subcategory)
    assert categories >= 20
    assert subcategories >= 150
    assert created == categories + subcategories
    names = set(db.session.scalars(sa.select(Category.name)))
    assert set(DOMAIN_CATEGORIES) <= names
    for name in DOMAIN_FAST_TRACK:
        assert _sub(name).fast_track, name
    assert not _sub("Запись к врачу").fast_track
    assert all(_sub(s["name"]).keywords for c in CLASSIFIER for s in c["subcategories"])

    assert seed_classifier() == 0
    assert (_count(Category), _count(Subcategory)) == (categories, subcategories)


def test_reseed_keeps_administrators_edits_and_adds_what_is_missing():
    seed_classifier()
    potholes = subcategory_by_code("roads.potholes")
    potholes.name = "Ямы на дорогах"
    markings = subcategory_by_code("roads.markings")
    db.session.delete(markings)
    db.session.flush()
    assert seed_classifier() == 1
    assert subcategory_by_code("roads.potholes").name == "Ямы на дорогах"
    assert subcategory_by_code("roads.markings") is not None


# --- terms and fast-track --------------------------------------------------------------------


@pytest.fixture
def region():
    return factories.territory(TerritoryLevel.REGION, name="Республика Тест")


def test_answer_term_is_30_days_and_10_for_fast_track(region):
    seed_classifier()
    municipality = factories.territory(TerritoryLevel.URBAN_OKRUG, parent=region)
    assert answer_term(_sub("Ямы и выбоины"), region).days == 10
    assert answer_term(_sub("Ямы и выбоины"), municipality).days == 10
    assert answer_term(_sub("Ямы и выбоины"), None).days == 10
    assert answer_term(_sub("Запись к врачу"), region).days == 30


def test_term_lengths_come_from_the_configuration(app, region):
    seed_classifier()
    old = app.config.get("APPEALS_FAST_TRACK_DAYS"), app.config.get("APPEALS_TERM_DAYS")
    app.config.update(APPEALS_FAST_TRACK_DAYS=7, APPEALS_TERM_DAYS=20)
    try:
        assert answer_term(_sub("Ямы и выбоины"), region).days == 7
        assert answer_term(_sub("Запись к врачу"), region).days == 20
    finally:
        app.config.update(APPEALS_FAST_TRACK_DAYS=old[0] or 10, APPEALS_TERM_DAYS=old[1] or 30)


def test_region_override_wins_over_the_national_flag_only_in_that_region(region):
    seed_classifier()
    admin = factories.user()
    other_region = factories.territory(TerritoryLevel.REGION)
    inside = factories.territory(TerritoryLevel.SETTLEMENT, parent=region)
    doctor, potholes = _sub("Запись к врачу"), _sub("Ямы и выбоины")

    set_region_fast_track(region, doctor, True, admin)
    set_region_fast_track(region, potholes, False, admin)

    assert is_fast_track(doctor, region) and is_fast_track(doctor, inside)
    assert answer_term(doctor, inside).days == 10
    assert answer_term(potholes, region).days == 30
    assert answer_term(doctor, other_region).days == 30
    assert answer_term(potholes, other_region).days == 10
    ids = fast_track_subcategory_ids(region)
    assert doctor.id in ids and potholes.id not in ids

    set_region_fast_track(region, potholes, None, admin)  # back to the national setting
    assert answer_term(potholes, region).days == 10
    assert _count(RegionFastTrack) == 1
    assert len(_audit("classifier.region_fast_track_set")) == 3


def test_region_override_is_one_row_per_region_and_subcategory(region):
    seed_classifier()
    admin = factories.user()
    doctor = _sub("Запись к врачу")
    set_region_fast_track(region, doctor, True, admin)
    set_region_fast_track(region, doctor, False, admin)
    assert _count(RegionFastTrack) == 1
    with pytest.raises(sa.exc.IntegrityError), db.session.begin_nested():
        db.session.add(
            RegionFastTrack(territory_id=region.id, subcategory_id=doctor.id, fast_track=True)
        )


def test_override_needs_a_region():
    seed_classifier()
    city = factories.territory(TerritoryLevel.URBAN_OKRUG)
    with pytest.raises(FieldError):
        set_region_fast_track(city, _sub("Запись к врачу"), True, factories.user())


def test_record_correction_keeps_the_text_and_both_topics():
    seed_classifier()
    moderator = factories.user()
    correction = record_correction(
        "  Во дворе завал снега  ",
        _sub("Уборка снега").id,
        _sub("Уборка снега во дворе").id,
        moderator.id,
        12345,
    )
    stored = db.session.get(TopicCorrection, correction.id)
    assert stored.text == "Во дворе завал снега"
    assert stored.suggested_subcategory_id == _sub("Уборка снега").id
    assert stored.chosen_subcategory_id == _sub("Уборка снега во дворе").id
    assert (stored.user_id, stored.appeal_id) == (moderator.id, 12345)
    with pytest.raises(FieldError):
        record_correction("текст", None, 987654, None, None)


# --- administration pages --------------------------------------------------------------------


def _csrf(client, url: str) -> str:
    page = client.get(url)
    assert page.status_code == 200, page.status_code
    return re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)


@pytest.fixture
def operator_admin():
    country = factories.territory(TerritoryLevel.COUNTRY)
    operator = factories.organization(OrganizationKind.OPERATOR, territory_=country)
    return factories.staff(operator, Role.ADMINISTRATOR)


@pytest.fixture
def regional_admin(region):
    cur = factories.organization(OrganizationKind.REGIONAL_CENTRE, territory_=region)
    return factories.staff(cur, Role.ADMINISTRATOR)


def test_only_the_operators_administrators_edit_the_national_classifier(client, region):
    seed_classifier()
    category = db.session.scalars(sa.select(Category)).first()
    country = factories.territory(TerritoryLevel.COUNTRY)
    operator = factories.organization(OrganizationKind.OPERATOR, territory_=country)
    moderator = factories.staff(operator, Role.MODERATOR)
    municipal_admin = factories.staff(
        factories.organization(OrganizationKind.MUNICIPAL), Role.ADMINISTRATOR
    )
    resident = factories.user()
    urls = [
        "/admin/classifier/categories/new",
        f"/admin/classifier/categories/{category.id}",
        f"/admin/classifier/subcategories/{category.subcategories[0].id}",
    ]
    for person in (moderator, municipal_admin, resident):
        login_as(client, person)
        assert client.get("/admin/classifier/").status_code == 404
        for url in urls:
            assert client.get(url).status_code == 404, (person, url)
    # A regional administrator has only their region's page.
    cur_admin = factories.staff(
        factories.organization(OrganizationKind.REGIONAL_CENTRE, territory_=region),
        Role.ADMINISTRATOR,
    )
    login_as(client, cur_admin)
    assert client.get(urls[0]).status_code == 404
    response = client.get("/admin/classifier/")
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/admin/classifier/regions/{region.id}")


def test_operator_creates_a_category_and_a_subcategory(client, operator_admin):
    seed_classifier()
    login_as(client, operator_admin)
    assert "Автомобильные дороги" in client.get("/admin/classifier/").text
    token = _csrf(client, "/admin/classifier/categories/new")
    response = client.post(
        "/admin/classifier/categories/new",
        data={"csrf_token": token, "code": "tourism", "name": "  Туризм  "},
    )
    assert response.status_code == 302
    category = db.session.scalars(sa.select(Category).where(Category.code == "tourism")).one()
    assert category.name == "Туризм"
    url = f"/admin/classifier/categories/{category.id}/subcategories/new"
    response = client.post(
        url,
        data={
            "csrf_token": _csrf(client, url),
            "code": "tourism.routes",
            "name": "Туристические маршруты",
            "fast_track": "y",
            "keywords": "тропа\nтуристический маршрут\nнет указателей",
        },
    )
    assert response.status_code == 302
    sub = subcategory_by_code("tourism.routes")
    assert sub.fast_track and sub.keyword_list == [
        "тропа",
        "туристический маршрут",
        "нет указателей",
    ]
    assert [e.actor_id for e in _audit("classifier.category_created")] == [operator_admin.id]
    assert [e.object_id for e in _audit("classifier.subcategory_created")] == [str(sub.id)]


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"code": "", "name": "Туризм"}, "code", "Укажите код."),
        ({"code": "tourism", "name": ""}, "name", "Укажите название."),
        ({"code": "tourism", "name": "я" * 201}, "name", "Название не длиннее 200 символов."),
        ({"code": "Туризм!", "name": "Туризм"}, "code", "латинских строчных букв"),
        ({"code": "roads", "name": "Туризм"}, "code", "Код «roads» уже занят."),
        ({"code": "tourism", "name": "мусор"}, "name", "Категория «мусор» уже есть."),
    ],
)
def test_bad_category_input_is_refused_in_russian_and_nothing_is_saved(
    client, operator_admin, data, field, message
):
    seed_classifier()
    before = _count(Category)
    login_as(client, operator_admin)
    token = _csrf(client, "/admin/classifier/categories/new")
    response = client.post("/admin/classifier/categories/new", data={"csrf_token": token, **data})
    assert response.status_code == 400
    assert message in response.text
    assert f'id="{field}-error"' in response.text  # the message sits next to its field
    assert _count(Category) == before
    assert _audit("classifier.category_created") == []


def test_double_submitted_category_form_creates_one_category(client, operator_admin):
    seed_classifier()
    login_as(client, operator_admin)
    token = _csrf(client, "/admin/classifier/categories/new")
    data = {"csrf_token": token, "code": "tourism", "name": "Туризм"}
    assert client.post("/admin/classifier/categories/new", data=data).status_code == 302
    second = client.post("/admin/classifier/categories/new", data=data)
    assert second.status_code == 400
    assert "уже занят" in second.text
    assert _count(sa.select(Category).where(Category.code == "tourism").subquery()) == 1


def test_bad_keywords_leave_the_subcategory_unchanged(client, operator_admin):
    seed_classifier()
    sub = _sub("Ямы и выбоины")
    name, keywords = sub.name, sub.keywords
    login_as(client, operator_admin)
    url = f"/admin/classifier/subcategories/{sub.id}"
    token = _csrf(client, url)
    response = client.post(
        url, data={"csrf_token": token, "name": "Ямы", "keywords": "яма\n" + "о" * 150}
    )
    assert response.status_code == 400
    assert "слишком длинная" in response.text
    db.session.expire_all()
    assert (sub.name, sub.keywords) == (name, keywords)
    assert _audit("classifier.subcategory_updated") == []


def test_subcategory_name_must_be_unique_within_its_category(client, operator_admin):
    seed_classifier()
    sub = _sub("Ямы и выбоины")
    login_as(client, operator_admin)
    url = f"/admin/classifier/subcategories/{sub.id}"
    response = client.post(
        url, data={"csrf_token": _csrf(client, url), "name": "светофоры", "keywords": "яма"}
    )
    assert response.status_code == 400
    assert "В этой категории уже есть подкатегория «светофоры»." in response.text
    db.session.expire_all()
    assert sub.name == "Ямы и выбоины"


def test_operator_renames_toggles_fast_track_and_deactivates(client, operator_admin, region):
    seed_classifier()
    sub = _sub("Запись к врачу")
    login_as(client, operator_admin)
    url = f"/admin/classifier/subcategories/{sub.id}"
    token = _csrf(client, url)
    response = client.post(
        url, data={"csrf_token": token, "name": "Запись на приём к врачу", "keywords": "талон"}
    )
    assert response.status_code == 302
    assert (
        client.post(f"{url}/fast-track", data={"csrf_token": token, "value": "1"}).status_code
        == 302
    )
    assert client.post(f"{url}/active", data={"csrf_token": token, "value": "0"}).status_code == 302
    bad = client.post(f"{url}/active", data={"csrf_token": token, "value": "maybe"})
    assert bad.status_code == 302
    db.session.expire_all()
    assert sub.name == "Запись на приём к врачу" and sub.keywords == "талон"
    assert sub.fast_track and not sub.active
    assert answer_term(sub, region).days == 10
    for action in (
        "classifier.subcategory_updated",
        "classifier.fast_track_set",
        "classifier.subcategory_deactivated",
    ):
        assert [e.actor_id for e in _audit(action)] == [operator_admin.id], action

    category = sub.category
    curl = f"/admin/classifier/categories/{category.id}"
    assert client.post(f"{curl}/rename", data={"csrf_token": token, "name": ""}).status_code == 400
    assert (
        client.post(
            f"{curl}/rename", data={"csrf_token": token, "name": "Здравоохранение"}
        ).status_code
        == 302
    )
    assert (
        client.post(f"{curl}/active", data={"csrf_token": token, "value": "0"}).status_code == 302
    )
    db.session.expire_all()
    assert category.name == "Здравоохранение" and not category.active
    assert len(_audit("classifier.category_renamed")) == 1
    assert len(_audit("classifier.category_deactivated")) == 1


def test_regional_administrator_sets_the_regions_fast_track(client, regional_admin, region):
    seed_classifier()
    doctor = _sub("Запись к врачу")
    login_as(client, regional_admin)
    page = client.get(f"/admin/classifier/regions/{region.id}")
    assert page.status_code == 200 and "Запись к врачу" in page.text
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    url = f"/admin/classifier/regions/{region.id}/subcategories/{doctor.id}"
    assert client.post(url, data={"csrf_token": token, "mode": "on"}).status_code == 302
    assert answer_term(doctor, region).days == 10
    bad = client.post(url, data={"csrf_token": token, "mode": "always"})
    assert bad.status_code == 400 and "Выберите срок из списка." in bad.text
    assert answer_term(doctor, region).days == 10
    entry = _audit("classifier.region_fast_track_set")
    assert [(e.actor_id, e.details["territory_id"]) for e in entry] == [
        (regional_admin.id, region.id)
    ]
    # Another region, and the national pages, are not theirs.
    other = factories.territory(TerritoryLevel.REGION)
    assert client.get(f"/admin/classifier/regions/{other.id}").status_code == 404
    other_url = f"/admin/classifier/regions/{other.id}/subcategories/{doctor.id}"
    assert client.post(other_url, data={"csrf_token": token, "mode": "on"}).status_code == 404
    assert answer_term(doctor, other).days == 30
    missing = f"/admin/classifier/regions/{region.id}/subcategories/987654"
    assert client.post(missing, data={"csrf_token": token, "mode": "on"}).status_code == 404


def test_municipal_administrator_cannot_set_region_fast_track(client, region):
    seed_classifier()
    city = factories.territory(TerritoryLevel.URBAN_OKRUG, parent=region)
    admin = factories.staff(factories.organization(territory_=city), Role.ADMINISTRATOR)
    login_as(client, admin)
    assert client.get(f"/admin/classifier/regions/{region.id}").status_code == 404
