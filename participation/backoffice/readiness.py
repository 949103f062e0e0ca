"""Readiness per component: each part of the cabinet opens after its own confirmation.

The organization-level pair («ЛКО готов к работе», «Мною пройдено обучение», services.py)
opens the cabinet as a whole. On top of it each component (messages, votes, surveys,
hearings, direct lines, the widget) is confirmed by its responsible role — «Если вы
подключаетесь одновременно к разным компонентам ПОС, то подтверждать подключение нужно для
каждого такого компонента» (seed 000) — and until then its staff pages for that organization
show the reason instead of the page, and nothing of it can be published to residents.

COMPONENTS is the one table to extend: a component's key (stored in
organization_component_readiness.component), its name in the reason, the wording of its
checkbox, the roles that may confirm it and the endpoint prefixes of its staff pages.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from participation.backoffice.models import ComponentReadiness
from participation.core import audit
from participation.core.authorized import AUTHORIZED_KINDS, AUTHORIZED_ROLES
from participation.core.db import insert_unless_present, utcnow
from participation.core.errors import FieldError
from participation.core.labels import role_label
from participation.core.organizations import Organization
from participation.core.users import Role, User
from participation.extensions import db

APPEALS = "appeals"
VOTING = "voting"
POLLS = "polls"
HEARINGS = "hearings"
DIRECTLINE = "directline"
WIDGET = "widget"


@dataclass(frozen=True)
class Component:
    key: str
    label: Any  # the section's name: «Раздел «Голосования» откроется…»
    statement: Any  # the checkbox the responsible person ticks
    roles: frozenset[Role]  # who may confirm, in the organization itself
    endpoints: tuple[str, ...]  # endpoint prefixes of the component's staff pages


COMPONENTS: tuple[Component, ...] = (
    Component(
        APPEALS,
        _l("Сообщения"),
        _l("Я подтверждаю готовность организации к работе с сообщениями жителей"),
        frozenset({Role.ADMINISTRATOR, Role.HEAD}),
        ("appeals_backoffice.",),
    ),
    Component(
        VOTING,
        _l("Голосования"),
        # The wording of the real platform's window for «Общественное голосование» (seed 000).
        _l("Я подтверждаю, что прошел подготовку и готов к работе в Системе"),
        AUTHORIZED_ROLES,
        ("voting_manage.",),
    ),
    Component(
        POLLS,
        _l("Опросы"),
        _l("Я подтверждаю готовность организации к проведению опросов"),
        AUTHORIZED_ROLES | {Role.ADMINISTRATOR},
        ("polls_manage.", "polls_reports."),
    ),
    Component(
        HEARINGS,
        _l("Слушания и обсуждения"),
        _l("Я подтверждаю готовность организации к проведению публичных слушаний и обсуждений"),
        AUTHORIZED_ROLES,
        ("hearings_manage.",),
    ),
    Component(
        DIRECTLINE,
        _l("Прямые линии"),
        _l("Я подтверждаю готовность организации к проведению прямых линий"),
        AUTHORIZED_ROLES | {Role.ADMINISTRATOR},
        ("directline_manage.",),
    ),
    Component(
        WIDGET,
        _l("Веб-виджет"),
        _l("Я подтверждаю готовность разместить виджет на официальном сайте организации"),
        frozenset({Role.ADMINISTRATOR}),
        ("widget_admin.",),
    ),
)

BY_KEY: dict[str, Component] = {c.key: c for c in COMPONENTS}


def component_of(endpoint: str | None) -> Component | None:
    """The component whose staff pages include `endpoint`, if any."""
    if not endpoint:
        return None
    return next((c for c in COMPONENTS if endpoint.startswith(c.endpoints)), None)


def confirmations(organization: Organization) -> dict[str, ComponentReadiness]:
    """The organization's confirmed components, by key."""
    rows = db.session.scalars(
        sa.select(ComponentReadiness).where(ComponentReadiness.organization_id == organization.id)
    )
    return {row.component: row for row in rows}


def is_confirmed(organization: Organization, key: str) -> bool:
    return (
        db.session.scalar(
            sa.select(ComponentReadiness.id).where(
                ComponentReadiness.organization_id == organization.id,
                ComponentReadiness.component == key,
            )
        )
        is not None
    )


def may_confirm(user: Any, organization: Organization, component: Component) -> bool:
    """Holds one of the component's responsible roles in the organization itself."""
    if not getattr(user, "is_authenticated", False):
        return False
    return bool(component.roles & user.roles_in(organization.id))


def closed_reason(organization: Organization, component: Component) -> str:
    """Why the component's pages are closed, in the words staff see."""
    return _(
        "Раздел «%(section)s» откроется после подтверждения готовности организации "
        "«%(organization)s» к работе в нём.",
        section=component.label,
        organization=organization.display_name,
    )


def not_publishable(organization: Organization, key: str) -> str | None:
    """Why nothing of the component may be published for residents yet, or None."""
    if is_confirmed(organization, key):
        return None
    return _(
        "Публикация недоступна: готовность раздела «%(section)s» организации ещё не подтверждена.",
        section=BY_KEY[key].label,
    )


def confirm_component(organization: Organization, key: str, user: User) -> bool:
    """Record `user`'s confirmation of one component; False when it was already confirmed.

    The unique (organization, component) pair decides: a second confirmation (or two at once)
    inserts nothing, keeps the first person and time, and writes no second audit entry.
    """
    component = BY_KEY.get(key)
    if component is None:
        raise FieldError("component", _("Такого раздела нет."))
    if not may_confirm(user, organization, component):
        raise FieldError(
            "component",
            _(
                "Готовность раздела «%(section)s» подтверждает: %(roles)s.",
                section=component.label,
                roles=", ".join(role_names(component, organization)),
            ),
        )
    if not organization.is_ready:
        raise FieldError(
            "component",
            _("Сначала подтвердите готовность ЛКО к работе и прохождение обучения."),
        )
    dialect = db.session.get_bind().dialect.name
    statement = insert_unless_present(
        ComponentReadiness.__table__,
        ("organization_id", "component"),
        ComponentReadiness.__table__.c.id,
        dialect,
    )
    inserted = db.session.execute(
        statement,
        {
            "organization_id": organization.id,
            "component": key,
            "confirmed_at": utcnow(),
            "confirmed_by_id": user.id,
        },
    ).scalar()
    if inserted is None:
        return False
    audit.record("organization.component_confirmed", organization, actor_id=user.id, component=key)
    return True


def confirm_all(organization: Organization, user: User | None = None) -> None:
    """Mark every component confirmed (demo and tests: an organization already at work)."""
    known = set(confirmations(organization))
    for component in COMPONENTS:
        if component.key not in known:
            db.session.add(
                ComponentReadiness(
                    organization_id=organization.id,
                    component=component.key,
                    confirmed_by_id=user.id if user else None,
                )
            )
    db.session.flush()


def role_names(component: Component, organization: Organization) -> list[str]:
    """The roles that confirm `component`, those the organization's kind can hold."""
    return [
        str(role_label(role))
        for role in Role
        if role in component.roles
        and organization.kind in AUTHORIZED_KINDS.get(role, (organization.kind,))
    ]
