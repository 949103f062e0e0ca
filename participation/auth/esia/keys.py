"""Keys and certificates: loading (cached), and the development key pair made on first use."""

from __future__ import annotations

import contextlib
import os
import tempfile
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from participation.auth.esia.signing import RSASigner


def generate_rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def self_signed_certificate(
    key: rsa.RSAPrivateKey, common_name: str, years: int = 10
) -> x509.Certificate:
    """A self-signed certificate for a development system key (never used in production)."""
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Решаем вместе (разработка)"),
        ]
    )
    now = datetime.now(UTC)
    return (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=365 * years))
        .sign(key, hashes.SHA256())
    )


def private_key_pem(key: rsa.RSAPrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def public_key_pem(key: Any) -> bytes:
    return key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def write_new_file(path: Path, data: bytes, mode: int = 0o600) -> bool:
    """Write `path` atomically unless it exists; False when another process was first."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.chmod(tmp, mode)
        try:
            os.link(tmp, path)  # fails if the file appeared meanwhile: the first writer wins
        except FileExistsError:
            return False
        return True
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)


def ensure_client_credentials(key_path: Path, cert_path: Path, common_name: str) -> None:
    """Development only: make the system's key and self-signed certificate once."""
    if key_path.exists() and cert_path.exists():
        return
    if key_path.exists() != cert_path.exists():
        raise RuntimeError(
            f"есть только один из файлов {key_path} и {cert_path}: удалите его или добавьте второй"
        )
    # Key and certificate travel together: written as one file first, then split, so two
    # processes starting at once can never end up with a key and a certificate that differ.
    key = generate_rsa_key()
    bundle = private_key_pem(key) + self_signed_certificate(key, common_name).public_bytes(
        serialization.Encoding.PEM
    )
    bundle_path = key_path.with_name(key_path.name + ".bundle")
    write_new_file(bundle_path, bundle)
    try:
        pem = bundle_path.read_bytes()
    except FileNotFoundError:  # another process finished the job and tidied up
        return
    end = b"-----END PRIVATE KEY-----\n"
    key_part, _, cert_part = pem.partition(end)
    write_new_file(key_path, key_part + end)
    write_new_file(cert_path, cert_part, 0o644)
    with contextlib.suppress(FileNotFoundError):
        bundle_path.unlink()


@lru_cache(maxsize=32)
def _read_pem(path: str, _mtime_ns: int) -> bytes:
    return Path(path).read_bytes()


def read_pem(path: str | Path) -> bytes:
    """The bytes of a PEM file, cached until the file changes."""
    return _read_pem(str(path), Path(path).stat().st_mtime_ns)


@lru_cache(maxsize=16)
def _private_key(path: str, _mtime_ns: int) -> Any:
    # Loading checks the RSA key's consistency, which takes tens of milliseconds: once per file.
    return serialization.load_pem_private_key(Path(path).read_bytes(), password=None)


def load_private_key(path: str | Path) -> Any:
    """The private key in a PEM file, parsed once until the file changes."""
    return _private_key(str(path), Path(path).stat().st_mtime_ns)


def load_public_key(pem: bytes) -> Any:
    """A public key from a PEM certificate or public key."""
    if b"CERTIFICATE" in pem:
        return x509.load_pem_x509_certificate(pem).public_key()
    return serialization.load_pem_public_key(pem)


def provider_public_key(path: str | Path) -> Any:
    """ESIA's public key from its certificate, public key or (emulator) private key file."""
    pem = read_pem(path)
    if b"PRIVATE KEY" in pem:
        return load_private_key(path).public_key()
    return load_public_key(pem)


def load_signer(key_path: str | Path, cert_path: str | Path) -> RSASigner:
    """The RSA signer from the system's key and certificate files."""
    key = load_private_key(key_path)
    if not isinstance(key, rsa.RSAPrivateKey):
        raise RuntimeError(f"{key_path}: ожидается ключ RSA (ГОСТ пока не поддерживается)")
    return RSASigner(key, x509.load_pem_x509_certificate(read_pem(cert_path)))
