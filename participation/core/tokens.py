"""Secret tokens (API keys, OAuth codes and tokens, widget sessions): made here, kept hashed."""

from __future__ import annotations

import hashlib
import secrets


def new_token() -> str:
    """A fresh opaque secret (code, token, verifier): 256 random bits, URL-safe."""
    return secrets.token_urlsafe(32)


def token_hash(raw: str) -> str:
    """The SHA-256 (hex) the database keeps instead of a secret token; also its rate-limit bucket.

    Tokens are ASCII; "replace" only keeps a stray non-UTF-8 character from raising.
    """
    return hashlib.sha256(raw.encode("utf-8", "replace")).hexdigest()
