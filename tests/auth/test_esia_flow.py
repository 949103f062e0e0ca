"""Login through ESIA, end to end in process: the app's relying party against its own emulator."""

from __future__ import annotations

import base64
import json
import re
from datetime import UTC, date, datetime, timedelta
from urllib.parse import parse_qs, urlencode, urlsplit

import jwt
import pytest
import sqlalchemy as sa
import time_machine

from participation.auth.emulator.keys import emulator_key
from participation.auth.esia import (
    FlaskClientTransport,
    HttpResponse,
    generate_rsa_key,
    private_key_pem,
    self_signed_certificate,
)
from participation.core.audit import AuditEntry
from participation.core.territories import TerritoryLevel
from participation.core.users import AccountLevel, Gender, User, UserKind
from participation.extensions import db
from tests import factories

HIDDEN = re.compile(r'name="(csrf_token|request_token)" type="hidden" value="([^"]*)"')


# --- fixtures -------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def esia_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("esia")


@pytest.fixture(autouse=True)
def esia_in_process(app, monkeypatch, esia_dir):
    """Keys under a temporary folder; the relying party reaches ESIA through the test client."""
    monkeypatch.setitem(app.config, "ESIA_KEY_PATH", str(esia_dir / "client_key.pem"))
    monkeypatch.setitem(app.config, "ESIA_CERT_PATH", str(esia_dir / "client_cert.pem"))
    monkeypatch.setitem(app.config, "ESIA_EMULATOR_KEY_PATH", str(esia_dir / "emulator_key.pem"))
    monkeypatch.setitem(app.config, "ESIA_PROVIDER_KEY_PATH", str(esia_dir / "emulator_key.pem"))
    emulator_key(app)  # what mounting the emulator does with the paths now in force
    monkeypatch.setitem(app.extensions, "esia_transport", FlaskClientTransport(app))


@pytest.fixture
def region(db_session):
    """The part of the territory tree the personas live in (names as in the OKTMO)."""
    country = factories.territory(TerritoryLevel.COUNTRY, name="Российская Федерация")
    rb = factories.territory(TerritoryLevel.REGION, parent=country, name="Республика Башкортостан")
    rt = factories.territory(TerritoryLevel.REGION, parent=country, name="Республика Татарстан")
    return {
        "rb": rb,
        "ufa": factories.territory(parent=rb, name="городской округ город Уфа"),
        "sterlitamak": factories.territory(parent=rb, name="городской округ город Стерлитамак"),
        "birsk_district": factories.territory(
            TerritoryLevel.MUNICIPAL_DISTRICT, parent=rb, name="Бирский муниципальный район"
        ),
        "kazan": factories.territory(parent=rt, name="городской округ город Казань"),
    }


# --- a browser, step by step ----------------------------------------------------------------------


def local(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def start(client, next_url: str | None = None) -> str:
    """GET /login: the URL of the ESIA login page we are sent to."""
    response = client.get("/login", query_string={"next": next_url} if next_url else None)
    assert response.status_code == 302, response.get_data(as_text=True)
    return response.headers["Location"]


def choose(client, authorize_url: str, persona: str = "resident-confirmed-ufa", **form):
    """Open the emulator's login page and submit it; the response redirects to our callback."""
    page = client.get(local(authorize_url))
    assert page.status_code == 200, page.get_data(as_text=True)
    fields = dict(HIDDEN.findall(page.get_data(as_text=True)))
    data = {**fields, "action": "login", **({"persona": persona} if persona else {}), **form}
    return client.post(local(authorize_url).split("?")[0], data=data)


def login(client, persona: str = "resident-confirmed-ufa", next_url: str | None = None):
    """The whole round trip; returns the callback's response."""
    back = choose(client, start(client, next_url), persona)
    assert back.status_code == 302, back.get_data(as_text=True)
    return client.get(local(back.headers["Location"]))


def count_users() -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(User))


