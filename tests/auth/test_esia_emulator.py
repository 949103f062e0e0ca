"""The ESIA emulator's contract: CMS checks, the token endpoint, /rs/ resources, CLI, settings."""

from __future__ import annotations

import os
import re
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import jwt
import pytest
import sqlalchemy as sa
import time_machine
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from flask import current_app

from participation.auth.emulator.cms import CmsError, verify_detached_signature
from participation.auth.emulator.keys import emulator_key, emulator_public_pem
from participation.auth.emulator.services import register_client
from participation.auth.esia import (
    RSASigner,
    b64url_decode,
    esia_client,
    esia_timestamp,
    generate_rsa_key,
    new_state,
    self_signed_certificate,
)
from participation.auth.models import EmulatorClient, EmulatorCode
from participation.config import ConfigError, load_config
from participation.demo import data
from participation.extensions import db

HIDDEN = re.compile(r'name="(csrf_token|request_token)" type="hidden" value="([^"]*)"')
REDIRECT = "http://localhost/login/callback"


@pytest.fixture(scope="session")
def esia_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("esia-emulator")


@pytest.fixture(autouse=True)
def esia_keys(app, monkeypatch, esia_dir):
    monkeypatch.setitem(app.config, "ESIA_KEY_PATH", str(esia_dir / "client_key.pem"))
    monkeypatch.setitem(app.config, "ESIA_CERT_PATH", str(esia_dir / "client_cert.pem"))
    monkeypatch.setitem(app.config, "ESIA_EMULATOR_KEY_PATH", str(esia_dir / "emulator_key.pem"))
    monkeypatch.setitem(app.config, "ESIA_PROVIDER_KEY_PATH", str(esia_dir / "emulator_key.pem"))
    emulator_key(app)  # what mounting the emulator does with the paths now in force


@pytest.fixture
def rp(db_session):
    """Our relying party, registered with the emulator for REDIRECT."""
    client = esia_client()
    pem = client.signer.certificate.public_bytes(serialization.Encoding.PEM).decode()
    register_client(client.client_id, pem, [REDIRECT])
    return client


