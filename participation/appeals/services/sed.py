"""A message in an organization's document system (СЭД): its registration there, and letters
registered in the СЭД first and filed into the platform on the operator channel.

The registration (number and date in the СЭД, whose СЭД, when told) is kept on the message;
the «Отправлено в СЭД» inbox folder is a view over it (inbox.py). It is not a workflow step: the
message keeps its state, and statuses and answers still go through `transition()`.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import IntegrityError
from werkzeug.datastructures import FileStorage

from participation.appeals.models import Appeal, Arrival, Channel
from participation.appeals.permissions import acting_roles, can_register_in_sed
from participation.appeals.services.common import _tz
from participation.appeals.services.submission import Caller, Submission, submit_appeal
from participation.appeals.services.transitions import _lock, _write_event
from participation.appeals.workflow import STATE_LABELS
from participation.core import audit
from participation.core.db import utcnow
from participation.core.errors import Conflict, DomainError, FieldError
from participation.core.i18n import local_date
from participation.core.organizations import Organization
from participation.core.users import Role, User
from participation.extensions import db

SED_NUMBER_MAX = 64
SED_EVENT = "sed_registered"


class NotHolder(DomainError):
    """The message is not (or no longer) this organization's to register."""

    status = 403


@dataclass(frozen=True)
class SedRegistration:
    appeal: Appeal
    created: bool  # False: the same number and date were already recorded


def _clean_number(raw: str | None, field: str) -> str:
    number = " ".join((raw or "").split())
    if not number:
        raise FieldError(field, _l("Укажите регистрационный номер в СЭД."))
    if len(number) > SED_NUMBER_MAX:
        raise FieldError(field, _l("Номер в СЭД не длиннее %(max)d символов.", max=SED_NUMBER_MAX))
    if not number.isprintable():
        raise FieldError(field, _l("Номер в СЭД содержит непечатаемые символы."))
    return number


def _clean_date(value: date | None, field: str, organization: Organization) -> date:
    if value is None:
        raise FieldError(field, _l("Укажите дату регистрации в СЭД."))
    today = utcnow().astimezone(ZoneInfo(organization.territory.timezone)).date()
    if value > today:
        raise FieldError(field, _l("Дата регистрации в СЭД не может быть в будущем."))
    return value


def _taken_by(organization: Organization, number: str, day: date) -> Appeal | None:
    return db.session.scalar(
        sa.select(Appeal).where(
            Appeal.sed_organization_id == organization.id,
            Appeal.sed_number == number,
            Appeal.sed_registered_on == day,
        )
    )


def _record(appeal: Appeal, actor: User, organization: Organization, number: str, day: date):
    """Write the registration, its history line and its audit entry (the caller checked)."""
    previous = (
        {
            "previous_number": appeal.sed_number,
            "previous_organization_id": appeal.sed_organization_id,
        }
        if appeal.sed_number is not None
        else {}
    )
    appeal.sed_number = number
    appeal.sed_registered_on = day
    appeal.sed_organization_id = organization.id
    appeal.sed_organization = organization
    appeal.sed_registered_at = utcnow()
    roles = acting_roles(actor, appeal, organization)
    staff_role = next((r for r in roles if isinstance(r, Role)), Role.OPERATOR)
    _write_event(
        appeal,
        SED_EVENT,
        actor,
        staff_role,
        appeal.state,
        comment=str(
            _l("№ %(number)s от %(date)s", number=number, date=local_date(day, _tz(appeal)))
        ),
        details={"sed_number": number, "sed_date": day.isoformat(), **previous},
        organization_id=organization.id,
    )
    audit.record(
        "appeal.sed_registered",
        appeal,
        actor_id=actor.id,
        organization_id=organization.id,
        sed_number=number,
        sed_date=day.isoformat(),
        **previous,
    )


