"""The meeting of participants of public hearings: registration and speeches."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime

import sqlalchemy as sa
from flask_babel import gettext as _

from participation.core import audit
from participation.core.db import utcnow
from participation.core.errors import Conflict, DomainError, FieldError
from participation.core.users import User
from participation.extensions import db
from participation.hearings.models import (
    Attendance,
    Hearing,
    HearingKind,
    Participant,
    ParticipantKind,
    Remark,
    RemarkSource,
    RemarkStatus,
)
from participation.hearings.services.common import (
    clean_text,
    fmt_day,
    lock_hearing,
    next_remark_number,
    paragraph_of,
    parse_remark_kind,
)
from participation.hearings.stages import (
    local_midnight,
    local_today,
)

# --- the meeting (публичные слушания) --------------------------------------------------------


@dataclass
class AttendeeInput:
    kind: ParticipantKind
    attendance: Attendance
    last_name: str
    first_name: str
    middle_name: str | None
    birth_date: date | None
    address: str
    resident: bool
    legal_entity_name: str | None = None
    legal_entity_ogrn: str | None = None


def _meeting_open(hearing: Hearing, now: datetime) -> None:
    if hearing.kind != HearingKind.PUBLIC_HEARING or hearing.meeting_at is None:
        raise DomainError(_("Собрание участников проводится только на публичных слушаниях."))
    if not hearing.is_published:
        raise DomainError(_("Сначала опубликуйте оповещение."))
    meeting_day = hearing.local_date(hearing.meeting_at)
    if now < local_midnight(meeting_day, hearing.tz):
        raise DomainError(
            _(
                "Участников собрания регистрируют в день собрания (%(day)s).",
                day=fmt_day(meeting_day),
            )
        )
    if hearing.protocol_issued_at is not None:
        raise Conflict(_("Протокол уже оформлен: собрание больше не дополняется."))


OGRN_RE = re.compile(r"^\d{13}$")


def register_attendee(
    hearing: Hearing, user: User, data: AttendeeInput, now: datetime | None = None
) -> Participant:
    """Register a participant present at the meeting (in person or online) from their documents."""
    now = now or utcnow()
    lock_hearing(hearing)
    _meeting_open(hearing, now)
    last, first = data.last_name.strip(), data.first_name.strip()
    middle = (data.middle_name or "").strip() or None
    address = data.address.strip()
    if not last:
        raise FieldError("last_name", _("Укажите фамилию."))
    if not first:
        raise FieldError("first_name", _("Укажите имя."))
    if not address:
        raise FieldError("address", _("Укажите адрес места жительства (регистрации)."))
    legal = data.kind == ParticipantKind.LEGAL_ENTITY
    query = sa.select(Participant).where(Participant.hearing_id == hearing.id)
    if legal:
        ogrn = (data.legal_entity_ogrn or "").strip()
        name = (data.legal_entity_name or "").strip()
        if not name:
            raise FieldError("legal_entity_name", _("Укажите наименование юридического лица."))
        if not OGRN_RE.match(ogrn):
            raise FieldError("legal_entity_ogrn", _("ОГРН состоит из 13 цифр."))
        query = query.where(Participant.legal_entity_ogrn == ogrn)
    else:
        if data.birth_date is None:
            raise FieldError("birth_date", _("Укажите дату рождения."))
        if data.birth_date >= local_today(hearing.tz, now):
            raise FieldError("birth_date", _("Дата рождения должна быть в прошлом."))
        query = query.where(Participant.birth_date == data.birth_date)
    # Names are compared in Python: SQLite's lower() does not fold Cyrillic.
    existing = next(
        (
            p
            for p in db.session.scalars(query)
            if legal
            or (p.last_name.casefold(), p.first_name.casefold())
            == (last.casefold(), first.casefold())
        ),
        None,
    )
    if existing is not None:
        if existing.attendance is not None:
            raise Conflict(_("Этот участник уже зарегистрирован на собрании."))
        existing.attendance = data.attendance  # wrote through the platform, now came as well
        db.session.flush()
        audit.record("hearing.attendee_registered", existing, hearing_id=hearing.id)
        return existing
    participant = Participant(
        hearing_id=hearing.id,
        kind=data.kind,
        last_name=last,
        first_name=first,
        middle_name=middle,
        birth_date=None if legal else data.birth_date,
        address=address,
        legal_entity_name=name if legal else None,
        legal_entity_ogrn=ogrn if legal else None,
        resident=data.resident,
        attendance=data.attendance,
        registered_at=now,
        registered_by_id=user.id,
    )
    db.session.add(participant)
    db.session.flush()
    audit.record("hearing.attendee_registered", participant, hearing_id=hearing.id)
    return participant


def record_speech(
    hearing: Hearing,
    user: User,
    *,
    participant_id: int | None,
    paragraph_id: int | None,
    kind: str | None,
    text: str | None,
    now: datetime | None = None,
) -> Remark:
    """Record what a registered participant said at the meeting as a published remark."""
    now = now or utcnow()
    lock_hearing(hearing)
    _meeting_open(hearing, now)
    participant = db.session.get(Participant, participant_id) if participant_id else None
    if (
        participant is None
        or participant.hearing_id != hearing.id
        or participant.attendance is None
    ):
        raise FieldError(
            "participant_id", _("Выберите участника, зарегистрированного на собрании.")
        )
    paragraph = paragraph_of(hearing, paragraph_id)
    remark_kind = parse_remark_kind(kind)
    clean = clean_text(text, "text")
    remark = Remark(
        hearing_id=hearing.id,
        number=next_remark_number(hearing),
        participant_id=participant.id,
        author_id=participant.user_id,
        paragraph_id=paragraph.id if paragraph else None,
        kind=remark_kind,
        source=RemarkSource.MEETING,
        text=clean,
        resident=participant.resident,
        submitted_at=now,
        status=RemarkStatus.PUBLISHED,
        moderated_at=now,
        moderated_by_id=user.id,
    )
    db.session.add(remark)
    db.session.flush()
    audit.record("hearing.speech_recorded", remark, hearing_id=hearing.id, number=remark.number)
    return remark