def is_logged_in(client) -> bool:
    return client.get("/my/profile").status_code == 200


def audit_actions() -> list[tuple[str, dict]]:
    return [(e.action, e.details) for e in db.session.scalars(sa.select(AuditEntry))]


def assert_refused(response, users_before: int, client, fragment: str | None = None):
    assert response.status_code == 400
    text = response.get_data(as_text=True)
    assert "Вход не выполнен" in text
    if fragment:
        assert fragment in text
    assert count_users() == users_before
    assert not is_logged_in(client)
    assert any(action == "auth.login_failed" for action, _ in audit_actions())


# --- the happy path -------------------------------------------------------------------------------


def test_round_trip_creates_the_user_from_esia_data(client, region):
    authorize_url = start(client, "/my/profile")
    assert authorize_url.startswith("http://127.0.0.1:5000/esia/aas/oauth2/ac?")
    params = parse_qs(urlsplit(authorize_url).query)
    assert params["client_id"] == ["PARTICIPATION"]
    assert params["response_type"] == ["code"]
    assert params["scope"] == ["openid fullname birthdate gender email mobile addresses"]
    assert re.fullmatch(r"\d{4}\.\d\d\.\d\d \d\d:\d\d:\d\d \+0000", params["timestamp"][0])
    assert params["redirect_uri"] == ["http://localhost/login/callback"]

    page = client.get(local(authorize_url))
    text = page.get_data(as_text=True)
    assert "Иванова Мария Петровна" in text and "Гарипова Лилия Рашитовна" in text
    assert 'type="radio"' in text and "<label for=" in text

    back = choose(client, authorize_url)
    assert back.status_code == 302
    returned = urlsplit(back.headers["Location"])
    assert returned.path == "/login/callback"
    assert parse_qs(returned.query)["state"] == params["state"]

    done = client.get(local(back.headers["Location"]))
    assert done.status_code == 302
    assert done.headers["Location"] == "/my/profile"

    user = db.session.scalar(sa.select(User).where(User.esia_oid == "2000001"))
    assert user.full_name == "Иванова Мария Петровна"
    assert user.birth_date == date(1988, 3, 17)
    assert user.gender == Gender.FEMALE
    assert user.account_level == AccountLevel.CONFIRMED
    assert user.email == "m.ivanova@mail.example"
    assert user.phone == "+79172000001"
    assert user.registration_address == (
        "450077, Республика Башкортостан, г. Уфа, ул. Ленина, д. 24, кв. 15"
    )
    assert user.registration_territory_id == region["ufa"].id
    assert user.kind == UserKind.PERSON
    assert user.last_login_at is not None and user.esia_synced_at is not None

    profile = client.get("/my/profile").get_data(as_text=True)
    assert "Иванова Мария Петровна" in profile
    assert "подтверждённая" in profile
    assert "17.03.1988" in profile
    assert "городской округ город Уфа, Республика Башкортостан" in profile
    assert "Обновить данные из Госуслуг" in profile


@pytest.mark.parametrize(
    ("persona", "level"),
    [
        ("resident-confirmed-ufa", AccountLevel.CONFIRMED),
        ("resident-standard-ufa", AccountLevel.STANDARD),
        ("resident-simplified-ufa", AccountLevel.SIMPLIFIED),
    ],
)
def test_account_level_follows_esia(client, region, persona, level):
    login(client, persona)
    user = db.session.scalar(sa.select(User).order_by(User.id.desc()))
    assert user.account_level == level
    names = {
        AccountLevel.SIMPLIFIED: "упрощённая",
        AccountLevel.STANDARD: "стандартная",
        AccountLevel.CONFIRMED: "подтверждённая",
    }
    assert names[level] in client.get("/my/profile").get_data(as_text=True)