def register_in_sed(
    appeal: Appeal,
    actor: User,
    organization: Organization,
    number: str | None,
    registered_on: date | None,
) -> SedRegistration:
    """Record that `organization` registered the message in its СЭД under `number` of
    `registered_on`. The same registration again changes nothing; another number for a
    message already registered here is refused (409); a registration by an organization the
    message has since left is replaced (kept in the history and the audit log)."""
    _lock(appeal)  # two СЭД clients registering one message: one after the other
    if appeal.is_final:
        raise Conflict(
            _l(
                "Сообщение в состоянии «%(state)s»: регистрировать его в СЭД уже поздно.",
                state=STATE_LABELS[appeal.state],
            )
        )
    if not can_register_in_sed(actor, appeal, organization):
        raise NotHolder(
            _l(
                "Сообщение сейчас у организации «%(org)s»: зарегистрировать его в своей СЭД "
                "может она.",
                org=appeal.holder_organization.display_name,
            )
            if appeal.holder_organization_id != organization.id
            else _l(
                "Зарегистрировать сообщение в СЭД может координатор, руководитель или "
                "назначенный исполнитель."
            )
        )
    number = _clean_number(number, "number")
    day = _clean_date(registered_on, "date", organization)
    if appeal.sed_organization_id == organization.id:
        if (appeal.sed_number, appeal.sed_registered_on) == (number, day):
            return SedRegistration(appeal, created=False)
        raise Conflict(
            _l(
                "Сообщение уже зарегистрировано в СЭД: № %(number)s от %(date)s.",
                number=appeal.sed_number,
                date=local_date(appeal.sed_registered_on),
            )
        )
    other = _taken_by(organization, number, day)
    if other is None:
        try:
            with db.session.begin_nested():
                _record(appeal, actor, organization, number, day)
            return SedRegistration(appeal, created=True)
        except IntegrityError:  # given to another message at the same moment
            other = _taken_by(organization, number, day)
    raise FieldError(
        "number",
        _l(
            "Этот номер СЭД от этой даты уже у сообщения № %(other)s.",
            other=other.number if other is not None else "—",
        ),
    )


def file_from_sed(
    *,
    submitted_by: User,
    organization: Organization,
    sed_number: str | None,
    sed_date: date | None,
    caller: Caller | None,
    subcategory_id: int | None,
    text: str | None,
    territory_id: int | None,
    address: str | None = None,
    latitude: Decimal | None = None,
    longitude: Decimal | None = None,
    files: Sequence[FileStorage] | None = None,
) -> Submission:
    """A letter the organization registered in its СЭД first (a paper letter, a call) filed into
    the platform: the operator channel's submission with the resident's name and contacts,
    addressed to the organization, arriving «Из СЭД», registered in its СЭД from the start.

    It goes through moderation and coordination like every message; the same СЭД number and
    date filed twice is refused (409) naming the message already made.
    """
    number = _clean_number(sed_number, "sed_number")
    day = _clean_date(sed_date, "sed_date", organization)
    existing = _taken_by(organization, number, day)
    if existing is not None:
        raise Conflict(
            _l(
                "Письмо № %(number)s от %(date)s уже внесено: сообщение № %(appeal)s.",
                number=number,
                date=local_date(day),
                appeal=existing.number,
            )
        )
    submission = submit_appeal(
        submitted_by=submitted_by,
        submission_key=uuid.uuid4().hex,
        subcategory_id=subcategory_id,
        text=text,
        territory_id=territory_id,
        address=address,
        latitude=latitude,
        longitude=longitude,
        files=files,
        channel=Channel.OPERATOR,
        caller=caller,
        addressee=organization,
        arrival=Arrival.FROM_SED,
    )
    try:
        with db.session.begin_nested():
            _record(submission.appeal, submitted_by, organization, number, day)
    except IntegrityError:  # the same letter filed at the same moment by another request
        raise Conflict(
            _l(
                "Письмо № %(number)s от %(date)s уже внесено.",
                number=number,
                date=local_date(day),
            )
        ) from None
    return submission
