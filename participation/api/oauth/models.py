"""Registered resident apps, authorisation codes, app sessions and their (hashed) tokens.

A resident's authorisation of an app is an `AppSession`: it lives from the code exchange until
the resident, the app or reuse detection revokes it, or its refresh token runs out. Each token
pair (`AppToken`) belongs to one session; refreshing spends the pair and adds a new one, so the
pairs of a session are its refresh-token family. Only SHA-256 hashes of codes and tokens are
stored. The Authlib methods (`get_…`, `check_…`) let Authlib's grants read these rows.
"""

from __future__ import annotations

import enum
from datetime import datetime
from ipaddress import ip_address
from urllib.parse import urlsplit, urlunsplit

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from participation.api.oauth.scopes import SCOPE_NAMES, SCOPES
from participation.core.db import Base, TimestampMixin, str_enum, utcnow
from participation.core.users import User

GRANT_TYPES = frozenset({"authorization_code", "refresh_token"})
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "::1"})
MAX_REDIRECT_URI = 500


def _loopback_without_port(uri: str) -> str | None:
    """`http://127.0.0.1:PORT/p` → `http://127.0.0.1/p` (None if not a loopback IP URI)."""
    try:
        parts = urlsplit(uri)
        port = parts.port
    except ValueError:
        return None
    if parts.scheme != "http" or parts.hostname not in LOOPBACK_HOSTS or port is None:
        return None
    host = "[::1]" if parts.hostname == "::1" else parts.hostname
    return urlunsplit(("http", host, parts.path, parts.query, parts.fragment))


def redirect_uri_matches(registered: list[str], uri: str) -> bool:
    """Exact string match; a loopback IP URI registered without a port takes any port at
    request time, because a native app listens on whatever port it gets (RFC 8252, 7.3)."""
    if uri in registered:
        return True
    bare = _loopback_without_port(uri)
    return bare is not None and bare in registered


def redirect_uri_problem(uri: str) -> str | None:
    """Why `uri` cannot be registered for a mobile app (in Russian), or None when it can.

    Allowed (RFC 8252): a private-use scheme named after a domain the app owns
    (`ru.participation.app:/oauth`), an https URL, or http on a loopback IP literal.
    """
    if not uri or len(uri) > MAX_REDIRECT_URI or any(ch.isspace() for ch in uri):
        return "адрес возврата пуст, слишком длинный или содержит пробелы"
    try:
        parts = urlsplit(uri)
        parts.port  # noqa: B018  (raises on a bad port)
    except ValueError:
        return "адрес возврата не разбирается как URI"
    if parts.fragment or "#" in uri:
        return "адрес возврата не может содержать фрагмент (#)"
    scheme = parts.scheme.lower()
    if scheme == "https":
        return None if parts.hostname else "в https-адресе нет имени сервера"
    if scheme == "http":
        try:
            loopback = parts.hostname is not None and ip_address(parts.hostname).is_loopback
        except ValueError:
            loopback = False
        if loopback and parts.hostname in LOOPBACK_HOSTS:
            return None
        return "http допустим только для 127.0.0.1 или [::1] (адрес на самом устройстве)"
    if "." in scheme and scheme.split(".")[0].isalpha():
        return None
    return (
        "нужна собственная схема приложения по имени его домена (например, "
        "ru.participation.app:/oauth), https-адрес или http://127.0.0.1/…"
    )


