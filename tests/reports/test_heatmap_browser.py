"""The dashboards' heat-map layer in Chromium under the app's CSP: the cells are drawn on the
one map component (plain background, municipal centres) with the legend and the table of the
busiest cells, nothing is fetched from outside the app, axe-core clean at desktop and phone."""

from __future__ import annotations

import pytest
import time_machine

from participation.core.users import Role
from participation.extensions import db
from tests import factories as f
from tests.browser import check_axe, esia_login, serve_platform, shot
from tests.core.test_accessibility_browser import DESKTOP, PHONE
from tests.reports.test_dashboards import NOW
from tests.reports.test_heatmap import geo, heat  # noqa: F401  (the fixtures)

pytestmark = [pytest.mark.browser, pytest.mark.committed]
FOLDER = "reports"


def _persona(slug: str) -> str:
    from participation.demo import data

    return data.PERSONAS[slug]["esia_oid"]


def test_the_heat_map_layer_is_drawn_and_accessible(
    app,
    monkeypatch,
    tmp_path,
    browser,
    axe_source,
    heat,  # noqa: F811
):
    f.staff(heat.cur, Role.COORDINATOR, esia_oid=_persona("cur-coordinator"))
    db.session.commit()
    db.session.close()
    pages = (
        ("/reports/region?grain=month&day=2026-03-15&cell=1000", "heatmap-region"),
        ("/reports/hotspots?grain=month&day=2026-03-15&cell=4000", "heatmap-hotspots"),
    )
    with time_machine.travel(NOW, tick=True), serve_platform(app, monkeypatch, tmp_path) as base:
        # Under the app's CSP: drawn, no error, nothing from outside the app.
        page, requests, errors = _logged_in(browser, base)
        for path, _name in pages:
            response = page.goto(f"{base}{path}")
            assert response.status == 200
            page.wait_for_selector("#heat-map.leaflet-container")
            listed = page.locator("#heat-busiest + div tbody tr").count()
            cells = page.locator("#heat-map path.map-cell")
            assert cells.count() == listed >= 1
            # Shaded by the stylesheet's palette (the legend's), not Leaflet's default blue.
            assert cells.first.evaluate("p => getComputedStyle(p).fill") != "rgb(51, 136, 255)"
            assert "Подложка карты не настроена" in page.inner_text(".map-block")
            assert page.locator(".map-centre-label").count() >= 1
            assert page.locator(".heat-legend li").count() >= 1
            assert "7" in page.inner_text("#heat-busiest + div")
        assert page.locator("#heat-map path.map-cell").count() == 1  # 4 km: one cell of 16
        assert page.evaluate("window.__csp") == []
        assert errors == []
        foreign = [u for u in requests if not u.startswith((base + "/", "data:"))]
        assert not foreign, foreign
        page.context.close()

        # axe-core (injected: the CSP is bypassed for it) at desktop and phone width.
        page, _requests, _errors = _logged_in(browser, base, bypass_csp=True)
        for path, name in pages:
            page.set_viewport_size(DESKTOP)
            page.goto(f"{base}{path}")
            page.wait_for_selector("#heat-map path.map-cell")
            for label, size in (("desktop", DESKTOP), ("phone", PHONE)):
                page.set_viewport_size(size)
                check_axe(page.main_frame, axe_source, FOLDER, f"{name}-{label}")
                shot(page, FOLDER, f"{name}-{label}")
        page.context.close()


def _logged_in(browser, base: str, **options):
    context = browser.new_context(viewport=DESKTOP, **options)
    page = context.new_page()
    requests: list[str] = []
    errors: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.add_init_script(
        "window.__csp = []; document.addEventListener('securitypolicyviolation',"
        " e => window.__csp.push(e.violatedDirective + ' ' + e.blockedURI));"
    )
    page.goto(f"{base}/login?next=/")
    esia_login(page, "cur-coordinator")
    page.wait_for_url(f"{base}/")
    return page, requests, errors
