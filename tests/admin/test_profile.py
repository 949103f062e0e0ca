"""The organization's profile: edited by its administrator only, every field checked with a
Russian message next to it, nothing half-saved, the logo checked and served, audit-logged."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
import sqlalchemy as sa

from participation.core.audit import AuditEntry
from participation.core.files import Attachment
from participation.core.organizations import Organization, OrganizationKind
from participation.core.users import Role
from participation.extensions import db
from tests import factories
from tests.admin.helpers import png
from tests.helpers import csrf_token, login_as

VALID = {
    "name": "Администрация городского округа город Уфа Республики Башкортостан",
    "short_name": "Администрация г. Уфы",
    "address": "450098, г. Уфа, пр. Октября, д. 120",
    "phone": "+7 (347) 279-05-05",
    "email": "priemnaya@ufacity.example",
    "website": "ufacity.example",
    "social_links": "https://vk.com/ufacity\r\n\r\nt.me/ufacity\r\nhttps://ok.ru/ufacity",
    "working_hours": "Пн–чт 9:00–18:00\r\nПт 9:00–16:45\r\nОбед 13:00–13:48",
}


@pytest.fixture
def org(db_session):
    return factories.organization(
        OrganizationKind.MUNICIPAL, name="Администрация Уфы", short_name="Уфа"
    )


@pytest.fixture
def admin(org):
    return factories.staff(org, Role.ADMINISTRATOR)


def _post(client, data: dict, logo: tuple[bytes, str] | None = None):
    token = csrf_token(client, "/admin/profile")
    form = {"csrf_token": token, **data}
    if logo is not None:
        form["logo"] = (io.BytesIO(logo[0]), logo[1])
    return client.post("/admin/profile", data=form, content_type="multipart/form-data")


def _fresh(org: Organization) -> Organization:
    db.session.expire_all()
    return db.session.get(Organization, org.id)


def _audit() -> list[AuditEntry]:
    return list(
        db.session.scalars(
            sa.select(AuditEntry).where(AuditEntry.action == "organization.profile_saved")
        )
    )


def _error_of(html: str, field: str) -> str:
    start = html.index(f'id="{field}-error"')
    return html[start : html.index("</p>", start)]


# --- editing ------------------------------------------------------------------------------------


def test_administrator_fills_in_the_profile_with_a_logo(app, client, org, admin):
    login_as(client, admin)
    page = client.get("/admin/profile")
    assert page.status_code == 200
    assert 'value="Администрация Уфы"' in page.get_data(as_text=True)
    response = _post(client, VALID, logo=(png(), "герб.png"))
    assert response.status_code == 302 and response.location.endswith("/admin/profile")
    org = _fresh(org)
    assert org.short_name == "Администрация г. Уфы" and org.phone == "+7 (347) 279-05-05"
    assert org.website == "https://ufacity.example"
    assert org.social_links == [
        "https://vk.com/ufacity",
        "https://t.me/ufacity",
        "https://ok.ru/ufacity",
    ]
    assert org.working_hours == "Пн–чт 9:00–18:00\nПт 9:00–16:45\nОбед 13:00–13:48"
    logo = db.session.get(Attachment, org.logo_id)
    assert logo.content_type == "image/png" and logo.attached_to_type == "organization_logo"
    [entry] = _audit()
    assert entry.actor_id == admin.id and entry.object_id == str(org.id)
    assert entry.details["changes"]["phone"] == {"from": None, "to": "+7 (347) 279-05-05"}
    assert entry.details["changes"]["logo"] == {"from": None, "to": logo.id}
    # The logo is public (residents, the widget on other sites) with its real type.
    image = app.test_client().get(f"/organizations/{org.id}/logo/{org.logo_id}")
    assert image.status_code == 200 and image.mimetype == "image/png"
    assert image.data == png()
    assert image.headers["X-Content-Type-Options"] == "nosniff"


def test_the_page_previews_the_card_and_saving_nothing_new_is_not_logged(client, org, admin):
    login_as(client, admin)
    assert _post(client, VALID, logo=(png(), "logo.png")).status_code == 302
    html = client.get("/admin/profile").get_data(as_text=True)
    assert 'data-org-card="' in html and "Логотип: Администрация г. Уфы" in html
    assert _post(client, VALID).status_code == 302  # the same again, no new logo
    assert len(_audit()) == 1
    assert _fresh(org).logo_id is not None  # an empty file input keeps the logo


def test_a_new_logo_replaces_the_old_one_whose_url_stops_working(client, org, admin):
    login_as(client, admin)
    _post(client, VALID, logo=(png(colour="red"), "old.png"))
    old_id = _fresh(org).logo_id
    _post(client, VALID, logo=(png(colour="green"), "new.png"))
    new_id = _fresh(org).logo_id
    assert new_id != old_id
    assert db.session.get(Attachment, old_id) is None
    assert client.get(f"/organizations/{org.id}/logo/{old_id}").status_code == 404
    assert client.get(f"/organizations/{org.id}/logo/{new_id}").status_code == 200
    assert _post(client, {**VALID, "remove_logo": "y"}).status_code == 302
    assert _fresh(org).logo_id is None
    assert db.session.get(Attachment, new_id) is None
    assert _audit()[-1].details["changes"] == {"logo": {"from": new_id, "to": None}}


def test_another_organizations_logo_id_is_not_served(client, org, admin):
    other = factories.organization()
    login_as(client, admin)
    _post(client, VALID, logo=(png(), "logo.png"))
    logo_id = _fresh(org).logo_id
    assert client.get(f"/organizations/{other.id}/logo/{logo_id}").status_code == 404
    assert client.get(f"/organizations/{org.id}/logo/{logo_id + 1}").status_code == 404


# --- who may edit ---------------------------------------------------------------------------------


@pytest.mark.parametrize("role", [Role.COORDINATOR, Role.EXECUTOR, Role.HEAD, Role.AUTHORIZED])
def test_staff_who_are_not_administrators_get_404(client, org, role):
    login_as(client, factories.staff(org, role))
    assert client.get("/admin/profile").status_code == 404
    assert client.post("/admin/profile", data=VALID).status_code in (400, 404)
    assert _fresh(org).phone is None


def test_a_resident_gets_404(client, org):
    login_as(client, factories.user())
    assert client.get("/admin/profile").status_code == 404


def test_another_organizations_administrator_edits_only_their_own(client, org):
    other = factories.organization(name="Администрация Стерлитамака")
    stranger = factories.staff(other, Role.ADMINISTRATOR)
    login_as(client, stranger)
    assert _post(client, VALID).status_code == 302
    assert _fresh(other).phone == VALID["phone"] and _fresh(org).phone is None
    # Switching the cabinet to an organization they do not belong to is refused.
    token = csrf_token(client, "/admin/profile")
    switch = client.post(
        "/backoffice/switch", data={"csrf_token": token, "organization_id": org.id}
    )
    assert switch.status_code == 404


def test_the_form_needs_its_csrf_token(client, org, admin):
    login_as(client, admin)
    response = client.post("/admin/profile", data=VALID)
    assert response.status_code == 400
    assert _fresh(org).phone is None


# --- bad input: a message next to the field, nothing saved ----------------------------------


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("name", "   ", "Укажите полное наименование организации."),
        ("name", "А" * 301, "Не длиннее 300 символов."),
        ("short_name", "Б" * 121, "Не длиннее 120 символов."),
        ("phone", "позвоните нам", "Укажите телефон цифрами"),
        ("phone", "12", "Укажите телефон цифрами"),
        ("phone", "+7 347 279 05 05 123 456 789", "Укажите телефон цифрами"),
        ("email", "priemnaya@", "Укажите адрес электронной почты"),
        ("email", "priemnaya ufa@ufacity.example", "Укажите адрес электронной почты"),
        ("website", "javascript:alert(1)", "Укажите адрес сайта"),
        ("website", "ftp://ufacity.example", "Укажите адрес сайта"),
        ("website", "просто текст", "Укажите адрес сайта"),
        ("social_links", "https://vk.com/ufacity\nнаша группа", "Строка 2:"),
        ("social_links", "\n".join(f"https://vk.com/p{i}" for i in range(7)), "не больше 6"),
        ("working_hours", "Пн–пт 9:00–18:00 " * 40, "Не длиннее 500 символов."),
        ("working_hours", "\n".join(f"строка {i}" for i in range(13)), "Не больше 12 строк."),
    ],
)
def test_bad_input_is_refused_next_to_its_field_and_nothing_is_saved(
    client, org, admin, field, value, message
):
    login_as(client, admin)
    response = _post(client, {**VALID, field: value}, logo=(png(), "logo.png"))
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert message in _error_of(html, field)
    assert 'aria-invalid="true"' in html
    org = _fresh(org)
    assert org.phone is None and org.logo_id is None and org.name == "Администрация Уфы"
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Attachment)) == 0
    assert _audit() == []


@pytest.mark.parametrize(
    ("data", "name", "message"),
    [
        (b"<html><script>alert(1)</script></html>", "logo.png", "не является изображением"),
        (b"%PDF-1.4\n" + b"0" * 200, "logo.png", "не является изображением"),
        (png()[:40] + b"\x00" * 200, "logo.png", "Не удалось прочитать изображение"),
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * (2**20 + 10), "logo.png", "больше 1 МБ"),
    ],
    ids=["html-as-png", "pdf", "broken-png", "too-large"],
)
def test_a_bad_logo_is_refused_and_nothing_is_saved(client, org, admin, data, name, message):
    login_as(client, admin)
    response = _post(client, VALID, logo=(data, name))
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert message in _error_of(html, "logo")
    assert "не сохранён: выберите его ещё раз" in html
    org = _fresh(org)
    assert org.logo_id is None and org.phone is None  # the valid fields are not saved either
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Attachment)) == 0
    assert _audit() == []


def test_a_refused_logo_leaves_no_file_in_storage(app, client, org, admin):
    storage = Path(app.config["STORAGE_DIR"])
    before = {p for p in storage.rglob("*") if p.is_file()} if storage.exists() else set()
    login_as(client, admin)
    _post(client, VALID, logo=(png()[:40] + b"\x00" * 200, "logo.png"))
    _post(client, {**VALID, "email": "bad"}, logo=(png(), "logo.png"))
    after = {p for p in storage.rglob("*") if p.is_file()} if storage.exists() else set()
    assert after == before


def test_a_huge_picture_in_a_small_file_is_refused(client, org, admin):
    login_as(client, admin)
    response = _post(client, VALID, logo=(png(size=(5000, 4000), colour="white"), "logo.png"))
    assert response.status_code == 400
    assert "слишком большое: 5000 × 4000 точек" in _error_of(
        response.get_data(as_text=True), "logo"
    )
    # …and says what to do: the limit, in the person's numbers
    assert "не больше 16\u00a0000\u00a0000" in _error_of(response.get_data(as_text=True), "logo")