@pytest.mark.parametrize(
    ("persona", "territory"),
    [
        ("resident-sterlitamak", "sterlitamak"),
        ("resident-kazan", "kazan"),
        ("resident-15-ufa", "ufa"),
        ("birsk-administrator", "birsk_district"),
    ],
)
def test_registration_address_maps_to_the_territory_tree(client, region, persona, territory):
    login(client, persona)
    user = db.session.scalar(sa.select(User).order_by(User.id.desc()))
    assert user.registration_territory_id == region[territory].id


def test_unknown_region_maps_to_no_territory(client, db_session):
    login(client, "resident-kazan")
    user = db.session.scalar(sa.select(User).where(User.esia_oid == "2000007"))
    assert user.registration_address.startswith("420111, Республика Татарстан, г. Казань")
    assert user.registration_territory_id is None


def test_second_login_updates_the_same_row(client, region):
    existing = factories.user(
        esia_oid="2000002", last_name="Старый", first_name="Человек", middle_name=None, email=None
    )
    before = count_users()
    login(client, "resident-standard-ufa")
    db.session.refresh(existing)
    assert count_users() == before
    assert existing.full_name == "Сидоров Павел Николаевич"
    assert existing.account_level == AccountLevel.STANDARD
    assert existing.email == "p.sidorov@mail.example"


def test_only_data_of_granted_scopes_is_kept(client, app, monkeypatch, region):
    monkeypatch.setitem(app.config, "ESIA_SCOPES", "openid fullname")
    login(client, "resident-confirmed-ufa")
    user = db.session.scalar(sa.select(User).where(User.esia_oid == "2000001"))
    assert user.full_name == "Иванова Мария Петровна"
    assert user.account_level == AccountLevel.CONFIRMED
    assert user.birth_date is None and user.gender is None
    assert user.email is None and user.phone is None
    assert user.registration_address is None and user.registration_territory_id is None


def test_legal_entity_representative_with_usr_org_scope(client, app, monkeypatch, region):
    monkeypatch.setitem(app.config, "ESIA_SCOPES", app.config["ESIA_SCOPES"] + " usr_org")
    login(client, "legal-rep-ufa")
    user = db.session.scalar(sa.select(User).where(User.esia_oid == "2000008"))
    assert user.kind == UserKind.LEGAL_REP
    assert user.legal_entity_name == "ООО «Ромашка»"
    assert user.legal_entity_ogrn == "1150280012343"


def test_staff_keep_their_roles(client, region):
    from participation.core.users import Membership, Role

    org = factories.organization(territory_=region["ufa"])
    staff = factories.staff(org, Role.COORDINATOR, esia_oid="1000002")
    login(client, "ufa-coordinator")
    db.session.refresh(staff)
    assert staff.full_name == "Сафин Айдар Ринатович"
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Membership)) == 1


def test_login_by_login_and_password(client, region):
    back = choose(
        client, start(client), persona=None, login="p.sidorov@mail.example", password="gosuslugi"
    )
    client.get(local(back.headers["Location"]))
    assert db.session.scalar(sa.select(User).where(User.esia_oid == "2000002")) is not None


def test_wrong_password_is_refused_on_the_emulator_page(client, region):
    page = choose(client, start(client), persona=None, login="p.sidorov@mail.example", password="x")
    assert page.status_code == 400
    assert "Неверный логин или пароль" in page.get_data(as_text=True)
    empty = choose(client, start(client), persona=None)
    assert "Выберите тестового пользователя" in empty.get_data(as_text=True)


def test_profile_refresh_goes_through_esia_again(client, region):
    login(client, "resident-confirmed-ufa")
    user = db.session.scalar(sa.select(User).where(User.esia_oid == "2000001"))
    user.email = "old@example.org"
    db.session.commit()
    page = client.get("/my/profile").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    response = client.post("/my/profile/refresh", data={"csrf_token": token})
    assert response.status_code == 302
    assert "/esia/aas/oauth2/ac?" in response.headers["Location"]
    back = choose(client, response.headers["Location"])
    done = client.get(local(back.headers["Location"]))
    assert done.headers["Location"] == "/my/profile"
    db.session.refresh(user)
    assert user.email == "m.ivanova@mail.example"
    assert "Данные обновлены из Госуслуг" in client.get("/my/profile").get_data(as_text=True)


