"""Login through ESIA: starting the flow, finishing it, and the user row built from ESIA data."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from flask import current_app, session, url_for
from sqlalchemy.exc import IntegrityError

from participation.auth.esia import EsiaAddress, EsiaError, EsiaPerson, esia_client, esia_error
from participation.auth.esia import new_state as new_esia_state
from participation.core import audit
from participation.core.db import utcnow
from participation.core.safety import safe_next
from participation.core.territories import Territory, TerritoryLevel
from participation.core.users import User, UserKind
from participation.extensions import db

# The session key holding the pending login (state, where to go afterwards, when it started).
PENDING_KEY = "esia_login"
PENDING_MAX_AGE_SECONDS = 30 * 60


@dataclass(frozen=True)
class PendingLogin:
    state: str
    next_url: str | None
    purpose: str
    started: int


def start_login(next_url: str | None, purpose: str = "login") -> str:
    """Remember a new state in the session and return the ESIA authorization URL."""
    client = esia_client()
    redirect_uri = url_for("auth.callback", _external=True)
    if current_app.config["ESIA_EMULATOR"]:
        from participation.auth.emulator.services import ensure_dev_registration
        from participation.auth.esia import read_pem

        ensure_dev_registration(
            client.client_id, read_pem(current_app.config["ESIA_CERT_PATH"]).decode(), redirect_uri
        )
    state = new_esia_state()
    session[PENDING_KEY] = {
        "state": state,
        "next": _local_next(next_url),
        "purpose": purpose,
        "started": int(time.time()),
    }
    return client.authorization_url(state=state, redirect_uri=redirect_uri)


def _local_next(target: str | None) -> str | None:
    """Where to go after login: a local path only, and never back into the login flow."""
    target = safe_next(target)
    if target is None:
        return None
    path = target.split("?", 1)[0]
    if path in {url_for("auth.login"), url_for("auth.callback")}:
        return None
    return target


def take_pending_login(state: str | None) -> PendingLogin:
    """Pop the pending login from the session and check the returned state against it."""
    pending = session.pop(PENDING_KEY, None)
    if not isinstance(pending, dict) or not state or pending.get("state") != state:
        raise esia_error("wrong_state")
    if time.time() - int(pending.get("started", 0)) > PENDING_MAX_AGE_SECONDS:
        raise esia_error("wrong_state", "expired")
    return PendingLogin(
        state=state,
        next_url=pending.get("next"),
        purpose=pending.get("purpose", "login"),
        started=int(pending["started"]),
    )


def fetch_esia_person(code: str | None) -> EsiaPerson:
    """Exchange the code and read the person's data from ESIA (network only, no database)."""
    if not code:
        raise esia_error("provider_error", "no_code")
    return esia_client().complete_login(code, url_for("auth.callback", _external=True))


# --- territories ----------------------------------------------------------------------------------


def _words(name: str) -> list[str]:
    return name.casefold().replace("ё", "е").split()


def _city_matches(territory: Territory, city: str) -> bool:
    """«городской округ город Уфа» and «городское поселение город Бирск» match «Уфа», «Бирск»."""
    words, wanted = _words(territory.name), _words(city)
    return bool(wanted) and (words == wanted or words[-len(wanted) :] == wanted)


def _district_matches(territory: Territory, area: str) -> bool:
    """«Бирский муниципальный район» matches «Бирский район» and «Бирский р-н»."""
    first, wanted = _words(territory.name), _words(area)
    return bool(first) and bool(wanted) and first[0] == wanted[0]


def _children(parent: Territory, *levels: TerritoryLevel) -> list[Territory]:
    return list(
        db.session.scalars(
            sa.select(Territory).where(
                Territory.parent_id == parent.id, Territory.level.in_(levels)
            )
        )
    )


