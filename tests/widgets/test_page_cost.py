"""The widget page's cost and freshness: the widget and its lists from the per-process cache
(no SQL for a page view but the view counter's), and every change seen by the next view."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa
import time_machine

from participation.core import cache
from participation.core.db import utcnow
from participation.extensions import db
from participation.polls.models import Survey
from participation.widgets import services
from participation.widgets.models import BannerDesign, WidgetKind
from tests.helpers import count_statements
from tests.widgets.conftest import enable, open_campaign, open_survey

SITE = "https://school1.example.ru"


def _view(client, code: str) -> tuple[str, list[str], int]:
    with count_statements(db.engine) as sent:
        response = client.get(f"/widget/{code}", query_string={"origin": SITE})
    return response.get_data(as_text=True), sent, response.status_code


def _participate(world) -> str:
    code = enable(world.city_admin, world.administrator, kind=WidgetKind.PARTICIPATE)
    db.session.commit()
    return code


def test_a_cached_page_view_sends_at_most_the_view_counter(world, client):
    open_survey(world, title="Опрос о парке")
    open_campaign(world, title="Голосование о сквере")
    code = _participate(world)
    html, _sent, status = _view(client, code)  # fills the caches
    assert status == 200 and "Опрос о парке" in html and "Голосование о сквере" in html
    html, sent, status = _view(client, code)
    assert status == 200 and "Опрос о парке" in html
    # Without Redis the view is counted in the database (one upsert); with it, nothing.
    assert len(sent) <= 1, "\n".join(sent)
    assert all("widget_site_days" in s for s in sent)


def test_changed_settings_are_seen_by_the_next_view(world, client):
    code = _participate(world)
    assert "Голосования" in _view(client, code)[0]
    services.save_settings(
        world.city_admin,
        world.administrator,
        kind=WidgetKind.MESSAGE,
        design=BannerDesign.MUNICIPAL,
        site_url=None,
    )
    db.session.commit()
    assert "Голосования" not in _view(client, code)[0]


def test_a_switched_off_widget_is_unavailable_at_once(world, client):
    code = _participate(world)
    assert _view(client, code)[2] == 200
    services.disable_widget(world.city_admin, world.administrator)
    db.session.commit()
    assert _view(client, code)[2] == 404


def test_a_closed_survey_leaves_the_list_at_once(world, client):
    survey = open_survey(world, title="Опрос о парке")
    code = _participate(world)
    assert "Опрос о парке" in _view(client, code)[0]
    survey.closed_at = utcnow()
    db.session.commit()
    assert "Опрос о парке" not in _view(client, code)[0]


def test_a_survey_closed_by_another_process_leaves_the_list_after_the_check(
    world, client, monkeypatch
):
    survey = open_survey(world, title="Опрос о парке")
    code = _participate(world)
    assert "Опрос о парке" in _view(client, code)[0]
    db.session.execute(sa.update(Survey).where(Survey.id == survey.id).values(closed_at=utcnow()))
    db.session.execute(cache._BUMP, {"name": services.OFFERS.name})
    db.session.commit()
    monkeypatch.setattr(cache, "CHECK_SECONDS", 0.0)
    assert "Опрос о парке" not in _view(client, code)[0]


def test_the_lists_follow_the_clock(world, client):
    now = utcnow()
    soon = open_survey(world, title="Опрос, который скоро начнётся")
    soon.starts_at = now + timedelta(hours=1)
    ending = open_campaign(world, title="Голосование, которое скоро закончится")
    ending.closes_at = now + timedelta(hours=2)
    code = _participate(world)
    with time_machine.travel(now, tick=False):
        html = _view(client, code)[0]
        assert "скоро начнётся" not in html and "скоро закончится" in html
    with time_machine.travel(now + timedelta(hours=1, minutes=1), tick=False):
        html = _view(client, code)[0]
        assert "скоро начнётся" in html and "скоро закончится" in html
    with time_machine.travel(now + timedelta(hours=2, minutes=1), tick=False):
        html = _view(client, code)[0]
        assert "скоро начнётся" in html and "скоро закончится" not in html