def test_profile_needs_login(client):
    response = client.get("/my/profile")
    assert response.status_code == 302
    assert urlsplit(response.headers["Location"]).path == "/login"
    assert parse_qs(urlsplit(response.headers["Location"]).query)["next"] == ["/my/profile"]


# --- sessions, audit, redirects -------------------------------------------------------------------


def test_login_starts_a_new_session(client, region):
    with client.session_transaction() as session:
        session["stale"] = "from before the login"
        session["lang"] = "ru"
    login(client)
    with client.session_transaction() as session:
        assert "stale" not in session
        assert session["lang"] == "ru"
        assert session["_user_id"].endswith(":1")


def test_login_and_logout_are_audited(client, region):
    login(client)
    user = db.session.scalar(sa.select(User).where(User.esia_oid == "2000001"))
    page = client.get("/my/profile").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    client.post("/logout", data={"csrf_token": token})
    entries = list(db.session.scalars(sa.select(AuditEntry).order_by(AuditEntry.id)))
    assert [e.action for e in entries] == ["auth.login", "auth.logout"]
    assert entries[0].actor_id == user.id and entries[0].details["esia_oid"] == "2000001"


def test_a_copied_cookie_stops_working_after_logout(app, client, region):
    login(client)
    cookie = client.get_cookie("session").value
    thief = app.test_client()
    thief.set_cookie("session", cookie)
    assert thief.get("/my/profile").status_code == 200
    page = client.get("/my/profile").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    assert client.post("/logout", data={"csrf_token": token}).status_code == 302
    assert thief.get("/my/profile").status_code == 302
    assert not is_logged_in(client)


@pytest.mark.parametrize(
    "target",
    [
        "//evil.example",
        "https://evil.example",
        "/\\evil.example",
        "javascript:alert(1)",
        "http:/evil.example",
        "/login/callback?code=x",
    ],
)
def test_next_never_leaves_the_site(client, region, target):
    done = login(client, next_url=target)
    assert done.status_code == 302
    location = done.headers["Location"]
    assert location == "/", location


def test_next_keeps_a_local_path(client, region):
    done = login(client, next_url="/my/notifications?page=2")
    assert done.headers["Location"] == "/my/notifications?page=2"


def test_login_start_is_rate_limited(client):
    codes = [client.get("/login").status_code for _ in range(21)]
    assert codes[:20] == [302] * 20
    assert codes[20] == 429


# --- refusals: a clear message, nothing stored ----------------------------------------------------


def _tamper_param(url: str, name: str, value: str) -> str:
    parts = urlsplit(url)
    params = {k: v[0] for k, v in parse_qs(parts.query).items()}
    params[name] = value
    return f"{parts.scheme}://{parts.netloc}{parts.path}?{urlencode(params)}"


def test_forged_signature_is_refused(client, region):
    before = count_users()
    authorize_url = start(client)
    secret = parse_qs(urlsplit(authorize_url).query)["client_secret"][0]
    raw = bytearray(base64.urlsafe_b64decode(secret + "=" * (-len(secret) % 4)))
    raw[-5] ^= 0xFF  # flip bits inside the RSA signature value
    forged = base64.urlsafe_b64encode(bytes(raw)).decode().rstrip("=")
    back = client.get(local(_tamper_param(authorize_url, "client_secret", forged)))
    assert back.status_code == 302
    assert parse_qs(urlsplit(back.headers["Location"]).query)["error"] == ["invalid_client"]
    assert_refused(client.get(local(back.headers["Location"])), before, client, "отклонили")


