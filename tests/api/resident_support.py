"""Helpers of the resident API tests: tokens minted through the OAuth services, small files."""

from __future__ import annotations

import io
import uuid

from authlib.common.security import generate_token
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from PIL import Image

from participation.api.oauth.models import RevokeReason
from participation.api.oauth.services import (
    issue_authorization_code,
    mark_code_used,
    register_app,
    revoke_app_session,
    start_app_session,
)
from participation.core.tokens import new_token
from participation.core.users import User
from participation.extensions import db

APP_REDIRECT = "ru.participation.app:/oauth"
ALL_SCOPES = "appeals profile votes"


class Tokens:
    """Mints resident access tokens the way the OAuth code exchange does (one app, many users)."""

    def __init__(self) -> None:
        self.app = register_app("Решаем вместе — тест API", [APP_REDIRECT])
        self.sessions: dict[str, object] = {}

    def __call__(self, user: User, scope: str = ALL_SCOPES) -> str:
        raw_code = new_token()
        code = issue_authorization_code(
            raw_code,
            self.app,
            user,
            redirect_uri=APP_REDIRECT,
            scope=scope,
            code_challenge=create_s256_code_challenge(generate_token(64)),
            device_name="Тестовый телефон",
        )
        access = new_token()
        pair = {"access_token": access, "refresh_token": new_token(), "scope": scope}
        self.sessions[access] = start_app_session(code, user, pair)
        mark_code_used(code)
        db.session.commit()
        return access

    def revoke(self, access: str) -> None:
        revoke_app_session(self.sessions[access], RevokeReason.RESIDENT)
        db.session.commit()


def bearer(token: str, **headers: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", **headers}


def posting(token: str, key: str | None = None) -> dict[str, str]:
    """Headers of an API POST: the token and a fresh (or given) Idempotency-Key."""
    return bearer(token, **{"Idempotency-Key": key or str(uuid.uuid4())})


def jpeg(size: tuple[int, int] = (40, 30), color: str = "red") -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, "JPEG")
    return out.getvalue()


def pdf() -> bytes:
    return b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
