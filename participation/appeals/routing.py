"""Who gets a message: routing rules, the widget's owner, the regional centre; relations."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

from participation.appeals.models import Arrival, Relation, RoutingRule
from participation.core.cache import Cached
from participation.core.errors import DomainError
from participation.core.organizations import Organization, OrganizationKind
from participation.core.territories import Territory, TerritoryLevel
from participation.extensions import db


@dataclass(frozen=True)
class Route:
    organization: Organization
    auto_routed: bool  # «делегировано автоправилом»


class NoRoute(DomainError):
    """Nobody answers this topic in this territory."""


@dataclass(frozen=True)
class Place:
    """A territory as routing sees it (kept per process: see PLACES)."""

    id: int
    level: TerritoryLevel
    chain: tuple[int, ...]  # itself, then its ancestors up to the country
    region_id: int  # region_of(): its субъект РФ, or itself above regions


def _load_places(session: Session) -> dict[int, Place]:
    rows = session.execute(sa.select(Territory.id, Territory.level, Territory.parent_id)).all()
    parents = {i: parent for i, _level, parent in rows}
    levels = {i: TerritoryLevel(level) for i, level, _parent in rows}
    places = {}
    for territory_id in parents:
        chain, node = [], territory_id
        while node is not None and node not in chain:  # `not in`: a broken tree still ends
            chain.append(node)
            node = parents.get(node)
        region = next((n for n in chain if levels[n] == TerritoryLevel.REGION), territory_id)
        places[territory_id] = Place(territory_id, levels[territory_id], tuple(chain), region)
    return places


# Every territory's chain upwards: a submission routes and finds regions without a query.
PLACES = Cached("appeals.places", _load_places, watch=(Territory,))


def place(territory_id: int | None) -> Place | None:
    """The territory with this id from the per-process copy, or None."""
    return PLACES.get(db.session).get(territory_id) if territory_id is not None else None


@dataclass(frozen=True)
class RoutingTable:
    """Who answers what where (kept per process: see ROUTING)."""

    rules: dict[tuple[int, int], int]  # (subcategory id, territory id) → organization id
    centres: dict[int, int]  # region id → its regional centre (ЦУР)
    operator_id: int | None  # the platform operator: its moderators check every message
    timezones: dict[int, str]  # organization id → its territory's time zone


def _load_routing(session: Session) -> RoutingTable:
    query = sa.select(
        RoutingRule.subcategory_id, RoutingRule.territory_id, RoutingRule.organization_id
    )
    rules = {
        (sub_id, territory_id): org_id for sub_id, territory_id, org_id in session.execute(query)
    }
    centres: dict[int, int] = {}
    operator_id = None
    timezones = {}
    organizations = session.execute(
        sa.select(Organization.id, Organization.kind, Organization.territory_id, Territory.timezone)
        .join(Territory, Territory.id == Organization.territory_id)
        .order_by(Organization.id)
    )
    for org_id, kind, territory_id, timezone in organizations:
        timezones[org_id] = timezone
        if kind == OrganizationKind.REGIONAL_CENTRE:
            centres.setdefault(territory_id, org_id)  # the first by id, as regional_centre()
        elif kind == OrganizationKind.OPERATOR and operator_id is None:
            operator_id = org_id
    return RoutingTable(rules, centres, operator_id, timezones)


ROUTING = Cached("appeals.routing", _load_routing, watch=(RoutingRule, Organization, Territory))


@dataclass(frozen=True)
class Addressee:
    """Who answers a new message (ids, not rows: a submission needs no more)."""

    organization_id: int
    timezone: str  # the organization's: the message's dates are shown in it
    auto_routed: bool


def route_for(
    subcategory_id: int, where: Place, widget_organization: Organization | None = None
) -> Addressee:
    """find_route() from the per-process routing table: no query once it is loaded."""
    table = ROUTING.get(db.session)
    for territory_id in where.chain:  # the most specific rule wins
        organization_id = table.rules.get((subcategory_id, territory_id))
        if organization_id is not None:
            return Addressee(organization_id, table.timezones[organization_id], True)
    if widget_organization is not None:
        return Addressee(widget_organization.id, widget_organization.territory.timezone, False)
    centre = table.centres.get(where.region_id)
    if centre is not None:
        return Addressee(centre, table.timezones[centre], False)
    raise NoRoute(
        _l("Для этой территории не найден исполнитель. Выберите другую территорию или тему.")
    )


def region_of(territory: Territory) -> Territory:
    """The region (субъект РФ) of a territory; a territory above regions is its own region."""
    return territory.region() or territory


def moderation_organization_id() -> int:
    """The platform operator, whose moderators check every incoming message."""
    operator = ROUTING.get(db.session).operator_id
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
    """Rules first, else the organization whose widget was used, else the regional centre.

    served_territory_ids() answers the same question for the form's list: keep them in step.
    """
    where = place(territory.id) or Place(  # a territory not flushed yet
        territory.id,
        territory.level,
        (territory.id, *(t.id for t in territory.ancestors())),
        region_of(territory).id,
    )
    found = route_for(subcategory_id, where, widget_organization)
    if widget_organization is not None and found.organization_id == widget_organization.id:
        return Route(widget_organization, found.auto_routed)
    organization = db.session.get(Organization, found.organization_id)  # often in the session
    return Route(organization, found.auto_routed)


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
