"""Banner designs and text, the cabinet's preview, and the widget's placement reports."""

from __future__ import annotations

import html as html_lib
import re
from pathlib import Path

import pytest
import sqlalchemy as sa

from participation.core.audit import AuditEntry
from participation.extensions import db
from participation.widgets import designs, services
from participation.widgets.models import (
    BannerDesign,
    WidgetKind,
    WidgetPlacement,
    WidgetSettings,
)
from tests.helpers import csrf_token, login_as
from tests.widgets.conftest import enable

PAGE = "/admin/widget/"
SITE = "https://school1.example.ru"
CSS = Path(__file__).resolve().parents[2] / "participation" / "static" / "css" / "app.css"
ME = "http://localhost"  # the test client's own origin


# --- the designs' table ------------------------------------------------------------------------


def _luminance(hex_colour: str) -> float:
    def channel(c: int) -> float:
        c = c / 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (int(hex_colour[i : i + 2], 16) for i in (1, 3, 5))
    return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b)


def contrast(a: str, b: str) -> float:
    la, lb = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def test_there_are_many_designs_each_in_the_table_once():
    assert len(designs.DESIGNS) >= 12
    assert set(designs.DESIGNS) == set(BannerDesign)
    assert sorted(d.number for d in designs.DESIGNS.values()) == list(
        range(1, len(designs.DESIGNS) + 1)
    )
    combos = {(d.scheme.slug, d.layout.slug) for d in designs.DESIGNS.values()}
    assert len(combos) == len(designs.DESIGNS)  # no two designs look the same
    assert len(designs.SCHEMES) >= 4 and len(designs.LAYOUTS) >= 3


@pytest.mark.parametrize("scheme", list(designs.SCHEMES.values()), ids=lambda s: s.slug)
def test_every_colour_pair_a_banner_shows_meets_wcag_aa(scheme):
    # classic and card: text on the background; poster and the badge: accent text on accent
    assert contrast(scheme.text, scheme.background) >= 4.5
    assert contrast(scheme.accent_text, scheme.accent) >= 4.5


@pytest.mark.parametrize("scheme", list(designs.SCHEMES.values()), ids=lambda s: s.slug)
def test_the_stylesheet_uses_the_tables_colours(scheme):
    css = CSS.read_text(encoding="utf-8")
    rule = re.search(rf"\.widget-banner-{scheme.slug} \{{([^}}]*)\}}", css)
    assert rule, f"no .widget-banner-{scheme.slug} in app.css"
    declared = dict(re.findall(r"--banner-([a-z-]+):\s*(#[0-9a-f]{6})", rule.group(1)))
    assert declared == {
        "bg": scheme.background,
        "text": scheme.text,
        "accent": scheme.accent,
        "accent-text": scheme.accent_text,
    }
    for layout in designs.LAYOUTS:
        assert layout == "classic" or f".widget-layout-{layout}" in css


def test_approved_wording_fits_the_limit():
    assert designs.WORDINGS
    for wording in designs.WORDINGS.values():
        assert len(str(wording.text)) <= designs.CUSTOM_TEXT_MAX, wording.key
    for scheme in designs.SCHEMES.values():
        assert len(str(scheme.title)) <= designs.CUSTOM_TEXT_MAX


# --- choosing a design and the text in the cabinet -------------------------------------------


def _save(client, **data):
    form = {
        "csrf_token": csrf_token(client, PAGE),
        "kind": "message",
        "design": "municipal",
        "site_url": SITE,
        **data,
    }
    return client.post(f"{PAGE}settings", data=form)


def test_a_new_design_and_an_approved_text_reach_the_widget(world, client):
    code = enable(world.city_admin, world.administrator, site_url=SITE)
    db.session.commit()
    login_as(client, world.administrator)
    page = client.get(PAGE).get_data(as_text=True)
    for design in designs.DESIGNS.values():  # every design offered, with its sample
        assert f'value="{design.value.value}"' in page
    response = _save(client, design="health-poster", text_choice="tell")
    assert response.status_code == 302, response.get_data(as_text=True)[:3000]
    row = db.session.get(WidgetSettings, world.city_admin.id)
    db.session.refresh(row)
    assert (row.design, row.text_choice, row.custom_text) == (
        BannerDesign.HEALTH_POSTER,
        "tell",
        None,
    )
    html = client.get(f"/widget/{code}", query_string={"origin": SITE}).get_data(as_text=True)
    assert "widget-banner-health widget-layout-poster" in html
    assert '<h1 class="widget-title">Расскажите о проблеме</h1>' in html
    entry = db.session.scalar(
        sa.select(AuditEntry).where(AuditEntry.action == "widget.settings_saved")
    )
    assert entry is not None