class OAuthClient(TimestampMixin, Base):
    """A registered resident app: a public client (no secret), PKCE and exact redirect URIs."""

    __tablename__ = "oauth_clients"

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[str] = mapped_column(sa.String(64), unique=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    redirect_uris: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    # The scopes this app may ask for, space-separated.
    scope: Mapped[str] = mapped_column(sa.String(200), default=lambda: " ".join(SCOPES))
    is_active: Mapped[bool] = mapped_column(default=True)

    def __repr__(self) -> str:
        return f"<OAuthClient {self.client_id} {self.name!r}>"

    @property
    def scopes(self) -> list[str]:
        return [s for s in self.scope.split() if s in SCOPE_NAMES]

    # --- Authlib's ClientMixin ---
    def get_client_id(self) -> str:
        return self.client_id

    def get_default_redirect_uri(self) -> None:
        return None  # every authorisation request names its redirect_uri

    def get_allowed_scope(self, scope: str | None) -> str | None:
        """The scope granted: all of the app's scopes when none is asked; None (refused) when
        something outside them is asked."""
        if not scope:
            return " ".join(self.scopes)
        wanted = scope.split()
        if not set(wanted) <= set(self.scopes):
            return None
        return " ".join(s for s in self.scopes if s in wanted)

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        return redirect_uri_matches(list(self.redirect_uris or []), redirect_uri)

    def check_client_secret(self, client_secret: str) -> bool:
        return False  # public clients have no secret

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        return method == "none"

    def check_response_type(self, response_type: str) -> bool:
        return response_type == "code"

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type in GRANT_TYPES


class AuthorizationCode(Base):
    """A one-time code handed to the app's redirect URI after the resident's consent."""

    __tablename__ = "oauth_authorization_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    code_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    client_id: Mapped[int] = mapped_column(
        sa.ForeignKey("oauth_clients.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    redirect_uri: Mapped[str] = mapped_column(sa.String(MAX_REDIRECT_URI))
    scope: Mapped[str] = mapped_column(sa.String(200))
    code_challenge: Mapped[str] = mapped_column(sa.String(128))
    code_challenge_method: Mapped[str] = mapped_column(sa.String(10), default="S256")
    device_name: Mapped[str | None] = mapped_column(sa.String(100))
    issued_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(index=True)
    used_at: Mapped[datetime | None]
    # The session the exchange started: revoked if the code is ever presented again.
    app_session_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("oauth_app_sessions.id", ondelete="SET NULL"), index=True
    )

    client: Mapped[OAuthClient] = relationship()
    user: Mapped[User] = relationship()

    __table_args__ = (
        sa.CheckConstraint("expires_at > issued_at", name="expires_after_issue"),
        sa.CheckConstraint("code_challenge_method = 'S256'", name="pkce_s256"),
    )

    def __repr__(self) -> str:
        return f"<AuthorizationCode {self.id} client={self.client_id} user={self.user_id}>"

    # --- Authlib's AuthorizationCodeMixin (and CodeChallenge reads the two columns above) ---
    def get_redirect_uri(self) -> str:
        return self.redirect_uri

    def get_scope(self) -> str:
        return self.scope


class RevokeReason(enum.StrEnum):
    RESIDENT = "resident"  # «Отозвать» in the profile
    CLIENT = "client"  # the app called /oauth/revoke (logout in the app)
    REFRESH_REUSE = "refresh_reuse"  # a spent refresh token came back: the family is burnt
    CODE_REUSE = "code_reuse"  # the authorisation code was presented a second time


class AppSession(Base):
    """One authorisation of one app by one resident: what the profile lists and revokes."""

    __tablename__ = "oauth_app_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(
        sa.ForeignKey("oauth_clients.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    scope: Mapped[str] = mapped_column(sa.String(200))
    device_name: Mapped[str | None] = mapped_column(sa.String(100))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[datetime] = mapped_column(default=utcnow)
    # When the newest refresh token runs out: the session is over then, unless refreshed.
    expires_at: Mapped[datetime] = mapped_column(index=True)
    revoked_at: Mapped[datetime | None]
    revoked_reason: Mapped[RevokeReason | None] = mapped_column(
        str_enum(RevokeReason, "revoked_reason")
    )

    client: Mapped[OAuthClient] = relationship()
    user: Mapped[User] = relationship()

    __table_args__ = (
        sa.CheckConstraint(
            "(revoked_at IS NULL) = (revoked_reason IS NULL)", name="revoked_with_reason"
        ),
    )

    def __repr__(self) -> str:
        return f"<AppSession {self.id} client={self.client_id} user={self.user_id}>"

    def is_live(self, now: datetime | None = None) -> bool:
        return self.revoked_at is None and self.expires_at > (now or utcnow())


class AppToken(Base):
    """An access token and its refresh token, both hashed; spent once the refresh is used."""

    __tablename__ = "oauth_tokens"

    id: Mapped[int] = mapped_column(
        sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True
    )
    app_session_id: Mapped[int] = mapped_column(
        sa.ForeignKey("oauth_app_sessions.id", ondelete="CASCADE"), index=True
    )
    access_token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    refresh_token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    scope: Mapped[str] = mapped_column(sa.String(200))
    issued_at: Mapped[datetime] = mapped_column(default=utcnow)
    access_expires_at: Mapped[datetime]
    refresh_expires_at: Mapped[datetime] = mapped_column(index=True)
    # Set when the refresh token was exchanged: neither token of this pair works any more.
    spent_at: Mapped[datetime | None]

    app_session: Mapped[AppSession] = relationship()

    __table_args__ = (
        sa.CheckConstraint("access_expires_at > issued_at", name="access_expires_after_issue"),
        sa.CheckConstraint(
            "refresh_expires_at >= access_expires_at", name="refresh_outlives_access"
        ),
    )

    def __repr__(self) -> str:
        return f"<AppToken {self.id} session={self.app_session_id}>"

    # --- Authlib's TokenMixin (the refresh grant and the revocation endpoint use these) ---
    def check_client(self, client: OAuthClient) -> bool:
        return self.app_session.client_id == client.id

    def get_scope(self) -> str:
        return self.scope

    def get_expires_in(self) -> int:
        return int((self.access_expires_at - self.issued_at).total_seconds())

    def is_expired(self) -> bool:
        return self.access_expires_at <= utcnow()

    def is_revoked(self) -> bool:
        return self.spent_at is not None or self.app_session.revoked_at is not None

    def get_user(self) -> User:
        return self.app_session.user

    def get_client(self) -> OAuthClient:
        return self.app_session.client