def local(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def get_code(client, rp, persona: str = "resident-confirmed-ufa") -> str:
    """Log in on the emulator's page and take the code it sends back."""
    url = rp.authorization_url(state=new_state(), redirect_uri=REDIRECT)
    page = client.get(local(url))
    assert page.status_code == 200, page.get_data(as_text=True)
    fields = dict(HIDDEN.findall(page.get_data(as_text=True)))
    back = client.post(
        "/esia/aas/oauth2/ac", data={**fields, "persona": persona, "action": "login"}
    )
    assert back.status_code == 302
    return parse_qs(urlsplit(back.headers["Location"]).query)["code"][0]


def token(client, form):
    return client.post("/esia/aas/oauth2/te", data=form)


def tokens_for(client, rp, persona: str = "resident-confirmed-ufa") -> dict:
    response = token(client, rp.token_form(get_code(client, rp, persona), REDIRECT))
    assert response.status_code == 200, response.get_json()
    return response.get_json()


# --- CMS verification -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def pair():
    key = generate_rsa_key()
    return key, self_signed_certificate(key, "TEST")


def test_cms_signature_verifies(pair):
    key, cert = pair
    signature = RSASigner(key, cert).sign(b"message")
    verify_detached_signature(signature, b"message", cert, datetime.now(UTC))


@pytest.mark.parametrize(
    ("case", "reason"),
    [
        ("other-message", "digest_mismatch"),
        ("foreign-certificate", "foreign_certificate"),
        ("garbage", "malformed"),
        ("truncated", "malformed"),
        ("expired-certificate", "certificate_expired"),
        ("flipped-signature", "bad_signature"),
    ],
)
def test_cms_refusals(pair, case, reason):
    key, cert = pair
    signature = RSASigner(key, cert).sign(b"message")
    message, registered, now = b"message", cert, datetime.now(UTC)
    if case == "other-message":
        message = b"massage"
    elif case == "foreign-certificate":
        other = generate_rsa_key()
        signature = RSASigner(other, self_signed_certificate(other, "TEST")).sign(b"message")
    elif case == "garbage":
        signature = b"\x30\x03\x02\x01\x01"
    elif case == "truncated":
        signature = signature[:-10]
    elif case == "expired-certificate":
        now = datetime.now(UTC) + timedelta(days=365 * 11)
    elif case == "flipped-signature":
        signature = bytearray(signature)
        signature[-3] ^= 0x01
        signature = bytes(signature)
    with pytest.raises(CmsError) as refused:
        verify_detached_signature(signature, message, registered, now)
    assert refused.value.reason == reason


def test_same_serial_but_another_certificate_is_refused(pair):
    """A certificate forged with the registered issuer and serial number is still foreign."""
    _key, cert = pair
    other = generate_rsa_key()
    twin = (
        x509.CertificateBuilder()
        .subject_name(cert.subject)
        .issuer_name(cert.issuer)
        .public_key(other.public_key())
        .serial_number(cert.serial_number)
        .not_valid_before(cert.not_valid_before_utc)
        .not_valid_after(cert.not_valid_after_utc)
        .sign(other, cert.signature_hash_algorithm)
    )
    signature = RSASigner(other, twin).sign(b"message")
    with pytest.raises(CmsError, match="foreign_certificate"):
        verify_detached_signature(signature, b"message", cert, datetime.now(UTC))


# --- the token endpoint ---------------------------------------------------------------------------


def test_token_response_follows_the_contract(client, rp):
    form = rp.token_form(get_code(client, rp), REDIRECT)
    response = token(client, form)
    body = response.get_json()
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    assert set(body) >= {"access_token", "id_token", "expires_in", "state", "token_type"}
    assert body["state"] == form["state"] and body["token_type"] == "Bearer"
    public = serialization.load_pem_public_key(emulator_public_pem(current_app))
    claims = jwt.decode(
        body["id_token"],
        public,
        algorithms=["RS256"],
        audience="PARTICIPATION",
        options={"verify_sub": False},
    )
    assert claims["iss"] == "http://esia.gosuslugi.ru/"
    assert claims["urn:esia:sbj"]["urn:esia:sbj:oid"] == 2000001
    assert claims["exp"] > claims["iat"]
    assert jwt.get_unverified_header(body["id_token"])["alg"] == "RS256"


def test_code_is_single_use(client, rp):
    code = get_code(client, rp)
    assert token(client, rp.token_form(code, REDIRECT)).status_code == 200
    again = token(client, rp.token_form(code, REDIRECT))
    assert again.status_code == 400
    assert again.get_json()["error"] == "invalid_grant"
    row = db.session.scalar(sa.select(EmulatorCode).where(EmulatorCode.code == code))
    assert row.used_at is not None


def test_code_expires(client, rp):
    with time_machine.travel(datetime.now(UTC), tick=False) as clock:
        code = get_code(client, rp)
        clock.shift(timedelta(minutes=2, seconds=1))
        response = token(client, rp.token_form(code, REDIRECT))
    assert response.status_code == 400
    assert "истёк" in response.get_json()["error_description"]


def test_redirect_uri_must_match_the_login_request(client, rp):
    response = token(client, rp.token_form(get_code(client, rp), REDIRECT + "/other"))
    assert response.status_code == 400
    assert response.get_json()["error"] == "invalid_grant"


def test_token_request_with_stale_timestamp(client, rp):
    code = get_code(client, rp)
    form = rp.token_form(code, REDIRECT)
    old = esia_timestamp(datetime.now(UTC) - timedelta(minutes=6))
    state = new_state()
    message = (form["scope"] + old + form["client_id"] + state).encode()
    form.update(timestamp=old, state=state, client_secret=_b64(rp.signer.sign(message)))
    response = token(client, form)
    assert response.status_code == 400
    assert "5 минут" in response.get_json()["error_description"]


def test_token_request_signed_for_another_state(client, rp):
    form = rp.token_form(get_code(client, rp), REDIRECT)
    form["state"] = new_state()  # the signature covered the old state
    response = token(client, form)
    assert response.status_code == 400
    assert response.get_json()["error"] == "invalid_client"


def test_token_request_from_unknown_client(client, rp):
    form = rp.token_form(get_code(client, rp), REDIRECT)
    form["client_id"] = "STRANGER"
    response = token(client, form)
    assert response.status_code == 400
    assert response.get_json()["error"] == "invalid_client"


def test_code_of_another_client_is_refused(client, rp):
    code = get_code(client, rp)
    other = esia_client()
    other.client_id = "ANOTHER"
    pem = other.signer.certificate.public_bytes(serialization.Encoding.PEM).decode()
    register_client("ANOTHER", pem, [REDIRECT])
    response = token(client, other.token_form(code, REDIRECT))
    assert response.status_code == 400
    assert response.get_json()["error"] == "invalid_grant"


def test_token_endpoint_is_rate_limited(client, rp):
    statuses = [token(client, {"grant_type": "authorization_code"}).status_code for _ in range(21)]
    assert statuses[:20] == [400] * 20
    assert statuses[20] == 429


def _b64(data: bytes) -> str:
    import base64

    return base64.urlsafe_b64encode(data).decode().rstrip("=")


# --- /rs/ person resources ------------------------------------------------------------------------


def test_person_resources_with_a_valid_token(client, rp):
    access = tokens_for(client, rp)["access_token"]
    auth = {"Authorization": f"Bearer {access}"}
    person = client.get("/esia/rs/prns/2000001", headers=auth).get_json()
    assert person["lastName"] == "Иванова" and person["birthDate"] == "17.03.1988"
    assert person["trusted"] is True and person["gender"] == "F"
    contacts = client.get("/esia/rs/prns/2000001/ctts?embed=(elements)", headers=auth).get_json()
    assert {c["type"]: c["value"] for c in contacts["elements"]} == {
        "EML": "m.ivanova@mail.example",
        "MBT": "+7(917)2000001",
    }
    addresses = client.get("/esia/rs/prns/2000001/addrs?embed=(elements)", headers=auth).get_json()
    (prg,) = addresses["elements"]
    assert prg["type"] == "PRG"
    assert {prg["region"], prg["city"], prg["street"], prg["house"], prg["flat"]} == {
        "Республика Башкортостан",
        "Уфа",
        "ул. Ленина",
        "24",
        "15",
    }
    assert re.fullmatch(r"02-0-000-\d{3}-000-000-\d{4}-0000-000", prg["fiasCode"])
    assert prg["addressStr"] == "Республика Башкортостан, г. Уфа, ул. Ленина"
    roles = client.get("/esia/rs/prns/2000001/roles", headers=auth)
    assert roles.status_code == 403  # usr_org was not asked for


def test_levels_in_person_data(client, rp):
    for persona, trusted, has_doc in [
        ("resident-confirmed-ufa", True, True),
        ("resident-standard-ufa", False, True),
        ("resident-simplified-ufa", False, False),
    ]:
        body = tokens_for(client, rp, persona)
        oid = jwt.decode(body["id_token"], options={"verify_signature": False})["sub"]
        person = client.get(
            f"/esia/rs/prns/{oid}", headers={"Authorization": f"Bearer {body['access_token']}"}
        ).get_json()
        assert person["trusted"] is trusted
        assert ("rIdDoc" in person) is has_doc


@pytest.mark.parametrize(
    ("headers", "status"),
    [
        ({}, 401),
        ({"Authorization": "Bearer not-a-token"}, 401),
        ({"Authorization": "Basic Zm9vOmJhcg=="}, 401),
    ],
)
def test_rs_without_a_valid_token(client, headers, status):
    response = client.get("/esia/rs/prns/2000001", headers=headers)
    assert response.status_code == status
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_rs_for_another_persons_oid(client, rp):
    access = tokens_for(client, rp)["access_token"]
    response = client.get("/esia/rs/prns/2000002", headers={"Authorization": f"Bearer {access}"})
    assert response.status_code == 403
    assert "другого пользователя" in response.get_json()["error_description"]


def test_id_token_is_not_an_access_token(client, rp):
    id_token = tokens_for(client, rp)["id_token"]
    response = client.get("/esia/rs/prns/2000001", headers={"Authorization": f"Bearer {id_token}"})
    assert response.status_code == 401


def test_expired_access_token(client, rp):
    with time_machine.travel(datetime.now(UTC), tick=False) as clock:
        access = tokens_for(client, rp)["access_token"]
        clock.shift(timedelta(hours=1, seconds=1))
        response = client.get(
            "/esia/rs/prns/2000001", headers={"Authorization": f"Bearer {access}"}
        )
    assert response.status_code == 401


# --- the authorization endpoint -------------------------------------------------------------------


def test_unknown_scope_is_refused_back_to_the_client(client, rp):
    rp.scopes = "openid fullname launch_missiles"
    back = client.get(local(rp.authorization_url(state=new_state(), redirect_uri=REDIRECT)))
    assert back.status_code == 302
    query = parse_qs(urlsplit(back.headers["Location"]).query)
    assert query["error"] == ["invalid_scope"]


def test_state_must_be_a_uuid(client, rp):
    back = client.get(local(rp.authorization_url(state="not-a-uuid", redirect_uri=REDIRECT)))
    assert parse_qs(urlsplit(back.headers["Location"]).query)["error"] == ["invalid_request"]


def test_login_form_needs_its_request(client, rp):
    url = rp.authorization_url(state=new_state(), redirect_uri=REDIRECT)
    fields = dict(HIDDEN.findall(client.get(local(url)).get_data(as_text=True)))
    fields["request_token"] = "forged"
    page = client.post("/esia/aas/oauth2/ac", data={**fields, "persona": "resident-kazan"})
    assert page.status_code == 400
    assert "устарел" in page.get_data(as_text=True)


def test_login_form_is_accessible(client, rp):
    url = rp.authorization_url(state=new_state(), redirect_uri=REDIRECT)
    page = client.get(local(url))
    html = page.get_data(as_text=True)
    # The answer redirects to the client's origin: the only widening of the site's CSP.
    assert "form-action 'self' http://localhost;" in page.headers["Content-Security-Policy"]
    # no inline script or style; the only script is the site-wide header menu's static file
    assert re.findall(r"<script[^>]*>", html) == ['<script src="/static/js/menu.js">']
    assert "style=" not in html
    assert "<main" in html and "<legend>" in html
    for radio_id in re.findall(r'<input type="radio" name="persona" id="([^"]+)"', html):
        assert f'<label for="{radio_id}">' in html
    assert html.count('type="radio"') == len(data.USERS)  # every demo persona
    assert 'for="login"' in html and 'for="password"' in html


def test_login_form_names_each_persona_by_its_readme_id(client, rp):
    """The README says «log in as `ufa-head`»: the list shows that id beside the name."""
    url = rp.authorization_url(state=new_state(), redirect_uri=REDIRECT)
    html = client.get(local(url)).get_data(as_text=True)
    for persona in data.USERS:
        label = re.search(rf'<label for="persona-{persona["slug"]}">(.*?)</label>', html, re.S)
        assert label is not None, persona["slug"]
        assert f"<code>{persona['slug']}</code>" in label.group(1)


# --- CLI ------------------------------------------------------------------------------------------


def test_register_client_command(app, db_session, tmp_path, pair):
    _key, cert = pair
    path = tmp_path / "cert.pem"
    path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    result = app.test_cli_runner().invoke(
        args=["esia", "register-client", "MYSYSTEM", str(path), "--redirect-uri", "https://x/cb"]
    )
    assert result.exit_code == 0, result.output
    assert "MYSYSTEM" in result.output
    row = db.session.scalar(sa.select(EmulatorClient).where(EmulatorClient.client_id == "MYSYSTEM"))
    assert row.redirect_uris == ["https://x/cb"]
    assert x509.load_pem_x509_certificate(row.certificate_pem.encode()) == cert


def test_register_client_refuses_a_non_certificate(app, tmp_path):
    path = tmp_path / "junk.pem"
    path.write_text("not a certificate")
    result = app.test_cli_runner().invoke(args=["esia", "register-client", "X", str(path)])
    assert result.exit_code != 0
    assert "сертификат" in result.output


def test_export_key_command(app, tmp_path):
    out = tmp_path / "esia.pem"
    result = app.test_cli_runner().invoke(args=["esia", "export-key", str(out)])
    assert result.exit_code == 0, result.output
    assert out.read_bytes() == emulator_public_pem(app)
    printed = app.test_cli_runner().invoke(args=["esia", "export-key"])
    assert printed.output.startswith("-----BEGIN PUBLIC KEY-----")


# --- settings -------------------------------------------------------------------------------------


def test_development_defaults_point_at_the_emulator(tmp_path):
    config = load_config({}, tmp_path)
    assert config["ESIA_EMULATOR"] is True
    assert config["ESIA_BASE_URL"] == "http://127.0.0.1:5000/esia"
    assert config["ESIA_CLIENT_ID"] == "PARTICIPATION"
    assert config["ESIA_SCOPES"] == "openid fullname birthdate gender email mobile addresses"
    assert config["ESIA_KEY_PATH"] == str(tmp_path / "esia" / "client_key.pem")
    assert config["ESIA_PROVIDER_KEY_PATH"] == config["ESIA_EMULATOR_KEY_PATH"]
    assert not (tmp_path / "esia").exists()  # keys are made on first use, not at start-up


def test_real_test_portal_needs_configuration_only(tmp_path, pair):
    key, cert = pair
    (tmp_path / "k.pem").write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    (tmp_path / "c.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    env = {
        "PARTICIPATION_ENV": "production",
        "SECRET_KEY": "k" * 40,
        "ESIA_BASE_URL": "https://esia-portal1.test.gosuslugi.ru",
        "ESIA_CLIENT_ID": "MYSYS01",
        "ESIA_KEY_PATH": str(tmp_path / "k.pem"),
        "ESIA_CERT_PATH": str(tmp_path / "c.pem"),
        "ESIA_PROVIDER_KEY_PATH": str(tmp_path / "c.pem"),
        "ESIA_ISSUER": "http://esia-portal1.test.gosuslugi.ru/",
    }
    config = load_config(env, tmp_path)
    assert config["ESIA_EMULATOR"] is False
    assert config["ESIA_BASE_URL"] == "https://esia-portal1.test.gosuslugi.ru"
    assert config["ESIA_ISSUER"] == "http://esia-portal1.test.gosuslugi.ru/"


@pytest.mark.parametrize(
    ("env", "fragment"),
    [
        ({"PARTICIPATION_ENV": "production", "ESIA_EMULATOR": "true"}, "ESIA_EMULATOR"),
        ({"PARTICIPATION_ENV": "production"}, "ESIA_BASE_URL не задан"),
        (
            {"PARTICIPATION_ENV": "production", "ESIA_BASE_URL": "http://esia.example"},
            "https",
        ),
        (
            {"PARTICIPATION_ENV": "production", "ESIA_BASE_URL": "https://esia.example"},
            "ESIA_CLIENT_ID",
        ),
        (
            {
                "PARTICIPATION_ENV": "production",
                "ESIA_BASE_URL": "https://esia.example",
                "ESIA_CLIENT_ID": "X",
            },
            "ESIA_KEY_PATH не задан",
        ),
        ({"ESIA_KEY_PATH": "/nonexistent/key.pem"}, "файл не найден"),
        ({"ESIA_EMULATOR": "false"}, "ESIA_BASE_URL"),
        (
            {"ESIA_EMULATOR": "false", "ESIA_BASE_URL": "https://esia.example"},
            "ESIA_PROVIDER_KEY_PATH",
        ),
        ({"ESIA_SCOPES": "openid email"}, "fullname"),
        ({"ESIA_SCOPES": "openid fullname; drop"}, "ESIA_SCOPES"),
        ({"ESIA_EMULATOR": "perhaps"}, "true или false"),
    ],
)
def test_wrong_esia_settings_are_refused(tmp_path, env, fragment):
    env = {"SECRET_KEY": "k" * 40, **env}
    with pytest.raises(ConfigError, match=fragment) as refused:
        load_config(env, tmp_path)
    assert "\n" not in str(refused.value)


def test_client_secret_is_base64url_cms(rp):
    url = rp.authorization_url(state=new_state(), redirect_uri=REDIRECT)
    secret = parse_qs(urlsplit(url).query)["client_secret"][0]
    assert re.fullmatch(r"[A-Za-z0-9_-]+", secret)
    from asn1crypto import cms

    assert cms.ContentInfo.load(b64url_decode(secret))["content_type"].native == "signed_data"


def test_emulator_is_not_mounted_when_disabled(tmp_path):
    from participation import create_app

    env = {
        "PARTICIPATION_ENV": "testing",
        "SECRET_KEY": "k" * 40,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'x.sqlite3'}",
        "ESIA_EMULATOR": "false",
        "ESIA_BASE_URL": "https://esia-portal1.test.gosuslugi.ru",
        "ESIA_PROVIDER_KEY_PATH": __file__,
        # The limiter is one object for every app: keep the main suite's storage.
        "REDIS_URL": os.environ.get("TEST_REDIS_URL", ""),
    }
    other = create_app(env=env)
    assert not any(rule.rule.startswith("/esia") for rule in other.url_map.iter_rules())
