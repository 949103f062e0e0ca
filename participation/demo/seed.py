"""Load the demo data into the database: insert what is missing, never change what exists."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from werkzeug.utils import import_string

from participation.backoffice.models import ComponentReadiness
from participation.backoffice.readiness import COMPONENTS
from participation.core.organizations import Organization
from participation.core.territories import Territory
from participation.core.users import Membership, Role, User
from participation.demo import data
from participation.extensions import db

# Each feature's own idempotent demo content, after the region, organizations and people.
FEATURE_SEEDS = (
    "participation.appeals.classifier:seed_classifier",  # the national topic classifier
    "participation.admin.demo:seed_profiles_demo",  # profiles: Уфа with a logo; Бирск left empty
    "participation.appeals.demo:seed_appeals_demo",  # routing rules; messages in every state
    "participation.hearings.demo:seed_hearings_demo",  # Уфа: landscaping rules open for remarks
    "participation.voting.demo:seed_voting_demo",  # Уфа: two open votes, a closed one
    "participation.polls.demo:seed_polls_demo",  # Уфа: a survey for residents 18+
    "participation.directline.demo:seed_directline_demo",  # the Head of the Republic's line
    "participation.api.oauth.demo:seed_oauth_demo",  # a mobile app registered for OAuth + PKCE
    "participation.reminders.demo:seed_reminders_demo",  # Стерлитамак: a vote ending in 3 days
    "participation.admin.invitations_demo:seed_admin_demo",  # Уфа: a staff invitation waiting
)
# A year of messages over the whole region, made in bulk, and the reports' rollup.
HISTORY_SEED = "participation.reports.demo:seed_history"


def seed_demo(history: bool = False) -> dict[str, int]:
    """Add the demo territories, organizations, users and roles; return how many were created.

    Rows are matched by natural key (OKTMO; organization name and territory; ESIA oid;
    user, organization and role), so a second run creates and changes nothing. With `history`
    a year of messages follows (`flask demo seed` asks for it; tests of the hand-made demo
    leave it out). The caller commits.
    """
    counts = {"territories": 0, "organizations": 0, "users": 0, "memberships": 0}
    territories = _seed_territories(counts)
    organizations = _seed_organizations(territories, counts)
    users = _seed_users(territories, counts)
    _seed_memberships(users, organizations, counts)
    for path in FEATURE_SEEDS:
        import_string(path)()
    if history:
        counts.update(import_string(HISTORY_SEED)())
    return counts


def _seed_territories(counts: dict[str, int]) -> dict[str, Territory]:
    codes = [t["oktmo"] for t in data.TERRITORIES]
    found = {
        t.oktmo: t
        for t in db.session.scalars(sa.select(Territory).where(Territory.oktmo.in_(codes)))
    }
    for record in data.TERRITORIES:
        latitude, longitude = (Decimal(str(c)) for c in record["centre"])
        if record["oktmo"] in found:
            existing = found[record["oktmo"]]
            if existing.latitude is None:  # a database seeded before territories had centres
                existing.latitude, existing.longitude = latitude, longitude
            continue
        territory = Territory(
            oktmo=record["oktmo"],
            name=record["name"],
            level=record["level"],
            parent=found[record["parent"]] if record["parent"] else None,
            timezone=record["timezone"],
            latitude=latitude,
            longitude=longitude,
        )
        db.session.add(territory)
        found[record["oktmo"]] = territory
        counts["territories"] += 1
    db.session.flush()
    return found


def _seed_organizations(
    territories: dict[str, Territory], counts: dict[str, int]
) -> dict[str, Organization]:
    found: dict[str, Organization] = {}
    for record in data.ORGANIZATIONS:
        territory = territories[record["territory"]]
        organization = db.session.scalar(
            sa.select(Organization).where(
                Organization.name == record["name"],
                Organization.territory_id == territory.id,
            )
        )
        if organization is None:
            organization = _new_organization(record, territory, found)
            db.session.add(organization)
            db.session.flush()  # later records look their parent up by id
            _confirm_components(organization, record)
            counts["organizations"] += 1
        found[record["slug"]] = organization
    return found


def _new_organization(
    record: dict[str, Any], territory: Territory, known: dict[str, Organization]
) -> Organization:
    # widget_code is left to the model default: generated once, never touched again.
    confirmed_at = data.CONFIRMED_AT if record["ready"] else None
    return Organization(
        name=record["name"],
        short_name=record["short_name"],
        kind=record["kind"],
        territory=territory,
        parent=known[record["parent"]] if record["parent"] else None,
        address=record["address"],
        email=record["email"],
        website=record["website"],
        ready_confirmed_at=confirmed_at,
        training_confirmed_at=confirmed_at,
    )


def _confirm_components(organization: Organization, record: dict[str, Any]) -> None:
    """A ready organization works in every component unless its record lists which."""
    components = record.get("components")
    if components is None:
        components = [c.key for c in COMPONENTS] if record["ready"] else []
    for key in components:
        db.session.add(
            ComponentReadiness(
                organization_id=organization.id, component=key, confirmed_at=data.CONFIRMED_AT
            )
        )


def _seed_users(territories: dict[str, Territory], counts: dict[str, int]) -> dict[str, User]:
    oids = [u["esia_oid"] for u in data.USERS]
    by_oid = {
        u.esia_oid: u for u in db.session.scalars(sa.select(User).where(User.esia_oid.in_(oids)))
    }
    found: dict[str, User] = {}
    for record in data.USERS:
        user = by_oid.get(record["esia_oid"])
        if user is None:
            address = record["address"]
            user = User(
                kind=record["kind"],
                esia_oid=record["esia_oid"],
                last_name=record["last_name"],
                first_name=record["first_name"],
                middle_name=record["middle_name"],
                birth_date=record["birth_date"],
                gender=record["gender"],
                account_level=record["account_level"],
                email=record["email"],
                registration_territory=territories[record["registration_territory"]],
                registration_address=address["text"] if address else None,
                legal_entity_name=record["legal_entity_name"],
                legal_entity_ogrn=record["legal_entity_ogrn"],
            )
            db.session.add(user)
            counts["users"] += 1
        found[record["slug"]] = user
    db.session.flush()
    return found


def _seed_memberships(
    users: dict[str, User], organizations: dict[str, Organization], counts: dict[str, int]
) -> None:
    user_ids = [u.id for u in users.values()]
    existing: set[tuple[int, int, Role]] = {
        (m.user_id, m.organization_id, m.role)
        for m in db.session.scalars(sa.select(Membership).where(Membership.user_id.in_(user_ids)))
    }
    for record in data.USERS:
        user = users[record["slug"]]
        for org_slug, role in record["memberships"]:
            organization = organizations[org_slug]
            key = (user.id, organization.id, role)
            if key in existing:
                continue
            db.session.add(Membership(user=user, organization=organization, role=role))
            existing.add(key)
            counts["memberships"] += 1
    db.session.flush()
