"""Who may manage an organization's API keys."""

from __future__ import annotations

from typing import Any

from participation.admin.permissions import can_manage_staff
from participation.api.models import ApiKey
from participation.core.organizations import Organization


def can_manage_api_keys(user: Any, organization: Organization) -> bool:
    """The organization's administrators issue and revoke its keys (as they manage staff)."""
    return can_manage_staff(user, organization) and not getattr(user, "is_technical", False)


def can_revoke(user: Any, key: ApiKey, organization: Organization) -> bool:
    """`key` is of `organization` (the one being managed) and `user` administers it."""
    return key.organization_id == organization.id and can_manage_api_keys(user, organization)
