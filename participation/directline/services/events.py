"""Announcing a direct line, changing it, starting and finishing its broadcast."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from participation.appeals.classifier import Subcategory, subcategory_by_code
from participation.backoffice.readiness import DIRECTLINE, not_publishable
from participation.core import audit
from participation.core.db import utcnow
from participation.core.errors import Conflict, FieldError
from participation.core.organizations import Organization
from participation.core.territories import Territory
from participation.core.users import AccountLevel, User
from participation.directline.models import (
    DirectLine,
    DirectLineCategory,
    Question,
    QuestionState,
)
from participation.directline.services.common import (
    DESCRIPTION_MAX,
    PRESET_CATEGORIES,
    PRESETS,
    SPEAKER_MAX,
    TITLE_MAX,
    _clean_line,
    _clean_url,
    _lock_event,
    bump_live_version,
    to_utc,
)
from participation.extensions import db


@dataclass(frozen=True)
class EventInput:
    """The event form, times as entered (wall clock of the host)."""

    title: str | None
    speaker: str | None
    description: str | None
    questions_open_at: datetime | None
    questions_close_at: datetime | None
    starts_at: datetime | None
    ends_at: datetime | None
    stream_url: str | None
    recording_url: str | None
    categories: Sequence[str]
    min_account_level: AccountLevel
    territory_id: int | None


def eligibility_territories(host: Organization) -> list[Territory]:
    """Whose residents may ask: the host's own territory or, for a city, its whole region."""
    territory = host.territory
    region = territory.region()
    options = [territory]
    if region is not None and region.id != territory.id:
        options.append(region)
    return options


def _checked_event_fields(host: Organization, data: EventInput) -> dict[str, Any]:
    tz = host.territory.timezone
    fields: dict[str, Any] = {
        "title": _clean_line(data.title, "title", TITLE_MAX, _l("Укажите название прямой линии.")),
        "speaker": _clean_line(
            data.speaker, "speaker", SPEAKER_MAX, _l("Укажите, кто отвечает на вопросы.")
        ),
    }
    description = (data.description or "").strip() or None
    if description is not None and len(description) > DESCRIPTION_MAX:
        raise FieldError(
            "description", _l("Описание не длиннее %(max)d символов.", max=DESCRIPTION_MAX)
        )
    fields["description"] = description
    opens = to_utc(
        data.questions_open_at, tz, "questions_open_at", _l("Укажите, когда начать приём вопросов.")
    )
    closes = to_utc(
        data.questions_close_at,
        tz,
        "questions_close_at",
        _l("Укажите, когда закончить приём вопросов."),
    )
    starts = to_utc(data.starts_at, tz, "starts_at", _l("Укажите начало эфира."))
    ends = to_utc(data.ends_at, tz, "ends_at", _l("Укажите окончание эфира."))
    if ends <= starts:
        raise FieldError("ends_at", _l("Эфир должен закончиться позже, чем начнётся."))
    if opens > starts:
        raise FieldError(
            "questions_open_at", _l("Приём вопросов должен начаться не позже начала эфира.")
        )
    if closes <= opens:
        raise FieldError(
            "questions_close_at", _l("Приём вопросов должен закончиться позже, чем начнётся.")
        )
    if closes > ends:
        raise FieldError(
            "questions_close_at", _l("Приём вопросов должен закончиться не позже конца эфира.")
        )
    fields.update(
        questions_open_at=opens, questions_close_at=closes, starts_at=starts, ends_at=ends
    )
    fields["stream_url"] = _clean_url(
        data.stream_url, "stream_url", required=True, empty=_l("Укажите ссылку на трансляцию.")
    )
    fields["recording_url"] = _clean_url(data.recording_url, "recording_url", required=False)
    try:
        fields["min_account_level"] = AccountLevel(data.min_account_level)
    except ValueError:
        raise FieldError("min_account_level", _l("Выберите уровень учётной записи.")) from None
    allowed = {t.id for t in eligibility_territories(host)}
    if data.territory_id is not None and data.territory_id not in allowed:
        raise FieldError("territory_id", _l("Выберите территорию из списка."))
    fields["territory_id"] = data.territory_id
    return fields


