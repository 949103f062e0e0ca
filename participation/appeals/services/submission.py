"""Submitting a message from any channel: checks, routing, deadlines, files, idempotency."""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from werkzeug.datastructures import FileStorage

from participation.appeals import deadlines
from participation.appeals.classifier import (
    Subcategory,
    topic,
    topic_term,
)
from participation.appeals.models import (
    Appeal,
    Arrival,
    Channel,
)
from participation.appeals.presenters import display_tz
from participation.appeals.routing import (
    Addressee,
    NoRoute,
    moderation_organization_id,
    place,
    route_for,
    widget_topic_ids,
)
from participation.appeals.services.common import (
    ADDRESS_MAX_LENGTH,
    SUBMISSION_KEY,
    SUBMISSION_LEVELS,
    _check_file_count,
    _clean_text,
    _files,
    eligibility_rule,
    offered_topic_ids,
    setting,
)
from participation.appeals.services.transitions import (
    _tell_author,
    _write_event,
)
from participation.appeals.workflow import (
    Actor,
    AppealState,
)
from participation.auth.eligibility import check
from participation.core import audit
from participation.core.db import insert_unless_present, utcnow
from participation.core.errors import DomainError, FieldError
from participation.core.files import Attachment, attach_files
from participation.core.i18n import local_date
from participation.core.organizations import Organization
from participation.core.users import Role, User
from participation.extensions import db

if TYPE_CHECKING:  # the suggester (pymorphy3) loads on first use, not at import
    from participation.appeals.suggest import Suggestion

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Caller:
    """A person an operator enters a message for (e.g. on the 122 line)."""

    name: str
    phone: str | None = None
    email: str | None = None


@dataclass(frozen=True)
class Submission:
    appeal: Appeal
    created: bool  # False: the same form had already been sent
    timezone: str  # the message's dates are shown in it (display_tz)


def find_submission(submitted_by: User, submission_key: str) -> Appeal | None:
    """The message already created from this form, if any."""
    return db.session.scalar(
        sa.select(Appeal).where(
            Appeal.submitted_by_id == submitted_by.id, Appeal.submission_key == submission_key
        )
    )


def _check_coordinates(
    latitude: Decimal | None, longitude: Decimal | None
) -> tuple[Decimal | None, Decimal | None]:
    if (latitude is None) != (longitude is None):
        field = "longitude" if longitude is None else "latitude"
        raise FieldError(field, _l("Укажите и широту, и долготу точки."))
    if latitude is not None and not Decimal(-90) <= latitude <= Decimal(90):
        raise FieldError("latitude", _l("Широта — число от −90 до 90."))
    if longitude is not None and not Decimal(-180) <= longitude <= Decimal(180):
        raise FieldError("longitude", _l("Долгота — число от −180 до 180."))
    if latitude is not None:
        latitude, longitude = round(latitude, 6), round(longitude, 6)
    return latitude, longitude


def _check_caller(caller: Caller | None) -> Caller:
    if caller is None or not (caller.name or "").strip():
        raise FieldError("caller_name", _l("Укажите, как зовут заявителя."))
    name = " ".join(caller.name.split())
    if len(name) > 300:
        raise FieldError("caller_name", _l("Имя не длиннее 300 символов."))
    phone = (caller.phone or "").strip() or None
    email = (caller.email or "").strip() or None
    if phone is None and email is None:
        raise FieldError("caller_phone", _l("Укажите телефон или электронную почту заявителя."))
    if phone is not None and not re.fullmatch(r"\+?[0-9 ()-]{5,20}", phone):
        raise FieldError("caller_phone", _l("Телефон: цифры, пробелы, скобки и дефис."))
    if email is not None and (
        len(email) > 254 or not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", email)
    ):
        raise FieldError("caller_email", _l("Неверный адрес электронной почты."))
    return Caller(name=name, phone=phone, email=email)


def topic_suggestions(
    text: str, widget_organization: Organization | None = None, limit: int = 3
) -> list[tuple[Subcategory, Suggestion]]:
    """What the form shows: the subcategories (with their categories) the text is most likely
    about among those offered here, each with how sure the suggester is (0..1)."""
    from participation.appeals.suggest import suggest_topic, worth_showing

    if not text.strip():
        return []
    found = worth_showing(suggest_topic(text, offered_topic_ids(widget_organization), limit=limit))
    rows = {
        sub.id: sub
        for sub in db.session.scalars(
            sa.select(Subcategory)
            .where(Subcategory.id.in_([s.subcategory_id for s in found]))
            .options(sa.orm.joinedload(Subcategory.category))
        )
    }
    return [(rows[s.subcategory_id], s) for s in found if s.subcategory_id in rows]


