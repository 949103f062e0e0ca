"""Reading hearings for pages: lists, the draft, counts, remarks (all counted in SQL)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.orm import joinedload, selectinload
from wtforms.fields.choices import SelectChoice

from participation.core.db import utcnow
from participation.core.organizations import Organization
from participation.core.territories import Territory
from participation.extensions import db
from participation.hearings.models import (
    DraftParagraph,
    DraftSection,
    Hearing,
    HearingMaterial,
    Participant,
    Remark,
    RemarkStatus,
)
from participation.hearings.stages import (
    Stage,
    stage_sql,
)

# --- reading -----------------------------------------------------------------------------


def public_hearings_query(
    *, territory_id: int | None = None, stage: Stage | None = None, now: datetime | None = None
) -> sa.Select:
    """Published hearings, newest notice first, filtered by municipality and stage in SQL."""
    now = now or utcnow()
    query = (
        sa.select(Hearing)
        .where(Hearing.notice_published_at.is_not(None))
        .options(joinedload(Hearing.organization), joinedload(Hearing.territory))
        .order_by(Hearing.notice_published_at.desc(), Hearing.id.desc())
    )
    if territory_id:
        query = query.where(Hearing.territory_id == territory_id)
    if stage is not None:
        query = query.where(stage_sql(now) == stage.value)
    return query


def territories_with_hearings() -> list[Territory]:
    """Municipalities that have published hearings (the list's filter)."""
    ids = sa.select(Hearing.territory_id).where(Hearing.notice_published_at.is_not(None))
    return list(
        db.session.scalars(
            sa.select(Territory).where(Territory.id.in_(ids)).order_by(Territory.name)
        )
    )


def organization_hearings_query(organization: Organization) -> sa.Select:
    """The organizer's hearings, newest first (for the management list)."""
    return (
        sa.select(Hearing)
        .where(Hearing.organization_id == organization.id)
        .options(joinedload(Hearing.territory))
        .order_by(Hearing.created_at.desc(), Hearing.id.desc())
    )


def draft_outline(hearing: Hearing) -> list[tuple[DraftSection, list[DraftParagraph]]]:
    """The draft's sections with their paragraphs, in order (two queries)."""
    sections = list(
        db.session.scalars(
            sa.select(DraftSection)
            .where(DraftSection.hearing_id == hearing.id)
            .order_by(DraftSection.position)
        )
    )
    paragraphs = db.session.scalars(
        sa.select(DraftParagraph)
        .where(DraftParagraph.hearing_id == hearing.id)
        .order_by(DraftParagraph.position)
    )
    by_section: dict[int, list[DraftParagraph]] = {s.id: [] for s in sections}
    for paragraph in paragraphs:
        by_section[paragraph.section_id].append(paragraph)
    return [(s, by_section[s.id]) for s in sections]


def paragraph_choices(hearing: Hearing) -> list[SelectChoice]:
    """The paragraphs as choices of a select: «п. 3.2 — beginning of the text»."""
    rows = db.session.execute(
        sa.select(DraftParagraph.id, DraftParagraph.number, DraftParagraph.text)
        .where(DraftParagraph.hearing_id == hearing.id)
        .order_by(DraftParagraph.position)
    )
    return [
        SelectChoice(pid, _short(_("п. %(number)s — %(text)s", number=number, text=text), 90))
        for pid, number, text in rows
    ]


def _short(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def published_counts(hearing: Hearing) -> dict[int | None, int]:
    """Published remarks per paragraph (None: on the draft as a whole), counted in SQL."""
    rows = db.session.execute(
        sa.select(Remark.paragraph_id, sa.func.count(Remark.id))
        .where(Remark.hearing_id == hearing.id, Remark.status == RemarkStatus.PUBLISHED)
        .group_by(Remark.paragraph_id)
    )
    return dict(rows.all())


def published_remarks_query(hearing: Hearing, paragraph_id: int | None) -> sa.Select:
    """Published remarks on one paragraph, or on the draft as a whole when paragraph_id is None."""
    condition = (
        Remark.paragraph_id.is_(None)
        if paragraph_id is None
        else Remark.paragraph_id == paragraph_id
    )
    return (
        sa.select(Remark)
        .where(Remark.hearing_id == hearing.id, Remark.status == RemarkStatus.PUBLISHED, condition)
        .options(joinedload(Remark.participant))
        .order_by(Remark.number)
    )


def user_remarks(hearing: Hearing, user: Any) -> list[Remark]:
    """The current user's own remarks on this hearing, every status."""
    if not getattr(user, "is_authenticated", False):
        return []
    return list(
        db.session.scalars(
            sa.select(Remark)
            .where(Remark.hearing_id == hearing.id, Remark.author_id == user.id)
            .options(joinedload(Remark.paragraph))
            .order_by(Remark.number)
        )
    )


def materials(hearing: Hearing) -> list[HearingMaterial]:
    """Information materials of the hearing with their files."""
    return list(
        db.session.scalars(
            sa.select(HearingMaterial)
            .where(HearingMaterial.hearing_id == hearing.id)
            .options(joinedload(HearingMaterial.attachment))
            .order_by(HearingMaterial.id)
        )
    )


def remark_counts_by_status(hearing: Hearing) -> dict[RemarkStatus, int]:
    """Remarks per moderation status, counted in SQL."""
    rows = db.session.execute(
        sa.select(Remark.status, sa.func.count(Remark.id))
        .where(Remark.hearing_id == hearing.id)
        .group_by(Remark.status)
    )
    counts = dict.fromkeys(RemarkStatus, 0)
    counts.update({RemarkStatus(status): n for status, n in rows})
    return counts


def manage_remarks_query(
    hearing: Hearing, status: RemarkStatus | None, unanswered: bool
) -> sa.Select:
    """Remarks for the organizer, filtered by status or by a missing recommendation."""
    query = (
        sa.select(Remark)
        .where(Remark.hearing_id == hearing.id)
        .options(joinedload(Remark.participant), joinedload(Remark.paragraph))
        .order_by(Remark.number)
    )
    if status is not None:
        query = query.where(Remark.status == status)
    if unanswered:
        query = query.where(
            Remark.status == RemarkStatus.PUBLISHED, Remark.recommendation.is_(None)
        )
    return query


def next_remark_to_handle(hearing: Hearing, after_number: int) -> Remark | None:
    """The next remark waiting for moderation or a recommendation (the organizer's queue)."""
    waiting = sa.or_(
        Remark.status == RemarkStatus.PENDING,
        sa.and_(Remark.status == RemarkStatus.PUBLISHED, Remark.recommendation.is_(None)),
    )
    base = sa.select(Remark).where(Remark.hearing_id == hearing.id, waiting).order_by(Remark.number)
    return db.session.scalars(base.where(Remark.number > after_number).limit(1)).first() or (
        db.session.scalars(base.limit(1)).first()
    )


def meeting_attendees(hearing: Hearing) -> list[Participant]:
    """Participants registered at the meeting, in order of registration."""
    return list(
        db.session.scalars(
            sa.select(Participant)
            .where(Participant.hearing_id == hearing.id, Participant.attendance.is_not(None))
            .order_by(Participant.registered_at, Participant.id)
        )
    )


def hearing_with_territory(hearing_id: int) -> Hearing | None:
    """The hearing with its territory and organizer loaded, or None."""
    return db.session.scalar(
        sa.select(Hearing)
        .where(Hearing.id == hearing_id)
        .options(selectinload(Hearing.territory), selectinload(Hearing.organization))
    )
