"""Who may see which figures: an organization and those below it, a region, or every region.

Staff in a dashboard role see their organization's tree. A ЦУР's staff, and the curators and
authorised officials of a regional body (РОИВ), see the whole region their organization's
territory lies in. The platform operator's staff see every region. Anything else is refused
by the views (404, logged).
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from participation.appeals.permissions import subtree_ids
from participation.core.authorized import AUTHORIZED_ROLES, region_id_of
from participation.core.organizations import Organization, OrganizationKind
from participation.core.territories import Territory, TerritoryLevel
from participation.core.users import Role
from participation.extensions import db
from participation.reports.services import Scope

DASHBOARD_ROLES = frozenset(
    {Role.HEAD, Role.COORDINATOR, Role.CURATOR, Role.ADMINISTRATOR} | AUTHORIZED_ROLES
)
# In a regional body (РОИВ) these roles look after the whole region.
REGIONAL_BODY_ROLES = frozenset({Role.CURATOR, Role.REGIONAL_AUTHORIZED})


def _roles(user: Any, organization: Organization | None) -> set[Role]:
    if organization is None or not getattr(user, "is_authenticated", False):
        return set()
    return user.roles_in(organization.id) & DASHBOARD_ROLES


def can_view_dashboards(user: Any, organization: Organization | None) -> bool:
    """The analytics section opens for the dashboard roles of the current organization."""
    return bool(_roles(user, organization))


def sees_all_regions(user: Any, organization: Organization | None) -> bool:
    return bool(_roles(user, organization)) and organization.kind == OrganizationKind.OPERATOR


def sees_whole_region(user: Any, organization: Organization | None) -> bool:
    """A ЦУР's staff, a regional body's curators and authorised officials, the operator."""
    roles = _roles(user, organization)
    if not roles:
        return False
    if organization.kind in (OrganizationKind.OPERATOR, OrganizationKind.REGIONAL_CENTRE):
        return True
    return organization.kind == OrganizationKind.REGIONAL and bool(roles & REGIONAL_BODY_ROLES)


def can_view_region(user: Any, organization: Organization | None, region_id: int | None) -> bool:
    """May this person, working in `organization`, see the figures of the whole region?"""
    if region_id is None or not sees_whole_region(user, organization):
        return False
    if organization.kind == OrganizationKind.OPERATOR:
        return True
    return region_id == region_id_of(organization)


def viewable_region_ids(user: Any, organization: Organization | None) -> list[int]:
    """The regions whose region page this person may open (ordered by name)."""
    if sees_all_regions(user, organization):
        return list(
            db.session.scalars(
                sa.select(Territory.id)
                .where(Territory.level == TerritoryLevel.REGION)
                .order_by(Territory.name)
            )
        )
    own = region_id_of(organization) if organization is not None else None
    return [own] if can_view_region(user, organization, own) else []


def can_view_organization(
    user: Any, organization: Organization | None, target: Organization
) -> bool:
    """The dashboard of `target`: one's own organization's tree, or any organization of a
    region one sees whole."""
    if not _roles(user, organization):
        return False
    if can_view_region(user, organization, region_id_of(target)):
        return True
    return target.id in subtree_ids(organization)


def visible_organization_ids(user: Any, organization: Organization) -> frozenset[int] | None:
    """The organizations whose figures this person sees: None for all of a visible region."""
    if sees_whole_region(user, organization):
        return None
    return frozenset(subtree_ids(organization)) if _roles(user, organization) else frozenset()


def own_scope(user: Any, organization: Organization | None) -> Scope | None:
    """What this person sees by default: their region whole, or their organization's tree;
    None without an analytics role or for a country-wide organization (no one region)."""
    if not _roles(user, organization):
        return None
    region_id = region_id_of(organization)
    if region_id is None:
        return None
    return Scope(region_id, organization_ids=visible_organization_ids(user, organization))


def allowed_scope(user: Any, organization: Organization | None, requested: Scope) -> Scope | None:
    """The requested scope if this person may see it, narrowed to what they see; else None.

    A region one does not see is refused; for someone who sees only their organization's
    tree, the organizations asked for must all lie in it (none asked: the whole tree).
    """
    if not _roles(user, organization):
        return None
    if can_view_region(user, organization, requested.region_id):
        return requested
    if region_id_of(organization) not in (None, requested.region_id):
        return None
    own = frozenset(subtree_ids(organization))
    if requested.organization_ids is None:
        return requested.narrowed(organization_ids=own)
    if not requested.organization_ids <= own:
        return None
    return requested


# --- the rating: who may see it and set its weights ---------------------------------------


def _regions_of_memberships(user: Any) -> list[tuple[Organization, Role, int | None]]:
    return [(m.organization, m.role, region_id_of(m.organization)) for m in user.memberships]


def can_see_rating(user: Any, region_id: int) -> bool:
    """Staff of any organization in the region (and the platform operator) see its rating."""
    if not getattr(user, "is_authenticated", False):
        return False
    return any(
        org.kind == OrganizationKind.OPERATOR or region == region_id
        for org, _role, region in _regions_of_memberships(user)
    )


def can_edit_weights(user: Any, region_id: int) -> bool:
    """The region's curator (of the regional government or the ЦУР) and the ЦУР's heads and
    coordinators set the rating's weights."""
    if not getattr(user, "is_authenticated", False):
        return False
    for org, role, region in _regions_of_memberships(user):
        if region != region_id or org.territory.level != TerritoryLevel.REGION:
            continue
        if role == Role.CURATOR and org.kind in (
            OrganizationKind.REGIONAL,
            OrganizationKind.REGIONAL_CENTRE,
        ):
            return True
        if org.kind == OrganizationKind.REGIONAL_CENTRE and role in (Role.HEAD, Role.COORDINATOR):
            return True
    return False
