"""Staff cabinet services: a person's organizations and the two readiness confirmations."""

from __future__ import annotations

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from participation.backoffice.permissions import can_confirm_ready, can_confirm_training
from participation.core import audit
from participation.core.db import utcnow
from participation.core.errors import FieldError
from participation.core.organizations import Organization
from participation.core.users import Membership, Role, User
from participation.extensions import db

READY = "ready"
TRAINING = "training"

# Which organization column records which confirmation, and its audit action.
_CONFIRMATIONS = {
    READY: (
        Organization.ready_confirmed_at,
        Organization.ready_confirmed_by_id,
        "organization.ready_confirmed",
    ),
    TRAINING: (
        Organization.training_confirmed_at,
        Organization.training_confirmed_by_id,
        "organization.training_confirmed",
    ),
}


def staff_organizations(user: User) -> list[Organization]:
    """Organizations where `user` holds at least one role, by name."""
    member_of = sa.select(Membership.organization_id).where(Membership.user_id == user.id)
    query = (
        sa.select(Organization)
        .where(Organization.id.in_(member_of))
        .order_by(Organization.name, Organization.id)
    )
    return list(db.session.scalars(query))


def roles_of(user: User, organization: Organization) -> list[Role]:
    """The roles `user` holds in `organization`, in the order of the Role list."""
    held = user.roles_in(organization.id)
    return [role for role in Role if role in held]


def pending_confirmations(organization: Organization) -> list[str]:
    """The confirmations the organization still lacks: READY, TRAINING or both."""
    pending = []
    if organization.ready_confirmed_at is None:
        pending.append(READY)
    if organization.training_confirmed_at is None:
        pending.append(TRAINING)
    return pending


def _stamp(organization: Organization, which: str, user: User) -> bool:
    at, by, action = _CONFIRMATIONS[which]
    # A conditional UPDATE: of two people confirming at once, only the first is recorded.
    result = db.session.execute(
        sa.update(Organization)
        .where(Organization.id == organization.id, at.is_(None))
        .values({at: utcnow(), by: user.id})
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        return False
    audit.record(action, organization, actor_id=user.id)
    return True


def confirm_organization(
    organization: Organization, user: User, *, ready: bool, training: bool
) -> set[str]:
    """Record the confirmations `user` ticked; returns those newly given (audited)."""
    pending = pending_confirmations(organization)
    if not pending:
        return set()
    if ready and READY in pending and not can_confirm_ready(user, organization):
        raise FieldError(
            READY, _l("Готовность ЛКО к работе подтверждает администратор организации.")
        )
    if training and TRAINING in pending and not can_confirm_training(user, organization):
        raise FieldError(TRAINING, _l("Вы не сотрудник этой организации."))
    wanted = [w for w, ticked in ((READY, ready), (TRAINING, training)) if ticked and w in pending]
    if not wanted:
        field = TRAINING if TRAINING in pending else READY
        raise FieldError(field, _l("Отметьте пункт, который вы подтверждаете."))
    given = {which for which in wanted if _stamp(organization, which, user)}
    db.session.flush()
    db.session.refresh(organization)
    return given
