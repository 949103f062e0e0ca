"""Staff administration: list an organization's staff, add people, add and remove roles."""

from __future__ import annotations

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import IntegrityError

from participation.admin.permissions import role_refusal
from participation.appeals.models import Appeal
from participation.appeals.workflow import OPEN_STATES
from participation.core import audit
from participation.core.errors import DomainError, FieldError
from participation.core.labels import role_label
from participation.core.organizations import Organization
from participation.core.users import Membership, Role, User, UserKind
from participation.extensions import db


def staff_query(organization: Organization) -> sa.Select:
    """People holding any role in `organization`, by name (to pass to paginate()).

    API keys' technical members are left out: their roles follow the key's scopes and are
    managed on the «API-ключи» page only.
    """
    members = sa.select(Membership.user_id).where(Membership.organization_id == organization.id)
    return (
        sa.select(User)
        .where(User.id.in_(members), User.kind != UserKind.TECHNICAL)
        .order_by(User.last_name, User.first_name, User.middle_name, User.id)
    )


def memberships_by_user(
    organization: Organization, user_ids: list[int]
) -> dict[int, list[Membership]]:
    """The listed people's memberships in `organization`, in the order of the Role list."""
    result: dict[int, list[Membership]] = {user_id: [] for user_id in user_ids}
    if not user_ids:
        return result
    rows = db.session.scalars(
        sa.select(Membership).where(
            Membership.organization_id == organization.id, Membership.user_id.in_(user_ids)
        )
    )
    order = list(Role)
    for membership in sorted(rows, key=lambda m: order.index(m.role)):
        result[membership.user_id].append(membership)
    return result


def staff_member(organization: Organization, user_id: int) -> User | None:
    """The person with this id if they hold a role in `organization`, else None (also for an
    API key's technical member: its roles are not edited here)."""
    is_member = sa.exists().where(
        Membership.user_id == User.id, Membership.organization_id == organization.id
    )
    return db.session.scalar(
        sa.select(User).where(User.id == user_id, User.kind != UserKind.TECHNICAL, is_member)
    )


def find_user(identifier: str) -> User:
    """The registered person with this ESIA OID or e-mail (FieldError "identifier" otherwise)."""
    identifier = identifier.strip()
    if "@" in identifier:
        users = list(
            db.session.scalars(
                sa.select(User).where(sa.func.lower(User.email) == identifier.lower()).limit(2)
            )
        )
        if len(users) > 1:
            raise FieldError(
                "identifier",
                _l("Этот адрес указан у нескольких пользователей. Укажите OID ЕСИА сотрудника."),
            )
    else:
        users = list(db.session.scalars(sa.select(User).where(User.esia_oid == identifier)))
    if not users:
        raise FieldError(
            "identifier",
            _l(
                "Пользователь не найден. Сотрудник должен хотя бы раз войти на платформу "
                "через Госуслуги; проверьте OID ЕСИА или адрес электронной почты."
            ),
        )
    if not users[0].is_active:
        raise FieldError("identifier", _l("Учётная запись этого пользователя отключена."))
    return users[0]


def add_role(organization: Organization, user: User, role: Role, actor: User) -> Membership:
    """Give `user` the `role` in `organization`; the unique constraint refuses a duplicate,
    and a role `actor` cannot grant there (role_refusal) is refused next to the field."""
    refusal = role_refusal(actor, organization, role)
    if refusal:
        raise FieldError("role", refusal)
    membership = Membership(user_id=user.id, organization_id=organization.id, role=role)
    try:
        with db.session.begin_nested():
            db.session.add(membership)
    except IntegrityError:
        exists = db.session.scalar(
            sa.select(Membership.id).where(
                Membership.user_id == user.id,
                Membership.organization_id == organization.id,
                Membership.role == role,
            )
        )
        if exists is None:
            raise
        raise FieldError(
            "role",
            _l(
                "У сотрудника %(name)s уже есть роль «%(role)s» в этой организации.",
                name=user.full_name,
                role=role_label(role),
            ),
        ) from None
    db.session.expire(user, ["memberships"])
    audit.record(
        "staff.role_added",
        membership,
        actor_id=actor.id,
        organization_id=organization.id,
        user_id=user.id,
        role=role.value,
    )
    return membership


def add_staff(organization: Organization, identifier: str, role: Role, actor: User) -> Membership:
    """Find a registered person by ESIA OID or e-mail and give them a role in `organization`."""
    return add_role(organization, find_user(identifier), role, actor)


def _open_assigned_query(organization: Organization, user: User) -> sa.Select:
    return sa.select(Appeal).where(
        Appeal.executor_id == user.id,
        Appeal.holder_organization_id == organization.id,
        Appeal.state.in_(OPEN_STATES),
    )


def open_assigned(organization: Organization, user: User) -> list[Appeal]:
    """Open messages of `organization` assigned to `user`, oldest first."""
    return list(db.session.scalars(_open_assigned_query(organization, user).order_by(Appeal.id)))


def open_assigned_count(organization: Organization, user: User) -> int:
    query = _open_assigned_query(organization, user).with_only_columns(sa.func.count(Appeal.id))
    return db.session.scalar(query.order_by(None)) or 0


def refuse_while_assigned(organization: Organization, user: User, *, role_only: bool = False):
    """DomainError (in Russian, with the count) while open messages are assigned to `user`:
    neither the person nor their executor role (`role_only`) may go before the messages."""
    count = open_assigned_count(organization, user)
    if count and role_only:
        raise DomainError(
            _l(
                "Нельзя снять роль «Исполнитель» с сотрудника %(name)s: за ним закреплены "
                "открытые сообщения (%(num)d). Сначала передайте их другому исполнителю.",
                name=user.full_name,
                num=count,
            )
        )
    if count:
        raise DomainError(
            _l(
                "Нельзя удалить сотрудника %(name)s: за ним закреплены открытые сообщения "
                "(%(num)d). Сначала передайте их другому исполнителю.",
                name=user.full_name,
                num=count,
            )
        )


def remove_role(membership: Membership, actor: User) -> None:
    """Take a role away; an organization always keeps at least one administrator, and an
    executor keeps the role while open messages are assigned to them."""
    if membership.role == Role.EXECUTOR:
        refuse_while_assigned(membership.organization, membership.user, role_only=True)
    if membership.role == Role.ADMINISTRATOR:
        # Lock the organization's administrator rows: two administrators removing each other
        # at the same moment must not leave the organization without one.
        admin_ids = list(
            db.session.scalars(
                sa.select(Membership.id)
                .where(
                    Membership.organization_id == membership.organization_id,
                    Membership.role == Role.ADMINISTRATOR,
                )
                .with_for_update()
            )
        )
        if admin_ids == [membership.id] or not admin_ids:
            if membership.user_id == actor.id:
                raise DomainError(
                    _l(
                        "Нельзя снять с себя роль администратора: вы единственный администратор "
                        "организации. Сначала назначьте администратором другого сотрудника."
                    )
                )
            raise DomainError(_l("В организации должен остаться хотя бы один администратор."))
    audit.record(
        "staff.role_removed",
        membership,
        actor_id=actor.id,
        organization_id=membership.organization_id,
        user_id=membership.user_id,
        role=membership.role.value,
    )
    user = membership.user
    db.session.delete(membership)
    db.session.flush()
    db.session.expire(user, ["memberships"])
