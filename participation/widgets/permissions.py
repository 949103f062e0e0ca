"""Who may configure an organization's widget, and who acts inside one."""

from __future__ import annotations

from typing import Any

from participation.admin.permissions import can_manage_staff
from participation.core.organizations import Organization
from participation.widgets.models import WidgetSession


def can_configure_widget(user: Any, organization: Organization) -> bool:
    """The organization's administrators set up its widget and see its statistics."""
    return can_manage_staff(user, organization)


def can_act_in_widget(session: WidgetSession | None, organization: Organization) -> bool:
    """A live widget session of this very organization's widget (codes are not interchangeable)."""
    return session is not None and session.organization_id == organization.id
