"""What the direct-line services share: settings, topics, paths, input checks, locks, notices."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import current_app
from flask_babel import lazy_gettext as _l

from participation.auth.eligibility import DIRECT_LINE, EligibilityRule
from participation.core.errors import FieldError
from participation.core.outbox import notify
from participation.core.territories import TerritoryLevel
from participation.directline.models import (
    DirectLine,
    Question,
    QuestionCoauthor,
)
from participation.extensions import db

DEFAULTS: dict[str, Any] = {
    "DIRECTLINE_TEXT_MIN_LENGTH": 10,
    "DIRECTLINE_TEXT_MAX_LENGTH": 2000,
}
TITLE_MAX = 300
SPEAKER_MAX = 300
DESCRIPTION_MAX = 5000
URL_MAX = 500
ADDRESS_MAX = 500
ANSWER_MAX = 2000
SUBMISSION_KEY = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
MUNICIPAL_LEVELS = (
    TerritoryLevel.URBAN_OKRUG,
    TerritoryLevel.MUNICIPAL_DISTRICT,
    TerritoryLevel.SETTLEMENT,
)

# Topics a direct line offers, each with the message subcategory used after the event.
PRESET_CATEGORIES: tuple[tuple[str, Any, str], ...] = (
    ("roads", _l("Дороги"), "roads.road_repair"),
    ("transport", _l("Общественный транспорт"), "transport.routes"),
    ("housing", _l("ЖКХ и многоквартирные дома"), "mkd.management_company"),
    ("yards", _l("Благоустройство дворов и улиц"), "yards.yard_repair"),
    ("waste", _l("Мусор"), "waste.collection"),
    ("health", _l("Здравоохранение"), "health.clinic_work"),
    ("education", _l("Образование"), "education.school_buildings"),
    ("social", _l("Социальная поддержка"), "social.benefits"),
    ("economy", _l("Экономика, работа и бизнес"), "economy.employment"),
    ("ecology", _l("Экология"), "ecology.air"),
    ("culture", _l("Культура и спорт"), "culture.events"),
    ("safety", _l("Безопасность"), "safety.public_order"),
)
PRESETS = {key: (label, code) for key, label, code in PRESET_CATEGORIES}


def setting(name: str) -> Any:
    """A direct-line setting from the app config, or its default."""
    return current_app.config.get(name, DEFAULTS[name])


def event_path(event_id: int) -> str:
    return f"/directline/{event_id}"


def question_path(event_id: int, question_id: int) -> str:
    return f"/directline/{event_id}/questions/{question_id}"


def my_questions_path(event_id: int) -> str:
    return f"/directline/{event_id}/my"


def conversion_key(question_id: int) -> str:
    """The message's one-time form key: one message per question, however often it is sent."""
    return f"directline-question-{question_id}"


def _is_postgres() -> bool:
    return db.session.get_bind().dialect.name == "postgresql"


def _clean_line(raw: str | None, field: str, max_length: int, empty: Any) -> str:
    text = " ".join((raw or "").split())
    if not text:
        raise FieldError(field, empty)
    if len(text) > max_length:
        raise FieldError(
            field, _l("Не длиннее %(max)d символов, сейчас %(n)d.", max=max_length, n=len(text))
        )
    return text


def _clean_url(raw: str | None, field: str, *, required: bool, empty: Any = None) -> str | None:
    url = (raw or "").strip()
    if not url:
        if required:
            raise FieldError(field, empty or _l("Укажите ссылку."))
        return None
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc or any(c.isspace() for c in url):
        raise FieldError(field, _l("Ссылка должна начинаться с http:// или https://."))
    if len(url) > URL_MAX:
        raise FieldError(field, _l("Ссылка не длиннее %(max)d символов.", max=URL_MAX))
    return url


def to_utc(local: datetime | None, tz: str, field: str, empty: Any) -> datetime:
    """A wall-clock moment entered in the host's time zone, as UTC."""
    if local is None:
        raise FieldError(field, empty)
    if local.tzinfo is not None:
        return local.astimezone(ZoneInfo("UTC"))
    return local.replace(tzinfo=ZoneInfo(tz)).astimezone(ZoneInfo("UTC"))


def eligibility_rule(event: DirectLine) -> EligibilityRule:
    """Who may ask and support questions on this direct line."""
    return EligibilityRule(
        min_level=event.min_account_level,
        territory_id=event.territory_id,
        subject=DIRECT_LINE,
    )


def _lock_event(event: DirectLine) -> None:
    """Serialize broadcast moves of one event (one question on air, shortlist order)."""
    if _is_postgres():
        db.session.execute(
            sa.select(DirectLine.id).where(DirectLine.id == event.id).with_for_update()
        )


def bump_live_version(event_id: int) -> None:
    """What the live page shows has changed: pollers holding the old version get the new JSON."""
    db.session.execute(
        sa.update(DirectLine)
        .where(DirectLine.id == event_id)
        .values(live_version=DirectLine.live_version + 1)
    )


def _lock_question(question: Question) -> None:
    """Re-read the row (under a lock on PostgreSQL): two moderators cannot move it at once."""
    if _is_postgres():
        db.session.refresh(question, with_for_update=True)
    else:
        db.session.refresh(question)


def author_ids(question: Question) -> set[int]:
    """The author and the authors of duplicates merged into the question."""
    coauthors = db.session.scalars(
        sa.select(QuestionCoauthor.user_id).where(QuestionCoauthor.question_id == question.id)
    )
    return {question.author_id, *coauthors}


def _tell_authors(question: Question, key: str, subject: str, body: str, link: str) -> None:
    for user_id in sorted(author_ids(question)):
        notify(
            user_id,
            f"directline:q{question.id}:{key}:u{user_id}",
            subject,
            body,
            link=link,
            timezone=question.event.timezone,
        )