def territory_for_address(address: EsiaAddress | None) -> Territory | None:
    """The deepest territory the address names (region → district/okrug → settlement).

    The region is matched by name; unknown region → None. Inside it, an `area` (municipal
    district) or a `city` (urban okrug) is looked for, then a settlement of the district by its
    city/settlement name. When only the region is known, the region is returned.
    """
    if address is None or not address.region:
        return None
    region = next(
        (
            t
            for t in db.session.scalars(
                sa.select(Territory).where(Territory.level == TerritoryLevel.REGION)
            )
            if _words(t.name) == _words(address.region)
        ),
        None,
    )
    if region is None:
        return None
    place = address.settlement or address.city
    if address.area:
        district = next(
            (
                t
                for t in _children(region, TerritoryLevel.MUNICIPAL_DISTRICT)
                if _district_matches(t, address.area)
            ),
            None,
        )
        if district is None:
            return region
        settlement = next(
            (
                t
                for t in _children(district, TerritoryLevel.SETTLEMENT)
                if place and _city_matches(t, place)
            ),
            None,
        )
        return settlement or district
    if address.city:
        okrug = next(
            (
                t
                for t in _children(
                    region, TerritoryLevel.URBAN_OKRUG, TerritoryLevel.MUNICIPAL_DISTRICT
                )
                if _city_matches(t, address.city)
            ),
            None,
        )
        return okrug or region
    return region


# --- users ----------------------------------------------------------------------------------------


def _apply_person(user: User, person: EsiaPerson) -> None:
    """Copy what ESIA said into the user; data of scopes not granted is left as it was."""
    scopes = person.scopes
    user.account_level = person.account_level
    if "fullname" in scopes:
        user.last_name = person.last_name or user.last_name
        user.first_name = person.first_name or user.first_name
        user.middle_name = person.middle_name
    if "birthdate" in scopes:
        user.birth_date = person.birth_date
    if "gender" in scopes:
        user.gender = person.gender
    if scopes & {"email", "contacts"}:
        user.email = person.email
    if scopes & {"mobile", "contacts"}:
        user.phone = person.phone
    if "addresses" in scopes:
        address = person.registration_address
        user.registration_address = address.text if address else None
        user.registration_territory = territory_for_address(address)
    if "usr_org" in scopes:
        if person.legal_entity_name:
            user.kind = UserKind.LEGAL_REP
            user.legal_entity_name = person.legal_entity_name
            user.legal_entity_ogrn = person.legal_entity_ogrn
        else:
            user.kind = UserKind.PERSON
            user.legal_entity_name = user.legal_entity_ogrn = None
    user.esia_synced_at = utcnow()


def user_by_esia_oid(oid: str) -> User | None:
    """The platform user linked to this ESIA account, if any."""
    return db.session.scalar(sa.select(User).where(User.esia_oid == oid))


def sync_user_from_esia(person: EsiaPerson) -> User:
    """Create or update the user for this ESIA account from the data ESIA gave."""
    user = user_by_esia_oid(person.oid)
    if user is not None and not user.is_active:
        raise esia_error("blocked", person.oid)
    if user is None:
        if not person.last_name or not person.first_name:
            raise esia_error("person_data", "fullname")
        try:
            with db.session.begin_nested():
                user = User(esia_oid=person.oid, kind=UserKind.PERSON)
                _apply_person(user, person)
                db.session.add(user)
            return user
        except IntegrityError:
            # The same person finished a login in another tab a moment ago: use that row.
            user = user_by_esia_oid(person.oid)
            if user is None:
                raise
    _apply_person(user, person)
    db.session.flush()
    return user


def login_from_esia(person: EsiaPerson) -> User:
    """Create or update the user from ESIA data, stamp the login and audit it (caller commits)."""
    user = sync_user_from_esia(person)
    user.last_login_at = utcnow()
    audit.record(
        "auth.login",
        user,
        actor_id=user.id,
        via="esia",
        esia_oid=person.oid,
        account_level=str(user.account_level),
    )
    db.session.flush()
    return user


def record_failed_login(error: EsiaError, **details: Any) -> None:
    """Audit a refused login with its reason (the caller commits; nothing else is stored)."""
    audit.record("auth.login_failed", object_type="esia", reason=error.reason, **details)
