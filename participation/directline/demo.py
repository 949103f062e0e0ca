"""A demo direct line of the Глава Республики Башкортостан with questions in several states.

Called from participation.demo.seed.seed_demo once territories, organizations, people and the
classifier exist; a second run finds the event by its title and host and adds nothing. Questions
are made through the real services (window, eligibility, moderation), by the demo residents and
the platform's moderator. The event is collecting questions when seeded, its broadcast a day
ahead: the moderator can start it at once («Начать эфир сейчас»), run it and finish it.
"""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from participation.core.db import utcnow
from participation.core.moderation import RejectionReason
from participation.core.organizations import Organization
from participation.core.territories import Territory
from participation.core.users import AccountLevel, User
from participation.demo import data
from participation.directline import services
from participation.directline.models import DirectLine, Question
from participation.extensions import db

TITLE = "Прямая линия с Главой Республики Башкортостан"
HOST = "rb-government"
MODERATOR = "pos-moderator"

# key, author slug, category key, territory OKTMO, address, text, what happens, supporters
QUESTIONS: tuple[tuple[str, str, str, str, str | None, str, str, tuple[str, ...]], ...] = (
    (
        "directline-demo-0001",
        "resident-confirmed-ufa",
        "roads",
        data.UFA,
        "г. Уфа, ул. Менделеева",
        "Когда отремонтируют улицу Менделеева в Уфе? Каждую весну асфальт разбит, ямы по всей "
        "длине, машины бьют колёса.",
        "publish",
        ("resident-standard-ufa", "resident-sterlitamak", "resident-15-ufa"),
    ),
    (
        "directline-demo-0002",
        "resident-standard-ufa",
        "roads",
        data.UFA,
        "г. Уфа, ул. Менделеева, д. 130",
        "Будет ли капитальный ремонт улицы Менделеева? Дорога в ямах, ремонтируют заплатками, "
        "а через месяц всё снова разбито.",
        "publish",
        ("resident-sterlitamak", "resident-13-ufa"),
    ),
    (
        "directline-demo-0003",
        "resident-sterlitamak",
        "health",
        data.STERLITAMAK,
        None,
        "В поликлинике № 2 Стерлитамака запись к терапевту только через две недели. Когда в "
        "городе появятся новые врачи?",
        "shortlist",
        ("resident-confirmed-ufa",),
    ),
    (
        "directline-demo-0004",
        "resident-confirmed-ufa",
        "housing",
        data.UFA,
        "г. Уфа, ул. Ленина, д. 24",
        "Управляющая компания третий месяц не отвечает на заявки о протекающей крыше. Кто "
        "должен заставить её работать?",
        "shortlist",
        ("resident-standard-ufa",),
    ),
    (
        "directline-demo-0005",
        "resident-standard-ufa",
        "transport",
        data.UFA,
        None,
        "Почему в Уфе сократили число автобусов на маршруте № 226? Утром в них не войти, "
        "интервал больше получаса.",
        "publish",
        (),
    ),
    (
        "directline-demo-0006",
        "resident-sterlitamak",
        "education",
        data.STERLITAMAK,
        "г. Стерлитамак, микрорайон Западный",
        "Когда построят школу в микрорайоне Западный в Стерлитамаке? Дети ездят учиться через "
        "весь город.",
        "new",
        (),
    ),
    (
        "directline-demo-0007",
        "resident-standard-ufa",
        "yards",
        data.UFA,
        None,
        "Сосед Петров из квартиры 5, телефон 8-917-000-00-00, ставит машину на газон, "
        "разберитесь с ним.",
        "reject",
        (),
    ),
    (
        "directline-demo-0008",
        "resident-confirmed-ufa",
        "ecology",
        data.UFA,
        None,
        "Что делается, чтобы в Уфе стало меньше выбросов от заводов? Летом по вечерам трудно "
        "дышать в северной части города.",
        "new",
        (),
    ),
)


def _organization(slug: str) -> Organization | None:
    name = next(r["name"] for r in data.ORGANIZATIONS if r["slug"] == slug)
    return db.session.scalar(sa.select(Organization).where(Organization.name == name))


def _people() -> dict[str, User]:
    oids = {p["esia_oid"]: slug for slug, p in data.PERSONAS.items()}
    rows = db.session.scalars(sa.select(User).where(User.esia_oid.in_(oids)))
    return {oids[u.esia_oid]: u for u in rows}


def seed_directline_demo() -> DirectLine | None:
    """Add the demo direct line and its questions unless it is already there."""
    host = _organization(HOST)
    if host is None:
        return None
    existing = db.session.scalar(
        sa.select(DirectLine).where(
            DirectLine.title == TITLE, DirectLine.host_organization_id == host.id
        )
    )
    if existing is not None:
        return existing
    people = _people()
    moderator = people[MODERATOR]
    region = db.session.scalar(sa.select(Territory).where(Territory.oktmo == data.BASHKORTOSTAN))
    now = utcnow().replace(minute=0, second=0, microsecond=0)
    starts = now + timedelta(days=1, hours=1)  # tomorrow, on the hour
    tz = host.territory.tz
    event = services.create_event(
        host,
        moderator,
        services.EventInput(
            title=TITLE,
            speaker="Глава Республики Башкортостан",
            description=(
                "Ежегодная прямая линия: Глава Республики отвечает на вопросы жителей в эфире "
                "телеканала «Башкортостан». Вопросы, которые не прозвучат в эфире, станут "
                "обращениями: на каждый ответят профильные ведомства."
            ),
            questions_open_at=(now - timedelta(days=3)).astimezone(tz),
            questions_close_at=(starts + timedelta(hours=2)).astimezone(tz),
            starts_at=starts.astimezone(tz),
            ends_at=(starts + timedelta(hours=2)).astimezone(tz),
            stream_url="https://tv.bashkortostan.example/live",
            recording_url=None,
            categories=[key for key, _label, _code in services.PRESET_CATEGORIES],
            min_account_level=AccountLevel.STANDARD,
            territory_id=region.id if region else None,
        ),
    )
    categories = {c.name: c for c in event.categories}
    territories = {
        t.oktmo: t
        for t in db.session.scalars(
            sa.select(Territory).where(Territory.oktmo.in_([q[3] for q in QUESTIONS]))
        )
    }
    for key, author, category, oktmo, address, text, outcome, supporters in QUESTIONS:
        label = str(services.PRESETS[category][0])
        question: Question = services.submit_question(
            event,
            people[author],
            submission_key=key,
            category_id=categories[label].id,
            text=text,
            territory_id=territories[oktmo].id,
            address=address,
        ).question
        if outcome in ("publish", "shortlist"):
            services.publish_question(question, moderator)
        if outcome == "shortlist":
            services.shortlist_question(question, moderator)
        if outcome == "reject":
            services.reject_question(question, moderator, RejectionReason.THIRD_PARTY_DATA)
        for supporter in supporters:
            services.support_question(question, people[supporter])
    db.session.flush()
    return event
