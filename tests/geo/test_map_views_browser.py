"""The maps of many points in a real browser under the app's CSP (issue #16): the inbox's map
mode clusters the folder's points and a point's popup links to the message card; the public
map of problems (no login) shows status pins with a legend; both pass axe-core."""

from __future__ import annotations

import math
from decimal import Decimal
from urllib.parse import quote

import pytest
import sqlalchemy as sa

from participation.appeals.models import Appeal
from participation.appeals.workflow import AppealState
from participation.core.organizations import Organization
from participation.core.territories import Territory
from participation.core.users import User
from participation.demo import data
from participation.demo.seed import seed_demo
from participation.extensions import db
from participation.geo.map_data import PUBLIC_STATES, set_public_map
from tests.appeals.test_appeals_browser import base  # noqa: F401 (fixture)
from tests.browser import check_axe, esia_login, shot

pytestmark = [pytest.mark.browser, pytest.mark.committed]
FOLDER = "maps"
UFA = (54.7388, 55.9721)


def _organization(slug: str) -> Organization:
    name = next(o["name"] for o in data.ORGANIZATIONS if o["slug"] == slug)
    return db.session.scalar(sa.select(Organization).where(Organization.name == name))


def _expect(locator):
    from playwright.sync_api import expect  # imported here: without it the tests are skipped

    return expect(locator)


