"""Widgets in a real browser: headless Chromium (Debian's, never a downloaded one) driven by
Playwright. The app runs on 127.0.0.1:<port>; the organization's "site" — a plain HTML page
holding the generated snippet — runs on localhost:<another port>, another origin and another
site, so the widget's cookies are third-party exactly as on a real municipal website.

The "done when" path on the demo region: the administrator of the Ufa city administration
generates the code on «Веб-виджет», the code is pasted into the site, a resident logs in
through the ESIA emulator from inside the widget (popup → postMessage), sends a message that
reaches the organization's inbox, then answers a survey and votes. axe-core checks every
widget page; screenshots go to test-artifacts/widgets/.

axe-core comes from the npm registry (tests/widgets/axe.py: a pinned version, its checksum
checked) into test-artifacts/vendor/; nothing third-party is committed. Without Chromium,
Playwright or axe-core these tests are skipped locally and fail when CI=true.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest
import sqlalchemy as sa
from werkzeug.wrappers import Request, Response

from participation.extensions import db
from tests.browser import check_axe, esia_login, serve, serve_platform, shot

pytestmark = [pytest.mark.browser, pytest.mark.committed]

WIDGET_FRAME = "iframe[title*='Решаем вместе']"


class Site:
    """The organization's own website: pages holding the widget's snippet, on another port."""

    def __init__(self) -> None:
        self.snippet = ""
        self.pages: dict[str, str] = {}

    def __call__(self, environ, start_response):
        request = Request(environ)
        body = self.pages.get(request.path)
        if body is None:
            return Response("not found", 404)(environ, start_response)
        return Response(body, content_type="text/html; charset=utf-8")(environ, start_response)

    def page(self, path: str, content: str, title: str = "МБОУ «Школа № 12», Уфа") -> None:
        self.pages[path] = (
            '<!doctype html><html lang="ru"><head><meta charset="utf-8">'
            f"<title>{title}</title></head><body>"
            f'<header><h1>{title}</h1><a href="#news" id="first-link">Новости</a></header>'
            f"<main>{content}</main></body></html>"
        )


@pytest.fixture
def served(app, monkeypatch, tmp_path):
    """The app on 127.0.0.1:<port>, the organization's site on localhost:<another port>."""
    site = Site()
    with serve_platform(app, monkeypatch, tmp_path) as base, serve(site, "localhost") as port:
        yield base, f"http://localhost:{port}", site


def widget_frame(page):
    """The widget's iframe as a Playwright Frame (it stays the same across its navigations)."""
    page.wait_for_selector(WIDGET_FRAME)
    handle = page.query_selector(WIDGET_FRAME)
    frame = handle.content_frame()
    frame.wait_for_load_state()
    return frame


def login_from_widget(context, page, persona: str | None, *, keyboard=False, axe_source=None):
    """Press «Войти через Госуслуги» in the widget; finish the login in the popup: through
    ESIA as `persona`, or (None) confirm the person already logged in on the platform."""
    frame = widget_frame(page)
    with context.expect_page() as opened:
        if keyboard:
            page.focus("#first-link")
            page.keyboard.press("Tab")  # into the widget: its first control is the login link
            focused = frame.evaluate("() => document.activeElement.textContent")
            assert "Войти через Госуслуги" in focused
            page.keyboard.press("Enter")
        else:
            frame.click("[data-widget-login]")
    popup = opened.value
    if persona is not None:
        esia_login(popup, persona)
    else:
        popup.wait_for_selector("text=Продолжить как")
        if axe_source:
            check_axe(popup.main_frame, axe_source, "widgets", "popup-confirm")
        popup.click("text=Продолжить как")
    popup.wait_for_event("close", timeout=20_000)
    frame.wait_for_selector("text=Вы вошли как", timeout=20_000)
    return frame


def persona_user(slug: str):
    from participation.core.users import User
    from participation.demo import data

    return db.session.scalar(
        sa.select(User).where(User.esia_oid == data.PERSONAS[slug]["esia_oid"])
    )


