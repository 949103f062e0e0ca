"""Where the widget sits on a site's page, measured in a real browser (headless Chromium).

The organization's site is a page on localhost:<port>, another origin (and site) than the
platform on 127.0.0.1:<port>. The embed script measures the iframe there and hands the figures
to the widget's page by postMessage; the cabinet then warns when the widget is below the first
screen or squeezed under the minimum size. The banner's preview follows the choices live.
"""

from __future__ import annotations

import time

import pytest

from participation.extensions import db
from participation.widgets import services
from participation.widgets.models import WidgetPlacement
from tests.browser import check_axe, serve, serve_platform, shot
from tests.helpers import login_as
from tests.widgets.conftest import enable
from tests.widgets.test_widget_browser import WIDGET_FRAME, Site, widget_frame

pytestmark = [pytest.mark.browser, pytest.mark.committed]


@pytest.fixture
def hosted(app, monkeypatch, tmp_path):
    """As test_widget_browser's `served`: the app on 127.0.0.1:<port>, the organization's
    site on localhost:<another port>."""
    site = Site()
    with serve_platform(app, monkeypatch, tmp_path) as base, serve(site, "localhost") as port:
        yield base, f"http://localhost:{port}", site


def _placement(organization_id: int, site: str, predicate=lambda row: True, timeout=15.0):
    """The placement the server keeps for this site once it satisfies `predicate` (or None)."""
    deadline = time.monotonic() + timeout
    while True:
        row = db.session.get(WidgetPlacement, (organization_id, site))
        found = (row.top, row.width, row.height) if row is not None and predicate(row) else None
        db.session.close()  # hold no lock while the server works (SQLite)
        if found is not None or time.monotonic() > deadline:
            return found
        time.sleep(0.2)


def _cabinet(app, administrator_id: int) -> str:
    from participation.core.users import User

    administrator = db.session.get(User, administrator_id)
    db.session.close()  # the request's own session writes (SQLite: one writer)
    client = app.test_client()
    login_as(client, administrator)
    return client.get("/admin/widget/").get_data(as_text=True)


def _open(browser, url: str, **context_options):
    context = browser.new_context(viewport={"width": 1280, "height": 800}, **context_options)
    page = context.new_page()
    page.goto(url)
    frame = widget_frame(page)
    frame.wait_for_selector("text=Войти через Госуслуги")
    return context, page


def test_the_cabinet_warns_about_a_widget_placed_low_and_not_about_one_at_the_top(
    app, hosted, browser
):
    base, site_url, site = hosted
    from tests import factories as f

    org = f.organization(name="Администрация тестового района")
    from participation.core.users import Role

    admin = f.staff(org, Role.ADMINISTRATOR)
    enable(org, admin, site_url=site_url)
    db.session.commit()
    snippet = services.snippet(org, base)
    org_id, admin_id = org.id, admin.id
    db.session.close()

    site.page("/top", f"<p>Новости школы</p>{snippet}")
    site.page("/low", f'<div style="height:900px">Новости школы</div>{snippet}')
    site.page(
        "/squeezed",
        f"<style>.participation-widget iframe {{ height: 200px !important; }}</style>{snippet}",
    )

    # 1. At the top of the page: reported, no warning.
    context, page = _open(browser, f"{site_url}/top")
    top, width, height = _placement(org_id, site_url)
    box = page.locator(WIDGET_FRAME).bounding_box()
    assert abs(top - box["y"]) <= 2 and abs(width - box["width"]) <= 2
    assert top < 300 and height >= 300
    page_html = _cabinet(app, admin_id)
    assert site_url in page_html
    assert "Размещение соответствует правилам." in page_html
    assert "Виджет расположен ниже первого экрана" not in page_html
    assert "Размер виджета нарушает правила размещения" not in page_html
    shot(page, "widgets", "12-placement-top")
    context.close()

    # 2. 900 px down the page: the position is measured from the top of the page, and the
    #    cabinet warns.
    context, page = _open(browser, f"{site_url}/low")
    top, _width, _height = _placement(org_id, site_url, lambda row: row.top > 900)
    assert top >= 900
    page_html = _cabinet(app, admin_id)
    assert "Виджет расположен ниже первого экрана" in page_html
    assert "Размер виджета нарушает правила размещения" not in page_html
    shot(page, "widgets", "13-placement-low")
    context.close()

    # 3. The site's stylesheet squeezes the widget: the size breaks the rules.
    context, page = _open(browser, f"{site_url}/squeezed")
    _top, _width, height = _placement(org_id, site_url, lambda row: row.height < 300)
    assert height == 200
    page_html = _cabinet(app, admin_id)
    assert "Размер виджета нарушает правила размещения" in page_html
    assert "Виджет расположен ниже первого экрана" not in page_html
    # 4. … and when the window is resized, a new report follows.
    page.set_viewport_size({"width": 700, "height": 600})
    assert _placement(org_id, site_url, lambda row: row.viewport_width <= 700) is not None
    context.close()

    # 5. The same snippet on another origin: the browser does not show the widget there (the
    #    site is not the declared one), and nothing is reported from it.
    other = Site()
    other.page("/", f'<div style="height:900px"></div>{snippet}')
    with serve(other, "localhost") as port:
        stranger = f"http://localhost:{port}"
        context = browser.new_context()
        page = context.new_page()
        page.goto(f"{stranger}/")
        page.wait_for_selector(WIDGET_FRAME, state="attached")
        page.wait_for_timeout(2000)
        context.close()
    assert _placement(org_id, stranger, timeout=0.5) is None


