"""Demo survey in Уфа: residents 18+, conditional questions, some answers already in.

`seed_polls_demo()` is called by `flask demo seed`. The survey is matched by organization and
title, so a second run adds nothing. Answers come through the normal service from demo people
who live in Уфа: the staff personas and a few dozen extra residents (ESIA oids 2900001…) who
exist only so the charts and breakdowns have something to show. The resident personas
(resident-confirmed-ufa and the others) have not answered, so they can try it themselves.
"""

from __future__ import annotations

import random
from datetime import date, timedelta

import sqlalchemy as sa

from participation.core.db import utcnow
from participation.core.organizations import Organization
from participation.core.territories import Territory
from participation.core.users import AccountLevel, Gender, User
from participation.demo import data
from participation.extensions import db
from participation.polls import services
from participation.polls.answering import answer_decision, submit_response
from participation.polls.engine import load_questionnaire
from participation.polls.models import QuestionKind, Survey
from participation.polls.services import QuestionData, SurveySettings

TITLE = "Городская среда Уфы: что улучшить в первую очередь"
DESCRIPTION = (
    "Администрация города спрашивает жителей, как им живётся в своём районе. Ответы помогут "
    "выбрать, что ремонтировать и благоустраивать в 2027 году.\nОпрос анонимный: организатор "
    "видит только общие итоги. Отвечать могут жители Уфы от 18 лет."
)
EXTRA_RESIDENTS = 36
_FIRST_NAMES = {
    Gender.FEMALE: ("Алсу", "Гульнара", "Елена", "Наталья", "Айгуль", "Ольга"),
    Gender.MALE: ("Азат", "Рустам", "Иван", "Сергей", "Ильдар", "Дмитрий"),
}


def _question(kind: QuestionKind, text: str, **kw) -> QuestionData:
    return QuestionData(kind=kind, text=text, **kw)


def _build(survey: Survey) -> None:
    first = survey.sections[0]
    first.title = "Как вы передвигаетесь по городу"
    transport = services.add_question(
        first,
        _question(
            QuestionKind.SINGLE,
            "Как вы чаще всего добираетесь по городу?",
            options=["Общественный транспорт", "Личный автомобиль", "Пешком или на велосипеде"],
            has_other=True,
            required=True,
        ),
    )
    bus = services.add_question(
        first,
        _question(
            QuestionKind.SCALE,
            "Оцените работу общественного транспорта в вашем районе",
            description="1 — очень плохо, 5 — отлично.",
            scale_max=5,
            required=True,
        ),
    )
    services.set_condition(bus, [transport.choices[0].id])
    services.add_question(
        first,
        _question(
            QuestionKind.NUMBER,
            "Сколько минут у вас обычно занимает дорога до работы или учёбы?",
            min_value=0,
            max_value=300,
        ),
    )
    second = services.add_section(survey, "Ваш район", "Расскажите, что стоит улучшить.")
    services.add_question(
        second,
        _question(
            QuestionKind.MULTIPLE,
            "Что в первую очередь нужно улучшить в вашем районе?",
            options=["Дороги и тротуары", "Освещение", "Парки и скверы", "Детские площадки"],
            max_choices=2,
            required=True,
        ),
    )
    parking = services.add_question(
        second,
        _question(
            QuestionKind.SINGLE,
            "Хватает ли мест для парковки у вашего дома?",
            options=["Хватает", "Не хватает", "Не знаю"],
        ),
    )
    services.set_condition(parking, [transport.choices[1].id])
    services.add_question(
        second,
        _question(
            QuestionKind.MATRIX,
            "Оцените состояние",
            options=["Хорошее", "Удовлетворительное", "Плохое"],
            rows=["Дворы", "Тротуары", "Остановки"],
        ),
    )
    services.add_question(
        second,
        _question(
            QuestionKind.RANKING,
            "Расставьте по важности для города",
            options=["Школы и детские сады", "Поликлиники", "Дороги"],
        ),
    )
    services.add_question(
        second,
        _question(QuestionKind.TEXT, "Ваше предложение администрации", max_length=500),
    )