def demo_organization(slug: str):
    from participation.core.organizations import Organization
    from participation.demo import data

    name = next(r["name"] for r in data.ORGANIZATIONS if r["slug"] == slug)
    return db.session.scalar(sa.select(Organization).where(Organization.name == name))


def test_done_when_an_administrator_places_the_widget_and_a_resident_uses_it(
    served, browser, axe_source
):
    from participation.appeals.inbox import Filters, load_inbox
    from participation.appeals.models import Appeal, Channel
    from participation.appeals.services import accept_appeal, confirm_addressee
    from participation.appeals.workflow import Bucket
    from participation.demo.seed import seed_demo
    from participation.polls.models import SurveyParticipant
    from participation.voting.models import Channel as VotingChannel
    from participation.voting.models import RegisterEntry
    from participation.widgets.models import WidgetSiteDay
    from tests.widgets.conftest import flush_views, open_survey

    base, site_url, site = served
    seed_demo()
    db.session.commit()
    city = demo_organization("ufa-admin")
    survey = open_survey(organization=city, title="Удобно ли вам пользоваться виджетом?")
    db.session.commit()
    survey_id, city_id = survey.id, city.id
    db.session.close()  # hold no lock while the server works (SQLite)

    # 1. The administrator logs in, sets the widget up and generates the code.
    admin = browser.new_context(bypass_csp=True)
    admin_page = admin.new_page()
    admin_page.goto(f"{base}/login?next=/admin/widget/")
    esia_login(admin_page, "ufa-administrator")
    admin_page.wait_for_selector("h1:has-text('Веб-виджет')")
    admin_page.check("input[name=kind][value=message]")
    admin_page.check("input[name=design][value=municipal]")
    admin_page.fill("#site_url", site_url)
    admin_page.click("text=Сохранить настройки")
    admin_page.wait_for_selector("text=Настройки виджета сохранены")
    admin_page.click("button:has-text('Сгенерировать код')")
    admin_page.wait_for_selector("#widget-snippet")
    snippet = admin_page.input_value("#widget-snippet")
    assert f"{base}/static/js/widget.js" in snippet
    check_axe(admin_page.main_frame, axe_source, "widgets", "admin-widget-page")
    shot(admin_page, "widgets", "01-admin-code")

    # 2. The code goes onto the organization's site, as is.
    site.page("/", f"<p>Добро пожаловать на сайт школы.</p>{snippet}")

    # 3. A resident opens the site: the widget is there, framed, at least 300 px tall.
    resident = browser.new_context(bypass_csp=True, viewport={"width": 1000, "height": 900})
    page = resident.new_page()
    page.goto(f"{site_url}/")
    frame = widget_frame(page)
    frame.wait_for_selector("text=Войти через Госуслуги")
    box = page.locator(WIDGET_FRAME).bounding_box()
    assert box["height"] >= 300 and box["width"] >= 300
    check_axe(frame, axe_source, "widgets", "widget-message-anonymous")
    shot(page, "widgets", "02-site-with-widget")

    # 4. Login from inside the widget, by keyboard: the popup goes through ESIA and closes.
    frame = login_from_widget(resident, page, "resident-confirmed-ufa", keyboard=True)
    assert frame.url.startswith(f"{base}/widget/")
    assert "widget_token" not in frame.url
    check_axe(frame, axe_source, "widgets", "widget-message-form")
    shot(page, "widgets", "03-message-form")

    # 5. The message: narrowed topics, the resident's city already chosen.
    frame.select_option("#subcategory_id", index=1)
    frame.fill("#text", "Во дворе дома 12 по улице Ленина третий день не горят фонари.")
    frame.fill("#address", "г. Уфа, ул. Ленина, д. 12")
    frame.focus("button:has-text('Отправить сообщение')")
    frame.page.keyboard.press("Enter")
    frame.wait_for_selector("text=Сообщение отправлено")
    text = frame.inner_text("main")
    number = re.search(r"под номером (\S+)\.", text).group(1)
    check_axe(frame, axe_source, "widgets", "widget-message-sent")
    shot(page, "widgets", "04-message-sent")

    appeal = db.session.get(Appeal, int(number))  # the number shown is the id
    assert appeal.channel == Channel.WIDGET and appeal.widget_organization_id == city_id
    assert appeal.author_id == persona_user("resident-confirmed-ufa").id
    # … and after moderation and the regional centre, it is in the city's «Новые»
    accept_appeal(appeal, persona_user("pos-moderator"))
    confirm_addressee(appeal, persona_user("cur-coordinator"))
    db.session.commit()
    inbox = load_inbox(
        persona_user("ufa-coordinator"),
        demo_organization("ufa-admin"),
        Filters(bucket=Bucket.NEW, channel=Channel.WIDGET),
    )
    assert appeal.id in [item.appeal.id for item in inbox.page.items]
    db.session.close()

    # 6. The administrator switches the widget to «Участвовать»; the site shows it at once.
    admin_page.goto(f"{base}/admin/widget/")
    admin_page.check("input[name=kind][value=participate]")
    admin_page.click("text=Сохранить настройки")
    admin_page.wait_for_selector("text=Настройки виджета сохранены")
    page.reload()
    frame = widget_frame(page)
    frame.wait_for_selector("text=Голосования")
    check_axe(frame, axe_source, "widgets", "widget-participate-anonymous")
    # the resident is still logged in on the platform: the popup names them, they confirm
    frame = login_from_widget(resident, page, None, axe_source=axe_source)
    check_axe(frame, axe_source, "widgets", "widget-participate-list")
    shot(page, "widgets", "05-participate-list")

    # 7. A survey, answered inside the widget.
    frame.click("button:has-text('Удобно ли вам пользоваться виджетом?')")
    frame.wait_for_selector("legend")
    check_axe(frame, axe_source, "widgets", "widget-survey")
    frame.check("input[type=radio] >> nth=0")
    frame.click("button:has-text('Отправить ответы')")
    frame.wait_for_selector("text=Спасибо за ответы")
    shot(page, "widgets", "06-survey-done")
    frame.click("button:has-text('К списку опросов и голосований')")

    # 8. A vote: ballot → confirmation → receipt code.
    frame.click("button:has-text('Голосовать')")
    frame.wait_for_selector("text=Далее: проверить выбор")
    check_axe(frame, axe_source, "widgets", "widget-ballot")
    frame.check("input[name=choices] >> nth=0")
    frame.click("text=Далее: проверить выбор")
    frame.wait_for_selector("text=Подтвердите выбор")
    check_axe(frame, axe_source, "widgets", "widget-vote-confirm")
    frame.click("text=Подтверждаю, проголосовать")
    frame.wait_for_selector("text=Голос принят")
    assert re.search(r"[A-Z0-9]{4}-[A-Z0-9]{4}-[A-Z0-9]{4}-[A-Z0-9]{4}", frame.inner_text("main"))
    check_axe(frame, axe_source, "widgets", "widget-vote-receipt")
    shot(page, "widgets", "07-vote-receipt")

    voter = persona_user("resident-confirmed-ufa")
    assert db.session.get(SurveyParticipant, (survey_id, voter.id)) is not None
    entry = db.session.scalar(sa.select(RegisterEntry).where(RegisterEntry.user_id == voter.id))
    assert entry.channel == VotingChannel.WIDGET
    site_origin = f"http://localhost:{urlsplit(site_url).port}"
    flush_views()  # with Redis, views wait there for the sweep
    day = db.session.scalar(
        sa.select(WidgetSiteDay).where(
            WidgetSiteDay.organization_id == city_id, WidgetSiteDay.site == site_origin
        )
    )
    assert (day.logins, day.messages, day.survey_responses, day.ballots) == (2, 1, 1, 1)
    assert day.views >= 2
    db.session.close()

    # 9. The administrator sees the site in the statistics.
    admin_page.goto(f"{base}/admin/widget/?period=7")
    row = admin_page.locator("tr", has_text=site_origin)
    assert row.count() == 1
    shot(admin_page, "widgets", "08-admin-statistics")
    admin.close()
    resident.close()


