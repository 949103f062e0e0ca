"""ESIA request signing: timestamps, state, base64url, the CMS Signer and the contract."""

from __future__ import annotations

import base64
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import pkcs7

TIMESTAMP_FORMAT = "%Y.%m.%d %H:%M:%S +0000"


# --- encoding helpers -----------------------------------------------------------------------------


def esia_timestamp(moment: datetime | None = None) -> str:
    """The request time as ESIA wants it: `2026.11.23 14:05:09 +0000`."""
    return (moment or datetime.now(UTC)).astimezone(UTC).strftime(TIMESTAMP_FORMAT)


def parse_esia_timestamp(text: str) -> datetime | None:
    """The moment in an ESIA timestamp, or None when it is malformed."""
    try:
        return datetime.strptime(text, "%Y.%m.%d %H:%M:%S %z").astimezone(UTC)
    except (TypeError, ValueError):
        return None


def b64url_encode(data: bytes) -> str:
    """URL-safe base64 without padding, as ESIA takes client_secret."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    """Decode URL-safe base64 with or without padding (raises ValueError on garbage)."""
    cleaned = text.strip().replace("+", "-").replace("/", "_").rstrip("=")
    return base64.urlsafe_b64decode(cleaned + "=" * (-len(cleaned) % 4))


def new_state() -> str:
    """A fresh `state` value (ESIA wants a UUID)."""
    return str(uuid.uuid4())


def is_uuid(value: str | None) -> bool:
    try:
        uuid.UUID(str(value))
    except ValueError:
        return False
    return True


# --- signing --------------------------------------------------------------------------------------


class Signer(Protocol):
    """Makes ESIA's client_secret: a detached CMS signature by the system's key and certificate."""

    @property
    def certificate(self) -> x509.Certificate: ...

    def sign(self, message: bytes) -> bytes:
        """Detached CMS SignedData (DER) over `message`."""
        ...


class RSASigner:
    """CMS signatures with an RSA key and SHA-256 (accepted by the ESIA test contour)."""

    def __init__(self, key: rsa.RSAPrivateKey, certificate: x509.Certificate) -> None:
        self._key = key
        self._certificate = certificate

    @property
    def certificate(self) -> x509.Certificate:
        return self._certificate

    def sign(self, message: bytes) -> bytes:
        return (
            pkcs7.PKCS7SignatureBuilder()
            .set_data(message)
            .add_signer(self._certificate, self._key, hashes.SHA256())
            .sign(
                serialization.Encoding.DER,
                [pkcs7.PKCS7Options.DetachedSignature, pkcs7.PKCS7Options.Binary],
            )
        )


# --- the contract ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class EsiaContract:
    """Endpoint paths and the signed string of one ESIA API version (legacy by default)."""

    authorize_path: str = "/aas/oauth2/ac"
    token_path: str = "/aas/oauth2/te"  # noqa: S105 (a path, not a secret)
    person_path: str = "/rs/prns/{oid}"
    contacts_path: str = "/rs/prns/{oid}/ctts"
    addresses_path: str = "/rs/prns/{oid}/addrs"
    roles_path: str = "/rs/prns/{oid}/roles"

    def secret_message(self, *, scope: str, timestamp: str, client_id: str, state: str) -> bytes:
        """The bytes the client signs; v2/v3 add the certificate hash and reorder them."""
        return (scope + timestamp + client_id + state).encode("utf-8")


LEGACY = EsiaContract()
