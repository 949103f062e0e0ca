"""Open-data lists cost the same number of queries whatever the number of rows on the page."""

from __future__ import annotations

from datetime import timedelta

import pytest

from participation.core.db import utcnow
from participation.extensions import db
from participation.hearings import services as hearings
from participation.polls.models import QuestionKind
from participation.polls.services import QuestionData, SurveySettings, add_question, create_survey
from tests.api.opendata_helpers import statements
from tests.hearings.conftest import hearing_input
from tests.voting.helpers import Town, campaign


@pytest.fixture
def town(db_session):
    return Town()


def _add(town, n: int) -> None:
    now = utcnow()
    for i in range(n):
        campaign(town, title=f"Голосование {i}")
        survey = create_survey(
            town.admin,
            town.official,
            SurveySettings(
                title=f"Опрос {i}",
                description="",
                anonymous=True,
                starts_at=now - timedelta(days=3),
                ends_at=now - timedelta(days=1),
                territory_ids=[town.city.id],
                results_public=True,
            ),
        )
        add_question(
            survey.sections[0],
            QuestionData(kind=QuestionKind.SINGLE, text="Парк?", options=["Да", "Нет"]),
        )
        survey.published_at = now - timedelta(days=3)

        class World:  # what hearing_input reads
            ufa = town.city

        hearing = hearings.create_hearing(town.admin, town.official, hearing_input(World()))
        hearings.publish_notice(hearing, town.official, now=hearing.exposition_starts_at)
    db.session.flush()


@pytest.mark.parametrize("path", ["votes", "surveys", "hearings"])
def test_a_list_page_costs_the_same_queries_for_2_or_10_rows(client, town, path):
    url = f"/api/v1/open/{path}?region={town.region.id}"
    _add(town, 2)
    with statements() as few:
        assert len(client.get(url).get_json()["items"]) == 2
    _add(town, 8)
    with statements() as many:
        assert len(client.get(url).get_json()["items"]) == 10
    assert len(many) == len(few), (few, many)
    assert len(few) <= 8, few
