"""A photo attached to the message form survives a refused submit, in a real browser: it is
listed again with its thumbnail, and after the text is fixed the message carries it."""

from __future__ import annotations

import pytest

from participation.demo.seed import seed_demo
from participation.extensions import db
from tests.appeals.test_appeals_browser import base, logged_in  # noqa: F401  (fixture)
from tests.browser import check_axe, shot
from tests.core.test_files import _photo

pytestmark = [pytest.mark.browser, pytest.mark.committed]
FOLDER = "appeals"


def test_an_attached_photo_is_kept_after_a_validation_error(base, browser, axe_source):  # noqa: F811
    seed_demo()
    db.session.commit()
    db.session.close()  # hold no lock while the server works (SQLite)

    page = logged_in(browser, base, "resident-confirmed-ufa", "/appeals/new")
    page.select_option("#subcategory_id", index=1)
    page.fill("#address", "г. Уфа, ул. Пушкина, д. 7")
    page.set_input_files(
        "#attachments", {"name": "яма.jpg", "mimeType": "image/jpeg", "buffer": _photo()}
    )
    page.click("button:has-text('Отправить сообщение')")  # the text is left empty
    page.wait_for_selector(".error-summary")
    assert "Опишите проблему" in page.inner_text(".error-summary")
    kept = page.locator(".staged-files li")
    assert kept.count() == 1 and "яма.jpg" in kept.inner_text()
    thumbnail = kept.locator("img.thumbnail")
    thumbnail.wait_for()
    assert page.evaluate("img => img.naturalWidth", thumbnail.element_handle()) > 0
    check_axe(page.main_frame, axe_source, FOLDER, "new-with-kept-photo")
    shot(page, FOLDER, "files-01-kept-after-error")

    page.fill("#text", "Огромная яма на дороге у дома 7 по улице Пушкина, пробили колесо.")
    page.click("button:has-text('Отправить сообщение')")
    page.wait_for_selector("text=зарегистрировано под номером")
    files = page.locator(".appeal-files li")
    assert files.count() == 1 and "яма.jpg" in files.inner_text()
    image = files.locator("img.thumbnail")
    image.wait_for()
    assert page.evaluate("img => img.complete && img.naturalWidth", image.element_handle()) > 0
    shot(page, FOLDER, "files-02-message-with-photo")
    page.context.close()
