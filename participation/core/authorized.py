"""The two authorised officials (уполномоченный региональный / муниципальный) and their scope.

- Role.AUTHORIZED («Уполномоченный муниципальный», the value "authorized" kept from before the
  split) acts for its own organization only.
- Role.REGIONAL_AUTHORIZED («Уполномоченный региональный») is held in a regional body (РОИВ):
  it acts for that body and, region-wide, for the municipal bodies (ОМСУ) of the same region.

Features ask `acts_as_authorized(user, organization)` instead of looking for one role.
"""

from __future__ import annotations

from typing import Any

from participation.core.organizations import Organization, OrganizationKind
from participation.core.territories import TerritoryLevel, territory_chain
from participation.core.users import Role

AUTHORIZED_ROLES = frozenset({Role.AUTHORIZED, Role.REGIONAL_AUTHORIZED})
# Where each official may be appointed (an administrator cannot grant it elsewhere).
AUTHORIZED_KINDS = {
    Role.AUTHORIZED: frozenset({OrganizationKind.MUNICIPAL}),
    Role.REGIONAL_AUTHORIZED: frozenset({OrganizationKind.REGIONAL}),
}


def region_id_of(organization: Organization) -> int | None:
    """The region (субъект РФ) of the organization's territory, None for a country-wide one."""
    chain = territory_chain(organization.territory_id)  # kept per process
    return next((link.id for link in chain if link.level == TerritoryLevel.REGION), None)


def acts_as_authorized(user: Any, organization: Organization | None) -> bool:
    """An authorised official of `organization` itself, or the regional one of its region
    when it is a municipal body."""
    if organization is None or not getattr(user, "is_authenticated", False):
        return False
    if user.roles_in(organization.id) & AUTHORIZED_ROLES:
        return True
    if organization.kind != OrganizationKind.MUNICIPAL:
        return False
    regional = [
        m.organization
        for m in user.memberships
        if m.role == Role.REGIONAL_AUTHORIZED and m.organization.kind == OrganizationKind.REGIONAL
    ]
    if not regional:
        return False
    region = region_id_of(organization)
    return region is not None and any(region_id_of(o) == region for o in regional)


def holds_authorized_role(user: Any) -> bool:
    """Either official, in any organization (the staff menu's entries)."""
    return any(user.has_role(role) for role in AUTHORIZED_ROLES)
