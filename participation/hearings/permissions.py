"""Who may see and run hearings: predicates used by views and templates alike."""

from __future__ import annotations

from typing import Any

from participation.core.authorized import AUTHORIZED_ROLES, acts_as_authorized
from participation.core.organizations import Organization
from participation.core.users import Role
from participation.hearings.models import Hearing, Participant

ORGANIZER_ROLES = AUTHORIZED_ROLES | {Role.ADMINISTRATOR}


def can_organize_in(user: Any, organization: Organization) -> bool:
    """Уполномоченный or Администратор of the organization: may create and run its hearings
    (the regional уполномоченный also those of the municipal bodies of its region)."""
    if not getattr(user, "is_authenticated", False):
        return False
    return Role.ADMINISTRATOR in user.roles_in(organization.id) or acts_as_authorized(
        user, organization
    )


def can_manage(user: Any, hearing: Hearing) -> bool:
    """An organizer of the hearing's organizing body."""
    return can_organize_in(user, hearing.organization)


def can_view(user: Any, hearing: Hearing) -> bool:
    """Everyone once the notice is published; before that, only its organizers."""
    return hearing.is_published or can_manage(user, hearing)


def can_download_extract(user: Any, participant: Participant | None) -> bool:
    """A participant's own extract from the protocol, and nobody else's."""
    return bool(
        participant is not None
        and getattr(user, "is_authenticated", False)
        and participant.user_id == user.id
    )