def autoselected_topic(suggestions: list[tuple[Subcategory, Suggestion]]) -> int | None:
    """The topic the form pre-selects: the best suggestion, and only when the suggester is sure
    enough (SUGGEST_AUTOSELECT_MIN); a weak guess is listed for the resident to choose from."""
    if suggestions and suggestions[0][1].confidence >= current_app.config["SUGGEST_AUTOSELECT_MIN"]:
        return suggestions[0][0].id
    return None


def _suggestion(text: str, allowed: set[int] | None) -> tuple[int | None, float | None]:
    """What the topic suggester would have chosen (kept to learn from the moderator's choice)."""
    from participation.appeals.suggest import suggest_topic

    try:
        suggestions = suggest_topic(text, allowed, limit=1)
    except Exception:  # a broken suggester must not stop a resident's message
        log.exception("topic suggestion failed")
        return None, None
    if not suggestions:
        return None, None
    return suggestions[0].subcategory_id, float(suggestions[0].confidence)


def submit_appeal(
    *,
    submitted_by: User,
    submission_key: str,
    subcategory_id: int | None,
    text: str | None,
    territory_id: int | None,
    address: str | None = None,
    latitude: Decimal | None = None,
    longitude: Decimal | None = None,
    files: Sequence[FileStorage] | None = None,
    staged: Sequence[Attachment] = (),
    channel: Channel = Channel.PORTAL,
    widget_organization_id: int | None = None,
    caller: Caller | None = None,
    suggested_subcategory_id: int | None = None,
    suggestion_confidence: float | None = None,
    addressee: Organization | None = None,
    arrival: Arrival = Arrival.NEW,
) -> Submission:
    """Register a message from any channel: checks, routing, deadlines, files, notices.

    The same `submission_key` from the same person returns the message already created.
    An operator entering a letter addressed to one organization (a paper letter from its СЭД)
    names it as `addressee` instead of the routing rules; moderation checks it as any other.
    """
    if not submission_key or not SUBMISSION_KEY.fullmatch(submission_key):
        raise FieldError(
            "submission_key", _l("Форма устарела. Обновите страницу и отправьте снова.")
        )

    channel = Channel(channel)
    author: User | None = submitted_by
    if channel == Channel.OPERATOR:
        if not submitted_by.has_role(Role.OPERATOR):
            raise DomainError(
                _l("Вносить сообщения со слов заявителя может только оператор приёма.")
            )
        caller = _check_caller(caller)
        author = None
    elif addressee is not None:
        raise DomainError(_l("Адресата сообщения при регистрации указывает только оператор."))
    else:
        decision = check(submitted_by, eligibility_rule(), utcnow().date())
        if not decision.allowed:
            raise DomainError(decision.reason or _l("Отправка сообщений вам недоступна."))

    widget_organization = None
    if channel == Channel.WIDGET:
        widget_organization = (
            db.session.get(Organization, widget_organization_id) if widget_organization_id else None
        )
        if widget_organization is None or widget_organization.widget_revoked_at is not None:
            raise DomainError(_l("Виджет организации не найден или отключён."))

    text = _clean_text(
        text,
        "text",
        min_length=int(setting("APPEALS_TEXT_MIN_LENGTH")),
        max_length=int(setting("APPEALS_TEXT_MAX_LENGTH")),
        empty=_l("Опишите проблему."),
    )
    # The topic tree, the territories and the routing rules are reference data kept per
    # process (core/cache.py): a submission reads them without a query.
    narrowed = widget_topic_ids(widget_organization) if widget_organization else None
    if subcategory_id is None:
        raise FieldError("subcategory_id", _l("Выберите тему сообщения."))
    subcategory = topic(subcategory_id)
    if (
        subcategory is None
        or not subcategory.offered
        or (narrowed is not None and subcategory.id not in narrowed)
    ):
        raise FieldError(
            "subcategory_id",
            _l("Эта тема здесь не принимается. Выберите тему из списка."),
        )
    territory = place(territory_id) if territory_id else None
    if territory is None or territory.level not in SUBMISSION_LEVELS:
        raise FieldError("territory_id", _l("Выберите муниципальное образование из списка."))
    address = " ".join((address or "").split()) or None
    if address is not None and len(address) > ADDRESS_MAX_LENGTH:
        raise FieldError(
            "address", _l("Адрес не длиннее %(max)d символов.", max=ADDRESS_MAX_LENGTH)
        )
    latitude, longitude = _check_coordinates(latitude, longitude)
    if address is None and latitude is None:
        raise FieldError("address", _l("Укажите адрес проблемы или точку на карте."))
    files = _files(files)
    _check_file_count(files, kept=len(staged))

    if suggested_subcategory_id is None:
        # The suggester knows only the offered topics; a widget narrows them further.
        suggested_subcategory_id, suggestion_confidence = _suggestion(text, narrowed)
    elif suggested_subcategory_id != subcategory.id and (
        (narrowed is not None and suggested_subcategory_id not in narrowed)
        or topic(suggested_subcategory_id) is None
    ):
        suggested_subcategory_id, suggestion_confidence = None, None

    try:
        route = (
            Addressee(addressee.id, addressee.territory.timezone, auto_routed=False)
            if addressee is not None
            else route_for(subcategory.id, territory, widget_organization)
        )
    except NoRoute:
        raise FieldError(
            "territory_id",
            _l(
                "По теме «%(topic)s» в этой территории нет исполнителя. Выберите территорию "
                "из списка: в нём теперь только те, где на эту тему отвечают.",
                topic=subcategory.name,
            ),
        ) from None
    term = topic_term(subcategory, territory.region_id)
    now = utcnow()
    due = deadlines.compute_deadlines(now, term.days)
    home = place(author.registration_territory_id) if author is not None else None
    appeal = Appeal(
        submitted_by_id=submitted_by.id,
        submission_key=submission_key,
        author_id=author.id if author else None,
        caller_name=caller.name if caller and author is None else None,
        caller_phone=caller.phone if caller and author is None else None,
        caller_email=caller.email if caller and author is None else None,
        channel=channel,
        widget_organization_id=widget_organization.id if widget_organization else None,
        subcategory_id=subcategory.id,
        suggested_subcategory_id=suggested_subcategory_id,
        suggestion_confidence=suggestion_confidence,
        text=text,
        address=address,
        latitude=latitude,
        longitude=longitude,
        territory_id=territory.id,
        region_id=territory.region_id,
        applicant_region_id=home.region_id if home else territory.region_id,
        executor_organization_id=route.organization_id,
        holder_organization_id=moderation_organization_id(),
        auto_routed=route.auto_routed,
        arrival=Arrival(arrival),
        fast_track=term.fast_track,
        term_days=term.days,
        registered_at=now,
        answer_due_at=due.answer_due_at,
        coordination_due_at=due.coordination_due_at,
        original_answer_due_at=due.answer_due_at,
    )
    appeal.set_state(AppealState.MODERATION)
    # One INSERT … ON CONFLICT DO NOTHING RETURNING: no savepoint, no unit-of-work flush.
    values = {k: v for k, v in appeal.__dict__.items() if not k.startswith("_")}
    # A copy of a form already sent inserts nothing (the unique key on submitted_by,
    # submission_key) and returns no row.
    insert = insert_unless_present(
        Appeal, ("submitted_by_id", "submission_key"), Appeal, db.session.get_bind().dialect.name
    )
    inserted = db.session.scalars(insert, [values]).first()
    if inserted is None:
        # The same form sent again (a double click, a resent page): the unique key on
        # (submitted_by, submission_key) stopped the copy; show the message already made.
        existing = find_submission(submitted_by, submission_key)
        if existing is None:  # pragma: no cover - the conflict was on that very key
            raise RuntimeError("a submission conflicted but its message is not found")
        return Submission(existing, created=False, timezone=display_tz(existing))
    appeal = inserted

    attach_files(files, staged, uploaded_by_id=submitted_by.id, attached_to=("appeal", appeal.id))
    # Added before the event, so that the event's flush writes it too (one flush, not two).
    audit.record("appeal.submitted", appeal, actor_id=submitted_by.id, channel=channel.value)
    event = _write_event(
        appeal,
        "submit",
        submitted_by,
        Role.OPERATOR if channel == Channel.OPERATOR else Actor.AUTHOR,
        None,
        details={"channel": channel.value, "auto_routed": route.auto_routed},
    )
    _tell_author(
        appeal,
        event,
        _("Сообщение № %(number)s зарегистрировано", number=appeal.number),
        _(
            "Ваше сообщение зарегистрировано под номером %(number)s. Ответ будет дан до %(date)s.",
            number=appeal.number,
            date=local_date(appeal.answer_due_at, route.timezone),
        ),
        email=False,
        timezone=route.timezone,
    )
    return Submission(appeal, created=True, timezone=route.timezone)
