"""Organization administration: staff and roles; the organization's public profile."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import IO
from urllib.parse import urlsplit

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import IntegrityError

from participation.admin.permissions import role_refusal
from participation.appeals.models import Appeal
from participation.appeals.workflow import OPEN_STATES
from participation.core import audit
from participation.core.errors import DomainError, FieldError
from participation.core.files import Attachment, delete_attachment, store_image
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


def open_assigned(organization: Organization, user: User, limit: int | None = None) -> list[Appeal]:
    """Open messages of `organization` assigned to `user`, oldest first (the first `limit`)."""
    query = _open_assigned_query(organization, user).order_by(Appeal.id).limit(limit)
    return list(db.session.scalars(query))


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


# --- the organization's profile ----------------------------------------------------------------

LOGO_OBJECT = "organization_logo"  # attachments' attached_to_type of logos
LOGO_MAX_BYTES = 2**20  # 1 МБ: a logo is shown small; the general upload limit may be larger
LOGO_MAX_PIXELS = 4000 * 4000
SOCIAL_LINKS_MAX = 6
HOURS_MAX_LENGTH = 500
HOURS_MAX_LINES = 12
URL_MAX_LENGTH = 300
_PHONE = re.compile(r"\+?[0-9(][0-9 ()\-]*[0-9]")
_EMAIL = re.compile(
    r"[^@\s<>()\[\],;:\"\\]+@(?:[^@\s<>()\[\],;:\"\\.]+\.)+[^@\s<>()\[\],;:\"\\.]{2,}"
)
_HOST_LABEL = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")


@dataclass(frozen=True)
class ProfileData:
    """What the administrator typed into the profile form (checked by `check_profile`)."""

    name: str | None
    short_name: str | None = None
    address: str | None = None
    phone: str | None = None
    email: str | None = None
    website: str | None = None
    social_links: str | list[str] | None = None  # one address per line, or a list
    working_hours: str | None = None


def _one_line(value: str | None) -> str | None:
    return " ".join((value or "").split()) or None


def _too_long(field: str, value: str | None, limit: int) -> None:
    if value is not None and len(value) > limit:
        raise FieldError(field, _l("Не длиннее %(max)d символов.", max=limit))


def check_phone(raw: str | None) -> str | None:
    """The phone as typed, spaces tidied (FieldError "phone" unless it is a phone number)."""
    phone = _one_line(raw)
    if phone is None:
        return None
    digits = sum(ch.isdigit() for ch in phone)
    if len(phone) > 40 or not _PHONE.fullmatch(phone) or not 5 <= digits <= 15:
        raise FieldError(
            "phone",
            _l(
                "Укажите телефон цифрами (можно с «+», пробелами, скобками и дефисами), "
                "например +7 (347) 279-05-05."
            ),
        )
    return phone


def check_email(raw: str | None) -> str | None:
    """The e-mail address (FieldError "email" if it is not one)."""
    email = (raw or "").strip() or None
    if email is None:
        return None
    if len(email) > 254 or not _EMAIL.fullmatch(email):
        raise FieldError(
            "email", _l("Укажите адрес электронной почты, например priemnaya@ufacity.ru.")
        )
    return email


def _web_address(raw: str) -> str | None:
    """`raw` as an http(s) address (https:// added when no scheme is typed), else None."""
    if any(ch.isspace() for ch in raw) or len(raw) > URL_MAX_LENGTH:
        return None
    url = raw if "://" in raw else "https://" + raw
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - a bad port raises here
        host = (parts.hostname or "").rstrip(".")
        ascii_host = host.encode("idna").decode("ascii")  # уфа.рф → xn--…
    except (ValueError, UnicodeError):
        return None
    if parts.scheme not in {"http", "https"} or parts.username or parts.password:
        return None
    labels = ascii_host.split(".")
    if len(labels) < 2 or not all(_HOST_LABEL.fullmatch(label) for label in labels):
        return None
    return url


def check_website(raw: str | None) -> str | None:
    """The site's address (FieldError "website" if it is not a web address)."""
    raw = (raw or "").strip()
    if not raw:
        return None
    url = _web_address(raw)
    if url is None:
        raise FieldError(
            "website", _l("Укажите адрес сайта, например https://ufacity.ru (без пробелов).")
        )
    return url


def check_social_links(raw: str | list[str] | None) -> list[str]:
    """The official pages' addresses, one per line (FieldError "social_links" naming the line)."""
    lines = raw.splitlines() if isinstance(raw, str) else list(raw or [])
    links: list[str] = []
    for number, line in enumerate(lines, start=1):
        line = line.strip()
        if not line:
            continue
        url = _web_address(line)
        if url is None:
            raise FieldError(
                "social_links",
                _l(
                    "Строка %(n)d: укажите адрес страницы целиком, например https://vk.com/ufacity.",
                    n=number,
                ),
            )
        if url not in links:
            links.append(url)
    if len(links) > SOCIAL_LINKS_MAX:
        raise FieldError(
            "social_links",
            _l("Укажите не больше %(max)d официальных страниц.", max=SOCIAL_LINKS_MAX),
        )
    return links


def check_working_hours(raw: str | None) -> str | None:
    """Working hours as free text: lines kept, blank ones dropped, within the limits."""
    lines = [" ".join(line.split()) for line in (raw or "").splitlines()]
    lines = [line for line in lines if line]
    if not lines:
        return None
    hours = "\n".join(lines)
    if len(hours) > HOURS_MAX_LENGTH:
        raise FieldError("working_hours", _l("Не длиннее %(max)d символов.", max=HOURS_MAX_LENGTH))
    if len(lines) > HOURS_MAX_LINES:
        raise FieldError("working_hours", _l("Не больше %(max)d строк.", max=HOURS_MAX_LINES))
    return hours


def check_profile(data: ProfileData) -> ProfileData:
    """The profile checked and tidied; FieldError for the first field that is wrong."""
    name = _one_line(data.name)
    if name is None:
        raise FieldError("name", _l("Укажите полное наименование организации."))
    _too_long("name", name, 300)
    short_name = _one_line(data.short_name)
    _too_long("short_name", short_name, 120)
    address = _one_line(data.address)
    _too_long("address", address, 300)
    return ProfileData(
        name=name,
        short_name=short_name,
        address=address,
        phone=check_phone(data.phone),
        email=check_email(data.email),
        website=check_website(data.website),
        social_links=check_social_links(data.social_links),
        working_hours=check_working_hours(data.working_hours),
    )


PROFILE_FIELDS = (
    "name",
    "short_name",
    "address",
    "phone",
    "email",
    "website",
    "social_links",
    "working_hours",
)


def save_profile(
    organization: Organization,
    actor: User | None,
    data: ProfileData,
    *,
    logo: IO[bytes] | None = None,
    logo_name: str | None = None,
    remove_logo: bool = False,
) -> list[str]:
    """Check and store the organization's profile and logo; the names of what changed.

    All or nothing: any wrong field raises FieldError before anything is written, and a logo
    that fails its checks raises after (the caller rolls back, which also removes the file).
    """
    data = check_profile(data)
    actor_id = actor.id if actor is not None else None  # None: the demo seed
    changes: dict[str, dict[str, object]] = {}
    new_logo = None
    if logo is not None:
        new_logo = store_image(
            logo,
            logo_name,
            uploaded_by_id=actor_id,
            attached_to=(LOGO_OBJECT, organization.id),
            field="logo",
            max_bytes=LOGO_MAX_BYTES,
            max_pixels=LOGO_MAX_PIXELS,
        )
        db.session.flush()
    for field in PROFILE_FIELDS:
        old, new = getattr(organization, field), getattr(data, field)
        if field == "social_links":
            old = list(old or [])
        if old != new:
            changes[field] = {"from": old, "to": new}
            setattr(organization, field, new)
    old_logo_id = organization.logo_id
    if new_logo is not None or (remove_logo and old_logo_id is not None):
        organization.logo_id = new_logo.id if new_logo is not None else None
        changes["logo"] = {"from": old_logo_id, "to": organization.logo_id}
    db.session.flush()
    if "logo" in changes and old_logo_id is not None:
        old_logo = db.session.get(Attachment, old_logo_id)
        if old_logo is not None:
            delete_attachment(old_logo)  # its file goes once the transaction commits
    if changes:
        audit.record("organization.profile_saved", organization, actor_id=actor_id, changes=changes)
    db.session.flush()
    return list(changes)


def profile_form_data(organization: Organization) -> dict[str, str]:
    """The profile as the form shows it (social pages one per line)."""
    data = {field: getattr(organization, field) or "" for field in PROFILE_FIELDS}
    data["social_links"] = "\n".join(organization.social_links or [])
    return data
