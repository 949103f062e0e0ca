"""Who may manage an organization's staff and roles, and edit its public profile."""

from __future__ import annotations

from typing import Any

from participation.core.organizations import Organization
from participation.core.users import Membership, Role


def can_manage_staff(user: Any, organization: Organization) -> bool:
    """Administrators of `organization` manage its staff."""
    return bool(
        getattr(user, "is_authenticated", False)
        and user.has_role(Role.ADMINISTRATOR, organization.id)
    )


def can_manage_membership(user: Any, membership: Membership, organization: Organization) -> bool:
    """`membership` belongs to `organization` (the one being managed) and `user` administers it."""
    return membership.organization_id == organization.id and can_manage_staff(user, organization)


def can_edit_profile(user: Any, organization: Organization) -> bool:
    """Administrators of `organization` edit its profile (names, contacts, hours, logo)."""
    return can_manage_staff(user, organization)
