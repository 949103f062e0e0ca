"""The protocol and the conclusion, and the data the PDF documents are built from."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy.orm import joinedload

from participation.core import audit
from participation.core.db import utcnow
from participation.core.errors import Conflict, DomainError, FieldError
from participation.core.jobs import enqueue_after_commit
from participation.core.users import User
from participation.extensions import db
from participation.hearings.labels import KIND_GENITIVE, REMARK_KIND_LABELS, REMARK_REJECTION_LABELS
from participation.hearings.models import (
    Attendance,
    Hearing,
    Participant,
    Remark,
    RemarkRejectionReason,
    RemarkStatus,
)
from participation.hearings.services.common import (
    MAX_CONCLUSION_CHARS,
    fmt_day,
    hearing_link,
    lock_hearing,
)
from participation.hearings.stages import (
    local_today,
)

# --- protocol and conclusion -------------------------------------------------------------


def issue_protocol(
    hearing: Hearing, user: User, *, number: str | None, now: datetime | None = None
) -> Hearing:
    """Close the record: give the protocol its number and date once the window has closed."""
    now = now or utcnow()
    lock_hearing(hearing)
    if not hearing.is_published:
        raise DomainError(_("Сначала опубликуйте оповещение."))
    if hearing.protocol_issued_at is not None:
        raise Conflict(_("Протокол уже оформлен (№ %(number)s).", number=hearing.protocol_number))
    if now < hearing.remarks_close_at:
        raise DomainError(
            _(
                "Протокол оформляется после окончания приёма предложений, а приём идёт "
                "до %(day)s включительно.",
                day=fmt_day(hearing.remarks_last_day),
            )
        )
    pending = db.session.scalar(
        sa.select(sa.func.count(Remark.id)).where(
            Remark.hearing_id == hearing.id, Remark.status == RemarkStatus.PENDING
        )
    )
    if pending:
        raise DomainError(
            ngettext(
                "Сначала рассмотрите все замечания: %(num)d ещё ждёт модерации.",
                "Сначала рассмотрите все замечания: %(num)d ещё ждут модерации.",
                pending,
            )
        )
    clean = (number or "").strip()
    if not clean:
        raise FieldError("number", _("Укажите номер протокола."))
    if len(clean) > 40:
        raise FieldError("number", _("Номер протокола не длиннее 40 знаков."))
    taken = db.session.scalar(
        sa.select(Hearing.id).where(
            Hearing.organization_id == hearing.organization_id,
            Hearing.protocol_number == clean,
            Hearing.id != hearing.id,
        )
    )
    if taken:
        raise FieldError(
            "number", _("Протокол № %(number)s у вашей организации уже есть.", number=clean)
        )
    hearing.protocol_number = clean
    hearing.protocol_date = local_today(hearing.tz, now)
    hearing.protocol_issued_at = now
    hearing.protocol_issued_by_id = user.id
    db.session.flush()
    audit.record("hearing.protocol_issued", hearing, number=clean)
    return hearing


def remarks_without_recommendation(hearing: Hearing) -> list[int]:
    """Numbers of published remarks still waiting for the organizer's recommendation."""
    return list(
        db.session.scalars(
            sa.select(Remark.number)
            .where(
                Remark.hearing_id == hearing.id,
                Remark.status == RemarkStatus.PUBLISHED,
                Remark.recommendation.is_(None),
            )
            .order_by(Remark.number)
        )
    )


def publish_conclusion(
    hearing: Hearing, user: User, *, text: str | None, now: datetime | None = None
) -> Hearing:
    """Publish the conclusion; refused while any published remark lacks a recommendation."""
    now = now or utcnow()
    lock_hearing(hearing)
    if hearing.protocol_issued_at is None:
        raise DomainError(_("Сначала оформите протокол: заключение составляется на его основании."))
    if hearing.conclusion_published_at is not None:
        raise Conflict(_("Заключение уже опубликовано."))
    missing = remarks_without_recommendation(hearing)
    if missing:
        shown = ", ".join(str(n) for n in missing[:20]) + (" …" if len(missing) > 20 else "")
        raise DomainError(
            ngettext(
                "Заключение нельзя выпустить: нет рекомендации организатора по %(num)d "
                "замечанию (№ %(numbers)s). Укажите по каждому, учесть его или нет и почему.",
                "Заключение нельзя выпустить: нет рекомендации организатора по %(num)d "
                "замечаниям (№ %(numbers)s). Укажите по каждому, учесть его или нет и почему.",
                len(missing),
                numbers=shown,
            )
        )
    clean = (text or "").replace("\r\n", "\n").strip()
    if not clean:
        raise FieldError("text", _("Напишите выводы по результатам обсуждения."))
    if len(clean) > MAX_CONCLUSION_CHARS:
        raise FieldError(
            "text", _("Выводы длиннее %(max)d знаков. Сократите их.", max=MAX_CONCLUSION_CHARS)
        )
    hearing.conclusion_text = clean
    hearing.conclusion_date = local_today(hearing.tz, now)
    hearing.conclusion_published_at = now
    hearing.conclusion_published_by_id = user.id
    db.session.flush()
    audit.record("hearing.conclusion_published", hearing)
    enqueue_after_commit("participation.hearings.tasks:notify_conclusion_published", hearing.id)
    return hearing


