"""The administrator's «Веб-виджет» page: who may open it, settings, the code, statistics."""

from __future__ import annotations

import html as html_lib
import re

import sqlalchemy as sa

from participation.core.audit import AuditEntry
from participation.extensions import db
from participation.widgets import services
from participation.widgets.models import WidgetKind, WidgetSettings
from tests.helpers import csrf_token, login_as

PAGE = "/admin/widget/"


def test_only_the_organizations_administrators_open_the_page(world, client):
    assert client.get(PAGE).status_code == 302  # anonymous: to the login
    login_as(client, world.resident)
    assert client.get(PAGE).status_code == 404
    login_as(client, world.coordinator)  # staff of the organization, not its administrator
    assert client.get(PAGE).status_code == 404
    response = client.post(f"{PAGE}code", data={"csrf_token": csrf_token(client, "/")})
    assert response.status_code == 404
    assert db.session.get(WidgetSettings, world.city_admin.id) is None
    login_as(client, world.administrator)
    response = client.get(PAGE)
    assert response.status_code == 200
    assert "Веб-виджет" in response.get_data(as_text=True)


def test_generating_the_code_shows_the_snippet_to_copy(world, client):
    login_as(client, world.administrator)
    page = client.get(PAGE).get_data(as_text=True)
    assert "Кода ещё нет" in page
    response = client.post(f"{PAGE}code", data={"csrf_token": csrf_token(client, PAGE)})
    assert response.status_code == 302
    page = client.get(PAGE).get_data(as_text=True)
    textarea = re.search(r'<textarea id="widget-snippet"[^>]*>(.*?)</textarea>', page, re.S)
    snippet = html_lib.unescape(textarea.group(1))
    db.session.refresh(world.city_admin)
    code = world.city_admin.widget_code
    assert f'data-widget-code="{code}"' in snippet
    assert "http://localhost/static/js/widget.js" in snippet
    assert f'src="/widget/{code}"' in page  # the preview
    assert client.get(f"/widget/{code}").status_code == 200


def test_a_new_code_needs_the_confirmation_and_then_replaces_the_old(world, client):
    login_as(client, world.administrator)
    client.post(f"{PAGE}code", data={"csrf_token": csrf_token(client, PAGE)})
    db.session.refresh(world.city_admin)
    old = world.city_admin.widget_code
    client.post(f"{PAGE}code", data={"csrf_token": csrf_token(client, PAGE)})
    db.session.refresh(world.city_admin)
    assert world.city_admin.widget_code == old  # not confirmed: nothing changed
    response = client.post(
        f"{PAGE}code", data={"csrf_token": csrf_token(client, PAGE), "replace": "y"}
    )
    assert response.status_code == 302
    db.session.refresh(world.city_admin)
    assert world.city_admin.widget_code != old
    assert client.get(f"/widget/{old}").status_code == 404
    actions = db.session.scalars(
        sa.select(AuditEntry.action).where(AuditEntry.action.like("widget.%"))
    ).all()
    assert actions.count("widget.code_generated") == 2


def test_settings_are_saved_and_wrong_input_is_explained(world, client):
    login_as(client, world.administrator)
    token = csrf_token(client, PAGE)
    response = client.post(
        f"{PAGE}settings",
        data={
            "csrf_token": token,
            "kind": "participate",
            "design": "preschool",
            "site_url": "ftp://x",
        },
    )
    assert response.status_code == 400
    assert "Укажите адрес сайта" in response.get_data(as_text=True)
    response = client.post(
        f"{PAGE}settings", data={"csrf_token": token, "kind": "lottery", "design": "preschool"}
    )
    assert response.status_code == 400
    assert db.session.get(WidgetSettings, world.city_admin.id) is None
    response = client.post(
        f"{PAGE}settings",
        data={
            "csrf_token": token,
            "kind": "participate",
            "design": "preschool",
            "site_url": "detsad5.example.ru",
        },
    )
    assert response.status_code == 302
    row = db.session.get(WidgetSettings, world.city_admin.id)
    assert row.kind == WidgetKind.PARTICIPATE
    assert row.site_url == "https://detsad5.example.ru"
    assert row.code_generated_at is None  # saving settings alone makes no code


def test_the_statistics_table_shows_sites_and_marks_foreign_ones(world, client):
    services.save_settings(
        world.city_admin,
        world.administrator,
        kind="message",
        design="municipal",
        site_url="https://city.example.ru",
    )
    services.generate_code(world.city_admin, world.administrator)
    services.record_use(world.city_admin.id, "https://city.example.ru", "views")
    services.record_use(world.city_admin.id, "https://copycat.example.org", "views")
    services.record_use(world.city_admin.id, "https://copycat.example.org", "messages")
    services.record_use(world.school.id, "https://school.example.ru", "views")
    db.session.flush()
    login_as(client, world.administrator)
    page = client.get(PAGE).get_data(as_text=True)
    rows = re.findall(r"<tr>\s*<th scope=\"row\">(.*?)</tr>", page, re.S)
    assert len(rows) == 2
    assert "https://school.example.ru" not in page
    copycat = next(r for r in rows if "copycat" in r)
    assert "не ваш сайт" in copycat
    assert "не ваш сайт" not in next(r for r in rows if "city.example.ru" in r)


def test_disabling_the_widget(world, client):
    login_as(client, world.administrator)
    client.post(f"{PAGE}code", data={"csrf_token": csrf_token(client, PAGE)})
    db.session.refresh(world.city_admin)
    code = world.city_admin.widget_code
    response = client.post(f"{PAGE}disable", data={"csrf_token": csrf_token(client, PAGE)})
    assert response.status_code == 302
    assert client.get(f"/widget/{code}").status_code == 404
    assert "Виджет отключён" in client.get(PAGE).get_data(as_text=True)
