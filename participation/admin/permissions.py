"""Who may manage an organization's staff and roles, which roles they may grant, and who
edits its public profile."""

from __future__ import annotations

from typing import Any

from flask_babel import gettext as _

from participation.core.authorized import AUTHORIZED_KINDS
from participation.core.labels import role_label
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


def role_refusal(user: Any, organization: Organization, role: Role) -> str | None:
    """Why `user` cannot grant `role` in `organization` (a Russian sentence), None if they can.

    Administrators grant roles; each authorised official only in the body of its level.
    """
    if not can_manage_staff(user, organization):
        return _("Роли в организации выдаёт только её администратор.")
    kinds = AUTHORIZED_KINDS.get(role)
    if kinds is not None and organization.kind not in kinds:
        if role == Role.REGIONAL_AUTHORIZED:
            return _(
                "Роль «%(role)s» выдаётся только в региональном органе власти.",
                role=role_label(role),
            )
        return _(
            "Роль «%(role)s» выдаётся только в органе местного самоуправления.",
            role=role_label(role),
        )
    return None