def test_the_banner_preview_follows_the_choice_in_the_cabinet(app, hosted, browser, axe_source):
    from participation.core.users import Role
    from tests import factories as f

    base, site_url, _site = hosted
    org = f.organization(name="Администрация тестового района")
    admin = f.staff(org, Role.ADMINISTRATOR)
    enable(org, admin, site_url=site_url)
    db.session.commit()
    client = app.test_client()
    login_as(client, admin)
    db.session.close()
    cookie = client.get_cookie("session")

    context = browser.new_context(bypass_csp=True, viewport={"width": 1280, "height": 900})
    context.add_cookies([{"name": "session", "value": cookie.value, "url": base}])
    page = context.new_page()
    page.goto(f"{base}/admin/widget/")
    page.wait_for_selector("h1:has-text('Веб-виджет')")
    preview = page.frame_locator("#banner-preview")
    preview.locator(".widget-layout-classic").wait_for()

    page.check("input[name=design][value=education-poster]")
    preview.locator(".widget-banner-education.widget-layout-poster").wait_for()
    page.check("input[name=text_choice][value=custom]")
    page.fill("#custom_text", "Гимназия № 3 слушает родителей")
    preview.locator("h1:has-text('Гимназия № 3 слушает родителей')").wait_for()
    page.fill("#custom_text", "Я" * 61)
    preview.locator("text=не длиннее 60 символов, сейчас 61").wait_for()
    check_axe(page.main_frame, axe_source, "widgets", "admin-designs")
    for frame in page.frames:
        if "/admin/widget/preview" in frame.url:
            check_axe(frame, axe_source, "widgets", "banner-preview")
    shot(page, "widgets", "14-banner-preview")

    # Every design, as the widget shows it: axe-core (contrast included) finds nothing serious.
    from participation.widgets.models import BannerDesign

    # … and at the narrowest width the rules allow (200 px) and at 300 px, nothing of it
    # sticks out sideways and the headline stays whole.
    for design in BannerDesign:
        url = f"{base}/admin/widget/preview?design={design.value}&kind=message"
        page.set_viewport_size({"width": 1280, "height": 900})
        page.goto(url + "&text_choice=street")
        page.wait_for_selector(".widget-banner")
        check_axe(page.main_frame, axe_source, "widgets", f"design-{design.value}")
        for width in (200, 300):
            page.set_viewport_size({"width": width, "height": 400})
            overflow = page.evaluate(
                """() => {
                    const page = document.documentElement;
                    const title = document.querySelector('.widget-title');
                    return [page.scrollWidth, page.clientWidth, title.scrollWidth,
                            title.clientWidth];
                }"""
            )
            assert overflow[0] <= overflow[1] and overflow[2] <= overflow[3], (design, width)
        shot(page, "widgets", f"design-{design.value}-300")
    context.close()
