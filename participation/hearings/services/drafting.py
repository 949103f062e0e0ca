"""Creating a hearing, its draft and materials, and publishing the notice."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import IO

import filetype
import sqlalchemy as sa
from flask_babel import gettext as _

from participation.backoffice.readiness import HEARINGS, not_publishable
from participation.core import audit
from participation.core.db import utcnow
from participation.core.errors import Conflict, DomainError, FieldError
from participation.core.files import store_upload
from participation.core.organizations import Organization
from participation.core.territories import Territory
from participation.core.users import AccountLevel, User
from participation.extensions import db
from participation.hearings.draft import split_draft
from participation.hearings.models import (
    DraftParagraph,
    DraftSection,
    Hearing,
    HearingKind,
    HearingMaterial,
    ParticipantScope,
)
from participation.hearings.services.common import (
    ATTACHMENT_TYPE,
    fmt_day,
    lock_hearing,
)
from participation.hearings.stages import (
    day_after_midnight,
    local_midnight,
    local_today,
)

# --- creating and publishing -------------------------------------------------------------


@dataclass
class HearingInput:
    """What the organizer enters; dates are the organizer's local calendar days."""

    kind: HearingKind
    title: str
    subject: str
    territory_id: int
    initiator: str
    organizer_address: str
    draft_text: str
    exposition_place: str
    exposition_starts_on: date
    exposition_ends_on: date
    exposition_hours: str
    consultations: str
    remarks_opens_on: date
    remarks_closes_on: date
    submission_ways: str | None = None
    meeting_date: date | None = None
    meeting_time: time | None = None
    meeting_place: str | None = None
    meeting_link: str | None = None
    publication_sources: str | None = None
    min_account_level: AccountLevel = AccountLevel.CONFIRMED
    participant_scope: ParticipantScope = ParticipantScope.REGION


def organizer_territories(organization: Organization) -> list[Territory]:
    """Where the organization may hold hearings: its territory and the territories inside it."""
    child = sa.orm.aliased(Territory)
    inside = sa.select(child.id).where(child.parent_id == organization.territory_id)
    query = (
        sa.select(Territory)
        .where(
            sa.or_(
                Territory.id == organization.territory_id,
                Territory.parent_id == organization.territory_id,
                Territory.parent_id.in_(inside),
            )
        )
        .order_by(Territory.id != organization.territory_id, Territory.name)
    )
    return list(db.session.scalars(query))


def _check_dates(data: HearingInput, tz) -> None:
    if data.exposition_ends_on < data.exposition_starts_on:
        raise FieldError(
            "exposition_ends_on", _("Экспозиция не может закончиться раньше, чем начнётся.")
        )
    if data.remarks_opens_on < data.exposition_starts_on:
        raise FieldError(
            "remarks_opens_on",
            _("Приём предложений не может начаться раньше открытия экспозиции проекта."),
        )
    if data.remarks_closes_on < data.remarks_opens_on:
        raise FieldError(
            "remarks_closes_on",
            _("Последний день приёма не может быть раньше первого."),
        )
    if data.kind != HearingKind.PUBLIC_HEARING:
        return
    if data.meeting_date is None:
        raise FieldError("meeting_date", _("Для публичных слушаний укажите дату собрания."))
    if data.meeting_time is None:
        raise FieldError("meeting_time", _("Укажите время начала собрания."))
    if not (data.meeting_place or data.meeting_link):
        raise FieldError(
            "meeting_place",
            _("Укажите место собрания или ссылку на онлайн-трансляцию (можно и то, и другое)."),
        )
    if not data.remarks_opens_on <= data.meeting_date <= data.remarks_closes_on:
        raise FieldError(
            "meeting_date",
            _(
                "Собрание проводится в период приёма предложений: с %(start)s по %(end)s.",
                start=fmt_day(data.remarks_opens_on),
                end=fmt_day(data.remarks_closes_on),
            ),
        )


def _apply(
    hearing: Hearing, data: HearingInput, organization: Organization
) -> list[tuple[str, list[tuple[str, str]]]]:
    """Check the input and fill the hearing; returns the split draft (nothing flushed)."""
    territory = next(
        (t for t in organizer_territories(organization) if t.id == data.territory_id), None
    )
    if territory is None:
        raise FieldError(
            "territory_id", _("Выберите территорию вашего муниципального образования.")
        )
    tz = territory.tz
    _check_dates(data, tz)
    outline = split_draft(data.draft_text)
    is_hearing = data.kind == HearingKind.PUBLIC_HEARING
    hearing.kind = data.kind
    hearing.title = data.title.strip()
    hearing.subject = data.subject.strip()
    hearing.territory_id = territory.id
    hearing.territory = territory
    hearing.initiator = data.initiator.strip()
    hearing.organizer_address = data.organizer_address.strip()
    hearing.draft_text = data.draft_text.strip()
    hearing.exposition_place = data.exposition_place.strip()
    hearing.exposition_starts_at = local_midnight(data.exposition_starts_on, tz)
    hearing.exposition_ends_at = day_after_midnight(data.exposition_ends_on, tz)
    hearing.exposition_hours = data.exposition_hours.strip()
    hearing.consultations = data.consultations.strip()
    hearing.remarks_open_at = local_midnight(data.remarks_opens_on, tz)
    hearing.remarks_close_at = day_after_midnight(data.remarks_closes_on, tz)
    hearing.submission_ways = (data.submission_ways or "").strip() or None
    hearing.meeting_at = _meeting_moment(data, tz) if is_hearing else None
    hearing.meeting_place = ((data.meeting_place or "").strip() or None) if is_hearing else None
    hearing.meeting_link = ((data.meeting_link or "").strip() or None) if is_hearing else None
    hearing.publication_sources = (data.publication_sources or "").strip() or None
    hearing.min_account_level = data.min_account_level
    hearing.participant_scope = data.participant_scope
    return outline


