"""Resident apps' authorisations: register apps, issue codes and tokens, rotate, resolve, revoke.

Codes and tokens are random strings handed out once and stored as SHA-256 hashes. Refresh
tokens rotate: each exchange spends the pair and issues a new one in the same `AppSession`;
a spent refresh token (or a used code) presented again revokes the whole session — someone
else holds a copy (OAuth 2.0 Security BCP, RFC 9700, 4.14). Services flush; callers commit.
"""

from __future__ import annotations

import re
import secrets
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import joinedload

from participation.api.oauth.models import (
    AppSession,
    AppToken,
    AuthorizationCode,
    OAuthClient,
    RevokeReason,
    redirect_uri_problem,
)
from participation.api.oauth.permissions import is_resident
from participation.api.oauth.scopes import SCOPE_NAMES, SCOPES
from participation.core import audit
from participation.core.db import utcnow
from participation.core.errors import FieldError
from participation.core.tokens import token_hash
from participation.core.users import User
from participation.extensions import db

# The last-used stamp of a session is written at most this often by API calls.
TOUCH_EVERY = timedelta(minutes=1)
MAX_DEVICE_NAME = 100
CLIENT_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")


class CredentialReused(Exception):
    """A used authorisation code or a spent refresh token came back; its session is revoked."""

    def __init__(self, kind: str) -> None:
        super().__init__(kind)
        self.kind = kind  # "code" or "refresh_token"


# --- registered apps ----------------------------------------------------------------------------


def register_app(
    name: str,
    redirect_uris: list[str],
    scopes: list[str] | None = None,
    client_id: str | None = None,
) -> OAuthClient:
    """Register a resident app (a public client) and return it; bad input → FieldError."""
    name = " ".join((name or "").split())
    if not name or len(name) > 200:
        raise FieldError("name", "Укажите название приложения (до 200 символов).")
    uris = list(dict.fromkeys(u.strip() for u in redirect_uris))
    if not uris:
        raise FieldError("redirect_uri", "Укажите хотя бы один адрес возврата (--redirect-uri).")
    for uri in uris:
        problem = redirect_uri_problem(uri)
        if problem:
            raise FieldError("redirect_uri", f"{uri}: {problem}.")
    chosen = list(dict.fromkeys(scopes or SCOPES))
    unknown = [s for s in chosen if s not in SCOPE_NAMES]
    if unknown:
        raise FieldError(
            "scope",
            f"Неизвестные области доступа: {', '.join(unknown)}. Есть: {', '.join(SCOPES)}.",
        )
    client_id = client_id or secrets.token_urlsafe(18)
    if not CLIENT_ID.fullmatch(client_id):
        raise FieldError("client_id", "client_id: латинские буквы, цифры, «-» и «_», до 64.")
    if db.session.scalar(sa.select(OAuthClient.id).where(OAuthClient.client_id == client_id)):
        raise FieldError("client_id", f"Приложение с client_id {client_id} уже есть.")
    client = OAuthClient(
        client_id=client_id,
        name=name,
        redirect_uris=uris,
        scope=" ".join(s for s in SCOPES if s in chosen),
    )
    db.session.add(client)
    db.session.flush()
    audit.record("oauth.app_registered", client, name=name, redirect_uris=uris)
    return client


def client_by_client_id(client_id: str | None) -> OAuthClient | None:
    """The active app with this public client_id, if any."""
    if not client_id or len(client_id) > 64:
        return None
    return db.session.scalar(
        sa.select(OAuthClient).where(
            OAuthClient.client_id == client_id, OAuthClient.is_active.is_(True)
        )
    )


def list_apps() -> list[OAuthClient]:
    """Every registered app, oldest first (for the operators' CLI)."""
    return list(db.session.scalars(sa.select(OAuthClient).order_by(OAuthClient.id)))


# --- authorisation codes ------------------------------------------------------------------------


def clean_device_name(raw: str | None) -> str | None:
    """The device name an app may send along (`device_name`), printable and short, or None."""
    if not raw:
        return None
    text = "".join(ch for ch in raw if unicodedata.category(ch)[0] not in {"C", "Z"} or ch == " ")
    text = " ".join(text.split())[:MAX_DEVICE_NAME]
    return text or None


def issue_authorization_code(
    raw_code: str,
    client: OAuthClient,
    user: User,
    *,
    redirect_uri: str,
    scope: str,
    code_challenge: str,
    device_name: str | None,
) -> AuthorizationCode:
    """Store the (hashed) code the resident's consent produced, and audit the consent."""
    now = utcnow()
    code = AuthorizationCode(
        code_hash=token_hash(raw_code),
        client_id=client.id,
        user_id=user.id,
        redirect_uri=redirect_uri,
        scope=scope,
        code_challenge=code_challenge,
        code_challenge_method="S256",
        device_name=clean_device_name(device_name),
        issued_at=now,
        expires_at=now + timedelta(seconds=current_app.config["OAUTH_CODE_SECONDS"]),
    )
    db.session.add(code)
    db.session.flush()
    audit.record(
        "oauth.authorized",
        client,
        actor_id=user.id,
        scope=scope,
        device_name=code.device_name,
        redirect_uri=redirect_uri,
    )
    return code