def _around(appeals, spacing_m: float = 60) -> None:
    """Put the messages on a small grid in the middle of Уфа, `spacing_m` apart."""
    side = max(1, math.ceil(math.sqrt(len(appeals))))
    for i, appeal in enumerate(appeals):
        north, east = (i // side) * spacing_m, (i % side) * spacing_m
        lat = UFA[0] + north / 111_195
        lon = UFA[1] + east / (111_195 * math.cos(math.radians(UFA[0])))
        appeal.latitude = Decimal(f"{lat:.6f}")
        appeal.longitude = Decimal(f"{lon:.6f}")


def _new_context(browser, **options):
    context = browser.new_context(**options)
    page = context.new_page()
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    page.add_init_script(
        "window.__csp = []; document.addEventListener('securitypolicyviolation',"
        " e => window.__csp.push(e.violatedDirective + ' ' + e.blockedURI));"
    )
    return page, requests


def _only_own_origin(origin: str, requests: list[str]) -> None:
    foreign = [url for url in requests if not url.startswith((origin + "/", "data:"))]
    assert not foreign, f"запросы за пределы приложения: {foreign}"


def test_inbox_map_mode_clusters_the_folders_points_and_a_popup_opens_the_card(
    base,  # noqa: F811
    browser,
    axe_source,
):
    seed_demo()
    ufa_admin = _organization("ufa-admin")
    # The demo's messages are few per folder: four of them are put in the «Новые» folder of
    # Уфа's administration (waiting for an executor), with points in the middle of Уфа.
    mapped = db.session.scalars(sa.select(Appeal).order_by(Appeal.id).limit(4)).all()
    for appeal in mapped:
        appeal.holder_organization_id = ufa_admin.id
        appeal.set_state(AppealState.ASSIGNMENT)
    bucket = mapped[0].bucket
    _around(mapped)
    db.session.commit()
    ids = {a.id for a in mapped}
    db.session.close()

    page, requests = _new_context(browser)
    path = f"/backoffice/appeals/?bucket={bucket.value}"
    page.goto(f"{base}/login?next={path}")
    esia_login(page, "ufa-coordinator")
    page.wait_for_url(f"{base}{path}*")
    page.click("nav.view-switch >> text=Карта")
    page.wait_for_selector("#inbox-map.leaflet-container")
    assert page.get_attribute("#inbox-map", "aria-label").startswith("Карта сообщений папки")
    _expect(page.locator("#inbox-map")).to_have_attribute("data-points-loaded", "1")
    # At the region's zoom the points, 60 m apart, are one cluster counting all of them.
    cluster = page.locator("#inbox-map .marker-cluster")
    _expect(cluster).to_have_count(1)
    assert cluster.locator("span[aria-hidden]").inner_text().strip() == str(len(mapped))
    assert "Сообщений в группе: 4" in cluster.inner_text()
    _expect(page.locator("[data-map-status]")).to_contain_text(f"Сообщений на карте: {len(ids)}")
    shot(page, FOLDER, "inbox-map-cluster")

    # A click on the cluster zooms in until the points are apart; a point's popup links to the
    # card.
    for _ in range(6):
        if page.locator("#inbox-map .map-pin").count():
            break
        page.locator("#inbox-map .marker-cluster").first.click()
        page.wait_for_timeout(700)
    pins = page.locator("#inbox-map .map-pin")
    assert pins.count() >= 1
    pins.first.click()
    link = page.locator(".leaflet-popup-content a")
    _expect(link).to_be_visible()
    href = link.get_attribute("href")
    number = int(href.rsplit("/", 1)[1])
    assert number in ids and link.inner_text() == f"Сообщение № {number}"
    shot(page, FOLDER, "inbox-map-popup")
    link.click()
    page.wait_for_url(f"{base}/backoffice/appeals/{number}")
    assert page.evaluate("window.__csp") == []
    _only_own_origin(base, requests)
    page.context.close()

    # axe-core on the map mode (injected, so this context lets the inline script in).
    page, _ = _new_context(browser, bypass_csp=True)
    path = f"/backoffice/appeals/?bucket={bucket.value}&view=map"
    page.goto(f"{base}/login?next={quote(path)}")
    esia_login(page, "ufa-coordinator")
    page.wait_for_url(f"{base}/backoffice/appeals/*")
    _expect(page.locator("#inbox-map")).to_have_attribute("data-points-loaded", "1")
    check_axe(page, axe_source, FOLDER, "inbox-map")
    page.context.close()


def test_the_public_map_shows_status_pins_without_login_and_passes_axe(
    base,  # noqa: F811
    browser,
    axe_source,
):
    seed_demo()
    region = db.session.scalar(sa.select(Territory).where(Territory.oktmo == data.BASHKORTOSTAN))
    public = db.session.scalars(
        sa.select(Appeal)
        .where(Appeal.region_id == region.id, Appeal.state.in_(sorted(PUBLIC_STATES)))
        .order_by(Appeal.id)
        .limit(12)
    ).all()
    assert public, "the demo needs public messages in Башкортостан"
    _around(public, spacing_m=400)
    curator = db.session.scalar(
        sa.select(User).where(User.esia_oid == data.PERSONAS["cur-curator"]["esia_oid"])
    )
    set_public_map(region, enabled=True, publish_texts=False, actor_id=curator.id)
    db.session.commit()
    db.session.close()

    page, requests = _new_context(browser)
    page.goto(f"{base}/map/{data.BASHKORTOSTAN}")
    page.wait_for_selector("#public-map.leaflet-container")
    _expect(page.locator("#public-map")).to_have_attribute("data-points-loaded", "1")
    assert page.locator(".map-legend li").count() == 4
    assert page.locator("table").count() == 1
    page.evaluate("() => window.participationMaps[0].setView([54.7388, 55.9721], 15)")
    _expect(page.locator("#public-map .map-pin").first).to_be_visible()
    page.locator("#public-map .map-pin").first.click()
    popup = page.locator(".leaflet-popup-content")
    _expect(popup).to_be_visible()
    assert "Автор" not in popup.inner_text()
    assert page.evaluate("window.__csp") == []
    _only_own_origin(base, requests)
    shot(page, FOLDER, "public-map")
    page.context.close()

    # axe-core (injected, so this context lets the inline script in).
    page, _ = _new_context(browser, bypass_csp=True)
    page.goto(f"{base}/map/{data.BASHKORTOSTAN}")
    page.wait_for_selector("#public-map.leaflet-container")
    _expect(page.locator("#public-map")).to_have_attribute("data-points-loaded", "1")
    check_axe(page, axe_source, FOLDER, "public-map")
    page.context.close()
