"""Secret tokens (API keys, OAuth codes and tokens, widget sessions): the digest kept for them."""

from __future__ import annotations

import hashlib


def token_hash(raw: str) -> str:
    """The SHA-256 (hex) the database keeps instead of a secret token; also its rate-limit bucket.

    Tokens are ASCII; "replace" only keeps a stray non-UTF-8 character from raising.
    """
    return hashlib.sha256(raw.encode("utf-8", "replace")).hexdigest()