def record_consent_denied(client: OAuthClient, user: User, scope: str | None) -> None:
    """Audit the resident's «Отказать» (nothing else is stored)."""
    audit.record("oauth.denied", client, actor_id=user.id, scope=scope)


def code_for_exchange(raw_code: str, client: OAuthClient) -> AuthorizationCode | None:
    """The unexpired, unused code issued to `client`, locked for the exchange.

    A code used before revokes the session its first exchange started and raises
    CredentialReused (RFC 6749, 4.1.2: tokens issued from a reused code SHOULD be revoked).
    """
    code = db.session.scalar(
        sa.select(AuthorizationCode)
        .where(AuthorizationCode.code_hash == token_hash(raw_code))
        .with_for_update()
    )
    if code is None or code.client_id != client.id:
        return None
    if code.used_at is not None:
        if code.app_session_id is not None:
            app_session = db.session.get(AppSession, code.app_session_id)
            if app_session is not None:
                revoke_app_session(app_session, RevokeReason.CODE_REUSE)
        raise CredentialReused("code")
    if code.expires_at <= utcnow():
        return None
    return code


def code_owner(code: AuthorizationCode) -> User | None:
    """Whom the code was issued to, while they are still an active resident."""
    user = db.session.get(User, code.user_id)
    return user if user is not None and is_resident(user) else None


def mark_code_used(code: AuthorizationCode) -> None:
    """The code has been exchanged: it never works again."""
    code.used_at = utcnow()
    db.session.flush()


# --- tokens ------------------------------------------------------------------------------------


def token_lifetimes(now: datetime) -> tuple[datetime, datetime]:
    """When a token pair issued now runs out: (access, refresh)."""
    config = current_app.config
    return (
        now + timedelta(minutes=config["OAUTH_ACCESS_TOKEN_MINUTES"]),
        now + timedelta(days=config["OAUTH_REFRESH_TOKEN_DAYS"]),
    )


def _add_token_pair(app_session: AppSession, token: dict, now: datetime) -> AppToken:
    access_expires, refresh_expires = token_lifetimes(now)
    row = AppToken(
        app_session_id=app_session.id,
        access_token_hash=token_hash(token["access_token"]),
        refresh_token_hash=token_hash(token["refresh_token"]),
        scope=token.get("scope") or app_session.scope,
        issued_at=now,
        access_expires_at=access_expires,
        refresh_expires_at=refresh_expires,
    )
    db.session.add(row)
    app_session.expires_at = refresh_expires
    app_session.last_used_at = now
    db.session.flush()
    return row


def start_app_session(code: AuthorizationCode, user: User, token: dict) -> AppSession:
    """The code was exchanged: open the app session with its first token pair."""
    now = utcnow()
    app_session = AppSession(
        client_id=code.client_id,
        user_id=user.id,
        scope=code.scope,
        device_name=code.device_name,
        created_at=now,
        last_used_at=now,
        expires_at=now,
    )
    db.session.add(app_session)
    db.session.flush()
    _add_token_pair(app_session, token, now)
    code.app_session_id = app_session.id
    audit.record(
        "oauth.session_started",
        app_session,
        actor_id=user.id,
        client_id=code.client_id,
        scope=code.scope,
        device_name=code.device_name,
    )
    db.session.flush()
    return app_session


def refresh_token_for_exchange(raw_token: str) -> AppToken | None:
    """The live token pair this refresh token belongs to, locked for the exchange.

    A spent refresh token revokes its whole session and raises CredentialReused: either the
    app or a thief used it already, and the server cannot tell which one is asking now.
    """
    row = db.session.scalar(
        sa.select(AppToken)
        .options(joinedload(AppToken.app_session, innerjoin=True))
        .where(AppToken.refresh_token_hash == token_hash(raw_token))
        .with_for_update()  # the token's row and its session's: one refresh at a time
    )
    if row is None:
        return None
    app_session = row.app_session
    if row.spent_at is not None:
        revoke_app_session(app_session, RevokeReason.REFRESH_REUSE)
        raise CredentialReused("refresh_token")
    if app_session.revoked_at is not None or row.refresh_expires_at <= utcnow():
        return None
    return row


def token_owner(row: AppToken) -> User | None:
    """Whom the token pair belongs to, while they are still an active resident."""
    user = row.app_session.user
    return user if is_resident(user) else None


def rotate_tokens(old: AppToken, token: dict) -> AppToken:
    """The refresh token was exchanged: add the new pair to the same session."""
    return _add_token_pair(old.app_session, token, utcnow())


def spend_token_pair(row: AppToken) -> None:
    """The pair's refresh token has been used: neither of its tokens works any more."""
    row.spent_at = utcnow()
    db.session.flush()


