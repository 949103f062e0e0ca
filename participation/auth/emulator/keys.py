"""The emulator's token-signing key: generated once under the instance folder, never in code."""

from __future__ import annotations

import base64
import hashlib
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from flask import Flask

from participation.auth.esia import (
    generate_rsa_key,
    load_private_key,
    private_key_pem,
    public_key_pem,
    write_new_file,
)


def emulator_key(app: Flask) -> rsa.RSAPrivateKey:
    """The private key the emulator signs id_tokens and access tokens with."""
    path = Path(app.config["ESIA_EMULATOR_KEY_PATH"])
    if not path.exists():
        write_new_file(path, private_key_pem(generate_rsa_key()))
    key = load_private_key(path)
    if not isinstance(key, rsa.RSAPrivateKey):
        raise RuntimeError(f"{path}: ожидается ключ RSA")
    return key


def emulator_public_key(app: Flask) -> Any:
    return emulator_key(app).public_key()


def emulator_public_pem(app: Flask) -> bytes:
    """The token-signing public key as PEM (what relying parties verify id_tokens with)."""
    return public_key_pem(emulator_public_key(app))


def key_id(public_key: Any) -> str:
    """A short stable id for the key (JWT `kid`): SHA-256 of the SubjectPublicKeyInfo."""
    der = public_key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return base64.urlsafe_b64encode(hashlib.sha256(der).digest()[:12]).decode().rstrip("=")
