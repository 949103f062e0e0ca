"""Issue #13 in a real browser: the page's script leaves a weak topic guess unchosen, and the
territory list follows the chosen topic (only territories where someone answers it)."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from participation.appeals.classifier import Subcategory
from participation.appeals.routing import add_routing_rule
from participation.core.organizations import Organization
from participation.core.territories import Territory
from participation.demo.seed import seed_demo
from participation.extensions import db
from tests.appeals.test_appeals_browser import base, logged_in  # noqa: F401 (fixture)

pytestmark = [pytest.mark.browser, pytest.mark.committed]


def test_the_script_keeps_weak_guesses_unchosen_and_narrows_territories(base, browser):  # noqa: F811
    seed_demo()
    topics = {
        s.code: s.id
        for s in db.session.scalars(
            sa.select(Subcategory).where(Subcategory.code.in_(["roads.potholes", "mfc.mfc_queues"]))
        )
    }
    kazan = db.session.scalar(sa.select(Territory).where(Territory.name.contains("Казань")))
    executive = db.session.scalar(
        sa.select(Organization).where(Organization.name.contains("Казани"))
    )
    # Potholes in Kazan get an executor; nothing else there has one (no ЦУР in the demo).
    add_routing_rule(topics["roads.potholes"], kazan, executive)
    db.session.commit()
    kazan_id = str(kazan.id)
    db.session.close()

    page = logged_in(browser, base, "resident-confirmed-ufa", "/appeals/new")
    page.fill("#text", "Не работает, сделайте что-нибудь")
    page.click("#suggest-button")
    page.wait_for_selector("#suggestions li")
    assert page.input_value("#subcategory_id") == ""
    assert "Выберите тему в списке ниже" in page.inner_text("#suggestions")

    kazan_option = page.locator(f'#territory_id option[value="{kazan_id}"]')
    page.select_option("#subcategory_id", str(topics["mfc.mfc_queues"]))
    page.wait_for_function(
        f"document.querySelector('#territory_id option[value=\"{kazan_id}\"]').disabled"
    )
    assert kazan_option.is_disabled()
    page.select_option("#subcategory_id", str(topics["roads.potholes"]))
    page.wait_for_function(
        f"!document.querySelector('#territory_id option[value=\"{kazan_id}\"]').disabled"
    )
    assert "Уфа" in page.locator("#territory_id option:checked").inner_text()
