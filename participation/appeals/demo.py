"""Demo routing rules and a handful of messages in different states (idempotent).

Called from participation.demo.seed.seed_demo after the territories, organizations and people
exist. Messages are made through the real services by the demo staff, so every one has its
history; a few are dated back so that the inbox shows countdowns, an overdue message and a
coordination deadline.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import sqlalchemy as sa

from participation.appeals import services
from participation.appeals.classifier import Subcategory, seed_classifier
from participation.appeals.models import (
    Appeal,
    AppealAnswer,
    AppealEvent,
    AppealHandoff,
    AppealRating,
    RoutingRule,
)
from participation.appeals.routing import add_routing_rule
from participation.core.moderation import RejectionReason
from participation.core.organizations import Organization
from participation.core.territories import Territory
from participation.core.users import User
from participation.demo import data
from participation.extensions import db

# (subcategory codes, territory OKTMO, organization slug)
ROUTING = (
    (
        (
            "roads.potholes",
            "roads.markings",
            "roads.traffic_lights",
            "roads.sidewalks",
            "roads.snow",
            "roads.signs",
            "roads.crossings",
            "roads.speed_bumps",
            "roads.road_repair",
        ),
        data.UFA,
        "ufa-admin",
    ),
    (
        ("roads.potholes", "roads.road_repair", "roads.bridges", "roads.signs"),
        data.BASHKORTOSTAN,
        "rb-mintrans",
    ),
    (
        (
            "yards.yard_cleaning",
            "yards.yard_snow",
            "yards.playgrounds",
            "yards.yard_repair",
            "yards.yard_lighting",
            "improvement.street_lighting",
            "improvement.parks",
            "improvement.trees",
        ),
        data.UFA,
        "ufa-admin",
    ),
    (
        (
            "mkd.roof",
            "mkd.entrance",
            "mkd.elevators",
            "mkd.basement",
            "mkd.management_company",
            "mkd.intercom",
        ),
        data.UFA,
        "ufa-uk-zhilservis",
    ),
    (
        (
            "health.appointments",
            "health.doctors_shortage",
            "health.medicines",
            "health.ambulance",
            "health.clinic_work",
        ),
        data.BASHKORTOSTAN,
        "rb-minzdrav",
    ),
    (
        (
            "education.kindergarten_queue",
            "education.school_enrollment",
            "education.school_meals",
            "education.school_buildings",
        ),
        data.UFA,
        "ufa-education",
    ),
    (
        ("ecology.air", "ecology.water_bodies", "ecology.burning"),
        data.BASHKORTOSTAN,
        "rb-minecology",
    ),
    (("mfc.mfc_queues", "mfc.mfc_staff", "mfc.mfc_schedule"), data.BASHKORTOSTAN, "rb-mfc"),
    (("thanks.organization",), data.UFA, "ufa-admin"),
    (("water.no_water", "heating.no_heating", "waste.collection"), data.BASHKORTOSTAN, "rb-mingkh"),
)


def _organizations() -> dict[str, Organization]:
    names = {r["name"]: r["slug"] for r in data.ORGANIZATIONS}
    rows = db.session.scalars(sa.select(Organization).where(Organization.name.in_(names)))
    return {names[o.name]: o for o in rows}


def _people() -> dict[str, User]:
    oids = {p["esia_oid"]: slug for slug, p in data.PERSONAS.items()}
    rows = db.session.scalars(sa.select(User).where(User.esia_oid.in_(oids)))
    return {oids[u.esia_oid]: u for u in rows}


def _seed_routing(orgs: dict[str, Organization]) -> int:
    territories = {
        t.oktmo: t
        for t in db.session.scalars(
            sa.select(Territory).where(Territory.oktmo.in_([r[1] for r in ROUTING]))
        )
    }
    subs = {s.code: s for s in db.session.scalars(sa.select(Subcategory))}
    existing = set(
        db.session.execute(sa.select(RoutingRule.subcategory_id, RoutingRule.territory_id)).all()
    )
    created = 0
    for codes, oktmo, slug in ROUTING:
        territory = territories.get(oktmo)
        organization = orgs.get(slug)
        if territory is None or organization is None:
            continue
        for code in codes:
            sub = subs.get(code)
            if sub is None or (sub.id, territory.id) in existing:
                continue
            add_routing_rule(sub.id, territory, organization)
            existing.add((sub.id, territory.id))
            created += 1
    return created


_DATED = (
    (AppealEvent, ("at",)),
    (AppealHandoff, ("at",)),
    (AppealAnswer, ("created_at", "decided_at")),
    (AppealRating, ("created_at",)),
)


def _age(appeal: Appeal, days: float) -> None:
    """Date a demo message back: as if it had been sent `days` ago."""
    shift = timedelta(days=days)
    for name in (
        "registered_at",
        "answer_due_at",
        "coordination_due_at",
        "original_answer_due_at",
        "postponed_until",
        "answered_at",
        "closed_at",
    ):
        value = getattr(appeal, name)
        if value is not None:
            setattr(appeal, name, value - shift)
    for model, columns in _DATED:
        for row in db.session.scalars(sa.select(model).where(model.appeal_id == appeal.id)):
            for name in columns:
                value = getattr(row, name)
                if value is not None:
                    setattr(row, name, value - shift)
    db.session.flush()


# key, author slug, subcategory code, text, address, how far it goes, days ago
MESSAGES: tuple[tuple[str, str, str, str, str, str, float], ...] = (
    (
        "demo-appeal-0001",
        "resident-confirmed-ufa",
        "roads.potholes",
        "На улице Менделеева у дома 130 на проезжей части большая яма, машины объезжают её "
        "по встречной полосе. Прошу заделать.",
        "г. Уфа, ул. Менделеева, д. 130",
        "moderation",
        0.1,
    ),
    (
        "demo-appeal-0002",
        "resident-standard-ufa",
        "roads.traffic_lights",
        "На перекрёстке проспекта Октября и улицы Комсомольской не работает светофор для "
        "пешеходов, переходить опасно.",
        "г. Уфа, пр. Октября / ул. Комсомольская",
        "coordination",
        1.5,
    ),
    (
        "demo-appeal-0003",
        "resident-confirmed-ufa",
        "yards.yard_snow",
        "Двор дома 24 по улице Ленина не чистят от снега уже неделю, не пройти к подъезду.",
        "г. Уфа, ул. Ленина, д. 24",
        "in_work",
        12,
    ),
    (
        "demo-appeal-0004",
        "resident-standard-ufa",
        "mkd.roof",
        "Протекает крыша над последним этажом, в квартире 42 течёт с потолка после дождя.",
        "г. Уфа, ул. Мингажева, д. 107",
        "approval",
        4,
    ),
    (
        "demo-appeal-0005",
        "resident-confirmed-ufa",
        "health.appointments",
        "В поликлинике № 2 невозможно записаться к терапевту через Госуслуги: нет свободных "
        "талонов на две недели вперёд.",
        "г. Уфа, ул. Менделеева, д. 136",
        "answered",
        6,
    ),
    (
        "demo-appeal-0006",
        "resident-standard-ufa",
        "roads.signs",
        "У школы № 45 упал дорожный знак «Дети», лежит на тротуаре.",
        "г. Уфа, ул. Гагарина, д. 41",
        "closed",
        9,
    ),
    (
        "demo-appeal-0007",
        "resident-standard-ufa",
        "roads.markings",
        "Нет разметки на улице Бакалинской, а ещё во дворе не вывозят мусор и в подъезде "
        "не горит свет.",
        "г. Уфа, ул. Бакалинская",
        "rejected",
        2,
    ),
    (
        "demo-appeal-0008",
        "resident-confirmed-ufa",
        "roads.road_repair",
        "Дорога по улице Юрия Гагарина разбита по всей длине, нужен капитальный ремонт "
        "покрытия, а не ямочный.",
        "г. Уфа, ул. Юрия Гагарина",
        "postponed",
        7,
    ),
    (
        "demo-appeal-0009",
        "resident-standard-ufa",
        "roads.potholes",
        "Глубокая яма на проезжей части у остановки «Улица Менделеева», колёса бьются, "
        "вечером её не видно.",
        "г. Уфа, ул. Менделеева, остановка",
        "in_work",
        1,
    ),
    (
        # A thanks: with the executor for 40 days, yet never overdue (no answer is required).
        "demo-appeal-0010",
        "resident-standard-ufa",
        "thanks.organization",
        "Спасибо администрации за новую детскую площадку во дворе дома 12 по улице Пушкина: "
        "дети теперь гуляют рядом с домом.",
        "г. Уфа, ул. Пушкина, д. 12",
        "in_work",
        40,
    ),
)
# Points on the map (WGS 84) of the messages that have one: a neighbour's pothole yesterday,
# for «Похожие сообщения рядом» when Иванова puts hers on the map next to it.
POINTS = {"demo-appeal-0009": (Decimal("54.724900"), Decimal("56.013600"))}

_STEPS = (
    "moderation",
    "coordination",
    "assignment",
    "in_work",
    "approval",
    "answered",
    "closed",
)


def _advance(appeal: Appeal, goal: str, people: dict[str, User]) -> None:
    holder_people = {
        "ufa-admin": ("ufa-coordinator", "ufa-executor", "ufa-head"),
        "ufa-uk-zhilservis": ("uk-coordinator", "uk-coordinator", "uk-head"),
        "rb-minzdrav": ("minzdrav-coordinator", "minzdrav-executor", "minzdrav-head"),
    }
    moderator, cur = people["pos-moderator"], people["cur-coordinator"]
    if goal == "rejected":
        services.reject_appeal(appeal, moderator, RejectionReason.SEVERAL_PROBLEMS)
        return
    target = _STEPS.index("in_work" if goal == "postponed" else goal)
    if target >= 1:
        services.accept_appeal(appeal, moderator)
    if target >= 2:
        services.confirm_addressee(appeal, cur)
    slugs = holder_people.get(_slug_of(appeal.executor_organization))
    if slugs is None:
        return
    coordinator, executor, head = (people[s] for s in slugs)
    if target >= 3:
        services.assign_executor(appeal, coordinator, executor.id)
    if goal == "postponed":
        local_due = appeal.answer_due_at.astimezone(appeal.territory.tz).date()
        services.postpone_appeal(
            appeal,
            executor,
            local_due + timedelta(days=20),
            "Ремонт включён в план дорожных работ на весну; раньше подрядчик не выйдет.",
        )
        return
    if target >= 4:
        services.submit_draft(
            appeal,
            executor,
            "Проблема устранена: работы выполнены, результат проверен на месте. "
            "Спасибо за сообщение.",
        )
    if target >= 5:
        services.approve_answer(appeal, head)
    if target >= 6:
        services.rate_appeal(appeal, appeal.author, 5, "Спасибо, быстро")


def _slug_of(organization: Organization) -> str | None:
    return next((r["slug"] for r in data.ORGANIZATIONS if r["name"] == organization.name), None)


def seed_appeals_demo() -> dict[str, Any]:
    """Classifier, routing rules and demo messages; a second run adds nothing."""
    counts: dict[str, Any] = {"classifier": seed_classifier()}
    orgs = _organizations()
    people = _people()
    counts["routing_rules"] = _seed_routing(orgs)
    territory = db.session.scalar(sa.select(Territory).where(Territory.oktmo == data.UFA))
    subs = {s.code: s for s in db.session.scalars(sa.select(Subcategory))}
    created = 0
    for key, author_slug, code, text, address, goal, days_ago in MESSAGES:
        author = people.get(author_slug)
        if author is None or code not in subs or territory is None:
            continue
        if services.find_submission(author, key) is not None:
            continue
        appeal = services.submit_appeal(
            submitted_by=author,
            submission_key=key,
            subcategory_id=subs[code].id,
            text=text,
            territory_id=territory.id,
            address=address,
            latitude=POINTS.get(key, (None, None))[0],
            longitude=POINTS.get(key, (None, None))[1],
            suggested_subcategory_id=subs[code].id,
            suggestion_confidence=0.8,
        ).appeal
        _advance(appeal, goal, people)
        _age(appeal, days_ago)
        created += 1
    counts["appeals"] = created
    db.session.flush()
    return counts
