"""The public statistics page: open without login, region by OKTMO, «менее 5» for small
personal counts and small bases, no personal data or text; and in Chromium with axe-core, the
public page and the staff rating page."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
import time_machine

from participation.core.organizations import OrganizationKind
from participation.extensions import db
from tests.browser import WCAG_21_AA, axe_violations, esia_login, serve_platform, shot
from tests.reports.conftest import MAY_REMARK_TEXT, fill_may, rollup

NOW = datetime(2026, 6, 15, 7, 0, tzinfo=UTC)
MAY = "?grain=month&day=2026-05-10"
REMARK_TEXT = MAY_REMARK_TEXT
QUESTION_TEXT = "Когда починят дорогу?"


@pytest.fixture
def now():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def filled(w, now):
    fill_may(w)
    return w


def _page(client, w, query=MAY):
    response = client.get(f"/statistics/{w.region.oktmo}{query}")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_open_without_login_with_totals_rating_and_hotspots(client, filled):
    html = _page(client, filled)
    assert "Открытая статистика: Республика Проба" in html
    assert "Сообщения жителей" in html and "Участие жителей" in html
    assert "Рейтинг муниципалитетов" in html and "Как считается рейтинг" in html
    assert "Фонари (отчёт)" in html and "Ямы (отчёт)" in html
    assert "Безадминистративный район" in html  # every municipality is rated
    assert "с 01.05.2026 по 31.05.2026" in html
    assert "<svg" in html and 'role="img"' in html


def test_small_counts_and_small_bases_are_hidden(client, filled):
    html = _page(client, filled)
    # Received 15 in May (shown); the potholes' 3 and the 3 ballots are «менее 5».
    assert "<td>15</td>" in html
    assert html.count("менее 5") >= 3
    assert "<td>3</td>" not in html
    # Three ratings: the average and the share of 4–5 are not shown.
    assert "менее 5 оценок" in html
    assert "5,00" not in html and "100,0" not in html.split("rating-title")[0]
    # Hotspot chart: the hidden count draws no bar and says «менее 5».
    assert "Ямы (отчёт): менее 5" in html
    # The previous period's 7 street-light messages are shown next to May's 12.
    assert "<td>12</td><td>7</td>" in html


def test_no_personal_data_or_text_on_the_page(client, filled):
    html = _page(client, filled)
    for secret in (
        REMARK_TEXT,
        "Агриппина",
        "Жителькина",
        "agrippina.zhitelkina@example.org",
        "curator@proba.ru",
        "Кураторская",
        "Замечательная",
        QUESTION_TEXT,
        "Починим летом",
    ):
        assert secret not in html, secret


def test_regions_list_or_redirect(client, filled):
    html = client.get("/statistics/").get_data(as_text=True)
    assert "Республика Проба" in html and "Чужая область" in html
    # With one region only, straight to it.
    filled.other_admin.kind = OrganizationKind.INSTITUTION
    db.session.flush()
    response = client.get("/statistics/")
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/statistics/{filled.region.oktmo}")


def test_unknown_or_non_region_oktmo_is_404(client, filled):
    assert client.get("/statistics/99999999").status_code == 404
    assert client.get(f"/statistics/{filled.city.oktmo}").status_code == 404


def test_another_region_page_has_its_own_figures(client, filled):
    response = client.get(f"/statistics/{filled.other_region.oktmo}{MAY}")
    html = response.get_data(as_text=True)
    assert "Чужая область" in html
    assert "Фонари (отчёт)" not in html and "Степной район" not in html


def test_bad_period_arguments_fall_back_to_this_month(client, filled):
    html = _page(client, filled, "?grain=decade&day=31.02.2026")
    assert "с 01.06.2026 по 30.06.2026" in html


# --- in Chromium, with axe-core ------------------------------------------------------------------


@pytest.mark.browser
@pytest.mark.committed
def test_public_and_rating_pages_pass_axe(app, w, browser, axe_source, monkeypatch, tmp_path):
    from participation.core.users import Role
    from participation.demo import data
    from tests import factories as f

    rollup(w, w.city_admin, w.city, date.today(), received=9, answered=6, answered_on_time=5)
    oid = data.PERSONAS["cur-curator"]["esia_oid"]
    f.staff(w.cur, Role.CURATOR, esia_oid=oid)
    region_id, oktmo = w.region.id, w.region.oktmo
    db.session.commit()
    db.session.close()

    tags = [*WCAG_21_AA, "best-practice"]
    found = {}
    with serve_platform(app, monkeypatch, tmp_path) as base:
        context = browser.new_context(bypass_csp=True, viewport={"width": 1280, "height": 800})
        page = context.new_page()
        page.goto(f"{base}/statistics/{oktmo}")
        assert page.get_by_role("heading", level=1).inner_text().startswith("Открытая статистика")
        found["public"] = axe_violations(page.main_frame, axe_source, tags)
        shot(page, "reports", "public-statistics")

        page.goto(f"{base}/login?next=/")
        esia_login(page, "cur-curator")
        page.wait_for_url(f"{base}/")
        for name, path in (
            ("rating", f"/reports/rating/?region={region_id}"),
            ("weights", f"/reports/rating/weights?region={region_id}"),
        ):
            response = page.goto(f"{base}{path}")
            assert response.status == 200, (name, response.status)
            found[name] = axe_violations(page.main_frame, axe_source, tags)
            shot(page, "reports", name)
        # The weights form with an error shown.
        page.fill("#w_votes_held", "много")
        with page.expect_navigation():
            page.get_by_role("button", name="Сохранить веса").click()
        assert page.get_by_text("Вес должен быть числом").first.is_visible()
        found["weights-errors"] = axe_violations(page.main_frame, axe_source, tags)
        context.close()
    assert all(not v for v in found.values()), found
