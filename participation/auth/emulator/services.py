"""The emulator's rules: client registration, signed-request checks, codes and tokens."""

from __future__ import annotations

import logging
import secrets
import uuid
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

import jwt
import sqlalchemy as sa
from cryptography import x509
from flask import current_app
from flask_babel import lazy_gettext as _l

from participation.auth.emulator import personas
from participation.auth.emulator.cms import CmsError, verify_detached_signature
from participation.auth.emulator.keys import emulator_key, emulator_public_key, key_id
from participation.auth.esia import LEGACY, b64url_decode, is_uuid, parse_esia_timestamp
from participation.auth.models import EmulatorClient, EmulatorCode
from participation.core.db import utcnow
from participation.extensions import db

log = logging.getLogger(__name__)

ISSUER = "http://esia.gosuslugi.ru/"
STALE_AFTER = timedelta(minutes=5)
CODE_LIFETIME = timedelta(minutes=2)
TOKEN_LIFETIME = timedelta(hours=1)


class EmulatorRefusal(Exception):
    """The emulator refuses a request: an OAuth `error` code and a Russian description.

    `redirectable` is False when the client or its redirect_uri cannot be trusted: the person
    then sees the emulator's own error page instead of being sent anywhere.
    """

    def __init__(self, error: str, description: Any, *, redirectable: bool = True) -> None:
        super().__init__(error)
        self.error = error
        self.description = description
        self.redirectable = redirectable


# --- clients --------------------------------------------------------------------------------------


def load_certificate(pem: str | bytes) -> x509.Certificate:
    """A PEM certificate, or ValueError with a reason."""
    return x509.load_pem_x509_certificate(pem.encode() if isinstance(pem, str) else pem)


def client_by_id(client_id: str) -> EmulatorClient | None:
    """The registered client system with this id, if any."""
    return db.session.scalar(sa.select(EmulatorClient).where(EmulatorClient.client_id == client_id))


def register_client(
    client_id: str, certificate_pem: str, redirect_uris: list[str] | None = None
) -> EmulatorClient:
    """Register a system (or replace its certificate); given redirect URIs are added."""
    load_certificate(certificate_pem)  # refuse garbage before storing it
    client = client_by_id(client_id)
    if client is None:
        client = EmulatorClient(client_id=client_id, certificate_pem=certificate_pem)
        client.redirect_uris = []
        db.session.add(client)
    client.certificate_pem = certificate_pem
    client.redirect_uris = list(dict.fromkeys([*client.redirect_uris, *(redirect_uris or [])]))
    db.session.flush()
    return client


def ensure_dev_registration(client_id: str, certificate_pem: str, redirect_uri: str) -> None:
    """Development: register our own system on first use and allow its redirect_uri.

    A client already registered with another certificate is left alone (that is exactly what
    the signature check must catch); the log says how to re-register it.
    """
    client = client_by_id(client_id)
    if client is None:
        register_client(client_id, certificate_pem, [redirect_uri])
        log.info("ESIA emulator: registered client %s", client_id)
        return
    if load_certificate(client.certificate_pem) != load_certificate(certificate_pem):
        log.warning(
            "ESIA emulator: client %s is registered with another certificate; run "
            "`flask esia register-client %s <сертификат>` to replace it",
            client_id,
            client_id,
        )
        return
    if redirect_uri not in client.redirect_uris:
        client.redirect_uris = [*client.redirect_uris, redirect_uri]
        db.session.flush()


# --- signed requests ------------------------------------------------------------------------------