# --- document data (the PDF builders take these and nothing else) --------------------------


@dataclass(frozen=True)
class RemarkRow:
    number: int
    where: str  # «п. 2.3» or «Проект в целом»
    kind: str
    text: str
    author_official: str
    author_public: str
    source: str
    recommendation: str | None
    recommendation_reason: str | None


@dataclass(frozen=True)
class DocumentData:
    hearing: Hearing
    kind_genitive: str
    link: str
    residents: list[RemarkRow]
    others: list[RemarkRow]
    participants: list[Participant]
    participant_count: int
    resident_count: int
    in_person_count: int
    online_count: int
    rejected: list[tuple[str, int]]  # (reason, count)


def _rows(remarks: list[Remark]) -> list[RemarkRow]:
    from participation.hearings.labels import RECOMMENDATION_LABELS, SOURCE_LABELS

    return [
        RemarkRow(
            number=r.number,
            where=(
                _("п. %(number)s", number=r.paragraph.number)
                if r.paragraph is not None
                else _("Проект в целом")
            ),
            kind=str(REMARK_KIND_LABELS[r.kind]),
            text=r.text,
            author_official=r.participant.official_name,
            author_public=r.participant.public_name,
            source=str(SOURCE_LABELS[r.source]),
            recommendation=str(RECOMMENDATION_LABELS[r.recommendation])
            if r.recommendation
            else None,
            recommendation_reason=r.recommendation_reason,
        )
        for r in remarks
    ]


def document_data(hearing: Hearing) -> DocumentData:
    """Everything the protocol, the conclusion and the extracts show, split by residency."""
    remarks = list(
        db.session.scalars(
            sa.select(Remark)
            .where(Remark.hearing_id == hearing.id, Remark.status == RemarkStatus.PUBLISHED)
            .options(joinedload(Remark.participant), joinedload(Remark.paragraph))
            .order_by(Remark.number)
        )
    )
    participants = list(
        db.session.scalars(
            sa.select(Participant)
            .where(Participant.hearing_id == hearing.id)
            .order_by(Participant.last_name, Participant.first_name, Participant.id)
        )
    )
    rejected_counts = {
        RemarkRejectionReason(reason): n
        for reason, n in db.session.execute(
            sa.select(Remark.rejection_reason, sa.func.count(Remark.id))
            .where(Remark.hearing_id == hearing.id, Remark.status == RemarkStatus.REJECTED)
            .group_by(Remark.rejection_reason)
        )
    }
    return DocumentData(
        hearing=hearing,
        kind_genitive=str(KIND_GENITIVE[hearing.kind]),
        link=hearing_link(hearing.id),
        residents=_rows([r for r in remarks if r.resident]),
        others=_rows([r for r in remarks if not r.resident]),
        participants=participants,
        participant_count=len(participants),
        resident_count=sum(1 for p in participants if p.resident),
        in_person_count=sum(1 for p in participants if p.attendance == Attendance.IN_PERSON),
        online_count=sum(1 for p in participants if p.attendance == Attendance.ONLINE),
        # In the order of the labels (the form's order), whatever order the database returns.
        rejected=[
            (str(label), rejected_counts[reason])
            for reason, label in REMARK_REJECTION_LABELS.items()
            if reason in rejected_counts
        ],
    )


def participant_remark_rows(
    hearing: Hearing, participant: Participant
) -> list[tuple[RemarkRow, Remark]]:
    """One participant's remarks, every status, for their extract."""
    remarks = list(
        db.session.scalars(
            sa.select(Remark)
            .where(Remark.hearing_id == hearing.id, Remark.participant_id == participant.id)
            .options(joinedload(Remark.participant), joinedload(Remark.paragraph))
            .order_by(Remark.number)
        )
    )
    return list(zip(_rows(remarks), remarks, strict=True))