def test_the_organizations_own_text_within_the_limit(world, client):
    code = enable(world.city_admin, world.administrator, site_url=SITE)
    db.session.commit()
    login_as(client, world.administrator)
    text = "Школа № 12: пишите нам — ответим за три дня"
    response = _save(client, design="contrast-card", text_choice="custom", custom_text=text)
    assert response.status_code == 302
    html = client.get(f"/widget/{code}").get_data(as_text=True)
    assert html_lib.escape(text) in html and "widget-layout-card" in html


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        (
            {"text_choice": "custom", "custom_text": "Я" * 61},
            "custom_text",
            "Текст баннера — не длиннее 60 символов, сейчас 61.",
        ),
        ({"text_choice": "custom", "custom_text": "   "}, "custom_text", "Напишите текст баннера"),
        ({"text_choice": "no-such-text"}, "text_choice", "Выберите текст баннера из списка."),
        (
            {"kind": "message", "text_choice": "opinion"},
            "text_choice",
            "Этот текст не подходит для выбранного вида виджета",
        ),
        ({"design": "rainbow"}, "design", "Выберите оформление баннера из списка."),
    ],
    ids=["too-long", "empty-own", "unknown", "wrong-kind", "unknown-design"],
)
def test_bad_text_or_design_is_explained_next_to_the_field_and_nothing_is_saved(
    world, client, data, field, message
):
    enable(world.city_admin, world.administrator, site_url=SITE)
    db.session.commit()
    login_as(client, world.administrator)
    response = _save(client, **{"design": "education-card", **data})
    assert response.status_code == 400
    page = html_lib.unescape(response.get_data(as_text=True))
    # next to the field (and in the summary at the top of the form)
    next_to = re.search(rf'<p class="error-text" id="{field}-error">([^<]*)</p>', page)
    assert next_to and message in next_to.group(1), page[:200]
    row = db.session.get(WidgetSettings, world.city_admin.id)
    db.session.refresh(row)
    assert row.design == BannerDesign.MUNICIPAL and row.text_choice is None


# --- the preview -----------------------------------------------------------------------------


def test_the_preview_shows_the_banner_as_chosen_without_saving_it(world, client):
    enable(world.city_admin, world.administrator, site_url=SITE)
    db.session.commit()
    login_as(client, world.administrator)
    response = client.get(
        f"{PAGE}preview",
        query_string={
            "kind": "participate",
            "design": "preschool-card",
            "text_choice": "custom",
            "custom_text": "Детский сад «Солнышко» ждёт ваших идей",
        },
    )
    assert response.status_code == 200
    html = html_lib.unescape(response.get_data(as_text=True))
    assert "widget-banner-preschool widget-layout-card" in html
    assert "Детский сад «Солнышко» ждёт ваших идей" in html
    assert "Участвовать в опросах и голосованиях" in html
    assert "frame-ancestors 'self'" in response.headers["Content-Security-Policy"]
    row = db.session.get(WidgetSettings, world.city_admin.id)
    db.session.refresh(row)
    assert row.design == BannerDesign.MUNICIPAL and row.custom_text is None  # nothing saved

    too_long = client.get(
        f"{PAGE}preview",
        query_string={"design": "health", "text_choice": "custom", "custom_text": "x" * 70},
    )
    html = html_lib.unescape(too_long.get_data(as_text=True))
    assert "не длиннее 60 символов, сейчас 70" in html and "x" * 70 not in html


def test_the_preview_without_javascript_posts_the_form_and_follows_a_refused_save(world, client):
    enable(world.city_admin, world.administrator, site_url=SITE)
    db.session.commit()
    login_as(client, world.administrator)
    page = client.get(PAGE).get_data(as_text=True)
    # «Показать в предпросмотре»: a button of the settings form that targets the preview frame
    assert 'formaction="/admin/widget/preview"' in page and 'formtarget="banner-preview"' in page
    assert 'name="banner-preview"' in page
    response = client.post(
        f"{PAGE}preview",
        data={"csrf_token": csrf_token(client, PAGE), "design": "contrast-poster"},
    )
    assert "widget-banner-contrast widget-layout-poster" in response.get_data(as_text=True)
    assert client.post(f"{PAGE}preview", data={"design": "health"}).status_code == 400  # no CSRF
    # after a refused save the page's preview shows what was submitted
    response = _save(client, design="education-poster", text_choice="custom", custom_text="Я" * 61)
    assert response.status_code == 400
    src = re.search(r'id="banner-preview"[^>]*src="([^"]+)"', response.get_data(as_text=True))
    assert "design=education-poster" in html_lib.unescape(src.group(1))
    # without a session there is no preview
    other = client.application.test_client()
    assert other.get(f"{PAGE}preview").status_code == 302


