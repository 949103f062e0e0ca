"""Who may see a message and which workflow actions they may take on it now."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from participation.appeals.models import AnswerStatus, Appeal, AppealAnswer, AppealHandoff
from participation.appeals.workflow import WORKFLOW, Action, Actor, AppealState
from participation.core.cache import Cached
from participation.core.organizations import Organization, OrganizationKind
from participation.core.users import Role
from participation.extensions import db

# Roles that see every message of their organization; an executor sees only assigned ones,
# an operator (приём по телефону) the ones they entered.
ORG_WIDE_ROLES = frozenset({Role.MODERATOR, Role.COORDINATOR, Role.HEAD, Role.CURATOR})
APPEAL_ROLES = (Role.MODERATOR, Role.COORDINATOR, Role.HEAD, Role.EXECUTOR, Role.CURATOR)
# How many times the author may send an answer back for rework.
MAX_REWORKS = 1


def _authenticated(user: Any) -> bool:
    return bool(getattr(user, "is_authenticated", False))


def is_author(user: Any, appeal: Appeal) -> bool:
    return _authenticated(user) and appeal.author_id is not None and appeal.author_id == user.id


def acting_roles(user: Any, appeal: Appeal, organization: Organization | None) -> list[Any]:
    """The user's roles that count on this message now, most specific first.

    Staff roles count only in the organization that holds the message, and only when that is
    the organization the person is working in; an executor counts only if assigned.
    """
    roles: list[Any] = []
    if is_author(user, appeal):
        roles.append(Actor.AUTHOR)
    if (
        _authenticated(user)
        and organization is not None
        and organization.id == appeal.holder_organization_id
    ):
        held = user.roles_in(organization.id)
        for role in (Role.MODERATOR, Role.COORDINATOR, Role.EXECUTOR, Role.HEAD):
            if role not in held:
                continue
            if role == Role.EXECUTOR and appeal.executor_id != user.id:
                continue
            roles.append(role)
    return roles


def available_actions(user: Any, appeal: Appeal, organization: Organization | None) -> list[Action]:
    """Actions from the workflow table this user may take on this message now."""
    actions = WORKFLOW.actions(appeal.state, acting_roles(user, appeal, organization))
    if Action.RETURN_FOR_REWORK in actions and appeal.rework_count >= MAX_REWORKS:
        actions.remove(Action.RETURN_FOR_REWORK)
    return actions


def can_act(user: Any, appeal: Appeal, organization: Organization | None, action: Action) -> bool:
    return action in available_actions(user, appeal, organization)


def can_register_in_sed(user: Any, appeal: Appeal, organization: Organization | None) -> bool:
    """The organization holding the message registers it in its own СЭД: those who may act on
    it there (coordinator, head, the assigned executor), while it is not closed."""
    staff = {Role.COORDINATOR, Role.HEAD, Role.EXECUTOR}
    return not appeal.is_final and any(r in staff for r in acting_roles(user, appeal, organization))


def can_rate(user: Any, appeal: Appeal) -> bool:
    """The author, once, while the answer waits for a rating."""
    return is_author(user, appeal) and appeal.state == AppealState.ANSWERED


def can_return_for_rework(user: Any, appeal: Appeal) -> bool:
    """Not for a duplicate answered with its main message: one answer, rated by each author."""
    return (
        can_rate(user, appeal)
        and appeal.rework_count < MAX_REWORKS
        and appeal.merged_into_id is None
    )


def can_view_own(user: Any, appeal: Appeal) -> bool:
    """A resident sees only their own messages."""
    return is_author(user, appeal)


def _load_children(session) -> dict[int, tuple[int, ...]]:
    children: dict[int, list[int]] = {}
    for org_id, parent_id in session.execute(
        sa.select(Organization.id, Organization.parent_id).where(
            Organization.parent_id.is_not(None)
        )
    ):
        children.setdefault(parent_id, []).append(org_id)
    return {parent: tuple(ids) for parent, ids in children.items()}


# The organizations' tree, kept per process (core.cache): every staff page asks for it.
_CHILDREN = Cached("organizations.children", _load_children, watch=(Organization,))


def subtree_ids(organization: Organization) -> set[int]:
    """The organization and every organization below it."""
    children = _CHILDREN.get(db.session)
    found, stack = {organization.id}, [organization.id]
    while stack:
        for child in children.get(stack.pop(), ()):
            if child not in found:
                found.add(child)
                stack.append(child)
    return found


def _involved(appeal: Appeal, organization: Organization) -> bool:
    if organization.id in (appeal.holder_organization_id, appeal.executor_organization_id):
        return True
    return (
        db.session.scalar(
            sa.select(AppealHandoff.id)
            .where(
                AppealHandoff.appeal_id == appeal.id,
                sa.or_(
                    AppealHandoff.from_organization_id == organization.id,
                    AppealHandoff.to_organization_id == organization.id,
                ),
            )
            .limit(1)
        )
        is not None
    )


def _curates(appeal: Appeal, organization: Organization) -> bool:
    if organization.kind in (OrganizationKind.REGIONAL_CENTRE, OrganizationKind.OPERATOR):
        return organization.kind == OrganizationKind.OPERATOR or (
            appeal.region_id == organization.territory_id
        )
    ids = subtree_ids(organization)
    return appeal.holder_organization_id in ids or appeal.executor_organization_id in ids


def can_view_as_staff(user: Any, appeal: Appeal, organization: Organization | None) -> bool:
    """Staff of an organization that holds, answers or handled the message; executors only
    when assigned; curators over their organization's tree (a ЦУР over its region)."""
    if not _authenticated(user) or organization is None:
        return False
    held = user.roles_in(organization.id)
    if not held:
        return False
    if Role.CURATOR in held and _curates(appeal, organization):
        return True
    if held & ORG_WIDE_ROLES and _involved(appeal, organization):
        return True
    if (
        Role.EXECUTOR in held
        and appeal.executor_id == user.id
        and organization.id in (appeal.holder_organization_id, appeal.executor_organization_id)
    ):
        return True
    if Role.OPERATOR in held and appeal.submitted_by_id == user.id:
        return True
    return _reviews(user, appeal, organization)


