"""The ESIA client: code exchange, id_token checks and person data, plus its errors."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import jwt
from flask import Flask, current_app
from flask_babel import lazy_gettext as _l

from participation.auth.esia.keys import (
    ensure_client_credentials,
    load_signer,
    provider_public_key,
)
from participation.auth.esia.signing import (
    LEGACY,
    EsiaContract,
    Signer,
    b64url_encode,
    esia_timestamp,
    new_state,
)
from participation.auth.esia.transport import (
    EsiaUnavailable,
    HttpResponse,
    Transport,
    esia_transport,
)
from participation.core.users import AccountLevel, Gender

# Algorithms we accept on id_token. Production ESIA signs with GOST R 34.10-2012; add it here
# together with a GOST verifier when the platform moves off the test contour.
ID_TOKEN_ALGORITHMS = ["RS256"]
ID_TOKEN_LEEWAY_SECONDS = 30


# --- errors ---------------------------------------------------------------------------------------


class EsiaError(Exception):
    """The login through ESIA failed: `reason` goes to the audit log, `message` to the person."""

    def __init__(self, reason: str, message: Any) -> None:
        super().__init__(reason)
        self.reason = reason
        self.message = message


MESSAGES = {
    "wrong_state": _l(
        "Ссылка для входа устарела или открыта в другом браузере. Начните вход заново."
    ),
    "access_denied": _l("Вход отменён на странице Госуслуг."),
    "provider_error": _l(
        "Госуслуги отклонили запрос на вход. Попробуйте ещё раз; если ошибка повторится, "
        "сообщите в службу поддержки."
    ),
    "token_refused": _l(
        "Госуслуги не подтвердили вход: код входа недействителен или уже использован. "
        "Начните вход заново."
    ),
    "id_token_invalid": _l(
        "Не удалось проверить ответ Госуслуг (подпись, получатель или срок действия неверны). "
        "Начните вход заново."
    ),
    "unavailable": _l("Госуслуги сейчас недоступны. Попробуйте войти позже."),
    "person_data": _l("Госуслуги не передали данные учётной записи. Попробуйте войти ещё раз."),
    "blocked": _l("Ваша учётная запись на платформе заблокирована. Обратитесь в службу поддержки."),
}


def esia_error(reason: str, detail: str | None = None) -> EsiaError:
    """An EsiaError with the person-facing message for `reason` (detail only for the audit)."""
    key = reason if reason in MESSAGES else "provider_error"
    return EsiaError(f"{reason}:{detail}" if detail else reason, MESSAGES[key])


# --- person data ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class EsiaAddress:
    """A PRG (registration) or PLV (residence) address from `/rs/prns/{oid}/addrs`."""

    kind: str
    region: str | None
    area: str | None
    city: str | None
    settlement: str | None
    street: str | None
    house: str | None
    flat: str | None
    zip_code: str | None
    fias_code: str | None
    text: str


@dataclass(frozen=True)
class EsiaPerson:
    """What ESIA told us about the person; a field is None when its scope was not granted."""

    oid: str
    scopes: frozenset[str]
    account_level: AccountLevel
    last_name: str | None = None
    first_name: str | None = None
    middle_name: str | None = None
    birth_date: date | None = None
    gender: Gender | None = None
    email: str | None = None
    phone: str | None = None
    registration_address: EsiaAddress | None = None
    legal_entity_name: str | None = None
    legal_entity_ogrn: str | None = None


def account_level_from_person(person: Mapping[str, Any]) -> AccountLevel:
    """The account level from `/rs/prns/{oid}`.

    `trusted: true` is ESIA's confirmed account. Between simplified and standard ESIA has no
    single flag: a standard account is one whose identity document (and SNILS) passed the
    state checks. We read that from `rIdDoc` (the id of the verified main identity document,
    which ESIA — and our emulator — returns only once the document is on file) while
    `verifying` is false (checks finished). Everything else is simplified.
    """
    if person.get("trusted") is True:
        return AccountLevel.CONFIRMED
    if person.get("rIdDoc") and not person.get("verifying"):
        return AccountLevel.STANDARD
    return AccountLevel.SIMPLIFIED


def _text(value: Any, limit: int) -> str | None:
    if value is None:
        return None
    text = " ".join(str(value).split())
    return text[:limit] or None


def _birth_date(value: Any) -> date | None:
    try:
        return datetime.strptime(str(value), "%d.%m.%Y").date()
    except ValueError:
        return None


def _phone(value: Any) -> str | None:
    """ESIA writes mobiles as `+7(917)1234567`; we keep `+79171234567`."""
    digits = "".join(ch for ch in str(value or "") if ch.isdigit())
    return f"+{digits}"[:20] if digits else None


def _address(element: Mapping[str, Any]) -> EsiaAddress:
    text = element.get("addressStr") or ""
    parts = [element.get("zipCode"), text]
    if element.get("house"):
        parts.append(f"д. {element['house']}")
    if element.get("flat"):
        parts.append(f"кв. {element['flat']}")
    return EsiaAddress(
        kind=str(element.get("type") or ""),
        region=_text(element.get("region"), 200),
        area=_text(element.get("area") or element.get("district"), 200),
        city=_text(element.get("city"), 200),
        settlement=_text(element.get("settlement"), 200),
        street=_text(element.get("street"), 200),
        house=_text(element.get("house"), 20),
        flat=_text(element.get("flat"), 20),
        zip_code=_text(element.get("zipCode"), 6),
        fias_code=_text(element.get("fiasCode"), 60),
        text=", ".join(str(p) for p in parts if p)[:500],
    )


# --- the client -----------------------------------------------------------------------------------


@dataclass
class EsiaClient:
    """Talks to one ESIA installation for one registered system (client id + certificate)."""

    base_url: str
    client_id: str
    scopes: str
    signer: Signer
    provider_key: Any
    issuer: str
    transport: Transport
    contract: EsiaContract = LEGACY

    def _signed(self, state: str, timestamp: str | None) -> dict[str, str]:
        timestamp = timestamp or esia_timestamp()
        message = self.contract.secret_message(
            scope=self.scopes, timestamp=timestamp, client_id=self.client_id, state=state
        )
        return {
            "client_id": self.client_id,
            "client_secret": b64url_encode(self.signer.sign(message)),
            "scope": self.scopes,
            "timestamp": timestamp,
            "state": state,
        }

    def authorization_url(
        self,
        *,
        state: str,
        redirect_uri: str,
        timestamp: str | None = None,
        access_type: str = "online",
    ) -> str:
        """The URL of ESIA's login page for this request (the browser is sent there)."""
        params = {
            **self._signed(state, timestamp),
            "redirect_uri": redirect_uri,
            "response_type": "code",
            "access_type": access_type,
        }
        return f"{self.base_url}{self.contract.authorize_path}?{urlencode(params)}"

    def token_form(self, code: str, redirect_uri: str, state: str | None = None) -> dict[str, str]:
        """The form posted to the token endpoint (a fresh state and signature each time)."""
        return {
            **self._signed(state or new_state(), None),
            "code": code,
            "grant_type": "authorization_code",
            "redirect_uri": redirect_uri,
            "token_type": "Bearer",
        }

    def _call(self, method: str, path: str, **kw: Any) -> HttpResponse:
        try:
            return self.transport.request(method, self.base_url + path, **kw)
        except EsiaUnavailable as exc:
            raise esia_error("unavailable", str(exc)[:100]) from exc

    def exchange_code(self, code: str, redirect_uri: str) -> tuple[str, dict[str, Any]]:
        """Trade the code for tokens; return the access token and the checked id_token claims."""
        form = self.token_form(code, redirect_uri)
        resp = self._call("POST", self.contract.token_path, form=form)
        try:
            body = resp.json()
        except ValueError:
            body = {}
        if resp.status != 200 or not isinstance(body, dict):
            error = body.get("error") if isinstance(body, dict) else None
            raise esia_error("token_refused", str(error or resp.status)[:60])
        if body.get("state") != form["state"]:
            raise esia_error("token_refused", "state")
        access_token, id_token = body.get("access_token"), body.get("id_token")
        if not isinstance(access_token, str) or not isinstance(id_token, str):
            raise esia_error("token_refused", "no_tokens")
        return access_token, self.validate_id_token(id_token)

    def validate_id_token(self, token: str) -> dict[str, Any]:
        """The id_token's claims after checking signature, issuer, audience, expiry, subject."""
        try:
            claims = jwt.decode(
                token,
                self.provider_key,
                algorithms=ID_TOKEN_ALGORITHMS,
                audience=self.client_id,
                issuer=self.issuer,
                leeway=ID_TOKEN_LEEWAY_SECONDS,
                # ESIA's `sub` is the oid as a number, which RFC 7519 (and PyJWT) want as a
                # string; the subject is read from urn:esia:sbj instead.
                options={"require": ["exp", "iat", "iss", "aud"], "verify_sub": False},
            )
        except jwt.ExpiredSignatureError as exc:
            raise esia_error("id_token_invalid", "expired") from exc
        except jwt.InvalidAudienceError as exc:
            raise esia_error("id_token_invalid", "aud") from exc
        except jwt.InvalidIssuerError as exc:
            raise esia_error("id_token_invalid", "iss") from exc
        except jwt.InvalidSignatureError as exc:
            raise esia_error("id_token_invalid", "signature") from exc
        except jwt.PyJWTError as exc:
            raise esia_error("id_token_invalid", type(exc).__name__) from exc
        if subject_oid(claims) is None:
            raise esia_error("id_token_invalid", "subject")
        return claims

    def _get_json(self, path: str, access_token: str) -> dict[str, Any] | None:
        """GET a /rs/ resource; None when ESIA refuses it (scope not granted)."""
        resp = self._call("GET", path, headers={"Authorization": f"Bearer {access_token}"})
        if resp.status in (401, 403, 404):
            return None
        if resp.status != 200:
            raise esia_error("person_data", f"http_{resp.status}")
        try:
            body = resp.json()
        except ValueError as exc:
            raise esia_error("person_data", "json") from exc
        if not isinstance(body, dict):
            raise esia_error("person_data", "json")
        return body

    def _elements(self, path: str, oid: str, access_token: str) -> list[dict[str, Any]]:
        body = self._get_json(path.format(oid=oid) + "?embed=(elements)", access_token)
        elements = (body or {}).get("elements") or []
        return [e for e in elements if isinstance(e, dict)]

    def fetch_person(self, oid: str, access_token: str) -> EsiaPerson:
        """Read the person, contacts, addresses (and organizations) the granted scopes allow."""
        scopes = frozenset(self.scopes.split())
        person = self._get_json(self.contract.person_path.format(oid=oid), access_token)
        if person is None:
            raise esia_error("person_data", "prns")
        data: dict[str, Any] = {"account_level": account_level_from_person(person)}
        if "fullname" in scopes:
            data["last_name"] = _text(person.get("lastName"), 100)
            data["first_name"] = _text(person.get("firstName"), 100)
            data["middle_name"] = _text(person.get("middleName"), 100)
            if not data["last_name"] or not data["first_name"]:
                raise esia_error("person_data", "fullname")
        if "birthdate" in scopes:
            data["birth_date"] = _birth_date(person.get("birthDate"))
        if "gender" in scopes and person.get("gender") in {g.value for g in Gender}:
            data["gender"] = Gender(person["gender"])
        if scopes & {"email", "mobile", "contacts"}:
            for element in self._elements(self.contract.contacts_path, oid, access_token):
                if element.get("type") == "EML" and scopes & {"email", "contacts"}:
                    data["email"] = _text(element.get("value"), 254)
                elif element.get("type") == "MBT" and scopes & {"mobile", "contacts"}:
                    data["phone"] = _phone(element.get("value"))
        if "addresses" in scopes:
            for element in self._elements(self.contract.addresses_path, oid, access_token):
                if element.get("type") == "PRG":
                    data["registration_address"] = _address(element)
        if "usr_org" in scopes:
            for org in self._elements(self.contract.roles_path, oid, access_token):
                if org.get("ogrn") and (org.get("fullName") or org.get("shortName")):
                    data["legal_entity_name"] = _text(org.get("fullName") or org["shortName"], 300)
                    data["legal_entity_ogrn"] = _text(org.get("ogrn"), 15)
                    break
        return EsiaPerson(oid=oid, scopes=scopes, **data)

    def complete_login(self, code: str, redirect_uri: str) -> EsiaPerson:
        """Everything after the browser came back with a code: tokens, id_token, person data."""
        access_token, claims = self.exchange_code(code, redirect_uri)
        oid = subject_oid(claims)
        assert oid is not None  # checked by validate_id_token
        return self.fetch_person(oid, access_token)


