"""API tests: the validating client, an organization with its administrator, issued keys,
and the messages' small region (`world`) from the appeals tests."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from participation.api import services
from participation.api.models import ApiKey, ApiScope
from participation.core.users import Role, User
from participation.extensions import db
from tests import factories as f
from tests.api.openapi_check import ValidatingClient
from tests.appeals.conftest import world  # noqa: F401  (the fixture)


@pytest.fixture
def client(app):
    """Every /api/v1 response of the test is validated against the OpenAPI document."""
    return ValidatingClient(app, app.response_class, use_cookies=True)


@dataclass
class Org:
    organization: object
    admin: User


@pytest.fixture
def org(db_session) -> Org:
    organization = f.organization(name="Администрация города Уфы")
    admin = f.staff(organization, Role.ADMINISTRATOR, last_name="Админов")
    db.session.commit()
    return Org(organization, admin)


def issue(
    org: Org, *scopes: ApiScope, name: str = "СЭД Дело", days: int = 30
) -> tuple[ApiKey, str]:
    """A key of `org` with `scopes` (all of them by default), committed; returns key and token."""
    from datetime import timedelta

    issued = services.create_api_key(
        org.organization,
        name,
        [s.value for s in (scopes or tuple(ApiScope))],
        services.today() + timedelta(days=days),
        org.admin,
    )
    db.session.commit()
    return issued.key, issued.token


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