def test_only_widget_pages_can_be_framed_and_the_size_follows_the_rules(served, browser):
    from participation.core.users import Role
    from participation.widgets import services
    from tests import factories as f
    from tests.widgets.conftest import enable

    base, site_url, site = served
    org = f.organization(name="Администрация тестового района")
    enable(org, f.staff(org, Role.ADMINISTRATOR), site_url=site_url)
    db.session.commit()
    snippet = services.snippet(org, base)
    code = org.widget_code
    db.session.close()

    site.page("/narrow", f'<div id="box-narrow" style="width:250px">{snippet}</div>')
    site.page("/wide", f'<div id="box-wide" style="width:600px">{snippet}</div>')
    site.page(
        "/framing",
        "".join(
            f'<iframe id="f{i}" src="{base}{path}" width="300" height="200" title="{path}">'
            "</iframe>"
            for i, path in enumerate(["/", "/admin/widget/", "/appeals/new", f"/widget/{code}"])
        ),
    )
    context = browser.new_context()  # no CSP bypass: the real headers decide
    page = context.new_page()

    page.goto(f"{site_url}/framing")
    page.wait_for_timeout(1500)
    loaded = {}
    for i in range(4):
        handle = page.query_selector(f"#f{i}").content_frame()
        try:
            loaded[i] = "Решаем вместе" in handle.inner_text("body", timeout=2000)
        except Exception:  # an error page has nothing to read
            loaded[i] = False
    assert loaded == {0: False, 1: False, 2: False, 3: True}, loaded
    shot(page, "widgets", "09-framing")

    for path, width, minimum in (("/narrow", 250, 400), ("/wide", 600, 300)):
        page.goto(f"{site_url}{path}")
        page.wait_for_selector(WIDGET_FRAME)
        page.wait_for_timeout(500)
        box = page.locator(WIDGET_FRAME).bounding_box()
        assert round(box["width"]) == width, (path, box)
        assert box["height"] >= minimum, (path, box)
        shot(page, "widgets", f"10-size-{width}")
    context.close()


