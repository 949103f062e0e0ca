"""A staff member leaves: their open messages go to another executor first, then they go.

A member (or their executor role) cannot be removed while open messages of the organization
are assigned to them (Appeal.executor_id): the refusal says how many. The administrator hands
them all to another executor at once; each goes through the workflow's «Переназначить
исполнителя» action, so each message's history shows who took it over and why.
"""

from __future__ import annotations

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from participation.admin.services import (
    memberships_by_user,
    open_assigned,
    refuse_while_assigned,
    remove_role,
)
from participation.appeals.models import Appeal
from participation.appeals.services.transitions import transition
from participation.appeals.workflow import OPEN_STATES, Action
from participation.core import audit
from participation.core.errors import FieldError
from participation.core.organizations import Organization
from participation.core.users import Membership, Role, User
from participation.extensions import db


def successors(organization: Organization, member: User) -> list[User]:
    """Executors of the organization who may take the member's messages over."""
    return list(
        db.session.scalars(
            sa.select(User)
            .join(Membership, Membership.user_id == User.id)
            .where(
                Membership.organization_id == organization.id,
                Membership.role == Role.EXECUTOR,
                User.id != member.id,
                User.is_active_account.is_(True),
            )
            .order_by(User.last_name, User.first_name, User.id)
        )
    )


def reassign_all(
    organization: Organization, member: User, successor_id: int | None, actor: User
) -> int:
    """Give every open message assigned to `member` to the executor `successor_id`.

    Each goes through the workflow's REASSIGN action (an administrator acts here as the
    organization's coordinator would). Returns how many were handed over.
    """
    successor = next((u for u in successors(organization, member) if u.id == successor_id), None)
    if successor is None:
        raise FieldError(
            "successor_id", _l("Выберите исполнителя организации, которому передать сообщения.")
        )
    moved = 0
    for appeal in open_assigned(organization, member):
        if db.session.get_bind().dialect.name == "postgresql":
            db.session.refresh(appeal, with_for_update=True)
        if appeal.executor_id != member.id or appeal.state not in OPEN_STATES:
            continue  # someone else moved it meanwhile

        def effect(a: Appeal) -> None:
            a.executor_id = successor.id
            a.executor = successor

        transition(
            appeal,
            Action.REASSIGN,
            actor,
            comment=str(
                _l(
                    "Сотрудник %(name)s уходит из организации: сообщение передано другому "
                    "исполнителю.",
                    name=member.full_name,
                )
            ),
            details={
                "from_executor_id": member.id,
                "executor_id": successor.id,
                "staff_leaving": True,
            },
            effect=effect,
            returned_from=appeal.returned_from,
            # A trusted caller: the administrator hands the messages over as a coordinator.
            roles=[Role.COORDINATOR],
        )
        moved += 1
    audit.record(
        "staff.messages_reassigned",
        member,
        actor_id=actor.id,
        organization_id=organization.id,
        user_id=member.id,
        successor_id=successor.id,
        count=moved,
    )
    return moved


def remove_member(organization: Organization, member: User, actor: User) -> None:
    """Take every role of `member` in `organization`; refused while messages are assigned."""
    refuse_while_assigned(organization, member)
    roles = memberships_by_user(organization, [member.id])[member.id]
    for membership in roles:
        remove_role(membership, actor)
    audit.record(
        "staff.member_removed",
        member,
        actor_id=actor.id,
        organization_id=organization.id,
        user_id=member.id,
        roles=[m.role.value for m in roles],
    )