def test_signature_over_another_scope_is_refused(client, region):
    before = count_users()
    authorize_url = start(client)
    tampered = _tamper_param(authorize_url, "scope", "openid fullname usr_org")
    back = client.get(local(tampered))
    assert parse_qs(urlsplit(back.headers["Location"]).query)["error"] == ["invalid_client"]
    assert_refused(client.get(local(back.headers["Location"])), before, client)


def test_foreign_certificate_is_refused(client, app, monkeypatch, region, tmp_path):
    start(client)  # registers the system with its real certificate
    key = generate_rsa_key()
    (tmp_path / "key.pem").write_bytes(private_key_pem(key))
    cert = self_signed_certificate(key, "PARTICIPATION")
    from cryptography.hazmat.primitives import serialization

    (tmp_path / "cert.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    monkeypatch.setitem(app.config, "ESIA_KEY_PATH", str(tmp_path / "key.pem"))
    monkeypatch.setitem(app.config, "ESIA_CERT_PATH", str(tmp_path / "cert.pem"))
    before = count_users()
    back = client.get(local(start(client)))
    assert back.status_code == 302
    assert parse_qs(urlsplit(back.headers["Location"]).query)["error"] == ["invalid_client"]
    assert_refused(client.get(local(back.headers["Location"])), before, client)


def test_stale_timestamp_is_refused(client, region):
    with time_machine.travel(datetime.now(UTC), tick=False) as clock:
        authorize_url = start(client)
        clock.shift(timedelta(minutes=6))
        before = count_users()
        back = client.get(local(authorize_url))
        assert back.status_code == 302
        query = parse_qs(urlsplit(back.headers["Location"]).query)
        assert query["error"] == ["invalid_request"]
        assert "5 минут" in query["error_description"][0]
        assert_refused(client.get(local(back.headers["Location"])), before, client)


def test_wrong_state_is_refused(client, region):
    before = count_users()
    back = choose(client, start(client))
    url = _tamper_param(back.headers["Location"], "state", "5b8a3b9e-0000-4000-8000-000000000000")
    assert_refused(client.get(local(url)), before, client, "Начните вход заново")
    assert audit_actions()[-1][1]["reason"] == "wrong_state"


def test_callback_without_a_started_login_is_refused(client, region):
    before = count_users()
    response = client.get("/login/callback?code=abc&state=5b8a3b9e-0000-4000-8000-000000000000")
    assert_refused(response, before, client)


def test_replayed_code_is_refused(app, client, region):
    back = choose(client, start(client))
    code = parse_qs(urlsplit(back.headers["Location"]).query)["code"][0]
    client.get(local(back.headers["Location"]))  # the legitimate login uses the code

    other = app.test_client()
    before = count_users()
    state = parse_qs(urlsplit(start(other)).query)["state"][0]
    response = other.get(f"/login/callback?{urlencode({'code': code, 'state': state})}")
    assert_refused(response, before, other, "уже использован")
    assert audit_actions()[-1][1]["reason"] == "token_refused:invalid_grant"


def test_expired_code_is_refused(client, region):
    with time_machine.travel(datetime.now(UTC), tick=False) as clock:
        back = choose(client, start(client))
        clock.shift(timedelta(minutes=3))
        before = count_users()
        assert_refused(client.get(local(back.headers["Location"])), before, client)


def test_cancel_on_the_esia_page(client, region):
    before = count_users()
    back = choose(client, start(client), persona=None, action="cancel")
    assert parse_qs(urlsplit(back.headers["Location"]).query)["error"] == ["access_denied"]
    assert_refused(client.get(local(back.headers["Location"])), before, client, "Вход отменён")


def test_unknown_client_gets_the_emulator_error_page(client, region):
    authorize_url = start(client)
    before = count_users()
    page = client.get(local(_tamper_param(authorize_url, "client_id", "STRANGER")))
    assert page.status_code == 400
    assert "не зарегистрирована" in page.get_data(as_text=True)
    assert count_users() == before and not is_logged_in(client)


def test_unregistered_redirect_uri_is_not_followed(client, region):
    authorize_url = start(client)
    bad = _tamper_param(authorize_url, "redirect_uri", "https://evil.example/callback")
    page = client.get(local(bad))
    assert page.status_code == 400
    assert "Location" not in page.headers
    assert "redirect_uri" in page.get_data(as_text=True)


def test_blocked_account_is_refused(client, region):
    factories.user(esia_oid="2000001", is_active_account=False)
    before = count_users()
    assert_refused(login(client), before, client, "заблокирована")


# --- refusals of the id_token ---------------------------------------------------------------------


class RewriteIdToken:
    """A transport that lets a test change the id_token on its way back from ESIA."""

    def __init__(self, inner, rewrite):
        self.inner, self.rewrite = inner, rewrite

    def request(self, method, url, **kw):
        response = self.inner.request(method, url, **kw)
        if url.endswith("/aas/oauth2/te") and response.status == 200:
            body = response.json()
            body["id_token"] = self.rewrite(body["id_token"])
            return HttpResponse(200, json.dumps(body).encode(), response.headers)
        return response


def _claims(token: str) -> dict:
    return jwt.decode(token, options={"verify_signature": False})


def _resign(token: str, key=None, **changes) -> str:
    from flask import current_app

    claims = {**_claims(token), **changes}
    return jwt.encode(claims, key or emulator_key(current_app), algorithm="RS256")


def _tampered(token: str) -> str:
    header, _payload, signature = token.split(".")
    claims = _claims(token)
    claims["urn:esia:sbj"]["urn:esia:sbj:oid"] = 2000002
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).decode().rstrip("=")
    return f"{header}.{forged}.{signature}"


