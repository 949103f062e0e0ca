"""The answer to a resident's message shows the card of the organization that answered."""

from __future__ import annotations

from tests.admin.helpers import assert_card, give_profile
from tests.appeals.conftest import submit
from tests.appeals.test_lifecycle import to_answered
from tests.helpers import login_as


def test_the_answer_shows_the_answering_organizations_card(world, client):
    give_profile(world.city_admin, world.administrator)
    appeal = to_answered(world, submit(world))
    login_as(client, world.resident)
    html = client.get(f"/my/appeals/{appeal.id}").get_data(as_text=True)
    answer = html[html.index('id="answer-title"') :]
    assert_card(answer, world.city_admin)
    assert "Ответила организация" in answer


def test_without_an_answer_there_is_no_card(world, client):
    give_profile(world.city_admin, world.administrator)
    appeal = submit(world)
    login_as(client, world.resident)
    html = client.get(f"/my/appeals/{appeal.id}").get_data(as_text=True)
    assert "data-org-card" not in html
