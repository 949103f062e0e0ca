"""The hearing page shows the organizer's card."""

from __future__ import annotations

from tests.admin.helpers import assert_card, give_profile


def test_the_hearing_page_shows_the_organizers_card(world, make_hearing, client):
    give_profile(world.organization, world.organizer)
    hearing = make_hearing()
    response = client.get(f"/hearings/{hearing.id}")
    assert response.status_code == 200
    assert_card(response.get_data(as_text=True), world.organization)
