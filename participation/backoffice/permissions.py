"""Who may enter the staff cabinet and give which readiness confirmation."""

from __future__ import annotations

from typing import Any

from participation.core.organizations import Organization
from participation.core.users import Role


def can_use_backoffice(user: Any) -> bool:
    """Logged in and holding at least one role in some organization."""
    return bool(getattr(user, "is_authenticated", False) and user.is_staff)


def can_work_in(user: Any, organization: Organization) -> bool:
    """Holds at least one role in `organization`."""
    return can_use_backoffice(user) and bool(user.roles_in(organization.id))


def can_confirm_ready(user: Any, organization: Organization) -> bool:
    """«ЛКО готов к работе» is the organization administrator's word, as on the real platform."""
    return can_use_backoffice(user) and user.has_role(Role.ADMINISTRATOR, organization.id)


def can_confirm_training(user: Any, organization: Organization) -> bool:
    """«Мною пройдено обучение»: any staff member of the organization speaks for themselves."""
    return can_work_in(user, organization)
