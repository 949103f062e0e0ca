"""The survey page shows the organizing organization's card."""

from __future__ import annotations

from participation.polls.models import QuestionKind
from tests.admin.helpers import assert_card, give_profile
from tests.polls.conftest import build_survey, q


def test_the_survey_page_shows_the_organizers_card(world, client):
    give_profile(world.org, world.publisher)
    survey = build_survey(world, [q(QuestionKind.TEXT)])
    response = client.get(f"/polls/{survey.id}")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert_card(html, world.org)
    assert "Организатор опроса" in html