def _extra_residents(ufa: Territory) -> list[User]:
    oids = [f"29{n:05d}" for n in range(1, EXTRA_RESIDENTS + 1)]
    existing = {
        u.esia_oid: u for u in db.session.scalars(sa.select(User).where(User.esia_oid.in_(oids)))
    }
    rng = random.Random(2026)  # noqa: S311 - demo data, not security
    people = []
    for n, oid in enumerate(oids):
        user = existing.get(oid)
        if user is None:
            gender = Gender.FEMALE if n % 2 else Gender.MALE
            user = User(
                esia_oid=oid,
                last_name="Жителева" if gender == Gender.FEMALE else "Жителев",
                first_name=_FIRST_NAMES[gender][n % 6],
                middle_name=None,
                birth_date=date(
                    data.REFERENCE_DATE.year - rng.randint(18, 75), rng.randint(1, 12), 1
                ),
                gender=gender,
                account_level=AccountLevel.CONFIRMED,
                registration_territory=ufa,
                email=None,
            )
            db.session.add(user)
        people.append(user)
    db.session.flush()
    return people


def _answers(survey: Survey, rng: random.Random) -> dict:
    qn = load_questionnaire(survey.id)
    transport, bus, minutes, improve, parking, matrix, ranking, proposal = qn.questions
    mode = rng.choices(transport.choices, weights=[5, 4, 2, 1])[0]
    answers: dict = {str(transport.id): {"o": [mode.id]}}
    if mode.is_other:
        answers[str(transport.id)]["other"] = "Такси"
    if mode.id == transport.choices[0].id:
        answers[str(bus.id)] = {"n": rng.choices([1, 2, 3, 4, 5], weights=[2, 3, 4, 3, 1])[0]}
    if rng.random() < 0.8:
        answers[str(minutes.id)] = {"n": rng.choice([10, 15, 20, 30, 40, 45, 60, 90])}
    picked = rng.sample(improve.choices, rng.randint(1, 2))
    answers[str(improve.id)] = {"o": [o.id for o in picked]}
    if mode.id == transport.choices[1].id:
        answers[str(parking.id)] = {"o": [rng.choice(parking.choices[:2]).id]}
    answers[str(matrix.id)] = {"m": {str(r.id): rng.choice(matrix.choices).id for r in matrix.rows}}
    order = rng.sample(ranking.choices, len(ranking.choices))
    answers[str(ranking.id)] = {"r": {str(o.id): place for place, o in enumerate(order, 1)}}
    if rng.random() < 0.3:
        answers[str(proposal.id)] = {
            "t": rng.choice(
                [
                    "Сделать освещённую пешеходную дорожку к остановке.",
                    "Поставить больше скамеек в сквере у школы.",
                    "Отремонтировать тротуар вдоль улицы Ленина.",
                    "Пустить автобус чаще по вечерам.",
                ]
            )
        }
    return answers


def seed_polls_demo() -> Survey | None:
    """Add the demo survey with its answers once; return it (None if the demo org is absent)."""
    ufa = db.session.scalar(sa.select(Territory).where(Territory.oktmo == data.UFA))
    if ufa is None:
        return None
    admin = db.session.scalar(
        sa.select(Organization).where(
            Organization.territory_id == ufa.id,
            Organization.name
            == "Администрация городского округа город Уфа Республики Башкортостан",
        )
    )
    author = db.session.scalar(sa.select(User).where(User.esia_oid == "1000007"))  # ufa-authorized
    if admin is None or author is None:
        return None
    survey = db.session.scalar(
        sa.select(Survey).where(Survey.organization_id == admin.id, Survey.title == TITLE)
    )
    if survey is not None:
        return survey
    now = utcnow()
    survey = services.create_survey(
        admin,
        author,
        SurveySettings(
            title=TITLE,
            description=DESCRIPTION,
            anonymous=True,
            starts_at=now - timedelta(days=3),
            ends_at=now + timedelta(days=30),
            territory_ids=[ufa.id],
            min_level=AccountLevel.STANDARD,
            min_age=18,
            results_public=True,
        ),
    )
    _build(survey)
    survey.published_at = now - timedelta(days=3)
    db.session.flush()
    personas = {p["esia_oid"] for p in data.STAFF}
    staff = list(db.session.scalars(sa.select(User).where(User.esia_oid.in_(personas))))
    rng = random.Random(7)  # noqa: S311 - demo data, not security
    for person in [*staff, *_extra_residents(ufa)]:
        if answer_decision(person, survey).allowed:
            submit_response(survey, person, _answers(survey, rng))
    db.session.flush()
    return survey