@pytest.mark.parametrize(
    ("rewrite", "reason"),
    [
        (_tampered, "id_token_invalid:signature"),
        (lambda t: _resign(t, aud="SOMEONE-ELSE"), "id_token_invalid:aud"),
        (lambda t: _resign(t, iss="http://evil.example/"), "id_token_invalid:iss"),
        (lambda t: _resign(t, key=generate_rsa_key()), "id_token_invalid:signature"),
        (lambda t: _resign(t, **{"urn:esia:sbj": {}}), "id_token_invalid:subject"),
        (lambda t: "not-a-jwt", "id_token_invalid:DecodeError"),
    ],
    ids=["tampered", "wrong-aud", "wrong-iss", "foreign-key", "no-subject", "garbage"],
)
def test_bad_id_token_is_refused(app, client, monkeypatch, region, rewrite, reason):
    monkeypatch.setitem(
        app.extensions, "esia_transport", RewriteIdToken(FlaskClientTransport(app), rewrite)
    )
    before = count_users()
    assert_refused(login(client), before, client, "Не удалось проверить ответ Госуслуг")
    assert audit_actions()[-1][1]["reason"] == reason


def test_expired_id_token_is_refused(app, client, monkeypatch, region):
    with time_machine.travel(datetime.now(UTC), tick=False) as clock:

        def arrive_late(token: str) -> str:
            clock.shift(timedelta(hours=2))  # the token sat in transit past its expiry
            return token

        monkeypatch.setitem(
            app.extensions, "esia_transport", RewriteIdToken(FlaskClientTransport(app), arrive_late)
        )
        before = count_users()
        assert_refused(login(client), before, client)
        assert audit_actions()[-1][1]["reason"] == "id_token_invalid:expired"


def test_esia_unreachable(app, client, monkeypatch, region):
    from participation.auth.esia import UrllibTransport

    monkeypatch.setitem(app.config, "ESIA_BASE_URL", "http://127.0.0.1:9/esia")
    back = choose(client, start(client))
    monkeypatch.setitem(app.extensions, "esia_transport", UrllibTransport(timeout=2))
    before = count_users()
    assert_refused(client.get(local(back.headers["Location"])), before, client, "недоступны")
