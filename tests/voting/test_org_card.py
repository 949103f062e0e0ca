"""The vote page shows the organizing organization's card (logo, name, contacts, hours)."""

from __future__ import annotations

from participation.core import cache
from participation.extensions import db
from tests.admin.helpers import assert_card, give_profile
from tests.helpers import count_statements, login_as
from tests.voting.helpers import campaign


def _statements(client, url: str) -> list[str]:
    client.get(url)  # caches filled after any change
    with count_statements(db.engine) as sent:
        response = client.get(url)
    assert response.status_code == 200
    return sent


def test_the_vote_page_shows_the_organizers_card_at_no_extra_query(town, client, monkeypatch):
    monkeypatch.setattr(cache, "CHECK_SECONDS", 3600.0)  # no generation checks by the clock
    c = campaign(town)
    login_as(client, town.resident())
    without_profile = _statements(client, f"/voting/{c.id}")
    give_profile(town.admin, town.official)
    db.session.commit()
    with_profile = _statements(client, f"/voting/{c.id}")
    # The card reads the organization's row, which the page loaded anyway; the logo is
    # fetched by the browser from its own URL.
    assert len(with_profile) == len(without_profile)
    assert sum("FROM attachments" in s for s in with_profile) == sum(
        "FROM attachments" in s for s in without_profile
    )  # the objects' photos only
    assert_card(client.get(f"/voting/{c.id}").get_data(as_text=True), town.admin)