def check_client_secret(params: Mapping[str, str], client: EmulatorClient) -> None:
    """Check timestamp, state and the CMS signature of scope+timestamp+client_id+state."""
    now = utcnow()
    moment = parse_esia_timestamp(params.get("timestamp", ""))
    if moment is None:
        raise EmulatorRefusal("invalid_request", _l("Неверный формат timestamp."))
    if abs(now - moment) > STALE_AFTER:
        raise EmulatorRefusal(
            "invalid_request", _l("Запрос устарел: время запроса отличается более чем на 5 минут.")
        )
    if not is_uuid(params.get("state")):
        raise EmulatorRefusal("invalid_request", _l("Параметр state должен быть UUID."))
    try:
        signature = b64url_decode(params.get("client_secret", ""))
    except ValueError:
        signature = b""
    message = LEGACY.secret_message(
        scope=params.get("scope", ""),
        timestamp=params["timestamp"],
        client_id=client.client_id,
        state=params["state"],
    )
    try:
        verify_detached_signature(signature, message, load_certificate(client.certificate_pem), now)
    except CmsError as exc:
        log.info("ESIA emulator: client_secret of %s refused: %s", client.client_id, exc.reason)
        raise EmulatorRefusal(
            "invalid_client",
            _l("Подпись запроса (client_secret) неверна: %(reason)s.", reason=exc.reason),
        ) from None


def _scopes(raw: str) -> frozenset[str]:
    scopes = frozenset(raw.split())
    if "openid" not in scopes:
        raise EmulatorRefusal("invalid_scope", _l("В запросе нет области доступа openid."))
    unknown = scopes - personas.SUPPORTED_SCOPES
    if unknown:
        raise EmulatorRefusal(
            "invalid_scope",
            _l("Неизвестные области доступа: %(scopes)s.", scopes=", ".join(sorted(unknown))),
        )
    return scopes


def check_authorization_request(params: Mapping[str, str]) -> dict[str, str]:
    """Validate a request to /aas/oauth2/ac; return what the login form must carry on."""
    client = client_by_id(params.get("client_id", ""))
    if client is None:
        raise EmulatorRefusal(
            "invalid_client",
            _l("Информационная система «%(id)s» не зарегистрирована.", id=params.get("client_id")),
            redirectable=False,
        )
    redirect_uri = params.get("redirect_uri", "")
    if redirect_uri not in client.redirect_uris:
        raise EmulatorRefusal(
            "invalid_request",
            _l("Адрес возврата (redirect_uri) не зарегистрирован для этой системы."),
            redirectable=False,
        )
    if params.get("response_type") != "code":
        raise EmulatorRefusal("unsupported_response_type", _l("Поддерживается response_type=code."))
    if params.get("access_type", "online") not in {"online", "offline"}:
        raise EmulatorRefusal("invalid_request", _l("access_type: online или offline."))
    _scopes(params.get("scope", ""))
    check_client_secret(params, client)
    return {
        "client_id": client.client_id,
        "redirect_uri": redirect_uri,
        "scope": params["scope"],
        "state": params["state"],
    }


# --- codes and tokens -----------------------------------------------------------------------------


def issue_code(client_id: str, oid: str, scope: str, redirect_uri: str) -> str:
    """Create a single-use authorization code for the person who just logged in."""
    client = client_by_id(client_id)
    if client is None:
        raise EmulatorRefusal("invalid_client", _l("Система не зарегистрирована."))
    now = utcnow()
    code = secrets.token_urlsafe(32)
    db.session.add(
        EmulatorCode(
            code=code,
            client_id=client.id,
            oid=oid,
            scope=scope,
            redirect_uri=redirect_uri,
            issued_at=now,
            expires_at=now + CODE_LIFETIME,
        )
    )
    db.session.flush()
    return code


def _sign(claims: dict[str, Any]) -> str:
    key = emulator_key(current_app)
    return jwt.encode(claims, key, algorithm="RS256", headers={"kid": key_id(key.public_key())})


def _timing(now: datetime) -> dict[str, int]:
    issued = int(now.timestamp())
    return {"iat": issued, "nbf": issued, "exp": issued + int(TOKEN_LIFETIME.total_seconds())}


