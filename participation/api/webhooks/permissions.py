"""Who manages an organization's webhooks: its administrators, and only its own endpoints."""

from __future__ import annotations

from typing import Any

from participation.admin.permissions import can_manage_staff
from participation.api.webhooks.models import WebhookDelivery, WebhookEndpoint
from participation.core.organizations import Organization


def can_manage_webhooks(user: Any, organization: Organization) -> bool:
    """Administrators of `organization` register its endpoints and read the delivery log."""
    return can_manage_staff(user, organization)


def can_manage_endpoint(
    user: Any, endpoint: WebhookEndpoint | None, organization: Organization
) -> bool:
    """`endpoint` belongs to `organization` (the current one) and `user` administers it."""
    return (
        endpoint is not None
        and endpoint.organization_id == organization.id
        and can_manage_webhooks(user, organization)
    )


def can_resend(user: Any, delivery: WebhookDelivery | None, organization: Organization) -> bool:
    """A delivery to one of the organization's own endpoints, by its administrator."""
    return delivery is not None and can_manage_endpoint(user, delivery.endpoint, organization)
