"""The dashboards in Chromium with axe-core: the organization's, the region's, «Проблемные
точки», the messages behind a figure and the filter with its errors, at desktop and phone
width: no WCAG 2.1 A/AA or best-practice violation, no sideways scrolling of the page."""

from __future__ import annotations

import json

import pytest
import time_machine

from participation.core.users import Role
from participation.extensions import db
from tests import factories as f
from tests.browser import ARTIFACTS, axe_violations, esia_login, serve_platform, shot
from tests.core.test_accessibility_browser import DESKTOP, PHONE, TAGS, WIDEST
from tests.reports.test_dashboards import MARCH, NOW, month  # noqa: F401  (the fixture)

pytestmark = [pytest.mark.browser, pytest.mark.committed]
FOLDER = "reports"


def _persona(slug: str) -> str:
    from participation.demo import data

    return data.PERSONAS[slug]["esia_oid"]


def test_dashboards_have_no_accessibility_violations(
    app,
    monkeypatch,
    tmp_path,
    browser,
    axe_source,
    month,  # noqa: F811
):
    w = month.w
    f.staff(w.city_admin, Role.HEAD, esia_oid=_persona("ufa-coordinator"))
    f.staff(w.cur, Role.COORDINATOR, esia_oid=_persona("cur-coordinator"))
    city_id = w.city.id
    db.session.commit()
    db.session.close()
    visits = [
        ("organization", "ufa-coordinator", f"/reports/?{MARCH}"),
        (
            "organization-errors",
            "ufa-coordinator",
            "/reports/?grain=range&start=2026-03-10&end=2026-03-01",
        ),
        ("region", "cur-coordinator", f"/reports/region?{MARCH}"),
        (
            "region-municipality",
            "cur-coordinator",
            f"/reports/region?{MARCH}&municipality={city_id}",
        ),
        ("hotspots", "cur-coordinator", f"/reports/hotspots?{MARCH}"),
        ("messages", "cur-coordinator", f"/reports/messages?indicator=received&{MARCH}"),
    ]
    found: dict[str, list] = {}
    with time_machine.travel(NOW, tick=True), serve_platform(app, monkeypatch, tmp_path) as base:
        pages = {}
        for name, persona, path in visits:
            page = pages.get(persona)
            if page is None:
                context = browser.new_context(bypass_csp=True, viewport=DESKTOP)
                page = pages[persona] = context.new_page()
                page.goto(f"{base}/login?next=/")
                esia_login(page, persona)
                page.wait_for_url(f"{base}/")
            page.set_viewport_size(DESKTOP)
            response = page.goto(f"{base}{path}")
            assert response.status == 200, (name, response.status)
            assert page.locator("main h1").count() == 1
            for label, size in (("desktop", DESKTOP), ("phone", PHONE)):
                page.set_viewport_size(size)
                problems = axe_violations(page.main_frame, axe_source, TAGS)
                width, wide = page.evaluate(WIDEST, size["width"])
                if width > size["width"]:
                    problems.append({"id": "reflow", "help": f"{width}px", "nodes": wide})
                if problems:
                    found[f"{name}@{label}"] = problems
                shot(page, FOLDER, f"{name}-{label}")
        for page in pages.values():
            page.context.close()
    (ARTIFACTS / FOLDER).mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / FOLDER / "violations.json").write_text(
        json.dumps(found, ensure_ascii=False, indent=2), encoding="utf-8"
    )
    assert not found, json.dumps(found, ensure_ascii=False, indent=1)
