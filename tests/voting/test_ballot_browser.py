"""The budget ballot in a real browser: ticking projects shows the chosen sum and what is left of
the budget (an aria-live region the page's script fills in), and going over says by how much.
axe-core checks the ballot; screenshots go to test-artifacts/voting/.
"""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from participation.demo.seed import seed_demo
from participation.extensions import db
from participation.voting.demo import OPEN_BUDGET_TITLE
from participation.voting.models import Campaign
from tests.browser import check_axe, esia_login, serve_platform, shot

pytestmark = [pytest.mark.browser, pytest.mark.committed]
FOLDER = "voting"


def digits(text: str) -> list[int]:
    """The amounts in a text, whatever the thousands separator: «1 500 000 ₽» → 1500000."""
    return [int(re.sub(r"\D", "", n)) for n in re.findall(r"\d[\d\s\u00a0\u202f]*\d|\d", text)]


def test_the_budget_ballot_keeps_a_running_total(app, monkeypatch, tmp_path, browser, axe_source):
    seed_demo()
    db.session.commit()
    campaign_id = db.session.scalar(
        sa.select(Campaign.id).where(Campaign.title == OPEN_BUDGET_TITLE)
    )
    db.session.close()  # hold no lock while the server works (SQLite)
    with serve_platform(app, monkeypatch, tmp_path) as base:
        context = browser.new_context(bypass_csp=True)  # bypass: only to inject axe-core
        page = context.new_page()
        path = f"/voting/{campaign_id}/ballot"
        page.goto(f"{base}/login?next={path}")
        esia_login(page, "resident-confirmed-ufa")
        page.wait_for_url(f"{base}{path}*")
        total = page.locator("#budget-total")
        assert total.get_attribute("aria-live") == "polite"
        assert digits(total.inner_text()) == [0, 3_000_000]

        boxes = page.locator("input[name=choices]")
        boxes.nth(0).check()  # 1 500 000 ₽
        page.wait_for_function("document.getElementById('budget-total').innerText.includes('500')")
        assert "остаток" in total.inner_text()
        assert digits(total.inner_text()) == [1_500_000, 1_500_000]
        boxes.nth(4).check()  # + 350 000 ₽
        assert digits(total.inner_text()) == [1_850_000, 1_150_000]
        check_axe(page.main_frame, axe_source, FOLDER, "budget-ballot")
        boxes.nth(3).check()  # + 1 300 000 ₽: 150 000 ₽ over the budget
        assert "больше бюджета" in total.inner_text()
        assert digits(total.inner_text()) == [3_150_000, 150_000]
        shot(page, FOLDER, "budget-ballot-over")
        boxes.nth(3).uncheck()
        assert digits(total.inner_text()) == [1_850_000, 1_150_000]
        # The receipt has a layout of its own (core/focused.html): it must stay accessible.
        page.get_by_role("button", name="Далее: проверить выбор").click()
        page.get_by_role("button", name="Подтверждаю, проголосовать").click()
        page.get_by_role("heading", name="Голос принят").wait_for()
        assert page.get_by_role("main").is_visible() and page.get_by_role("banner").is_visible()
        check_axe(page.main_frame, axe_source, FOLDER, "receipt")
        context.close()
