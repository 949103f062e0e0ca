"""Who may publish, manage and moderate surveys, and who may see their results."""

from __future__ import annotations

from typing import Any

from participation.core.authorized import AUTHORIZED_ROLES, acts_as_authorized
from participation.core.organizations import Organization, OrganizationKind
from participation.core.users import Role
from participation.polls.models import Survey, SurveyState

# Surveys are published by regional and municipal bodies (DOMAIN.md § 4) through their
# authorized officials and administrators.
PUBLISHER_ROLES = AUTHORIZED_ROLES | {Role.ADMINISTRATOR}
PUBLISHER_KINDS = frozenset({OrganizationKind.MUNICIPAL, OrganizationKind.REGIONAL})


def _authenticated(user: Any) -> bool:
    return bool(getattr(user, "is_authenticated", False))


def publishing_organizations(user: Any) -> list[Organization]:
    """Organizations in which `user` may publish surveys, by name."""
    if not _authenticated(user):
        return []
    found = {
        m.organization_id: m.organization
        for m in user.memberships
        if m.role in PUBLISHER_ROLES and m.organization.kind in PUBLISHER_KINDS
    }
    return sorted(found.values(), key=lambda o: (o.name, o.id))


def can_publish_in(user: Any, organization: Organization) -> bool:
    """An authorised official or administrator of a municipal or regional body; the regional
    official also for the municipal bodies of its region."""
    return (
        _authenticated(user)
        and organization.kind in PUBLISHER_KINDS
        and (
            Role.ADMINISTRATOR in user.roles_in(organization.id)
            or acts_as_authorized(user, organization)
        )
    )


def can_use_polls_cabinet(user: Any) -> bool:
    return bool(publishing_organizations(user))


def can_manage(user: Any, survey: Survey) -> bool:
    """Edit, publish, close, see results, export: the publishing organization's officials."""
    return can_publish_in(user, survey.organization)


def can_moderate(user: Any, survey: Survey) -> bool:
    """Free-text answers are moderated by the publishers or the organization's moderators."""
    return can_manage(user, survey) or (
        _authenticated(user) and Role.MODERATOR in user.roles_in(survey.organization_id)
    )


def can_view(user: Any, survey: Survey) -> bool:
    """A published survey is public (answering has its own audience check)."""
    return survey.state() != SurveyState.DRAFT or can_manage(user, survey)


def can_see_public_results(user: Any, survey: Survey) -> bool:
    """Results are shown to residents only if the publisher chose so, and only after the close."""
    return (survey.results_public and survey.state() == SurveyState.CLOSED) or can_manage(
        user, survey
    )
