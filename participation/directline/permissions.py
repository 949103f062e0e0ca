"""Who may run direct lines and see questions: predicates for views and templates alike.

Moderators of a direct line are
- moderators (Role.MODERATOR) of the platform operator: they moderate every direct line, as they
  moderate every message;
- moderators and уполномоченные (Role.MODERATOR, either authorised official) of the host:
  the host's own press service or public-reception staff run its broadcast;
- coordinators and moderators of the regional centre (ЦУР) on the host's territory: ЦУР
  prepares the region head's direct line as it routes the region's messages.
A direct line is created by an уполномоченный or an administrator of the host organization, or
by an operator's moderator for any host body.
"""

from __future__ import annotations

from typing import Any

from participation.core.authorized import AUTHORIZED_ROLES
from participation.core.organizations import Organization, OrganizationKind
from participation.core.users import Role
from participation.directline.models import PUBLIC_STATES, DirectLine, Question

HOST_MODERATOR_ROLES = AUTHORIZED_ROLES | {Role.MODERATOR}
HOST_CREATOR_ROLES = AUTHORIZED_ROLES | {Role.ADMINISTRATOR}
HOST_KINDS = frozenset({OrganizationKind.REGIONAL, OrganizationKind.MUNICIPAL})
CENTRE_MODERATOR_ROLES = frozenset({Role.COORDINATOR, Role.MODERATOR})


def _authenticated(user: Any) -> bool:
    return bool(getattr(user, "is_authenticated", False))


def is_operator_moderator(user: Any) -> bool:
    """A moderator of the platform operator."""
    if not _authenticated(user):
        return False
    return any(
        m.role == Role.MODERATOR and m.organization.kind == OrganizationKind.OPERATOR
        for m in user.memberships
    )


def centre_territory_ids(user: Any) -> set[int]:
    """Territories of the regional centres (ЦУР) where this person coordinates or moderates."""
    if not _authenticated(user):
        return set()
    return {
        m.organization.territory_id
        for m in user.memberships
        if m.role in CENTRE_MODERATOR_ROLES
        and m.organization.kind == OrganizationKind.REGIONAL_CENTRE
    }


def can_host(organization: Organization) -> bool:
    """Regional and municipal bodies hold direct lines (the head of the region or a city)."""
    return organization.kind in HOST_KINDS


def can_create_for(user: Any, organization: Organization) -> bool:
    """May `user` announce a direct line hosted by `organization`?"""
    if not _authenticated(user) or not can_host(organization):
        return False
    return is_operator_moderator(user) or bool(HOST_CREATOR_ROLES & user.roles_in(organization.id))


def can_manage(user: Any, event: DirectLine) -> bool:
    """Moderate the questions and run the broadcast of this direct line."""
    if not _authenticated(user):
        return False
    return (
        is_operator_moderator(user)
        or bool(HOST_MODERATOR_ROLES & user.roles_in(event.host_organization_id))
        or event.host_organization.territory_id in centre_territory_ids(user)
    )


def can_edit(user: Any, event: DirectLine) -> bool:
    """Change the event's settings: whoever may create one for its host."""
    return can_create_for(user, event.host_organization)


def is_author(
    user: Any, question: Question, coauthor_ids: set[int] | frozenset = frozenset()
) -> bool:
    """The person who asked it, or whose duplicate was merged into it."""
    if not _authenticated(user):
        return False
    return question.author_id == user.id or user.id in coauthor_ids


def can_view_question(
    user: Any, question: Question, coauthor_ids: set[int] | frozenset = frozenset()
) -> bool:
    """Published questions are public; the others only for their authors and moderators."""
    return (
        question.state in PUBLIC_STATES
        or is_author(user, question, coauthor_ids)
        or can_manage(user, question.event)
    )
