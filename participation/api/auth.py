"""Who calls the API: an organization's key or a resident's token, from the Bearer header only.

`authenticate_request()` runs before every view of an API blueprint. A request without an
Authorization header goes on as anonymous (public endpoints); one with a header must carry a
valid `Bearer` token or it stops with 401. The caller becomes `current_user` for the request
through `g._login_user` — no session is touched and no cookie is set — so the views use the
same permission predicates as the staff and resident pages. Views then demand a kind of caller:

    @bp.route("/inbox")
    @require_key(ApiScope.MESSAGES_READ)
    def inbox(): ...                       # current_user is the key's technical member

    @bp.route("/my/messages")
    @require_resident()
    def my_messages(): ...                 # current_user is the resident

Resident tokens are checked by `participation.api.oauth.services.resolve_access_token(raw)`:
the token's grant (the resident as its `user`, the scopes the resident allowed the app) or
None; the grant is kept on the principal, so the token is looked up once per request.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from copy import deepcopy
from dataclasses import dataclass, field
from typing import Any

from flask import g, request
from flask_babel import gettext as _
from flask_login import AnonymousUserMixin

from participation.api.models import ApiKey, ApiScope
from participation.api.oauth.services import AccessGrant, resolve_access_token
from participation.api.problems import Problem
from participation.api.services import (
    KEY_PREFIX,
    find_api_key,
    record_api_key_use,
)
from participation.core.tokens import token_hash
from participation.core.users import User
from participation.extensions import db

# Query-string names a token could be smuggled in (RFC 6750 § 2.3 and common habits).
TOKEN_QUERY_NAMES = frozenset({"access_token", "api_key", "apikey", "token", "bearer"})


@dataclass(frozen=True)
class Principal:
    """The authenticated caller: an API key (with its member) or a resident."""

    user: User
    key: ApiKey | None = None
    scopes: frozenset[str] = field(default_factory=frozenset)
    grant: AccessGrant | None = None  # a resident's: what the token allows the app

    @property
    def is_key(self) -> bool:
        return self.key is not None

    @property
    def ident(self) -> str:
        """A stable name for idempotency records: one per key, one per resident."""
        return f"key:{self.key.id}" if self.key is not None else f"user:{self.user.id}"


def _challenge(error: str | None = None) -> dict[str, str]:
    value = 'Bearer realm="api"'
    if error:
        value += f', error="{error}"'
    return {"WWW-Authenticate": value}


def bearer_token() -> str | None:
    """The token of `Authorization: Bearer …` (None without the header; 401 for another form)."""
    header = request.headers.get("Authorization")
    if header is None:
        return None
    scheme, _sep, token = header.strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token or " " in token:
        raise Problem(
            401,
            _("Ожидается заголовок Authorization: Bearer <ключ или токен>."),
            kind="unauthorized",
            headers=_challenge("invalid_request"),
        )
    return token


def refuse_token_in_query() -> None:
    """A token in the URL ends up in logs and browser history: refused before anything else."""
    if TOKEN_QUERY_NAMES & set(request.args) or any(
        value.startswith(KEY_PREFIX) for _name, value in request.args.items(multi=True)
    ):
        raise Problem(400, kind="token-in-query")


def _principal_for(token: str) -> Principal:
    if token.startswith(KEY_PREFIX):
        key = find_api_key(token)
        if key is None:
            raise Problem(401, kind="invalid-token", headers=_challenge("invalid_token"))
        if key.is_revoked:
            raise Problem(
                401, _("Ключ отозван."), kind="key-revoked", headers=_challenge("invalid_token")
            )
        if key.is_expired():
            raise Problem(
                401,
                _("Срок действия ключа истёк."),
                kind="key-expired",
                headers=_challenge("invalid_token"),
            )
        if record_api_key_use(key):
            db.session.commit()
        return Principal(key.user, key, frozenset(key.scopes.split()))
    grant = resolve_access_token(token)
    if grant is None or not grant.user.is_active:
        raise Problem(401, kind="invalid-token", headers=_challenge("invalid_token"))
    return Principal(grant.user, grant=grant)


def authenticate_request() -> None:
    """before_request of API blueprints: refuse query tokens, resolve the Bearer caller."""
    refuse_token_in_query()
    g._login_user = AnonymousUserMixin()  # a browser's session cookie authorizes nothing here
    g.api_principal = None
    token = bearer_token()
    if token is None:
        return
    principal = _principal_for(token)
    g.api_principal = principal
    g._login_user = principal.user


def current_principal() -> Principal | None:
    """The authenticated caller of this API request, or None (anonymous)."""
    return g.get("api_principal")


def rate_limit_key() -> str:
    """Flask-Limiter key: one bucket per key or token (by its hash), else per address."""
    header = request.headers.get("Authorization", "")
    scheme, _sep, token = header.strip().partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return f"bearer:{token_hash(token.strip())[:32]}"
    return f"ip:{request.remote_addr}"


def _document(view: Callable, scheme: str, scopes: list[str], forbidden: bool) -> None:
    view._apidoc = deepcopy(getattr(view, "_apidoc", {}))
    manual = view._apidoc.setdefault("manual_doc", {})
    manual["security"] = [{scheme: scopes}]
    responses = manual.setdefault("responses", {})
    responses[401] = "UNAUTHORIZED"
    if forbidden:
        responses[403] = "FORBIDDEN"


def require_key(*scopes: ApiScope) -> Callable:
    """The view answers only to an organization's API key holding every one of `scopes`."""

    def decorator(view: Callable) -> Callable:
        @functools.wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            principal = current_principal()
            if principal is None:
                raise Problem(401, headers=_challenge())
            if not principal.is_key:
                raise Problem(
                    403, _("Этот метод доступен только по ключу API организации."), kind="forbidden"
                )
            missing = [s.value for s in scopes if s.value not in principal.scopes]
            if missing:
                raise Problem(
                    403,
                    _("У ключа нет области доступа: %(scopes)s.", scopes=", ".join(missing)),
                    kind="insufficient-scope",
                    headers={
                        "WWW-Authenticate": 'Bearer realm="api", error="insufficient_scope", '
                        f'scope="{" ".join(missing)}"'
                    },
                )
            return view(*args, **kwargs)

        _document(wrapper, "ApiKey", [s.value for s in scopes], forbidden=True)
        return wrapper

    return decorator


def require_resident() -> Callable:
    """The view answers only to a resident's access token (the mobile app)."""

    def decorator(view: Callable) -> Callable:
        @functools.wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            principal = current_principal()
            if principal is None:
                raise Problem(401, headers=_challenge())
            if principal.is_key:
                raise Problem(
                    403,
                    _("Этот метод доступен только жителю (токен приложения)."),
                    kind="forbidden",
                )
            return view(*args, **kwargs)

        _document(wrapper, "ResidentToken", [], forbidden=True)
        return wrapper

    return decorator


def key_principal() -> Principal:
    """The key principal inside a `require_key` view (for its organization and scopes)."""
    principal = current_principal()
    assert principal is not None and principal.key is not None  # guaranteed by require_key
    return principal
