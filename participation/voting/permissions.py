"""Who may do what with votes: predicates shared by views and templates."""

from __future__ import annotations

from typing import Any

from participation.core.authorized import AUTHORIZED_ROLES, acts_as_authorized
from participation.core.organizations import Organization, OrganizationKind
from participation.core.users import Role
from participation.voting.models import Campaign

ORGANIZER_KINDS = frozenset({OrganizationKind.MUNICIPAL, OrganizationKind.REGIONAL})
MANAGER_ROLES = AUTHORIZED_ROLES | {Role.ADMINISTRATOR}


def _logged_in(user: Any) -> bool:
    return bool(getattr(user, "is_authenticated", False))


def can_organize(user: Any, organization: Organization | None) -> bool:
    """An authorised official (or administrator) of a municipal or regional body; the
    regional official also for the municipal bodies of its region."""
    return (
        _logged_in(user)
        and organization is not None
        and organization.kind in ORGANIZER_KINDS
        and (
            Role.ADMINISTRATOR in user.roles_in(organization.id)
            or acts_as_authorized(user, organization)
        )
    )


def can_manage(user: Any, campaign: Campaign) -> bool:
    """Create, edit, publish, close and see the management page of this campaign."""
    return can_organize(user, campaign.organization)


def can_view(user: Any, campaign: Campaign) -> bool:
    """Published campaigns are public; drafts only for their organizers."""
    return campaign.published_at is not None or can_manage(user, campaign)


def can_assist(user: Any, campaign: Campaign) -> bool:
    """A volunteer of the organizing body registers present residents' votes."""
    return (
        _logged_in(user)
        and campaign.published_at is not None
        and user.has_role(Role.VOLUNTEER, campaign.organization_id)
    )


def can_download_protocol(user: Any, campaign: Campaign) -> bool:
    """The protocol is for the organizer's officials."""
    return can_manage(user, campaign)