def _reviews(user: Any, appeal: Appeal, organization: Organization) -> bool:
    """Whoever may see the review a low rating opened (№ 10) may see the rated message (№ 9):
    the reviewer needs the answer, the rating and the files to judge them."""
    review = db.session.scalar(sa.select(Appeal).where(Appeal.review_of_id == appeal.id))
    return review is not None and can_view_as_staff(user, review, organization)


def sees_only_assigned(user: Any, organization: Organization) -> bool:
    """An executor without an organization-wide role sees only messages assigned to them."""
    held = user.roles_in(organization.id)
    return not (held & ORG_WIDE_ROLES)


def can_view_appeal_files(user: Any, appeal_id: str) -> bool:
    """Files attached to the message: its author, and staff who may see the message."""
    appeal = db.session.get(Appeal, int(appeal_id)) if appeal_id.isdigit() else None
    if appeal is None:
        return False
    if is_author(user, appeal):
        return True
    return _staff_sees(user, appeal)


def can_view_answer_files(user: Any, answer_id: str) -> bool:
    """Files of an answer: staff who may see the message; the author once it is approved."""
    answer = db.session.get(AppealAnswer, int(answer_id)) if answer_id.isdigit() else None
    if answer is None:
        return False
    appeal = db.session.get(Appeal, answer.appeal_id)
    if is_author(user, appeal) or _follows_answered(user, appeal):
        return answer.status == AnswerStatus.APPROVED
    return _staff_sees(user, appeal)


def _follows_answered(user: Any, appeal: Appeal) -> bool:
    """The author of a duplicate that received this message's answer (joined or merged)."""
    return _authenticated(user) and (
        db.session.scalar(
            sa.select(Appeal.id)
            .where(
                Appeal.merged_into_id == appeal.id,
                Appeal.author_id == user.id,
                Appeal.state != AppealState.MERGED,
            )
            .limit(1)
        )
        is not None
    )


def _staff_sees(user: Any, appeal: Appeal) -> bool:
    if not _authenticated(user) or not user.is_staff:
        return False
    return any(can_view_as_staff(user, appeal, org) for org in user.organizations())
