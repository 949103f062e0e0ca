"""A resident's token and what the resident allowed the app: `resident(scope)` on a view.

`require_resident()` (auth.py) admits any valid resident token. The resident also chose, on
the consent page, what the app may do (oauth.scopes: "appeals", "votes", "profile"); a view
of the resident API names the scope it needs, and a token without it gets 403
insufficient_scope (RFC 6750 § 3.1), as an API key without a scope does.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from copy import deepcopy
from typing import Any

from flask_babel import gettext as _

from participation.api.auth import current_principal, require_resident
from participation.api.oauth.scopes import SCOPE_TITLES
from participation.api.oauth.services import AccessGrant
from participation.api.problems import Problem


def current_grant() -> AccessGrant | None:
    """The grant behind this request's resident token (authenticate_request() found it)."""
    principal = current_principal()
    return principal.grant if principal is not None else None


def _insufficient(scope: str) -> Problem:
    return Problem(
        403,
        _(
            "Приложению не разрешено: «%(what)s». Войдите в приложение заново и разрешите "
            "этот доступ.",
            what=SCOPE_TITLES[scope],
        ),
        kind="insufficient-scope",
        headers={
            "WWW-Authenticate": f'Bearer realm="api", error="insufficient_scope", scope="{scope}"'
        },
    )


def resident(scope: str) -> Callable:
    """The view answers only to a resident's token that carries `scope` (put under @route)."""
    if scope not in SCOPE_TITLES:
        raise ValueError(f"unknown scope {scope!r}")

    def decorator(view: Callable) -> Callable:
        @functools.wraps(view)
        def scoped(*args: Any, **kwargs: Any) -> Any:
            grant = current_grant()
            if grant is None or not grant.has_scope(scope):
                raise _insufficient(scope)
            return view(*args, **kwargs)

        wrapper = require_resident()(scoped)
        wrapper._apidoc = deepcopy(wrapper._apidoc)
        wrapper._apidoc["manual_doc"]["security"] = [{"ResidentToken": [scope]}]
        return wrapper

    return decorator
