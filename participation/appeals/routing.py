"""Who gets a message: routing rules, the widget's owner, the regional centre; relations."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from participation.appeals.models import Arrival, Relation, RoutingRule
from participation.core.errors import DomainError
from participation.core.organizations import Organization, OrganizationKind
from participation.core.territories import Territory, TerritoryLevel
from participation.extensions import db


@dataclass(frozen=True)
class Route:
    organization: Organization
    auto_routed: bool  # «делегировано автоправилом»


def region_of(territory: Territory) -> Territory:
    """The region (субъект РФ) of a territory; a territory above regions is its own region."""
    return territory.region() or territory


def moderation_organization_id() -> int:
    """The platform operator, whose moderators check every incoming message."""
    operator = db.session.scalar(
        sa.select(Organization.id)
        .where(Organization.kind == OrganizationKind.OPERATOR)
        .order_by(Organization.id)
        .limit(1)
    )
    if operator is None:
        raise DomainError(_l("Не настроен оператор платформы: сообщения некому проверять."))
    return operator


def regional_centre(region: Territory) -> Organization | None:
    """The region's management centre (ЦУР), which does the external coordination."""
    return db.session.scalar(
        sa.select(Organization)
        .where(
            Organization.kind == OrganizationKind.REGIONAL_CENTRE,
            Organization.territory_id == region.id,
        )
        .order_by(Organization.id)
        .limit(1)
    )


def rule_organization(subcategory_id: int, territory: Territory) -> Organization | None:
    """The organization named by the most specific rule for this topic and territory."""
    chain = [territory, *territory.ancestors()]
    rules = {
        rule.territory_id: rule
        for rule in db.session.scalars(
            sa.select(RoutingRule)
            .where(
                RoutingRule.subcategory_id == subcategory_id,
                RoutingRule.territory_id.in_([t.id for t in chain]),
            )
            .options(sa.orm.joinedload(RoutingRule.organization))
        )
    }
    for node in chain:
        if node.id in rules:
            return rules[node.id].organization
    return None


def find_route(
    subcategory_id: int, territory: Territory, widget_organization: Organization | None = None
) -> Route:
    """Rules first, else the organization whose widget was used, else the regional centre."""
    organization = rule_organization(subcategory_id, territory)
    if organization is not None:
        return Route(organization, auto_routed=True)
    if widget_organization is not None:
        return Route(widget_organization, auto_routed=False)
    centre = regional_centre(region_of(territory))
    if centre is not None:
        return Route(centre, auto_routed=False)
    raise DomainError(
        _l("Для этой территории не найден исполнитель. Выберите другую территорию или тему.")
    )


def coordination_organization(region: Territory, addressee: Organization) -> Organization:
    """Who checks the routing: the regional centre, or the addressee itself where none exists."""
    return regional_centre(region) or addressee


def relation(from_org: Organization, to_org: Organization) -> Relation:
    """Is `to_org` subordinate to `from_org`, higher than it, or neither?"""
    if any(o.id == to_org.id for o in from_org.higher_chain()):
        return Relation.HIGHER
    if any(o.id == from_org.id for o in to_org.higher_chain()):
        return Relation.SUBORDINATE
    return Relation.NON_SUBORDINATE


ARRIVAL_BY_RELATION = {
    Relation.SUBORDINATE: Arrival.FROM_HIGHER,
    Relation.HIGHER: Arrival.FROM_LOWER,
    Relation.NON_SUBORDINATE: Arrival.FROM_NON_SUBORDINATE,
}


def widget_topic_ids(organization: Organization) -> set[int] | None:
    """Subcategories the organization answers by rule (its widget offers only these), or None."""
    ids = set(
        db.session.scalars(
            sa.select(RoutingRule.subcategory_id).where(
                RoutingRule.organization_id == organization.id
            )
        )
    )
    return ids or None


def submission_territories(widget_organization: Organization | None = None) -> list[Territory]:
    """Municipalities and settlements a problem can be located in (for the form's list)."""
    levels = (
        TerritoryLevel.URBAN_OKRUG,
        TerritoryLevel.MUNICIPAL_DISTRICT,
        TerritoryLevel.SETTLEMENT,
    )
    query = sa.select(Territory).where(Territory.level.in_(levels)).order_by(Territory.name)
    territories = list(db.session.scalars(query))
    if widget_organization is not None:
        home = widget_organization.territory
        territories = [t for t in territories if t.is_within(home)] or territories
    return territories


def add_routing_rule(
    subcategory_id: int, territory: Territory, organization: Organization
) -> RoutingRule:
    """Add (or repoint) the rule for a topic in a territory."""
    rule = db.session.scalar(
        sa.select(RoutingRule).where(
            RoutingRule.subcategory_id == subcategory_id,
            RoutingRule.territory_id == territory.id,
        )
    )
    if rule is None:
        rule = RoutingRule(
            subcategory_id=subcategory_id, territory_id=territory.id, organization=organization
        )
        db.session.add(rule)
    else:
        rule.organization = organization
    db.session.flush()
    return rule