def test_only_the_administrator_sees_the_preview(world, client):
    enable(world.city_admin, world.administrator, site_url=SITE)
    db.session.commit()
    login_as(client, world.coordinator)
    assert client.get(f"{PAGE}preview").status_code == 404


# --- placement reports ------------------------------------------------------------------------


def _frame_token(client, code: str) -> str:
    html = client.get(f"/widget/{code}", query_string={"origin": SITE}).get_data(as_text=True)
    return html_lib.unescape(re.search(r'data-placement-token="([^"]+)"', html).group(1))


def _report(client, code: str, token: str | None = None, origin: str | None = ME, **figures):
    data = {
        "csrf_token": token if token is not None else _frame_token(client, code),
        "site": SITE,
        "top": "120",
        "left": "40",
        "width": "300",
        "height": "420",
        "viewport_width": "1280",
        "viewport_height": "800",
        **figures,
    }
    data = {name: value for name, value in data.items() if value is not None}
    headers = {"Origin": origin} if origin else {}
    return client.post(f"/widget/{code}/placement", data=data, headers=headers)


def _placements(world) -> list[WidgetPlacement]:
    db.session.expire_all()
    return list(
        db.session.scalars(
            sa.select(WidgetPlacement).where(WidgetPlacement.organization_id == world.city_admin.id)
        )
    )


def test_the_widget_page_carries_where_to_report(world, client):
    code = enable(world.city_admin, world.administrator, site_url=SITE)
    db.session.commit()
    html = client.get(f"/widget/{code}", query_string={"origin": SITE}).get_data(as_text=True)
    assert f'data-placement-url="/widget/{code}/placement"' in html


def test_a_report_from_the_declared_site_is_kept_and_the_last_one_wins(world, client):
    code = enable(world.city_admin, world.administrator, site_url=SITE + "/index.html")
    db.session.commit()
    assert _report(client, code).status_code == 204
    assert _report(client, code, top="150.4", height="500").status_code == 204
    (row,) = _placements(world)
    assert (row.site, row.top, row.left, row.width, row.height) == (SITE, 150, 40, 300, 500)
    assert (row.viewport_width, row.viewport_height) == (1280, 800)
    login_as(client, world.administrator)
    page = client.get(PAGE).get_data(as_text=True)
    assert "Размещение соответствует правилам." in page
    assert "ниже первого экрана" not in page and "нарушает правила" not in page


@pytest.mark.parametrize(
    ("figures", "warnings"),
    [
        ({"top": "900"}, ["Виджет расположен ниже первого экрана"]),
        ({"width": "250", "height": "320"}, ["Размер виджета нарушает правила размещения"]),
        ({"width": "150", "height": "600"}, ["Размер виджета нарушает правила размещения"]),
        ({"width": "600", "height": "280"}, ["Размер виджета нарушает правила размещения"]),
        (
            {"top": "1300", "width": "300", "height": "200"},
            ["Виджет расположен ниже первого экрана", "Размер виджета нарушает правила размещения"],
        ),
        ({"top": "300", "width": "600", "height": "300"}, []),
    ],
    ids=["low", "short-narrow", "too-narrow", "short-wide", "both", "on-the-limits"],
)
def test_the_cabinet_warns_when_the_widget_breaks_the_rules(world, client, figures, warnings):
    code = enable(world.city_admin, world.administrator, site_url=SITE)
    db.session.commit()
    assert _report(client, code, **figures).status_code == 204
    login_as(client, world.administrator)
    page = client.get(PAGE).get_data(as_text=True)
    found = re.findall(r'<p class="widget-placement-problem">([^<]+)</p>', page)
    assert found == warnings
    assert ("Размещение соответствует правилам." in page) == (not warnings)


@pytest.mark.parametrize(
    "site", ["https://evil.example", "http://school1.example.ru", "https://school1.example.ru:8443"]
)
def test_a_report_from_another_origin_is_refused(world, client, site):
    code = enable(world.city_admin, world.administrator, site_url=SITE)
    db.session.commit()
    response = _report(client, code, site=site)
    assert response.status_code == 403
    assert "только с сайта, указанного в настройках" in response.get_json()["error"]
    assert _placements(world) == []