def _checked_categories(keys: Sequence[str]) -> list[tuple[str, Subcategory]]:
    chosen = [key for key, _label, _code in PRESET_CATEGORIES if key in set(keys or ())]
    if set(keys or ()) - set(PRESETS):
        raise FieldError("categories", _l("Выберите темы из списка."))
    if not chosen:
        raise FieldError("categories", _l("Выберите хотя бы одну тему вопросов."))
    result = []
    for key in chosen:
        label, code = PRESETS[key]
        subcategory = subcategory_by_code(code)
        if subcategory is None:
            raise FieldError(
                "categories",
                _l(
                    "Тема «%(name)s» недоступна: в классификаторе сообщений нет подходящей "
                    "подкатегории.",
                    name=label,
                ),
            )
        result.append((str(label), subcategory))
    return result


def create_event(host: Organization, actor: User, data: EventInput) -> DirectLine:
    """Announce a direct line of `host` with its question window, stream and topics."""
    refusal = not_publishable(host, DIRECTLINE)
    if refusal is not None:
        raise FieldError("host_id", refusal)
    fields = _checked_event_fields(host, data)
    categories = _checked_categories(data.categories)
    event = DirectLine(host_organization=host, created_by_id=actor.id, **fields)
    for position, (name, subcategory) in enumerate(categories):
        event.categories.append(
            DirectLineCategory(name=name, position=position, subcategory=subcategory)
        )
    db.session.add(event)
    db.session.flush()
    audit.record("directline.created", event, actor_id=actor.id)
    return event


def update_event(event: DirectLine, actor: User, data: EventInput) -> DirectLine:
    """Change the settings; topics already chosen in questions cannot be removed."""
    fields = _checked_event_fields(event.host_organization, data)
    categories = _checked_categories(data.categories)
    wanted = {name for name, _sub in categories}
    used = set(
        db.session.scalars(
            sa.select(DirectLineCategory.name)
            .join(Question, Question.category_id == DirectLineCategory.id)
            .where(DirectLineCategory.event_id == event.id)
            .distinct()
        )
    )
    kept_in_use = used - wanted
    if kept_in_use:
        raise FieldError(
            "categories",
            _l(
                "Тему «%(name)s» уже выбрали в вопросах: её нельзя убрать.",
                name=sorted(kept_in_use)[0],
            ),
        )
    for name, value in fields.items():
        setattr(event, name, value)
    existing = {c.name: c for c in event.categories}
    for category in list(event.categories):
        if category.name not in wanted:
            event.categories.remove(category)
    for position, (name, subcategory) in enumerate(categories):
        category = existing.get(name)
        if category is None:
            event.categories.append(
                DirectLineCategory(name=name, position=position, subcategory=subcategory)
            )
        else:
            category.position = position
    db.session.flush()
    db.session.expire(event, ["categories"])  # reloaded in the new order
    bump_live_version(event.id)
    audit.record("directline.updated", event, actor_id=actor.id)
    return event


def start_broadcast(event: DirectLine, actor: User) -> DirectLine:
    """The broadcast begins now (earlier than announced)."""
    _lock_event(event)
    db.session.refresh(event)
    now = utcnow()
    if now >= event.starts_at:
        raise Conflict(_l("Эфир уже начался."))
    if now < event.questions_open_at:
        raise Conflict(_l("Эфир можно начать после начала приёма вопросов."))
    event.starts_at = now
    db.session.flush()
    bump_live_version(event.id)
    audit.record("directline.started", event, actor_id=actor.id)
    return event


def finish_broadcast(event: DirectLine, actor: User) -> DirectLine:
    """The broadcast is over now: questions close, unanswered ones may become messages."""
    _lock_event(event)
    db.session.refresh(event)
    now = utcnow()
    if not event.is_live(now):
        raise Conflict(_l("Завершить можно только идущий эфир."))
    on_air = db.session.scalar(
        sa.select(Question.id).where(
            Question.event_id == event.id, Question.state == QuestionState.ON_AIR
        )
    )
    if on_air is not None:
        raise Conflict(
            _l(
                "В эфире вопрос № %(number)s: отметьте ответ на него или снимите с эфира.",
                number=on_air,
            )
        )
    event.ends_at = now  # finished from this moment: unanswered questions may be converted
    if event.starts_at >= now:  # started and finished within the same microsecond
        event.starts_at = now - timedelta(microseconds=1)
        event.questions_open_at = min(event.questions_open_at, event.starts_at)
    event.questions_close_at = min(event.questions_close_at, now)
    db.session.flush()
    bump_live_version(event.id)
    audit.record("directline.finished", event, actor_id=actor.id)
    return event