def _meeting_moment(data: HearingInput, tz) -> datetime | None:
    if data.meeting_date is None or data.meeting_time is None:
        return None
    return datetime.combine(data.meeting_date, data.meeting_time, tzinfo=tz).astimezone(UTC)


def _replace_draft(hearing: Hearing, outline: list[tuple[str, list[tuple[str, str]]]]) -> None:
    db.session.execute(sa.delete(DraftParagraph).where(DraftParagraph.hearing_id == hearing.id))
    db.session.execute(sa.delete(DraftSection).where(DraftSection.hearing_id == hearing.id))
    position = 0
    for s_position, (title, paragraphs) in enumerate(outline, start=1):
        section = DraftSection(hearing_id=hearing.id, position=s_position, title=title)
        db.session.add(section)
        db.session.flush()
        for number, text in paragraphs:
            position += 1
            db.session.add(
                DraftParagraph(
                    hearing_id=hearing.id,
                    section_id=section.id,
                    position=position,
                    number=number,
                    text=text,
                )
            )
    db.session.flush()


def _attach_draft_pdf(hearing: Hearing, user: User, upload: tuple[IO[bytes], str] | None) -> None:
    if upload is None:
        return
    stream, filename = upload
    # Check the type before storing, so that a refused file leaves nothing on disk.
    head = stream.read(262)
    stream.seek(0)
    kind = filetype.guess(head)
    if head and (kind is None or kind.mime != "application/pdf"):
        raise FieldError("draft_pdf", _("Текст проекта загрузите в формате PDF."))
    attachment = store_upload(
        stream,
        filename,
        uploaded_by_id=user.id,
        attached_to=(ATTACHMENT_TYPE, hearing.id),
        field="draft_pdf",
    )
    hearing.draft_attachment = attachment


def create_hearing(
    organization: Organization,
    user: User,
    data: HearingInput,
    draft_pdf: tuple[IO[bytes], str] | None = None,
) -> Hearing:
    """Create an unpublished hearing or discussion with its draft split into paragraphs."""
    hearing = Hearing(organization_id=organization.id, created_by_id=user.id)
    outline = _apply(hearing, data, organization)
    db.session.add(hearing)
    db.session.flush()
    _replace_draft(hearing, outline)
    _attach_draft_pdf(hearing, user, draft_pdf)
    db.session.flush()
    audit.record("hearing.created", hearing, kind=str(hearing.kind))
    return hearing


def _refuse_if_published(hearing: Hearing) -> None:
    if hearing.is_published:
        raise Conflict(
            _("Оповещение уже опубликовано: проект, сроки и материалы больше менять нельзя.")
        )


def update_hearing(
    hearing: Hearing,
    user: User,
    data: HearingInput,
    draft_pdf: tuple[IO[bytes], str] | None = None,
) -> Hearing:
    """Change an unpublished hearing (the draft is split again)."""
    _refuse_if_published(hearing)
    outline = _apply(hearing, data, hearing.organization)
    db.session.flush()
    _replace_draft(hearing, outline)
    _attach_draft_pdf(hearing, user, draft_pdf)
    db.session.flush()
    audit.record("hearing.updated", hearing)
    return hearing


def add_material(
    hearing: Hearing, user: User, title: str, stream: IO[bytes], filename: str | None
) -> HearingMaterial:
    """Attach an information material (PDF, scheme, photo) before the notice is published."""
    _refuse_if_published(hearing)
    title = (title or "").strip()
    if not title:
        raise FieldError("title", _("Назовите материал, например «Схема границ территории»."))
    attachment = store_upload(
        stream,
        filename,
        uploaded_by_id=user.id,
        attached_to=(ATTACHMENT_TYPE, hearing.id),
        field="file",
    )
    material = HearingMaterial(hearing_id=hearing.id, attachment=attachment, title=title[:300])
    db.session.add(material)
    db.session.flush()
    audit.record("hearing.material_added", hearing, material_id=material.id)
    return material


def remove_material(hearing: Hearing, material_id: int) -> None:
    """Remove a material of an unpublished hearing."""
    _refuse_if_published(hearing)
    material = db.session.get(HearingMaterial, material_id)
    if material is None or material.hearing_id != hearing.id:
        raise FieldError("material", _("Такого материала у этого обсуждения нет."))
    db.session.delete(material)
    db.session.flush()
    audit.record("hearing.material_removed", hearing, material_id=material_id)


def publish_notice(hearing: Hearing, user: User, now: datetime | None = None) -> Hearing:
    """Publish the notice and the draft: from now on the hearing is public and frozen."""
    now = now or utcnow()
    lock_hearing(hearing)
    if hearing.is_published:
        raise Conflict(_("Оповещение уже опубликовано."))
    not_ready = not_publishable(hearing.organization, HEARINGS)
    if not_ready is not None:
        raise DomainError(not_ready)
    if local_today(hearing.tz, now) > hearing.exposition_first_day:
        raise DomainError(
            _(
                "Оповещение публикуется до начала экспозиции, а она начинается %(day)s. "
                "Измените даты и опубликуйте снова.",
                day=fmt_day(hearing.exposition_first_day),
            )
        )
    hearing.notice_published_at = now
    hearing.notice_published_by_id = user.id
    db.session.flush()
    audit.record("hearing.notice_published", hearing)
    return hearing
