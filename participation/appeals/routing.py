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


class NoRoute(DomainError):
    """Nobody answers this topic in this territory."""


def find_route(
    subcategory_id: int, territory: Territory, widget_organization: Organization | None = None
) -> Route:
    """Rules first, else the organization whose widget was used, else the regional centre.

    served_territory_ids() answers the same question for the form's list: keep them in step.
    """
    organization = rule_organization(subcategory_id, territory)
    if organization is not None:
        return Route(organization, auto_routed=True)
    if widget_organization is not None:
        return Route(widget_organization, auto_routed=False)
    centre = regional_centre(region_of(territory))
    if centre is not None:
        return Route(centre, auto_routed=False)
    raise NoRoute(
        _l("Для этой территории не найден исполнитель. Выберите другую территорию или тему.")
    )


def served_territory_ids(
    subcategory_id: int | None, widget_organization: Organization | None = None
) -> set[int]:
    """Territories where find_route() finds someone for the topic (for some topic when None):
    a territory on whose chain up a rule or a regional centre sits; anywhere through a widget.
    Three queries whatever the number of territories."""
    parents = dict(db.session.execute(sa.select(Territory.id, Territory.parent_id)).all())
    if widget_organization is not None:
        return set(parents)
    rules = sa.select(RoutingRule.territory_id)
    if subcategory_id is not None:
        rules = rules.where(RoutingRule.subcategory_id == subcategory_id)
    # A regional centre serves its region (region_of), i.e. every territory below it.
    covered = set(db.session.scalars(rules)) | set(
        db.session.scalars(
            sa.select(Organization.territory_id)
            .join(Territory, Territory.id == Organization.territory_id)
            .where(
                Organization.kind == OrganizationKind.REGIONAL_CENTRE,
                Territory.level == TerritoryLevel.REGION,
            )
        )
    )
    served: dict[int, bool] = {}  # memo: a territory's answer is its nearest known ancestor's

    def is_served(territory_id: int) -> bool:
        chain, node = [], territory_id
        while node is not None and node not in served and node not in covered:
            chain.append(node)
            node = parents.get(node)
        answer = node is not None and (node in covered or served[node])
        for visited in chain:
            served[visited] = answer
        return answer

    return {territory_id for territory_id in parents if is_served(territory_id)}


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


def submission_territories(
    widget_organization: Organization | None = None, subcategory_id: int | None = None
) -> list[Territory]:
    """Municipalities and settlements a problem can be located in (for the form's list): only
    those where someone answers the chosen topic (or, before a topic is chosen, some topic)."""
    levels = (
        TerritoryLevel.URBAN_OKRUG,
        TerritoryLevel.MUNICIPAL_DISTRICT,
        TerritoryLevel.SETTLEMENT,
    )
    served = served_territory_ids(subcategory_id, widget_organization)
    query = sa.select(Territory).where(Territory.level.in_(levels)).order_by(Territory.name)
    territories = [t for t in db.session.scalars(query) if t.id in served]
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
