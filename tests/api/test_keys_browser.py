"""The «API-ключи» pages in Chromium: created through the form, the secret shown once,
revoked; axe-core finds no violation (WCAG 2.1 A/AA) on the list, the form with its errors and
the page with the secret."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from participation.extensions import db
from tests import factories as f
from tests.browser import WCAG_21_AA, axe_violations, serve_platform, shot
from tests.helpers import login_as

pytestmark = [pytest.mark.browser, pytest.mark.committed]
SUBMIT = "form[action$='/admin/api-keys/new'] button[type=submit]"


def _no_violations(page, axe_source, name):
    shot(page, "api", name)
    violations = axe_violations(page, axe_source, [*WCAG_21_AA, "best-practice"])
    assert violations == [], (name, violations)


def test_create_and_revoke_a_key_in_the_browser(app, browser, axe_source, monkeypatch, tmp_path):
    from participation.core.users import Role

    db.session.remove()
    db.session.configure(bind=None, join_transaction_mode="conditional_savepoint")
    organization = f.organization(name="Администрация города Уфы")
    admin = f.staff(organization, Role.ADMINISTRATOR)
    db.session.commit()
    admin = SimpleNamespace(get_id=lambda ident=admin.get_id(): ident)  # outlives the session
    with serve_platform(app, monkeypatch, tmp_path) as base:
        client = app.test_client()
        login_as(client, admin)
        cookie = client.get_cookie("session")
        context = browser.new_context(bypass_csp=True)  # lets axe-core in
        context.add_cookies([{"name": "session", "value": cookie.value, "url": base}])
        page = context.new_page()
        page.goto(f"{base}/admin/api-keys/new")
        page.fill("#name", "")
        page.click(SUBMIT)
        page.wait_for_selector(".error-summary")
        assert page.locator(".error-text").count() >= 2  # name and scopes, next to them
        _no_violations(page, axe_source, "key-form-errors")

        page.fill("#name", "СЭД Дело")
        page.get_by_label("Чтение сообщений организации (messages:read)").check()
        page.click(SUBMIT)
        page.wait_for_selector("#api-key-secret")
        secret = page.input_value("#api-key-secret")
        assert secret.startswith("rvk_")
        _no_violations(page, axe_source, "key-created")

        page.click("text=Готово, ключ сохранён")
        page.wait_for_selector("h1:has-text('API-ключи')")
        assert secret not in page.content()
        _no_violations(page, axe_source, "keys")
        page.get_by_role("button", name="Отозвать ключ «СЭД Дело»").click()
        page.wait_for_selector(".badge-bad")
        assert "отозван" in page.content()
        context.close()