def token_by_secret(raw_token: str, hint: str | None = None) -> AppToken | None:
    """The token pair holding this access or refresh token (RFC 7009 lookup), if any."""
    digest = token_hash(raw_token)
    columns = [AppToken.access_token_hash, AppToken.refresh_token_hash]
    if hint == "refresh_token":
        columns.reverse()
    for column in columns:
        row = db.session.scalar(
            sa.select(AppToken).options(joinedload(AppToken.app_session)).where(column == digest)
        )
        if row is not None:
            return row
    return None


# --- sessions: the profile's list, revocation ---------------------------------------------------


def revoke_app_session(
    app_session: AppSession, reason: RevokeReason, actor_id: int | None = None
) -> bool:
    """Revoke the session and with it every token it holds, at once; False if already done."""
    if app_session.revoked_at is not None:
        return False
    app_session.revoked_at = utcnow()
    app_session.revoked_reason = reason
    audit.record(
        "oauth.session_revoked",
        app_session,
        actor_id=actor_id if actor_id is not None else app_session.user_id,
        reason=str(reason),
        client_id=app_session.client_id,
    )
    db.session.flush()
    return True


def live_app_sessions(user: User) -> list[AppSession]:
    """The resident's app sessions still in force, most recently used first."""
    return list(
        db.session.scalars(
            sa.select(AppSession)
            .options(joinedload(AppSession.client))
            .where(
                AppSession.user_id == user.id,
                AppSession.revoked_at.is_(None),
                AppSession.expires_at > utcnow(),
            )
            .order_by(AppSession.last_used_at.desc(), AppSession.id.desc())
        )
    )


def app_session_by_id(app_session_id: int) -> AppSession | None:
    """One app session with its app (the caller checks whose it is)."""
    return db.session.get(AppSession, app_session_id, options=[joinedload(AppSession.client)])


# --- the resource side: what an access token grants --------------------------------------------


@dataclass(frozen=True)
class AccessGrant:
    """What a valid access token stands for: the resident, the scopes, the app session.

    It also answers Authlib's token questions, so a ResourceProtector can use it directly.
    """

    user: User
    scopes: frozenset[str]
    app_session_id: int
    client_id: str
    client_name: str
    expires_at: datetime

    def has_scope(self, scope: str) -> bool:
        return scope in self.scopes

    def get_scope(self) -> str:
        return " ".join(s for s in SCOPES if s in self.scopes)

    def is_expired(self) -> bool:
        return self.expires_at <= utcnow()

    def is_revoked(self) -> bool:
        return False  # resolve_access_token returns no grant for a revoked token


def resolve_access_token(raw: str | None) -> AccessGrant | None:
    """The grant behind a valid, unexpired, unrevoked access token of an active resident, or
    None. One query; the session's last-used stamp is updated at most once a minute (flushed:
    the caller's commit keeps it)."""
    if not raw or len(raw) > 200:
        return None
    now = utcnow()
    row = db.session.execute(
        sa.select(AppToken, AppSession, OAuthClient, User)
        .join(AppSession, AppToken.app_session_id == AppSession.id)
        .join(OAuthClient, AppSession.client_id == OAuthClient.id)
        .join(User, AppSession.user_id == User.id)
        .where(
            AppToken.access_token_hash == token_hash(raw),
            AppToken.spent_at.is_(None),
            AppToken.access_expires_at > now,
            AppSession.revoked_at.is_(None),
            OAuthClient.is_active.is_(True),
        )
    ).first()
    if row is None:
        return None
    token, app_session, client, user = row
    if not is_resident(user):
        return None
    if app_session.last_used_at <= now - TOUCH_EVERY:
        db.session.execute(
            sa.update(AppSession)
            .where(AppSession.id == app_session.id, AppSession.last_used_at <= now - TOUCH_EVERY)
            .values(last_used_at=now)
            .execution_options(synchronize_session=False)
        )
    return AccessGrant(
        user=user,
        scopes=frozenset(token.scope.split()),
        app_session_id=app_session.id,
        client_id=client.client_id,
        client_name=client.name,
        expires_at=token.access_expires_at,
    )


def resident_for_access_token(raw: str | None) -> User | None:
    """The resident a valid access token acts for, or None (see resolve_access_token)."""
    grant = resolve_access_token(raw)
    return grant.user if grant else None


# --- housekeeping -------------------------------------------------------------------------------


def purge_expired(now: datetime | None = None) -> dict[str, int]:
    """Delete codes expired over a day ago and token pairs whose refresh ran out a day ago."""
    cutoff = (now or utcnow()) - timedelta(days=1)
    codes = db.session.execute(
        sa.delete(AuthorizationCode).where(AuthorizationCode.expires_at < cutoff)
    ).rowcount
    tokens = db.session.execute(
        sa.delete(AppToken).where(AppToken.refresh_expires_at < cutoff)
    ).rowcount
    return {"codes": codes or 0, "tokens": tokens or 0}
