"""The widget shows the organization's card; its data comes through the widget's cache (a
cached page view still sends no SQL but the view counter's) and a profile change is seen by
the next view."""

from __future__ import annotations

from participation.admin.services import ProfileData, save_profile
from participation.extensions import db
from participation.widgets.models import WidgetKind
from tests.admin.helpers import assert_card, give_profile
from tests.helpers import count_statements
from tests.widgets.conftest import enable

SITE = "https://school1.example.ru"


def _view(client, code: str) -> tuple[str, list[str]]:
    with count_statements(db.engine) as sent:
        response = client.get(f"/widget/{code}", query_string={"origin": SITE})
    assert response.status_code == 200
    return response.get_data(as_text=True), sent


def test_the_widget_shows_the_card_from_its_cache(world, client):
    give_profile(world.city_admin, world.administrator)
    code = enable(world.city_admin, world.administrator, kind=WidgetKind.PARTICIPATE)
    db.session.commit()
    _view(client, code)  # fills the caches
    html, sent = _view(client, code)
    assert_card(html, world.city_admin)
    assert 'target="_blank"' in html.split('data-org-card="')[1]  # out of the frame
    assert len(sent) <= 1 and all("widget_site_days" in s for s in sent), sent


def test_a_profile_change_is_seen_by_the_next_view(world, client):
    give_profile(world.city_admin, world.administrator)
    code = enable(world.city_admin, world.administrator)
    db.session.commit()
    assert "+7 (347) 279-05-05" in _view(client, code)[0]
    save_profile(
        world.city_admin,
        world.administrator,
        ProfileData(name=world.city_admin.name, phone="8 800 100-00-00"),
    )
    db.session.commit()
    html = _view(client, code)[0]
    assert "8 800 100-00-00" in html and "+7 (347) 279-05-05" not in html


def test_a_form_page_of_the_widget_shows_the_card_too(world, client):
    give_profile(world.city_admin, world.administrator)
    code = enable(world.city_admin, world.administrator)
    db.session.commit()
    # A stale form is answered with the home page (read from the rows, not the cache).
    response = client.post(f"/widget/{code}", data={"csrf_token": "stale"})
    assert response.status_code == 400
    assert_card(response.get_data(as_text=True), world.city_admin)
