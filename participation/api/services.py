"""API keys: create (secret shown once), revoke, authenticate, note their use.

A key is a technical member of its organization: a User of kind TECHNICAL with the roles in
`SCOPE_ROLES` for its scopes, so that API endpoints ask the same permission predicates as the
staff pages (appeals.permissions and others) and see exactly what a person in those roles sees:

- messages:read  → Куратор: sees the organization's messages (and, as in the UI, those of the
  organizations below it), takes no workflow action;
- messages:write → Координатор + Исполнитель + Оператор приёма: routes and assigns messages (to
  itself as well), prepares answers on messages assigned to it (the head's approval stays with
  a person), files messages for callers on the operator channel (Open311 POST requests) and
  letters registered in the organization's СЭД on the same channel;
- statistics:read → Куратор: one of the roles the analytics pages open for.

Scopes also gate the endpoints themselves (`require_key(scope)`), so a statistics-only key
cannot reach message endpoints even though a curator could read messages in the UI.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import current_app
from flask_babel import lazy_gettext as _l

from participation.api.models import ApiKey, ApiScope
from participation.core import audit
from participation.core.db import utcnow
from participation.core.errors import DomainError, FieldError
from participation.core.organizations import Organization
from participation.core.users import Membership, Role, User, UserKind
from participation.extensions import db

KEY_PREFIX = "rvk_"
MEMBER_LAST_NAME = "API-ключ"
NAME_MAX = 100
MAX_VALID_DAYS = 3 * 366
SCOPE_ROLES: dict[ApiScope, frozenset[Role]] = {
    ApiScope.MESSAGES_READ: frozenset({Role.CURATOR}),
    ApiScope.MESSAGES_WRITE: frozenset({Role.COORDINATOR, Role.EXECUTOR, Role.OPERATOR}),
    ApiScope.STATISTICS_READ: frozenset({Role.CURATOR}),
}
# last_used_at is rewritten at most this often; an "api_key.used" audit entry at most hourly.
USE_STAMP_EVERY = timedelta(minutes=1)
USE_AUDIT_EVERY = timedelta(hours=1)


@dataclass(frozen=True)
class IssuedKey:
    """A key just created, with its secret token (shown to the administrator once)."""

    key: ApiKey
    token: str


def hash_token(token: str) -> str:
    """The SHA-256 (hex) kept instead of the token; also the rate-limit bucket of a token."""
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def roles_for_scopes(scopes: set[ApiScope] | frozenset[ApiScope]) -> set[Role]:
    """The organization roles a key with these scopes holds."""
    return set().union(*(SCOPE_ROLES[s] for s in scopes)) if scopes else set()


def expiry_moment(last_day: date) -> datetime:
    """A key valid "until `last_day` inclusive" stops at the next midnight, platform time."""
    zone = ZoneInfo(current_app.config["DEFAULT_TIMEZONE"])
    return datetime.combine(last_day + timedelta(days=1), time(), zone).astimezone(ZoneInfo("UTC"))


def today() -> date:
    return utcnow().astimezone(ZoneInfo(current_app.config["DEFAULT_TIMEZONE"])).date()


def default_expiry() -> date:
    """The last valid day the form offers: a year from today."""
    return today() + timedelta(days=365)


def _clean_name(organization: Organization, name: str | None) -> str:
    name = " ".join((name or "").split())
    if not name:
        raise FieldError("name", _l("Укажите название ключа, например «СЭД Дело»."))
    if len(name) > NAME_MAX:
        raise FieldError("name", _l("Не длиннее %(max)d символов.", max=NAME_MAX))
    # A handful of keys per organization; compared here because SQLite's lower() is ASCII-only.
    live = db.session.scalars(
        sa.select(ApiKey.name).where(
            ApiKey.organization_id == organization.id, ApiKey.revoked_at.is_(None)
        )
    )
    if name.casefold() in {n.casefold() for n in live}:
        raise FieldError("name", _l("Действующий ключ с таким названием уже есть."))
    return name


def _clean_scopes(scopes: list[str] | None) -> set[ApiScope]:
    values = set(scopes or [])
    known = {s.value for s in ApiScope}
    if not values:
        raise FieldError("scopes", _l("Отметьте хотя бы одну область доступа."))
    if values - known:
        raise FieldError("scopes", _l("Неизвестная область доступа."))
    return {ApiScope(v) for v in values}


def _clean_expiry(last_day: date | None) -> date:
    if last_day is None:
        raise FieldError("expires_on", _l("Укажите дату, до которой действует ключ."))
    if last_day < today():
        raise FieldError("expires_on", _l("Дата окончания не может быть в прошлом."))
    if last_day > today() + timedelta(days=MAX_VALID_DAYS):
        raise FieldError("expires_on", _l("Ключ можно выпустить не больше чем на 3 года."))
    return last_day


def create_api_key(
    organization: Organization,
    name: str | None,
    scopes: list[str] | None,
    expires_on: date | None,
    actor: User,
) -> IssuedKey:
    """Issue a key: its technical member with the scopes' roles, the hash kept, audit logged.

    Returns the token, which is never stored and cannot be shown again.
    """
    name = _clean_name(organization, name)
    chosen = _clean_scopes(scopes)
    last_day = _clean_expiry(expires_on)
    prefix = secrets.token_hex(4)
    token = f"{KEY_PREFIX}{prefix}_{secrets.token_urlsafe(32)}"
    # Stored data, not interface text: the same in every language of the interface.
    member = User(kind=UserKind.TECHNICAL, last_name=MEMBER_LAST_NAME, first_name=name)
    db.session.add(member)
    db.session.flush()
    for role in sorted(roles_for_scopes(chosen)):
        db.session.add(Membership(user_id=member.id, organization_id=organization.id, role=role))
    key = ApiKey(
        organization_id=organization.id,
        user_id=member.id,
        name=name,
        prefix=f"{KEY_PREFIX}{prefix}",
        secret_hash=hash_token(token),
        scopes=" ".join(sorted(s.value for s in chosen)),
        created_by_id=actor.id,
        expires_at=expiry_moment(last_day),
    )
    db.session.add(key)
    db.session.flush()
    audit.record(
        "api_key.created",
        key,
        actor_id=actor.id,
        organization_id=organization.id,
        name=name,
        scopes=sorted(s.value for s in chosen),
        expires_on=last_day.isoformat(),
    )
    return IssuedKey(key, token)


def revoke_api_key(key: ApiKey, actor: User) -> ApiKey:
    """Revoke for good: the token stops working now and its member is switched off."""
    if key.is_revoked:
        raise DomainError(_l("Ключ уже отозван."))
    now = utcnow()
    # Conditional: of two administrators revoking at once, one is recorded.
    done = db.session.execute(
        sa.update(ApiKey)
        .where(ApiKey.id == key.id, ApiKey.revoked_at.is_(None))
        .values(revoked_at=now, revoked_by_id=actor.id)
        .execution_options(synchronize_session=False)
    )
    if done.rowcount != 1:
        raise DomainError(_l("Ключ уже отозван."))
    db.session.refresh(key)
    key.user.is_active_account = False
    key.user.session_version += 1
    audit.record("api_key.revoked", key, actor_id=actor.id, organization_id=key.organization_id)
    db.session.flush()
    return key


def keys_of(organization: Organization) -> list[ApiKey]:
    """The organization's keys, newest first (a handful per organization)."""
    query = (
        sa.select(ApiKey)
        .where(ApiKey.organization_id == organization.id)
        .order_by(ApiKey.created_at.desc(), ApiKey.id.desc())
    )
    return list(db.session.scalars(query))


