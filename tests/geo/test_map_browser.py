"""The one map component in a real browser, beyond the message form (issue #16): a vote's
objects as labelled points that open their pages, a hearing's territory with its boundary, the
operator's form with the same picker, and the optional geocoder filling the address field —
under the app's own CSP, with no request leaving the app's origin, axe-core clean."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from participation.demo.seed import seed_demo
from participation.extensions import db
from participation.geo.services import import_boundaries
from participation.hearings.models import Hearing
from participation.voting.models import Campaign, VotingObject
from tests.appeals.test_appeals_browser import base  # noqa: F401 (fixture)
from tests.browser import check_axe, esia_login, shot
from tests.geo.test_geocoder import FakeNominatim, no_cache  # noqa: F401 (fixture)

pytestmark = [pytest.mark.browser, pytest.mark.committed]
FOLDER = "maps"
UFA = (54.7388, 55.9721)


def _expect(locator):
    from playwright.sync_api import expect  # imported here: without it the tests are skipped

    return expect(locator)


def _open(browser, origin: str, path: str, persona: str | None = None, **options):
    context = browser.new_context(**options)
    page = context.new_page()
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    page.add_init_script(
        "window.__csp = []; document.addEventListener('securitypolicyviolation',"
        " e => window.__csp.push(e.violatedDirective + ' ' + e.blockedURI));"
    )
    if persona:
        page.goto(f"{origin}/login?next={path}")
        esia_login(page, persona)
        page.wait_for_url(f"{origin}{path}*")
    else:
        page.goto(f"{origin}{path}")
    return page, requests


def _clean(page, origin: str, requests: list[str]) -> None:
    assert page.evaluate("window.__csp") == []
    foreign = [url for url in requests if not url.startswith((origin + "/", "data:"))]
    assert not foreign, f"запросы за пределы приложения: {foreign}"


def _click_at(page, map_id: str, lat: float, lon: float) -> None:
    at = page.evaluate(
        "([lat, lon]) => window.participationMaps[0].latLngToContainerPoint([lat, lon])",
        [lat, lon],
    )
    page.locator(f"#{map_id}").click(position={"x": at["x"], "y": at["y"]})


def _seeded():
    seed_demo()
    db.session.commit()


def test_a_votes_objects_are_points_that_open_their_pages(base, browser, axe_source):  # noqa: F811
    _seeded()
    vote = db.session.scalar(
        sa.select(Campaign)
        .join(VotingObject)
        .where(Campaign.published_at.is_not(None), VotingObject.latitude.is_not(None))
        .order_by(Campaign.id)
        .limit(1)
    )
    placed = [o for o in vote.objects if o.latitude is not None]
    assert len(placed) >= 2
    first = min(placed, key=lambda o: o.number)
    vote_id, first_id, first_title = vote.id, first.id, first.title
    db.session.close()

    page, requests = _open(browser, base, f"/voting/{vote_id}")
    page.wait_for_selector("#voting-map.leaflet-container")
    markers = page.locator("#voting-map .leaflet-marker-icon")
    _expect(markers).to_have_count(len(placed))
    labels = page.locator("#voting-map .map-point-label").all_inner_texts()
    assert f"№ {first.number}" in labels
    shot(page, FOLDER, "vote-objects")

    # Keyboard: Tab from the map reaches the points; Enter opens the popup, its link is focused.
    page.focus("#voting-map")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.classList.contains('leaflet-marker-icon')")
    page.locator(f"#voting-map .leaflet-marker-icon[title^='№ {first.number}.']").focus()
    page.keyboard.press("Enter")
    link = page.locator("#voting-map .leaflet-popup-content a")
    _expect(link).to_be_focused()
    _expect(link).to_contain_text(first_title)
    close = page.locator("#voting-map .leaflet-popup-close-button")
    assert close.get_attribute("aria-label") == "Закрыть"
    page.keyboard.press("Enter")
    page.wait_for_url(f"{base}/voting/{vote_id}/objects/{first_id}")
    page.wait_for_selector("#voting-object-map.leaflet-container")
    _expect(page.locator("#voting-object-map .leaflet-marker-icon")).to_have_count(1)
    _clean(page, base, requests)
    page.context.close()

    page, _ = _open(browser, base, f"/voting/{vote_id}", bypass_csp=True)
    page.wait_for_selector("#voting-map.leaflet-container")
    check_axe(page, axe_source, FOLDER, "vote-objects")
    page.context.close()


def test_a_hearing_shows_its_territory_and_boundary(base, browser, axe_source):  # noqa: F811
    _seeded()
    hearing = db.session.scalar(
        sa.select(Hearing).where(Hearing.notice_published_at.is_not(None)).limit(1)
    )
    territory = hearing.territory
    assert territory.latitude is not None  # the demo's territories have centres
    lat, lon = float(territory.latitude), float(territory.longitude)
    square = [[lon - 0.1, lat - 0.05], [lon + 0.1, lat - 0.05], [lon + 0.1, lat + 0.05]]
    import_boundaries(
        [
            {
                "type": "Feature",
                "properties": {"oktmo": territory.oktmo},
                "geometry": {"type": "Polygon", "coordinates": [[*square, square[0]]]},
            }
        ]
    )
    hearing_id = hearing.id
    db.session.commit()
    db.session.close()

    page, requests = _open(browser, base, f"/hearings/{hearing_id}")
    page.wait_for_selector("#hearing-map.leaflet-container")
    _expect(page.locator("#hearing-map .leaflet-overlay-pane path")).to_have_count(1)
    _expect(page.locator("#hearing-map .leaflet-marker-icon")).to_have_count(1)
    _expect(page.locator("#hearing-map .map-point-label")).to_have_text("город Уфа")
    assert "Подложка карты не настроена" in page.inner_text("#hearing-map + .map-note")
    shot(page, FOLDER, "hearing-territory")
    _clean(page, base, requests)
    page.context.close()

    page, _ = _open(browser, base, f"/hearings/{hearing_id}", bypass_csp=True)
    page.wait_for_selector("#hearing-map.leaflet-container")
    check_axe(page, axe_source, FOLDER, "hearing-territory")
    page.context.close()


def test_the_operators_form_picks_the_point_and_the_geocoder_fills_the_address(
    base,  # noqa: F811
    browser,
    axe_source,
    app,
    monkeypatch,
    no_cache,  # noqa: F811
):
    _seeded()
    db.session.close()
    with FakeNominatim() as fake:
        monkeypatch.setitem(app.config, "GEOCODER_URL", fake.url)
        page, requests = _open(browser, base, "/backoffice/appeals/new", "cur-operator")
        page.wait_for_selector("#appeal-map.leaflet-container")
        _click_at(page, "appeal-map", *UFA)
        _expect(page.locator("#latitude")).not_to_have_value("")
        _expect(page.locator("#address")).to_have_value("Уфа, улица Ленина, 12")
        _expect(page.locator("[data-map-address-status]")).to_contain_text("Уфа, улица Ленина")
        _expect(page.locator("#territory_id option:checked")).to_contain_text("Уфа")
        lat, lon = float(page.input_value("#latitude")), float(page.input_value("#longitude"))
        assert (lat, lon) == pytest.approx(UFA, abs=0.05)
        assert len(fake.requests) == 1  # asked by the server, not by the browser
        shot(page, FOLDER, "operator-form")

        # The operator's own words win: a typed address is never replaced.
        page.fill("#address", "ул. Ленина, напротив дома 24")
        page.evaluate(
            "([lat, lon]) => window.participationMaps[0].setView([lat, lon], 15, {animate: false})",
            list(UFA),
        )
        _click_at(page, "appeal-map", UFA[0] + 0.003, UFA[1] + 0.004)
        _expect(page.locator("#longitude")).not_to_have_value(f"{lon:.6f}")
        page.wait_for_timeout(1000)  # past the 400 ms pause: a (wrong) request would be out
        assert page.input_value("#address") == "ул. Ленина, напротив дома 24"
        assert len(fake.requests) == 1
        _clean(page, base, requests)
        page.context.close()

        page, _ = _open(browser, base, "/backoffice/appeals/new", "cur-operator", bypass_csp=True)
        page.wait_for_selector("#appeal-map.leaflet-container")
        _click_at(page, "appeal-map", *UFA)
        _expect(page.locator("#address")).to_have_value("Уфа, улица Ленина, 12")
        check_axe(page, axe_source, FOLDER, "operator-form")
        page.context.close()
