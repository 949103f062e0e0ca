"""The demo mobile app: registered once, so the PKCE flow can be tried against `make run`."""

from __future__ import annotations

import sqlalchemy as sa

from participation.api.oauth.models import OAuthClient
from participation.api.oauth.services import register_app
from participation.extensions import db

DEMO_CLIENT_ID = "participation-demo-app"
DEMO_REDIRECT_URIS = ["ru.participation.app:/oauth", "http://127.0.0.1/callback"]


def seed_oauth_demo() -> None:
    """Register «Решаем вместе (демо)» unless an app with its client_id exists (idempotent)."""
    exists = db.session.scalar(
        sa.select(OAuthClient.id).where(OAuthClient.client_id == DEMO_CLIENT_ID)
    )
    if exists is None:
        register_app("Решаем вместе (демо)", DEMO_REDIRECT_URIS, client_id=DEMO_CLIENT_ID)
