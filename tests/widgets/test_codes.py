"""Codes, the snippet, the neutral notice and who may frame what."""

from __future__ import annotations

import re

import pytest

from participation.core.db import utcnow
from participation.core.errors import DomainError
from participation.extensions import db
from participation.widgets import services
from participation.widgets.models import WidgetKind
from tests.widgets.conftest import enable

NEUTRAL = "Этот виджет сейчас не работает"


def test_snippet_is_the_loader_a_placeholder_and_a_noscript_link(world):
    code = enable(world.city_admin, world.administrator)
    html = services.snippet(world.city_admin, "https://pos.example.ru/")
    assert f'<div id="participation-widget-{code}"' in html
    assert (
        f'<script src="https://pos.example.ru/static/js/widget.js" data-widget-code="{code}" async>'
        in html
    )
    noscript = re.search(r"<noscript>(.*)</noscript>", html).group(1)
    assert f'href="https://pos.example.ru/widget/{code}"' in noscript
    # one code per organization: another organization's snippet names another code
    other = enable(world.school, world.school_admin)
    assert other != code and other not in html


def test_the_loader_script_is_served_as_javascript(client):
    response = client.get("/static/js/widget.js")
    assert response.status_code == 200
    assert "javascript" in response.content_type
    body = response.get_data(as_text=True)
    assert "data-widget-code" in body and "participation-widget:height" in body


def test_a_generated_code_opens_the_widget_of_its_organization(world, client):
    code = enable(world.city_admin, world.administrator)
    response = client.get(f"/widget/{code}")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Администрация г. Тестовска" in html
    assert "Войти через Госуслуги" in html


def test_unknown_revoked_and_never_generated_codes_show_the_same_neutral_notice(world, client):
    code = enable(world.city_admin, world.administrator)
    never = world.school.widget_code  # the column's default: no code was generated
    pages = {}
    for name, path in {
        "unknown": "/widget/NoSuchCode1234567890",
        "garbage": "/widget/%3Cscript%3E",
        "never": f"/widget/{never}",
    }.items():
        response = client.get(path)
        pages[name] = (response.status_code, response.get_data(as_text=True))
    services.disable_widget(world.city_admin, world.administrator)
    db.session.flush()
    response = client.get(f"/widget/{code}")
    pages["revoked"] = (response.status_code, response.get_data(as_text=True))
    assert {status for status, _ in pages.values()} == {404}
    assert len({html for _, html in pages.values()}) == 1  # nothing tells them apart
    assert NEUTRAL in pages["revoked"][1]
    assert "Тестовска" not in pages["revoked"][1]


def test_regenerating_revokes_the_old_code(world, client):
    old = enable(world.city_admin, world.administrator)
    new = services.generate_code(world.city_admin, world.administrator)
    db.session.flush()
    assert new != old
    assert client.get(f"/widget/{old}").status_code == 404
    assert client.get(f"/widget/{new}").status_code == 200


def test_posts_to_an_unknown_code_get_the_neutral_notice(world, client):
    response = client.post("/widget/NoSuchCode1234567890/message", data={"text": "x"})
    assert response.status_code == 404
    assert NEUTRAL in response.get_data(as_text=True)


def test_widget_pages_may_be_framed_by_the_declared_site_and_store_nothing(world, client):
    code = enable(world.city_admin, world.administrator, site_url="https://city.example.ru/news")
    for path, ancestors in (
        (f"/widget/{code}", "frame-ancestors 'self' https://city.example.ru;"),
        ("/widget/NoSuchCode1234567890", "frame-ancestors *;"),  # the neutral notice only
    ):
        response = client.get(path)
        assert ancestors in response.headers["Content-Security-Policy"] + ";", path
        assert "X-Frame-Options" not in response.headers, path
        assert response.headers["Cache-Control"] == "no-store"
        assert "Set-Cookie" not in response.headers  # the widget sets no cookies


def test_without_a_site_address_no_other_site_may_frame_the_widget(world, client):
    from tests.helpers import login_as

    code = enable(world.city_admin, world.administrator)
    csp = client.get(f"/widget/{code}").headers["Content-Security-Policy"]
    assert "frame-ancestors 'self';" in csp + ";" and "frame-ancestors *" not in csp
    login_as(client, world.administrator)
    html = client.get("/admin/widget/").get_data(as_text=True)
    assert "Адрес сайта не указан, поэтому виджет не покажется ни на одном сайте" in html
    services.save_settings(
        world.city_admin,
        world.administrator,
        kind=WidgetKind.MESSAGE,
        design="municipal",
        site_url="city.example.ru",
    )
    db.session.commit()
    html = client.get("/admin/widget/").get_data(as_text=True)
    assert "Адрес сайта не указан" not in html
    assert "Виджет откроется только на страницах сайта https://city.example.ru" in html
    csp = client.get(f"/widget/{code}").headers["Content-Security-Policy"]
    assert "frame-ancestors 'self' https://city.example.ru" in csp


def test_every_other_page_refuses_framing(world, client):
    from tests.helpers import login_as

    code = enable(world.city_admin, world.administrator)
    login_as(client, world.administrator)
    for path in ("/", "/admin/widget/", "/appeals/new", f"/widget/{code}/login?challenge=x"):
        response = client.get(path)
        csp = response.headers["Content-Security-Policy"]
        assert "frame-ancestors 'none'" in csp, path
        assert response.headers["X-Frame-Options"] == "DENY", path


def test_the_login_chain_keeps_the_popup_opener_and_other_pages_cut_it(world, client):
    code = enable(world.city_admin, world.administrator)
    popup = client.get(f"/widget/{code}/login?challenge=" + "a" * 43)
    assert popup.headers["Cross-Origin-Opener-Policy"] == "unsafe-none"
    login = client.get("/login?next=/")
    assert login.headers["Cross-Origin-Opener-Policy"] == "unsafe-none"
    assert client.get("/").headers["Cross-Origin-Opener-Policy"] == "same-origin-allow-popups"


def test_kind_and_banner_come_from_the_settings_at_once(world, client):
    code = enable(world.school, world.school_admin)
    html = client.get(f"/widget/{code}").get_data(as_text=True)
    assert "Школа, которую мы делаем вместе" in html  # the design guessed from the name
    assert "widget-banner-education" in html
    services.save_settings(
        world.school,
        world.school_admin,
        kind=WidgetKind.PARTICIPATE,
        design="health",
        site_url=None,
    )
    db.session.flush()
    html = client.get(f"/widget/{code}").get_data(as_text=True)
    assert "Здоровье — общее дело" in html
    assert "Голосования" in html and "Опросы" in html


def test_disabling_twice_says_so(world):
    enable(world.city_admin, world.administrator)
    services.disable_widget(world.city_admin, world.administrator)
    assert world.city_admin.widget_revoked_at <= utcnow()
    with pytest.raises(DomainError, match="уже отключён"):
        services.disable_widget(world.city_admin, world.administrator)