def redeem_code(form: Mapping[str, str]) -> dict[str, Any]:
    """The token endpoint: check the signed request and the code; return the token response."""
    if form.get("grant_type") != "authorization_code":
        raise EmulatorRefusal(
            "unsupported_grant_type", _l("Ожидается grant_type=authorization_code.")
        )
    client = client_by_id(form.get("client_id", ""))
    if client is None:
        raise EmulatorRefusal("invalid_client", _l("Система не зарегистрирована."))
    check_client_secret(form, client)
    now = utcnow()
    row = db.session.scalar(sa.select(EmulatorCode).where(EmulatorCode.code == form.get("code")))
    if row is None or row.client_id != client.id:
        raise EmulatorRefusal("invalid_grant", _l("Код авторизации не найден."))
    if row.expires_at <= now:
        raise EmulatorRefusal("invalid_grant", _l("Срок действия кода авторизации истёк."))
    if row.redirect_uri != form.get("redirect_uri"):
        raise EmulatorRefusal("invalid_grant", _l("redirect_uri не совпадает с запросом на вход."))
    if frozenset(form.get("scope", "").split()) != frozenset(row.scope.split()):
        raise EmulatorRefusal("invalid_scope", _l("scope не совпадает с запросом на вход."))
    # Marking the code used is one conditional UPDATE: of two concurrent redemptions only
    # one can change the row, so a code is never exchanged twice.
    used = db.session.execute(
        sa.update(EmulatorCode)
        .where(EmulatorCode.id == row.id, EmulatorCode.used_at.is_(None))
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    if used.rowcount != 1:
        raise EmulatorRefusal("invalid_grant", _l("Код авторизации уже использован."))
    persona = personas.persona_by_oid(row.oid)
    if persona is None:
        raise EmulatorRefusal("invalid_grant", _l("Учётная запись не найдена."))
    session_id = str(uuid.uuid4())
    subject: dict[str, Any] = {
        "urn:esia:sbj:typ": "P",
        "urn:esia:sbj:oid": int(row.oid),
        "urn:esia:sbj:nam": f"OID.{row.oid}",
    }
    if persona["account_level"] == "confirmed":
        subject["urn:esia:sbj:is_tru"] = True
    id_token = _sign(
        {
            "iss": ISSUER,
            "aud": client.client_id,
            "sub": int(row.oid),
            "urn:esia:sbj": subject,
            "urn:esia:amd": "PWD",
            "urn:esia:sid": session_id,
            "auth_time": int(row.issued_at.timestamp()),
            **_timing(now),
        }
    )
    access_token = _sign(
        {
            "iss": ISSUER,
            "urn:esia:client_id": client.client_id,
            "urn:esia:sbj_id": int(row.oid),
            "urn:esia:sid": session_id,
            "scope": row.scope,
            **_timing(now),
        }
    )
    return {
        "access_token": access_token,
        "id_token": id_token,
        "expires_in": int(TOKEN_LIFETIME.total_seconds()),
        "state": form.get("state"),
        "token_type": "Bearer",
        "refresh_token": str(uuid.uuid4()),
    }


def verify_access_token(authorization: str | None, oid: str) -> frozenset[str]:
    """The scopes of a valid bearer token for `oid`; refusal (401/403) otherwise."""
    scheme, _, token = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise EmulatorRefusal("invalid_token", _l("Нужен маркер доступа (Bearer)."))
    try:
        claims = jwt.decode(
            token.strip(),
            emulator_public_key(current_app),
            algorithms=["RS256"],
            issuer=ISSUER,
            options={"require": ["exp", "iat", "iss"], "verify_aud": True},
        )
    except jwt.PyJWTError:
        # An id_token carries `aud` and is refused here too: it is not an access token.
        raise EmulatorRefusal("invalid_token", _l("Маркер доступа недействителен.")) from None
    if "urn:esia:sbj_id" not in claims or "scope" not in claims:
        raise EmulatorRefusal("invalid_token", _l("Это не маркер доступа."))
    if str(claims["urn:esia:sbj_id"]) != oid:
        raise EmulatorRefusal(
            "insufficient_scope", _l("Маркер доступа выдан для другого пользователя.")
        )
    return frozenset(str(claims["scope"]).split())
