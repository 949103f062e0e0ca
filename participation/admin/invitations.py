"""Staff invitations: invite by e-mail with roles, re-send, revoke, accept after ESIA login.

The link carries a random secret; only its SHA-256 is stored (core/tokens.py), and a re-send
replaces it, so the earlier link stops working. Accepting is one UPDATE … WHERE status is
'pending' and the link has not expired: of two simultaneous acceptances one wins, the other
is told the link was used. A person whose ESIA name differs from the invited one is warned;
the invitation then waits for an administrator's confirmation before any role is granted.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from participation.admin.models import OPEN_STATUSES, InvitationStatus, StaffInvitation
from participation.admin.permissions import role_refusal
from participation.core import audit
from participation.core.db import insert_unless_present, utcnow
from participation.core.errors import DomainError, FieldError
from participation.core.i18n import local_datetime
from participation.core.labels import role_label
from participation.core.organizations import Organization
from participation.core.outbox import notify
from participation.core.tokens import new_token, token_hash
from participation.core.users import Membership, Role, User
from participation.extensions import db


class InvitationUnusable(DomainError):
    """The link cannot be used (unknown, expired, used, revoked): the page says why."""


def _ttl() -> timedelta:
    return timedelta(days=current_app.config["STAFF_INVITATION_DAYS"])


def _ordered(roles: list[Role]) -> list[str]:
    order = list(Role)
    return [r.value for r in sorted(set(roles), key=order.index)]


def check_grantable(actor: User, organization: Organization, roles: list[Role]) -> None:
    """FieldError "roles" unless `actor` may grant every one of `roles` in `organization`."""
    if not roles:
        raise FieldError("roles", _l("Выберите хотя бы одну роль."))
    for role in roles:
        refusal = role_refusal(actor, organization, role)
        if refusal:
            raise FieldError("roles", refusal)


def open_invitations(organization: Organization) -> list[StaffInvitation]:
    """Invitations still waiting (for the invitee, or for an administrator), newest first."""
    return list(
        db.session.scalars(
            sa.select(StaffInvitation)
            .where(
                StaffInvitation.organization_id == organization.id,
                StaffInvitation.status.in_(OPEN_STATUSES),
            )
            .order_by(StaffInvitation.created_at.desc(), StaffInvitation.id.desc())
        )
    )


def invitation_of(organization: Organization, invitation_id: int) -> StaffInvitation | None:
    """The invitation if it belongs to `organization` (None for another's: the view says 404)."""
    invitation = db.session.get(StaffInvitation, invitation_id)
    if invitation is None or invitation.organization_id != organization.id:
        return None
    return invitation


def invite(
    organization: Organization,
    actor: User,
    *,
    email: str,
    last_name: str,
    first_name: str,
    middle_name: str | None,
    roles: list[Role],
) -> StaffInvitation:
    """Create the invitation and queue its letter (sent after the commit)."""
    check_grantable(actor, organization, roles)
    email = email.strip()
    duplicate = db.session.scalar(
        sa.select(StaffInvitation.id).where(
            StaffInvitation.organization_id == organization.id,
            sa.func.lower(StaffInvitation.email) == email.lower(),
            StaffInvitation.status == InvitationStatus.PENDING,
            StaffInvitation.expires_at > utcnow(),
        )
    )
    if duplicate is not None:
        raise FieldError(
            "email",
            _l(
                "На этот адрес уже отправлено действующее приглашение. Отправьте его повторно "
                "или отзовите в списке приглашений."
            ),
        )
    raw = new_token()
    invitation = StaffInvitation(
        organization_id=organization.id,
        organization=organization,
        email=email,
        last_name=last_name.strip(),
        first_name=first_name.strip(),
        middle_name=(middle_name or "").strip() or None,
        roles=_ordered(roles),
        token_hash=token_hash(raw),
        expires_at=utcnow() + _ttl(),
        invited_by_id=actor.id,
    )
    db.session.add(invitation)
    db.session.flush()
    audit.record(
        "staff.invitation_sent",
        invitation,
        actor_id=actor.id,
        organization_id=organization.id,
        email=email,
        roles=invitation.roles,
    )
    _send(invitation, raw)
    return invitation


def resend(invitation: StaffInvitation, actor: User) -> None:
    """A new link (the old one stops working) with a fresh term, and a new letter."""
    if invitation.status != InvitationStatus.PENDING:
        raise DomainError(
            _l("Повторно отправить можно только приглашение, которое ещё не принято.")
        )
    raw = new_token()
    invitation.token_hash = token_hash(raw)
    invitation.expires_at = utcnow() + _ttl()
    invitation.sent_count += 1
    db.session.flush()
    audit.record(
        "staff.invitation_resent",
        invitation,
        actor_id=actor.id,
        organization_id=invitation.organization_id,
        email=invitation.email,
        sent_count=invitation.sent_count,
    )
    _send(invitation, raw)


def revoke(invitation: StaffInvitation, actor: User) -> None:
    """Withdraw an invitation that has not been accepted yet; its link stops working."""
    if invitation.status not in OPEN_STATUSES:
        raise DomainError(_l("Это приглашение уже принято или отозвано."))
    before = invitation.status
    invitation.status = InvitationStatus.REVOKED
    invitation.decided_by_id = actor.id
    invitation.decided_at = utcnow()
    audit.record(
        "staff.invitation_revoked",
        invitation,
        actor_id=actor.id,
        organization_id=invitation.organization_id,
        email=invitation.email,
        previous_status=before.value,
    )


def _send(invitation: StaffInvitation, raw: str) -> None:
    organization = invitation.organization
    # Built by hand (as the appeals' rating link): sweeps and `flask demo seed` have no request.
    link = f"{current_app.config['PUBLIC_BASE_URL'].rstrip('/')}/invitations/{raw}"
    roles = ", ".join(role_label(r) for r in invitation.role_list)
    zone = organization.territory.timezone
    body = _(
        "Здравствуйте, %(name)s!\n\n"
        "Администратор организации «%(organization)s» приглашает вас работать на платформе "
        "обратной связи с ролями: %(roles)s.\n\n"
        "Чтобы принять приглашение, откройте ссылку и войдите через Госуслуги. Ссылка "
        "действует до %(until)s и только один раз. Если вы не ждали этого письма, "
        "просто не открывайте ссылку.",
        name=invitation.full_name,
        organization=organization.name,
        roles=roles,
        until=local_datetime(invitation.expires_at, zone),
    )
    notify(
        None,
        f"staff-invitation:{invitation.id}:{invitation.sent_count}",
        _("Приглашение в личный кабинет организации «%(name)s»", name=organization.display_name),
        body,
        link=link,
        email=invitation.email,
        feed=False,
        timezone=zone,
    )


# --- the invitee's side ------------------------------------------------------------------------


def by_token(raw: str | None) -> StaffInvitation | None:
    if not raw or len(raw) > 100:
        return None
    return db.session.scalar(
        sa.select(StaffInvitation).where(StaffInvitation.token_hash == token_hash(raw))
    )


def refusal(invitation: StaffInvitation | None, now: datetime | None = None) -> str | None:
    """Why this link cannot be accepted (a Russian sentence), None if it can."""
    now = now or utcnow()
    if invitation is None:
        return _(
            "Ссылка приглашения недействительна: возможно, администратор отправил приглашение "
            "повторно и эта ссылка больше не работает. Попросите администратора организации "
            "прислать новое приглашение."
        )
    if invitation.status == InvitationStatus.REVOKED:
        return _("Приглашение отозвано администратором организации. Роли не выданы.")
    if invitation.status in (InvitationStatus.ACCEPTED, InvitationStatus.AWAITING_CONFIRMATION):
        return _(
            "Эта ссылка уже использована: приглашение принято. Повторно по ней войти в "
            "организацию нельзя."
        )
    if invitation.expires_at <= now:
        return _(
            "Срок действия приглашения истёк. Попросите администратора организации отправить "
            "приглашение повторно."
        )
    return None


def _norm(value: str | None) -> str:
    return " ".join((value or "").replace("ё", "е").replace("Ё", "Е").split()).casefold()


def name_matches(invitation: StaffInvitation, user: User) -> bool:
    """The ESIA name equals the invited one (case, spaces and ё/е aside)."""
    return all(
        _norm(a) == _norm(b)
        for a, b in (
            (invitation.last_name, user.last_name),
            (invitation.first_name, user.first_name),
            (invitation.middle_name, user.middle_name),
        )
    )


def accept(raw: str, user: User) -> StaffInvitation:
    """Bind the invitation to `user` (the ESIA identity that opened the link).

    The same name: the roles are granted now. Another name: it waits for an administrator.
    Raises InvitationUnusable (nothing changed) for an unknown, expired, used or revoked link.
    """
    invitation = by_token(raw)
    reason = refusal(invitation)
    if reason:
        raise InvitationUnusable(reason)
    matches = name_matches(invitation, user)
    now = utcnow()
    target = InvitationStatus.ACCEPTED if matches else InvitationStatus.AWAITING_CONFIRMATION
    claimed = db.session.execute(
        sa.update(StaffInvitation)
        .where(
            StaffInvitation.id == invitation.id,
            StaffInvitation.token_hash == token_hash(raw),
            StaffInvitation.status == InvitationStatus.PENDING,
            StaffInvitation.expires_at > now,
        )
        .values(status=target, accepted_by_id=user.id, accepted_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    db.session.expire(invitation)
    if claimed != 1:  # someone else was faster, or it was revoked / re-sent meanwhile
        raise InvitationUnusable(refusal(by_token(raw), now) or refusal(None))
    audit.record(
        "staff.invitation_accepted",
        invitation,
        actor_id=user.id,
        organization_id=invitation.organization_id,
        user_id=user.id,
        name_matches=matches,
        esia_name=user.full_name,
        invited_name=invitation.full_name,
    )
    if matches:
        _grant(invitation, user, actor=user)
    return invitation


def confirm(invitation: StaffInvitation, actor: User) -> None:
    """An administrator accepts the person whose ESIA name differed: the roles are granted."""
    _decide(invitation, actor, InvitationStatus.ACCEPTED)
    audit.record(
        "staff.invitation_confirmed",
        invitation,
        actor_id=actor.id,
        organization_id=invitation.organization_id,
        user_id=invitation.accepted_by_id,
    )
    _grant(invitation, invitation.accepted_by, actor=actor)


def decline(invitation: StaffInvitation, actor: User) -> None:
    """An administrator refuses the person whose ESIA name differed: nothing is granted."""
    _decide(invitation, actor, InvitationStatus.REVOKED)
    audit.record(
        "staff.invitation_declined",
        invitation,
        actor_id=actor.id,
        organization_id=invitation.organization_id,
        user_id=invitation.accepted_by_id,
    )


def _decide(invitation: StaffInvitation, actor: User, target: InvitationStatus) -> None:
    decided = db.session.execute(
        sa.update(StaffInvitation)
        .where(
            StaffInvitation.id == invitation.id,
            StaffInvitation.status == InvitationStatus.AWAITING_CONFIRMATION,
        )
        .values(status=target, decided_by_id=actor.id, decided_at=utcnow())
        .execution_options(synchronize_session=False)
    ).rowcount
    db.session.expire(invitation)
    if decided != 1:
        raise DomainError(_l("Это приглашение не ждёт подтверждения администратора."))


def _grant(invitation: StaffInvitation, user: User, *, actor: User) -> None:
    """Give `user` the invited roles they do not hold yet, each with its audit entry. The
    unique constraint decides: a role granted meanwhile (by hand, at the same moment) is
    skipped, not a failed page."""
    insert = insert_unless_present(
        Membership.__table__,
        ("user_id", "organization_id", "role"),
        Membership.id,
        db.session.get_bind().dialect.name,
    )
    for role in invitation.role_list:
        values = {"user_id": user.id, "organization_id": invitation.organization_id, "role": role}
        membership_id = db.session.scalar(insert, values)
        if membership_id is None:
            continue  # held already
        audit.record(
            "staff.role_added",
            actor_id=actor.id,
            object_type=Membership.__tablename__,
            object_id=membership_id,
            organization_id=invitation.organization_id,
            user_id=user.id,
            role=role.value,
            invitation_id=invitation.id,
        )
    db.session.expire(user, ["memberships"])