def test_after_the_site_changes_the_cabinet_shows_only_the_new_sites_report(world, client):
    code = enable(world.city_admin, world.administrator, site_url=SITE)
    db.session.commit()
    assert _report(client, code, top="900").status_code == 204
    services.save_settings(
        world.city_admin,
        world.administrator,
        kind=WidgetKind.MESSAGE,
        design=BannerDesign.MUNICIPAL,
        site_url="https://new.example.ru",
    )
    db.session.commit()
    login_as(client, world.administrator)
    page = client.get(PAGE).get_data(as_text=True)
    assert "ниже первого экрана" not in page and "Отчётов о размещении ещё нет" in page


def test_without_a_declared_site_no_report_is_kept(world, client):
    code = enable(world.city_admin, world.administrator, site_url=None)
    db.session.commit()
    assert _report(client, code).status_code == 403
    assert _placements(world) == []


@pytest.mark.parametrize(
    "headers",
    [
        {"Origin": SITE},  # the site's own script posting here itself
        {"Origin": "https://evil.example"},
        {},  # no Origin: not a browser's fetch from the widget
        {"Origin": ME, "Sec-Fetch-Site": "cross-site"},
    ],
    ids=["site-itself", "evil", "no-origin", "cross-site"],
)
def test_only_the_widgets_own_page_may_post_a_report(world, client, headers):
    code = enable(world.city_admin, world.administrator, site_url=SITE)
    db.session.commit()
    token = _frame_token(client, code)
    data = {
        "csrf_token": token,
        "site": SITE,
        "top": "1",
        "left": "1",
        "width": "300",
        "height": "400",
        "viewport_width": "1000",
        "viewport_height": "800",
    }
    response = client.post(f"/widget/{code}/placement", data=data, headers=headers)
    assert response.status_code == 403
    assert _placements(world) == []


def test_a_report_without_the_widgets_token_is_refused(world, client):
    code = enable(world.city_admin, world.administrator, site_url=SITE)
    db.session.commit()
    assert _report(client, code, token="forged").status_code == 400
    other = enable(world.school, world.school_admin, site_url=SITE)
    db.session.commit()
    # another organization's widget token does not open this one
    assert _report(client, code, token=_frame_token(client, other)).status_code == 400
    assert _placements(world) == []


@pytest.mark.parametrize(
    "figures",
    [
        {"top": ""},
        {"top": "abc"},
        {"width": "-5"},
        {"height": "NaN"},
        {"viewport_width": "0"},
        {"top": "1e12"},
        {"left": "Infinity"},
        {"width": "3" * 40},
        {"height": None},  # not sent at all
    ],
)
def test_a_report_with_bad_numbers_is_refused(world, client, figures):
    code = enable(world.city_admin, world.administrator, site_url=SITE)
    db.session.commit()
    response = _report(client, code, **figures)
    assert response.status_code == 400
    assert "Неверное значение" in response.get_json()["error"]
    assert _placements(world) == []


def test_reports_are_rate_limited(world, client):
    code = enable(world.city_admin, world.administrator, site_url=SITE)
    db.session.commit()
    token = _frame_token(client, code)
    statuses = [_report(client, code, token=token).status_code for _ in range(31)]
    assert statuses[:30] == [204] * 30
    assert statuses[30] == 429


def test_a_switched_off_widget_takes_no_reports(world, client):
    code = enable(world.city_admin, world.administrator, site_url=SITE)
    db.session.commit()
    token = _frame_token(client, code)
    services.disable_widget(world.city_admin, world.administrator)
    db.session.commit()
    assert _report(client, code, token=token).status_code == 404
    assert _placements(world) == []


def test_kinds_keep_working_with_every_design(world, client):
    code = enable(world.city_admin, world.administrator, kind=WidgetKind.PARTICIPATE)
    db.session.commit()
    for design in BannerDesign:
        for kind in WidgetKind:
            services.save_settings(
                world.city_admin, world.administrator, kind=kind, design=design, site_url=None
            )
            db.session.commit()
            response = client.get(f"/widget/{code}")
            assert response.status_code == 200, (design, kind)
            html = response.get_data(as_text=True)
            assert designs.DESIGNS[design].layout.slug in html
            expected = "Сообщить о проблеме" if kind == WidgetKind.MESSAGE else "Голосования"
            assert expected in html, (design, kind)