def subject_oid(claims: Mapping[str, Any]) -> str | None:
    """The person's oid from `urn:esia:sbj` → `urn:esia:sbj:oid`, if it is well-formed."""
    subject = claims.get("urn:esia:sbj")
    oid = subject.get("urn:esia:sbj:oid") if isinstance(subject, Mapping) else None
    if isinstance(oid, bool) or not isinstance(oid, int | str) or not str(oid).isdigit():
        return None
    return str(oid) if len(str(oid)) <= 32 else None


def _dev_credentials(app: Flask) -> None:
    """Outside production, create the system's missing development key and certificate
    (the emulator makes its own key when it is mounted: auth/emulator/views.py)."""
    if app.config["ENV_NAME"] == "production":
        return
    ensure_client_credentials(
        Path(app.config["ESIA_KEY_PATH"]),
        Path(app.config["ESIA_CERT_PATH"]),
        app.config["ESIA_CLIENT_ID"],
    )


def esia_client(app: Flask | None = None) -> EsiaClient:
    """The relying party configured for this app (keys are made on first use in development)."""
    app = app or current_app._get_current_object()
    _dev_credentials(app)
    return EsiaClient(
        base_url=app.config["ESIA_BASE_URL"],
        client_id=app.config["ESIA_CLIENT_ID"],
        scopes=app.config["ESIA_SCOPES"],
        signer=load_signer(app.config["ESIA_KEY_PATH"], app.config["ESIA_CERT_PATH"]),
        provider_key=provider_public_key(app.config["ESIA_PROVIDER_KEY_PATH"]),
        issuer=app.config["ESIA_ISSUER"],
        transport=esia_transport(app),
    )