def key_of(organization: Organization, key_id: int) -> ApiKey | None:
    """The key with this id if it belongs to `organization`."""
    key = db.session.get(ApiKey, key_id)
    return key if key is not None and key.organization_id == organization.id else None


def find_api_key(raw: str) -> ApiKey | None:
    """The key this token belongs to, whatever its state (None for an unknown token)."""
    if not raw.startswith(KEY_PREFIX) or len(raw) > 200:
        return None
    return db.session.scalar(sa.select(ApiKey).where(ApiKey.secret_hash == hash_token(raw)))


def authenticate_api_key(raw: str) -> ApiKey | None:
    """The key for this token if it may be used now (not revoked, not expired), else None."""
    key = find_api_key(raw)
    return key if key is not None and key.is_usable() else None


def record_api_key_use(key: ApiKey) -> bool:
    """Stamp last_used_at (at most once a minute) and audit the use (at most once an hour).

    Returns whether anything was written (the caller commits). Conditional UPDATEs: parallel
    requests of one key write one stamp and one audit entry.
    """
    now = utcnow()
    stamped = db.session.execute(
        sa.update(ApiKey)
        .where(
            ApiKey.id == key.id,
            sa.or_(ApiKey.last_used_at.is_(None), ApiKey.last_used_at <= now - USE_STAMP_EVERY),
        )
        .values(last_used_at=now)
        .execution_options(synchronize_session=False)
    )
    if stamped.rowcount != 1:
        return False
    audited = db.session.execute(
        sa.update(ApiKey)
        .where(
            ApiKey.id == key.id,
            sa.or_(
                ApiKey.last_audited_use_at.is_(None),
                ApiKey.last_audited_use_at <= now - USE_AUDIT_EVERY,
            ),
        )
        .values(last_audited_use_at=now)
        .execution_options(synchronize_session=False)
    )
    if audited.rowcount == 1:
        audit.record("api_key.used", key, actor_id=key.user_id, organization_id=key.organization_id)
    db.session.expire(key, ["last_used_at", "last_audited_use_at"])
    return True
