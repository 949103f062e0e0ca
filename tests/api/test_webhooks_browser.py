"""The «Вебхуки» pages in a real browser as the Уфа administrator: the list, the form with its
errors, the address with its secret and delivery log, one delivery; no WCAG violation and no
sideways scrolling at desktop and phone width (the checks of test_accessibility_browser)."""

from __future__ import annotations

import json
from urllib.parse import urlsplit

import pytest
import sqlalchemy as sa

from participation.api.webhooks import services
from participation.api.webhooks.models import EventType, WebhookDelivery
from participation.core.users import User
from participation.extensions import db
from tests.browser import esia_login, serve_platform
from tests.core.test_accessibility_browser import DESKTOP, check, send

pytestmark = [pytest.mark.browser, pytest.mark.committed]


@pytest.fixture
def base(app, monkeypatch, tmp_path):
    with serve_platform(app, monkeypatch, tmp_path) as url:
        yield url


def test_the_webhook_pages_are_accessible(base, browser, axe_source, receiver, run_queued):
    from participation.demo import data
    from participation.demo.seed import seed_demo

    seed_demo()
    db.session.commit()
    admin = db.session.scalar(
        sa.select(User).where(User.esia_oid == data.PERSONAS["ufa-administrator"]["esia_oid"])
    )
    organization = admin.memberships[0].organization
    endpoint = services.create_endpoint(
        organization,
        admin,
        url=receiver.url + "/" + "very-long-path-segment" * 8,
        description="СЭД «Дело», рабочий контур",
        event_types=[e.value for e in EventType],
    )
    receiver.answer((500, {}, b"<html>" + b"x" * 400 + b"</html>"))
    services.emit(
        organization.id,
        EventType.APPEAL_OVERDUE,
        "test:overdue",
        {"appeal": {"id": 1, "number": "1", "state": "in_work"}},
    )
    db.session.commit()
    run_queued()
    endpoint_id = endpoint.id
    delivery_id = db.session.scalar(sa.select(WebhookDelivery.id))
    db.session.close()  # hold no lock while the server works (SQLite)

    context = browser.new_context(bypass_csp=True, viewport=DESKTOP)
    page = context.new_page()
    page.goto(f"{base}/login?next=/")
    esia_login(page, "ufa-administrator")
    page.wait_for_url(f"{base}/")

    found: dict = {}
    page.goto(f"{base}/backoffice/")
    page.click("a[href='/admin/webhooks/']")
    assert urlsplit(page.url).path == "/admin/webhooks/"
    check(page, axe_source, "webhooks-list", found)

    page.goto(f"{base}/admin/webhooks/new")
    check(page, axe_source, "webhooks-new", found)
    page.fill("#url", "http://sed.example.ru/hook")
    page.locator("main form").evaluate("form => { form.noValidate = true; }")
    send(page, "main form")
    assert "https://" in page.inner_text("#url-error")
    assert "Выберите хотя бы одно событие" in page.inner_text("#events-error")
    check(page, axe_source, "webhooks-new-errors", found)

    page.goto(f"{base}/admin/webhooks/{endpoint_id}")
    page.click("summary")  # «Показать секрет»
    assert page.inner_text("#webhook-secret").startswith("whsec_")
    assert "HTTP 500" in page.inner_text("#log")
    check(page, axe_source, "webhooks-endpoint", found)

    page.goto(f"{base}/admin/webhooks/deliveries/{delivery_id}")
    check(page, axe_source, "webhooks-delivery", found)
    with page.expect_navigation():
        page.click("main form button[type=submit]")
    assert "тем же идентификатором" in page.inner_text("main")
    context.close()

    assert not found, json.dumps(found, ensure_ascii=False, indent=1)
