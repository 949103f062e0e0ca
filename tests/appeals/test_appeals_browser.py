"""The issue's "done when" in a real browser, on the demo region: a resident reports a pothole
(the topic suggested by the page's script), the moderator, ЦУР, the city's coordinator, the
executor and the head each find it in their folder and move it on from the card, the resident
reads the answer and rates it 2, and the higher organization finds it for review. axe-core
checks the resident's and the staff's pages; screenshots go to test-artifacts/appeals/.
"""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from participation.appeals.classifier import Subcategory
from participation.demo.seed import seed_demo
from participation.extensions import db
from tests.browser import check_axe, esia_login, serve_platform, shot

pytestmark = [pytest.mark.browser, pytest.mark.committed]
FOLDER = "appeals"


@pytest.fixture
def base(app, monkeypatch, tmp_path):
    with serve_platform(app, monkeypatch, tmp_path) as url:
        yield url


def logged_in(browser, base: str, persona: str, path: str):
    """A fresh browser (own cookies) with `persona` logged in through the ESIA emulator."""
    context = browser.new_context(bypass_csp=True)  # bypass: only to inject axe-core
    page = context.new_page()
    page.goto(f"{base}/login?next={path}")
    esia_login(page, persona)
    page.wait_for_url(f"{base}{path}*")
    return page


def in_folder(page, base: str, number: str, bucket: str) -> bool:
    page.goto(f"{base}/backoffice/appeals/?bucket={bucket}")
    return page.locator(f"a[href='/backoffice/appeals/{number}']").count() > 0


def act(page, base: str, number: str, action: str, fill=None) -> None:
    """On the card: open the action, fill it in, send it; the card comes back."""
    page.goto(f"{base}/backoffice/appeals/{number}")
    form = page.locator(f"form[action='/backoffice/appeals/{number}/{action}']")
    details = page.locator("details.action", has=form)
    if details.get_attribute("open") is None:
        details.locator("summary").click()
    if fill:
        fill(form)
    form.locator("button[type=submit]").click()
    page.wait_for_load_state()


def test_a_pothole_through_every_role_in_a_browser(base, browser, axe_source):
    seed_demo()
    db.session.commit()
    potholes = db.session.scalar(
        sa.select(Subcategory.id).where(Subcategory.code == "roads.potholes")
    )
    db.session.close()  # hold no lock while the server works (SQLite)

    # The resident: the text first, the topic suggested by the page, the number at once.
    resident = logged_in(browser, base, "resident-confirmed-ufa", "/appeals/new")
    check_axe(resident.main_frame, axe_source, FOLDER, "new")
    resident.fill("#text", "Огромная яма на дороге у дома 7 по улице Пушкина, пробили колесо.")
    resident.click("#suggest-button")
    resident.wait_for_selector("#suggestions li")
    assert resident.input_value("#subcategory_id") == str(potholes)
    assert re.search(r"Ямы и выбоины — уверенность \d+%", resident.inner_text("#suggestions"))
    assert "Уфа" in resident.locator("#territory_id option:checked").inner_text()
    resident.fill("#address", "г. Уфа, ул. Пушкина, д. 7")
    shot(resident, FOLDER, "01-new")
    resident.click("button:has-text('Отправить сообщение')")
    resident.wait_for_selector("text=зарегистрировано под номером")
    page_text = resident.inner_text("main")
    number = re.search(r"под номером (\d+)", page_text).group(1)
    assert "Срок ответа — до" in page_text
    check_axe(resident.main_frame, axe_source, FOLDER, "my-detail")
    shot(resident, FOLDER, "02-registered")

    # The moderator (Новые → accept), on a checked inbox and card.
    staff = logged_in(browser, base, "pos-moderator", "/backoffice/appeals/")
    assert in_folder(staff, base, number, "new")
    check_axe(staff.main_frame, axe_source, FOLDER, "inbox")
    shot(staff, FOLDER, "03-moderator-inbox")
    staff.goto(f"{base}/backoffice/appeals/{number}")
    check_axe(staff.main_frame, axe_source, FOLDER, "card")
    act(staff, base, number, "accept")

    # ЦУР confirms the addressee; the city's coordinator assigns the executor.
    staff = logged_in(browser, base, "cur-coordinator", "/backoffice/appeals/")
    assert in_folder(staff, base, number, "new")
    act(staff, base, number, "confirm")
    staff = logged_in(browser, base, "ufa-coordinator", "/backoffice/appeals/")
    assert in_folder(staff, base, number, "new")
    act(
        staff,
        base,
        number,
        "assign",
        lambda form: form.locator("select").select_option(
            form.locator("option", has_text="Кузнецов").get_attribute("value")
        ),
    )

    # The executor writes the answer; the head approves it.
    staff = logged_in(browser, base, "ufa-executor", "/backoffice/appeals/")
    assert in_folder(staff, base, number, "in_work")
    act(
        staff,
        base,
        number,
        "submit_draft",
        lambda form: form.get_by_label("Текст ответа").fill(
            "Яму заделали холодным асфальтом 14 мая."
        ),
    )
    staff = logged_in(browser, base, "ufa-head", "/backoffice/appeals/")
    assert in_folder(staff, base, number, "approval")
    shot(staff, FOLDER, "04-head-card")
    act(staff, base, number, "approve")

    # The resident reads the answer and rates it 2: it goes to the higher organization.
    resident.goto(f"{base}/my/appeals/{number}")
    assert "холодным асфальтом" in resident.inner_text("main")
    check_axe(resident.main_frame, axe_source, FOLDER, "my-detail-answered")
    resident.check("input[name=score][value='2']")
    resident.click("button:has-text('Оценить')")
    resident.wait_for_selector("text=вышестоящую организацию")
    review = re.search(r"новый номер (\d+)", resident.inner_text("main")).group(1)
    shot(resident, FOLDER, "05-rated-2")

    staff = logged_in(browser, base, "rb-gov-coordinator", "/backoffice/appeals/")
    assert in_folder(staff, base, review, "new")
    staff.goto(f"{base}/backoffice/appeals/{review}")
    assert "Повторное рассмотрение" in staff.inner_text("main")
    shot(staff, FOLDER, "06-review-at-the-government")
