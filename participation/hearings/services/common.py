"""Shared pieces of the hearing services: limits, errors, links, locks, input checks."""

from __future__ import annotations

from datetime import date
from typing import Any

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _

from participation.core.errors import DomainError, FieldError
from participation.extensions import db
from participation.hearings.models import (
    DraftParagraph,
    Hearing,
    Participant,
    Remark,
    RemarkKind,
)

MAX_REMARK_CHARS = 5000
MIN_REASON_CHARS = 10
MAX_REASON_CHARS = 5000
MAX_CONCLUSION_CHARS = 20000
ATTACHMENT_TYPE = "hearing"


class NotAllowed(DomainError):
    """The person may not do this now (window closed, account level…); the message says why."""

    status = 403


def fmt_day(day: date) -> str:
    """A calendar day as in Russian documents: 21.06.2026."""
    return day.strftime("%d.%m.%Y")


def hearing_path(hearing_id: int) -> str:
    """Path of the public hearing page."""
    return f"/hearings/{hearing_id}"


def hearing_link(hearing_id: int) -> str:
    """Absolute address of the hearing page, also usable from jobs (no request context)."""
    return current_app.config["PUBLIC_BASE_URL"] + hearing_path(hearing_id)


def lock_hearing(hearing: Hearing) -> None:
    """Serialize writers of one hearing (numbers, participants). SQLite already serializes."""
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(sa.select(Hearing.id).where(Hearing.id == hearing.id).with_for_update())


def next_remark_number(hearing: Hearing) -> int:
    """The next № of a remark in this hearing (call under lock_hearing)."""
    current = db.session.scalar(
        sa.select(sa.func.coalesce(sa.func.max(Remark.number), 0)).where(
            Remark.hearing_id == hearing.id
        )
    )
    return int(current or 0) + 1


def clean_text(text: str | None, field: str, *, limit: int = MAX_REMARK_CHARS) -> str:
    """The stripped text of a remark or speech; FieldError if empty or too long."""
    text = (text or "").replace("\r\n", "\n").strip()
    if not text:
        raise FieldError(field, _("Напишите текст предложения или замечания."))
    if len(text) > limit:
        raise FieldError(
            field,
            _(
                "Текст длиннее %(max)d знаков (сейчас %(now)d). Сократите его.",
                max=limit,
                now=len(text),
            ),
        )
    return text


def parse_remark_kind(kind: str | None) -> RemarkKind:
    """Предложение or замечание from the form; FieldError otherwise."""
    try:
        return RemarkKind(kind)
    except ValueError:
        raise FieldError("kind", _("Выберите: предложение или замечание.")) from None


def paragraph_of(hearing: Hearing, paragraph_id: int | None) -> DraftParagraph | None:
    """The paragraph with this id if it belongs to this hearing's draft; FieldError otherwise."""
    if not paragraph_id:
        return None
    paragraph = db.session.get(DraftParagraph, paragraph_id)
    if paragraph is None or paragraph.hearing_id != hearing.id:
        raise FieldError(
            "paragraph_id",
            _("Такого пункта нет в проекте этого обсуждения. Выберите пункт из списка."),
        )
    return paragraph


def participant_of(hearing: Hearing, user: Any) -> Participant | None:
    """The user's participant record in this hearing, if they took part."""
    if not getattr(user, "is_authenticated", False):
        return None
    return db.session.scalar(
        sa.select(Participant).where(
            Participant.hearing_id == hearing.id, Participant.user_id == user.id
        )
    )
