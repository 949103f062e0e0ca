"""The map component (issue #16) in a real browser, under the app's own CSP: the message form's
point picked by click, by keyboard alone and by the browser's geolocation; no request leaves
the app's origin (no tile source by default); axe-core clean; the card shows the point."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from participation.appeals.models import Appeal
from participation.demo.seed import seed_demo
from participation.extensions import db
from tests.appeals.test_appeals_browser import base  # noqa: F401 (fixture)
from tests.browser import check_axe, esia_login, shot

pytestmark = [pytest.mark.browser, pytest.mark.committed]
FOLDER = "maps"
UFA = {"latitude": 54.7388, "longitude": 55.9721}


def _page(browser, origin, persona, path, **context_options):
    """A fresh browser with the CSP enforced; records every request and CSP violation."""
    context = browser.new_context(**context_options)
    page = context.new_page()
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    page.on("pageerror", lambda error: print("PAGEERROR", error))
    page.on("console", lambda message: print("CONSOLE", message.type, message.text))
    page.add_init_script(
        "window.__csp = []; document.addEventListener('securitypolicyviolation',"
        " e => window.__csp.push(e.violatedDirective + ' ' + e.blockedURI));"
    )
    page.goto(f"{origin}/login?next={path}")
    esia_login(page, persona)
    page.wait_for_url(f"{origin}{path}*")
    page.wait_for_selector("#appeal-map.leaflet-container")
    return page, requests


def _expect(locator):
    from playwright.sync_api import expect  # imported here: without it the tests are skipped

    return expect(locator)


def _filled(page) -> None:
    # expect() rather than wait_for_function(): the page's CSP forbids evaluating strings.
    _expect(page.locator("#latitude")).not_to_have_value("")


def _coordinates(page) -> tuple[float, float]:
    return float(page.input_value("#latitude")), float(page.input_value("#longitude"))


def _marker(page) -> tuple[float, float]:
    return tuple(
        page.evaluate(
            "() => { let p; window.participationMaps[0].eachLayer(l => {"
            " if (l.options && l.options.draggable) p = l.getLatLng(); });"
            " return [p.lat, p.lng]; }"
        )
    )


def _only_own_origin(origin: str, requests: list[str]) -> None:
    foreign = [url for url in requests if not url.startswith((origin + "/", "data:"))]
    assert not foreign, f"запросы за пределы приложения: {foreign}"


def test_the_form_map_by_mouse_and_keyboard_stays_on_the_apps_origin(
    base,  # noqa: F811
    browser,
    axe_source,
):
    seed_demo()
    db.session.commit()
    db.session.close()

    page, requests = _page(browser, base, "resident-confirmed-ufa", "/appeals/new")
    block = page.locator(".map-block")
    assert block.is_visible()
    assert "Подложка карты не настроена" in block.inner_text()
    assert page.is_visible("#latitude") and page.is_visible("#address")  # the alternatives

    # A click (on Уфа) places the marker and fills the two coordinate fields with its point.
    at = page.evaluate(
        "([lat, lon]) => window.participationMaps[0].latLngToContainerPoint([lat, lon])",
        [UFA["latitude"], UFA["longitude"]],
    )
    page.locator("#appeal-map").click(position={"x": at["x"], "y": at["y"]})
    _filled(page)
    lat, lon = _coordinates(page)
    assert (lat, lon) == pytest.approx((UFA["latitude"], UFA["longitude"]), abs=0.05)
    assert _marker(page) == pytest.approx((lat, lon), abs=1e-6)
    shot(page, FOLDER, "form-click")

    # Dragging the marker moves the point (and the fields follow).
    icon = page.locator(".leaflet-marker-icon").bounding_box()
    page.mouse.move(icon["x"] + icon["width"] / 2, icon["y"] + icon["height"] - 4)
    page.mouse.down()
    page.mouse.move(icon["x"] + icon["width"] / 2 + 60, icon["y"] + icon["height"] + 36, steps=8)
    page.mouse.up()
    _expect(page.locator("#longitude")).not_to_have_value(f"{lon:.6f}")
    dragged = _coordinates(page)
    assert dragged[1] > lon and dragged[0] < lat
    assert _marker(page) == pytest.approx(dragged, abs=1e-6)

    # Typed coordinates move the marker (the fields and the map follow each other).
    page.fill("#latitude", str(UFA["latitude"]))
    page.fill("#longitude", str(UFA["longitude"]))
    page.press("#longitude", "Tab")
    _expect(page.locator("[data-map-status]")).to_contain_text("Уфа")
    assert _marker(page) == pytest.approx((UFA["latitude"], UFA["longitude"]), abs=1e-6)

    # The point's territory fills the list (GET /api/v1/geo/locate); the region's municipal
    # centres are labelled on the map; a point outside the region is refused with the reason.
    labels = page.locator(".map-centre-label")
    assert labels.count() >= 2
    assert "Стерлитамак" in " ".join(labels.all_inner_texts())
    _expect(page.locator("[data-map-status]")).to_contain_text("Муниципальное образование")
    assert "Уфа" in page.locator("#territory_id option:checked").inner_text()
    page.fill("#latitude", "53.6305")
    page.fill("#longitude", "55.9316")
    page.press("#longitude", "Tab")
    _expect(page.locator("[data-map-status]")).to_contain_text("Стерлитамак")
    assert "Стерлитамак" in page.locator("#territory_id option:checked").inner_text()
    # Казань, another region (longitude first: each field's change asks for the point so far,
    # and Казань's latitude with Стерлитамак's longitude would be a point in the region).
    page.fill("#longitude", "49.1088")
    page.fill("#latitude", "55.7963")
    page.press("#latitude", "Tab")
    _expect(page.locator("[data-map-status].error")).to_be_visible()
    assert "Стерлитамак" in page.locator("#territory_id option:checked").inner_text()

    # Keyboard only: Tab from the address reaches the map, Enter puts the point at the centre,
    # Tab reaches the marker, arrows move it.
    page.fill("#latitude", "")
    page.fill("#longitude", "")
    page.select_option("#territory_id", "")
    page.evaluate(  # back over Уфа (the typed Казань moved the map)
        "([lat, lon]) => window.participationMaps[0].setView([lat, lon], 12, {animate: false})",
        [UFA["latitude"], UFA["longitude"]],
    )
    page.focus("#address")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "appeal-map"
    page.keyboard.press("ArrowLeft")  # the map pans (animated); nothing placed by it
    page.wait_for_timeout(600)
    assert page.input_value("#latitude") == ""
    page.keyboard.press("Enter")
    _filled(page)
    centre = page.evaluate(
        "() => { const c = window.participationMaps[0].getCenter(); return [c.lat, c.lng]; }"
    )
    assert _coordinates(page) == pytest.approx(tuple(centre), abs=1e-5)
    _expect(page.locator("#territory_id option:checked")).not_to_have_text("— выберите —")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.classList.contains('leaflet-marker-icon')")
    before = _coordinates(page)
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowUp")
    after = _coordinates(page)
    assert after[1] > before[1] and after[0] > before[0]
    assert _marker(page) == pytest.approx(after, abs=1e-6)
    shot(page, FOLDER, "form-keyboard")

    assert page.evaluate("window.__csp") == []
    _only_own_origin(base, requests)
    page.context.close()

    # axe-core (injected, so this context lets the inline script in).
    page, _ = _page(browser, base, "resident-confirmed-ufa", "/appeals/new", bypass_csp=True)
    box = page.locator("#appeal-map").bounding_box()
    page.locator("#appeal-map").click(position={"x": box["width"] / 2, "y": box["height"] / 2})
    _filled(page)
    check_axe(page, axe_source, FOLDER, "form-map")
    page.context.close()


def test_my_location_places_the_point_and_the_card_shows_it(base, browser, axe_source):  # noqa: F811
    seed_demo()
    db.session.commit()
    db.session.close()
    page, requests = _page(
        browser,
        base,
        "resident-confirmed-ufa",
        "/appeals/new",
        geolocation=UFA,
        permissions=["geolocation"],
    )
    page.click("text=Моё местоположение")
    _filled(page)
    assert _coordinates(page) == pytest.approx((UFA["latitude"], UFA["longitude"]), abs=1e-6)

    page.fill("#text", "Яма на дороге у дома 24 по улице Ленина, глубокая, колёса пробивают.")
    topic = page.locator("#subcategory_id option", has_text="Ямы").first.get_attribute("value")
    page.select_option("#subcategory_id", topic)
    page.click("button.button:has-text('Отправить сообщение')")
    page.wait_for_url("**/my/appeals/*")
    page.wait_for_selector("#appeal-map.leaflet-container")
    assert "Подложка карты не настроена" in page.inner_text(".map-block")
    marker = page.evaluate(
        "() => { let p; window.participationMaps[0].eachLayer(l => {"
        " if (l.getLatLng && l.options.alt !== undefined) p = l.getLatLng(); });"
        " return [p.lat, p.lng]; }"
    )
    assert tuple(marker) == pytest.approx((UFA["latitude"], UFA["longitude"]), abs=1e-6)
    assert page.evaluate("window.__csp") == []
    _only_own_origin(base, requests)
    shot(page, FOLDER, "my-card")

    db.session.close()
    appeal = db.session.scalar(sa.select(Appeal).order_by(Appeal.id.desc()).limit(1))
    assert float(appeal.latitude) == pytest.approx(UFA["latitude"])
    page.context.close()


# The pothole a neighbour reported yesterday in the demo (demo-appeal-0009).
NEIGHBOUR = (54.7249, 56.0136)


def test_ivanova_sees_the_neighbours_pothole_nearby_and_joins_it_by_keyboard(
    base,  # noqa: F811
    browser,
    axe_source,
):
    seed_demo()
    db.session.commit()
    db.session.close()
    page, requests = _page(browser, base, "resident-confirmed-ufa", "/appeals/new")
    topic = page.locator("#subcategory_id option", has_text="Ямы").first.get_attribute("value")
    page.select_option("#subcategory_id", topic)
    page.fill("#text", "Яма на Менделеева у остановки, большая.")
    # A click about 20 m from the neighbour's point.
    page.evaluate(
        "([lat, lon]) => window.participationMaps[0].setView([lat, lon], 17, {animate: false})",
        list(NEIGHBOUR),
    )
    at = page.evaluate(
        "([lat, lon]) => window.participationMaps[0].latLngToContainerPoint([lat, lon])",
        [NEIGHBOUR[0] + 0.00018, NEIGHBOUR[1]],
    )
    page.locator("#appeal-map").click(position={"x": at["x"], "y": at["y"]})
    _filled(page)
    nearby = page.locator("#nearby")
    _expect(nearby).to_contain_text("Похожие сообщения рядом")
    _expect(nearby).to_contain_text("м от вашей точки")
    text = nearby.inner_text()
    assert "Петров" not in text and "остановки «Улица Менделеева»" not in text  # nothing personal
    shot(page, FOLDER, "form-nearby")

    # Keyboard only: from the longitude field, Tab reaches «Присоединиться», Enter joins.
    page.focus("#longitude")
    page.keyboard.press("Tab")
    focused = page.evaluate("document.activeElement.textContent")
    assert "Присоединиться к №" in focused
    page.keyboard.press("Enter")
    page.wait_for_url("**/my/appeals/*")
    assert "Вы присоединились к сообщению №" in page.inner_text("main")
    assert page.evaluate("window.__csp") == []
    _only_own_origin(base, requests)
    page.context.close()

    # axe-core on the form with the list shown.
    page, _ = _page(browser, base, "resident-standard-ufa", "/appeals/new", bypass_csp=True)
    page.select_option("#subcategory_id", topic)
    page.fill("#latitude", f"{NEIGHBOUR[0] + 0.0002:.6f}")
    page.fill("#longitude", f"{NEIGHBOUR[1]:.6f}")
    page.press("#longitude", "Tab")
    # The neighbour's own message: listed as theirs, no button to join it.
    _expect(page.locator("#nearby")).to_contain_text("Это ваше сообщение")
    check_axe(page, axe_source, FOLDER, "form-nearby")
    page.context.close()
