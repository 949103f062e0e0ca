"""The demo survey: seeded once, with answers; the resident personas can still try it."""

from __future__ import annotations

import sqlalchemy as sa

from participation.core.users import User
from participation.demo.seed import seed_demo
from participation.extensions import db
from participation.polls.answering import answer_decision
from participation.polls.demo import TITLE, seed_polls_demo
from participation.polls.engine import load_questionnaire
from participation.polls.models import Survey, SurveyResponse
from participation.polls.results import Dimension, compute_breakdown


def _persona(oid: str) -> User:
    return db.session.scalar(sa.select(User).where(User.esia_oid == oid))


def test_demo_survey_is_seeded_once_with_conditions_and_answers(db_session, client):
    seed_demo()
    survey = db.session.scalar(sa.select(Survey).where(Survey.title == TITLE))
    assert survey is not None and survey.is_open and survey.min_age == 18 and survey.anonymous
    qn = load_questionnaire(survey.id)
    assert len(qn.conditions) == 2 and len(qn.sections) == 2
    count = db.session.scalar(sa.select(sa.func.count()).select_from(SurveyResponse))
    assert count >= 40
    assert seed_polls_demo().id == survey.id
    assert db.session.scalar(sa.select(sa.func.count()).select_from(SurveyResponse)) == count
    assert answer_decision(_persona("2000001"), survey).allowed  # resident-confirmed-ufa
    refusal = answer_decision(_persona("2000004"), survey)  # resident-15-ufa
    assert not refusal.allowed and "18" in refusal.reason
    assert not answer_decision(_persona("2000007"), survey).allowed  # resident-kazan
    by_gender = compute_breakdown(survey, Dimension.GENDER)
    assert [g.hidden for g in by_gender.groups] == [False, False]
    # Every page of the survey works on the seeded data (all question kinds are in it).
    from tests.helpers import login_as

    login_as(client, _persona("1000007"))  # ufa-authorized
    for suffix in ("", "?by=age", "?by=gender", "?by=municipality"):
        page = client.get(f"/polls/manage/{survey.id}/results{suffix}")
        assert page.status_code == 200, suffix
    assert "Оцените состояние" in page.get_data(as_text=True)
    assert client.get(f"/polls/manage/{survey.id}/report.pdf").status_code == 200
    login_as(client, _persona("2000001"))
    page = client.get(f"/polls/{survey.id}/answer").get_data(as_text=True)
    assert "Раздел 1 из 2" in page and "Как вы чаще всего добираетесь по городу?" in page