def test_when_popups_are_blocked_the_login_opens_in_a_new_tab(served, browser, world):
    from participation.appeals.models import Appeal
    from participation.widgets import services
    from tests.widgets.conftest import enable

    base, site_url, site = served
    enable(world.city_admin, world.administrator, site_url=site_url)
    db.session.commit()
    site.page("/", services.snippet(world.city_admin, base))
    city_id, owner_id = world.city.id, world.city_admin.id
    db.session.close()

    context = browser.new_context()
    # What a popup blocker does: window.open gives nothing back.
    context.add_init_script("window.open = function () { return null; };")
    page = context.new_page()
    page.goto(f"{site_url}/")
    frame = widget_frame(page)
    with context.expect_page() as opened:
        frame.click("[data-widget-login]")
    tab = opened.value
    esia_login(tab, "resident-confirmed-ufa")
    tab.wait_for_selector("text=Возвращаемся в виджет")
    frame.wait_for_selector("text=Вы вошли как", timeout=20_000)
    frame.select_option("#subcategory_id", index=1)
    frame.fill("#text", "Яма на дороге у остановки «Школа», вода стоит после каждого дождя.")
    frame.select_option("#territory_id", str(city_id))
    frame.fill("#address", "ул. Школьная, остановка «Школа»")
    frame.click("button:has-text('Отправить сообщение')")
    frame.wait_for_selector("text=Сообщение отправлено")
    shot(page, "widgets", "11-login-in-a-new-tab")
    context.close()
    appeal = db.session.scalar(sa.select(Appeal))
    assert appeal.widget_organization_id == owner_id
