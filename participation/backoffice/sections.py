"""The staff cabinet's sections: which ones a person's roles open, and what waits in each.

One table: each line is a page of some feature, the predicate that opens it for a person in the
current organization, and a function counting what waits for them there (one SQL COUNT, or
none). The home page lists the lines whose page exists and whose predicate holds.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from flask import current_app
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext

from participation.admin.permissions import can_manage_staff
from participation.api.permissions import can_manage_api_keys
from participation.api.webhooks.permissions import can_manage_webhooks
from participation.api.webhooks.services import undelivered_count
from participation.appeals.classifier import administered_region, can_edit_classifier
from participation.appeals.curator import curated_scope
from participation.appeals.inbox import waiting_count
from participation.appeals.models import Appeal, overdue_at
from participation.appeals.workflow import BUCKET_LABELS, OPEN_BUCKETS
from participation.backoffice.readiness import component_of, confirmations
from participation.core.db import utcnow
from participation.core.organizations import Organization, OrganizationKind
from participation.core.users import Role
from participation.directline.models import DirectLine, Question, QuestionState
from participation.directline.permissions import (
    CENTRE_MODERATOR_ROLES,
    HOST_MODERATOR_ROLES,
    is_operator_moderator,
)
from participation.directline.queries import managed_events_query
from participation.extensions import db
from participation.hearings.models import Hearing, Remark, RemarkStatus
from participation.hearings.permissions import can_organize_in
from participation.polls.models import Survey
from participation.polls.permissions import can_publish_in
from participation.reports.permissions import can_view_dashboards
from participation.voting.models import Campaign
from participation.voting.permissions import can_organize
from participation.widgets.permissions import can_configure_widget

Opens = Callable[[Any, Organization], bool]
Waiting = Callable[[Any, Organization], list[str]]


@dataclass(frozen=True)
class Section:
    endpoint: str
    label: Any
    opens: Opens
    waiting: Waiting | None = None


@dataclass(frozen=True)
class ShownSection:
    endpoint: str
    label: str
    waiting: list[str]
    closed: bool = False  # its component's readiness is not confirmed yet (readiness.py)


def _has(*roles: Role) -> Opens:
    return lambda user, organization: bool(set(roles) & user.roles_in(organization.id))


def _count(query: sa.Select) -> int:
    return db.session.scalar(query.with_only_columns(sa.func.count()).order_by(None)) or 0


def _inbox(user: Any, organization: Organization) -> list[str]:
    bucket, n = waiting_count(user, organization)
    if not n:
        return []
    folder = BUCKET_LABELS[bucket]
    return [
        ngettext(
            "%(num)d сообщение в папке «%(folder)s»",
            "%(num)d сообщений в папке «%(folder)s»",
            n,
            folder=folder,
        )
    ]


def _overdue(user: Any, organization: Organization) -> list[str]:
    n = _count(
        sa.select(Appeal.id).where(
            curated_scope(organization),
            Appeal.bucket.in_(OPEN_BUCKETS),
            overdue_at(utcnow()),
        )
    )
    if not n:
        return []
    return [ngettext("%(num)d просроченное сообщение", "%(num)d просроченных сообщений", n)]


def _opens_classifier(user: Any, organization: Organization) -> bool:
    return can_edit_classifier(user, organization) or (
        administered_region(user, organization) is not None
    )


def _drafts(n: int) -> list[str]:
    return [ngettext("%(num)d черновик", "%(num)d черновиков", n)] if n else []


def _survey_drafts(user: Any, organization: Organization) -> list[str]:
    return _drafts(
        _count(
            sa.select(Survey.id).where(
                Survey.organization_id == organization.id, Survey.published_at.is_(None)
            )
        )
    )


def _vote_drafts(user: Any, organization: Organization) -> list[str]:
    return _drafts(
        _count(
            sa.select(Campaign.id).where(
                Campaign.organization_id == organization.id, Campaign.published_at.is_(None)
            )
        )
    )


def _hearings(user: Any, organization: Organization) -> list[str]:
    of_organization = Hearing.organization_id == organization.id
    pending = sa.func.count(Remark.id).filter(Remark.status == RemarkStatus.PENDING)
    remarks = db.session.scalar(
        sa.select(pending).select_from(Remark).join(Hearing).where(of_organization)
    )
    waiting = []
    if remarks:
        waiting.append(
            ngettext(
                "%(num)d замечание ждёт модерации", "%(num)d замечаний ждут модерации", remarks
            )
        )
    drafts = sa.select(Hearing.id).where(of_organization, Hearing.notice_published_at.is_(None))
    return waiting + _drafts(_count(drafts))


def _opens_directline(user: Any, organization: Organization) -> bool:
    roles = user.roles_in(organization.id)
    return (
        is_operator_moderator(user)
        or bool(HOST_MODERATOR_ROLES & roles)
        or bool(
            CENTRE_MODERATOR_ROLES & roles and organization.kind == OrganizationKind.REGIONAL_CENTRE
        )
    )


def _questions(user: Any, organization: Organization) -> list[str]:
    events = managed_events_query(user).with_only_columns(DirectLine.id)
    n = _count(
        sa.select(Question.id).where(
            Question.state == QuestionState.NEW, Question.event_id.in_(events.order_by(None))
        )
    )
    if not n:
        return []
    return [ngettext("%(num)d вопрос ждёт модерации", "%(num)d вопросов ждут модерации", n)]


def _webhooks(user: Any, organization: Organization) -> list[str]:
    n = undelivered_count(organization)
    if not n:
        return []
    return [
        ngettext(
            "%(num)d событие за сутки не доставлено", "%(num)d событий за сутки не доставлено", n
        )
    ]


SECTIONS: tuple[Section, ...] = (
    Section("appeals_backoffice.inbox", _l("Сообщения жителей"), lambda u, o: True, _inbox),
    Section(
        "appeals_backoffice.curator",
        _l("Контроль сроков и качества"),
        _has(Role.CURATOR),
        _overdue,
    ),
    Section("directline_manage.manage_index", _l("Прямые линии"), _opens_directline, _questions),
    Section(
        "hearings_manage.manage_index", _l("Слушания и обсуждения"), can_organize_in, _hearings
    ),
    Section("voting_manage.index", _l("Голосования организации"), can_organize, _vote_drafts),
    Section("polls_manage.index", _l("Опросы организации"), can_publish_in, _survey_drafts),
    Section("admin.index", _l("Сотрудники и роли"), can_manage_staff),
    Section("widget_admin.index", _l("Веб-виджет"), can_configure_widget),
    Section("webhooks_admin.index", _l("Вебхуки"), can_manage_webhooks, _webhooks),
    Section("api_keys.index", _l("API-ключи"), can_manage_api_keys),
    Section("classifier.index", _l("Классификатор сообщений"), _opens_classifier),
    Section("reports_manage.dashboard", _l("Аналитика"), can_view_dashboards),
    Section("reports_exports.index", _l("Выгрузки и отчёты"), can_view_dashboards),
)


def sections_for(user: Any, organization: Organization) -> list[ShownSection]:
    """The sections this person's roles open in `organization`, with what waits in each;
    a section of a component not confirmed yet is listed as closed, without counts."""
    known = current_app.view_functions
    confirmed = set(confirmations(organization))
    shown = []
    for s in SECTIONS:
        if s.endpoint not in known or not s.opens(user, organization):
            continue
        component = component_of(s.endpoint)
        if component is not None and component.key not in confirmed:
            shown.append(ShownSection(s.endpoint, str(s.label), [], closed=True))
            continue
        waiting = s.waiting(user, organization) if s.waiting else []
        shown.append(ShownSection(s.endpoint, str(s.label), waiting))
    return shown
