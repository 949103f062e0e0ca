"""Who may decide on a region's public map of problems."""

from __future__ import annotations

from typing import Any

from participation.core.organizations import Organization, OrganizationKind
from participation.core.territories import TerritoryLevel
from participation.core.users import Role


def can_manage_public_map(user: Any, organization: Organization) -> bool:
    """The region's curator: a curator of its ЦУР (the regional centre of management)."""
    return (
        organization.kind == OrganizationKind.REGIONAL_CENTRE
        and organization.territory.level == TerritoryLevel.REGION
        and user.has_role(Role.CURATOR, organization.id)
    )
