"""Fixtures for survey tests: a region with two cities, a municipality publisher, residents."""

from __future__ import annotations

import re
from datetime import date, timedelta
from types import SimpleNamespace

import pytest

from participation.core.db import utcnow
from participation.core.organizations import OrganizationKind
from participation.core.territories import TerritoryLevel
from participation.core.users import AccountLevel, Gender, Role
from participation.polls import services
from participation.polls.models import QuestionKind, Survey
from participation.polls.services import QuestionData, SurveySettings
from tests import factories
from tests.helpers import login_as


@pytest.fixture
def world(db_session):
    country = factories.territory(TerritoryLevel.COUNTRY)
    region = factories.territory(TerritoryLevel.REGION, parent=country, name="Республика Тест")
    city = factories.territory(TerritoryLevel.URBAN_OKRUG, parent=region, name="город Уфа")
    other_city = factories.territory(
        TerritoryLevel.URBAN_OKRUG, parent=region, name="город Стерлитамак"
    )
    org = factories.organization(OrganizationKind.MUNICIPAL, territory_=city, name="Администрация")
    other_org = factories.organization(OrganizationKind.MUNICIPAL, territory_=other_city)
    regional_org = factories.organization(OrganizationKind.REGIONAL, territory_=region)
    publisher = factories.staff(org, Role.AUTHORIZED, registration_territory=city)
    adult = factories.user(
        birth_date=date(1980, 5, 17), gender=Gender.FEMALE, registration_territory=city
    )
    return SimpleNamespace(
        country=country,
        region=region,
        city=city,
        other_city=other_city,
        org=org,
        other_org=other_org,
        regional_org=regional_org,
        publisher=publisher,
        adult=adult,
    )


def resident(world, *, age: int = 40, gender: Gender = Gender.FEMALE, city=None, **kw):
    """A resident of the given age today (birthday well in the past this year)."""
    born = date(date.today().year - age, 1, 1)  # the birthday has always passed by today
    return factories.user(
        birth_date=kw.pop("birth_date", born),
        gender=gender,
        registration_territory=city or world.city,
        level=kw.pop("level", AccountLevel.CONFIRMED),
        **kw,
    )


def q(kind: QuestionKind, text: str = "Вопрос", **kw) -> QuestionData:
    return QuestionData(kind=kind, text=text, **kw)


def build_survey(
    world,
    questions: list[QuestionData] | list[list[QuestionData]],
    *,
    anonymous: bool = True,
    published: bool = True,
    starts: timedelta = timedelta(days=-1),
    ends: timedelta = timedelta(days=7),
    min_age: int | None = None,
    max_age: int | None = None,
    gender: Gender | None = None,
    territory=None,
    level: AccountLevel = AccountLevel.STANDARD,
    results_public: bool = False,
    org=None,
) -> Survey:
    """A survey with the given questions (a list of lists makes several sections)."""
    now = utcnow()
    org = org or world.org
    survey = services.create_survey(
        org,
        world.publisher,
        SurveySettings(
            title="Опрос о городе",
            description="Расскажите, что думаете.",
            anonymous=anonymous,
            starts_at=now + starts,
            ends_at=now + ends,
            territory_ids=[(territory or org.territory).id],
            min_level=level,
            min_age=min_age,
            max_age=max_age,
            gender=gender,
            results_public=results_public,
        ),
    )
    sections = questions if questions and isinstance(questions[0], list) else [questions]
    for index, section_questions in enumerate(sections):
        section = (
            survey.sections[0]
            if index == 0
            else services.add_section(survey, f"Раздел {index + 1}", None)
        )
        for data in section_questions:
            services.add_question(section, data)
    if published:
        survey.published_at = now
    from participation.extensions import db

    db.session.flush()
    db.session.expire(survey)
    return survey


def question_ids(survey: Survey) -> list:
    from participation.polls.engine import load_questionnaire

    return load_questionnaire(survey.id).questions


def csrf_from(client, url: str) -> str:
    html = client.get(url).get_data(as_text=True)
    match = re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', html)
    if match is None:
        match = re.search(r'id="csrf_token" name="csrf_token" type="hidden" value="([^"]+)"', html)
    assert match, html[:2000]
    return match.group(1)


def token(client) -> str:
    """A CSRF token for this client's session (from any page with a form)."""
    html = client.get("/").get_data(as_text=True)
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def post_answers(client, survey, data: dict, *, section: int = 0, action: str = "submit"):
    form = {"csrf_token": token(client), "section": str(section), "action": action, **data}
    return client.post(f"/polls/{survey.id}/answer", data=form)


def as_user(client, user):
    login_as(client, user)
    return client
