"""Residents' questions (within the window, for those eligible) and their supports."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple

import sqlalchemy as sa
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from participation.auth.eligibility import DIRECT_LINE, EligibilityRule, check
from participation.core import audit
from participation.core.cache import KeyedCached, generation_of
from participation.core.db import insert_unless_present, utcnow
from participation.core.errors import Conflict, DomainError, FieldError
from participation.core.outbox import notify
from participation.core.territories import Territory
from participation.core.users import AccountLevel, User
from participation.directline.models import (
    SUPPORTABLE_STATES,
    DirectLine,
    DirectLineCategory,
    Question,
    QuestionCoauthor,
    QuestionState,
    QuestionSupport,
)
from participation.directline.services.common import (
    ADDRESS_MAX,
    MUNICIPAL_LEVELS,
    SUBMISSION_KEY,
    eligibility_rule,
    my_questions_path,
    setting,
)
from participation.extensions import db


def question_territories(event: DirectLine) -> list[Territory]:
    """Municipalities a question may be about: those within the event's (or host's) territory."""
    scope = event.territory or event.host_organization.territory
    if scope.level not in MUNICIPAL_LEVELS and scope.region() is not None:
        scope = scope.region()
    territories = db.session.scalars(
        sa.select(Territory).where(Territory.level.in_(MUNICIPAL_LEVELS)).order_by(Territory.name)
    )
    return [t for t in territories if t.is_within(scope)]


def default_question_territory(event: DirectLine, user: Any) -> int | None:
    """The resident's own municipality, if questions may be about it."""
    home = getattr(user, "registration_territory", None)
    if home is None:
        return None
    allowed = question_territories(event)
    for node in [home, *home.ancestors()]:
        if any(t.id == node.id for t in allowed):
            return node.id
    return None


def find_question_submission(author: User, submission_key: str) -> Question | None:
    return db.session.scalar(
        sa.select(Question).where(
            Question.author_id == author.id, Question.submission_key == submission_key
        )
    )


@dataclass(frozen=True)
class Submission:
    question: Question
    created: bool  # False: the same form had already been sent


def submit_question(
    event: DirectLine,
    author: User,
    *,
    submission_key: str | None,
    category_id: int | None,
    text: str | None,
    territory_id: int | None,
    address: str | None = None,
) -> Submission:
    """Accept a resident's question within the window; it waits for moderation."""
    if not submission_key or not SUBMISSION_KEY.fullmatch(submission_key):
        raise FieldError(
            "submission_key", _l("Форма устарела. Обновите страницу и отправьте снова.")
        )
    existing = find_question_submission(author, submission_key)
    if existing is not None:
        return Submission(existing, created=False)
    now = utcnow()
    if not event.accepts_questions(now):
        if now < event.questions_open_at:
            raise DomainError(_l("Приём вопросов ещё не начался."))
        raise DomainError(_l("Приём вопросов закончился."))
    decision = check(author, eligibility_rule(event), now.date())
    if not decision.allowed:
        raise DomainError(decision.reason or _l("Задать вопрос вам нельзя."))
    category = db.session.get(DirectLineCategory, category_id) if category_id else None
    if category is None or category.event_id != event.id:
        raise FieldError("category_id", _l("Выберите тему вопроса из списка."))
    min_len = int(setting("DIRECTLINE_TEXT_MIN_LENGTH"))
    max_len = int(setting("DIRECTLINE_TEXT_MAX_LENGTH"))
    clean = (text or "").replace("\r\n", "\n").strip()
    if not clean:
        raise FieldError("text", _l("Напишите вопрос."))
    if len(clean) < min_len:
        raise FieldError(
            "text",
            _l("Вопрос слишком короткий: не меньше %(min)d символов.", min=min_len),
        )
    if len(clean) > max_len:
        raise FieldError(
            "text",
            _l(
                "Вопрос слишком длинный: не больше %(max)d символов, сейчас %(n)d.",
                max=max_len,
                n=len(clean),
            ),
        )
    if territory_id is None or territory_id not in {t.id for t in question_territories(event)}:
        raise FieldError("territory_id", _l("Выберите муниципальное образование из списка."))
    address = " ".join((address or "").split()) or None
    if address is not None and len(address) > ADDRESS_MAX:
        raise FieldError("address", _l("Адрес не длиннее %(max)d символов.", max=ADDRESS_MAX))
    question = Question(
        event_id=event.id,
        author_id=author.id,
        submission_key=submission_key,
        category_id=category.id,
        text=clean,
        territory_id=territory_id,
        address=address,
        state=QuestionState.NEW,
        created_at=now,
    )
    try:
        with db.session.begin_nested():
            db.session.add(question)
            db.session.flush()
    except sa.exc.IntegrityError:
        # The same form sent twice at the same moment: the other request saved it.
        existing = find_question_submission(author, submission_key)
        if existing is None:
            raise
        return Submission(existing, created=False)
    audit.record("directline.question.submitted", question, actor_id=author.id)
    notify(
        author.id,
        f"directline:q{question.id}:submitted",
        _("Вопрос № %(number)s принят", number=question.number),
        _(
            "Ваш вопрос к прямой линии «%(title)s» принят и будет опубликован после проверки "
            "модератором.",
            title=event.title,
        ),
        link=my_questions_path(event.id),
        timezone=event.timezone,
    )
    return Submission(question, created=True)


@dataclass(frozen=True)
class EventFacts:
    """What a support reads of its direct line, as plain values."""

    id: int
    ends_at: datetime
    min_account_level: AccountLevel
    territory_id: int | None


def _event_facts(session, event_id: int) -> EventFacts | None:
    event = session.get(DirectLine, event_id)
    if event is None:
        return None
    return EventFacts(event.id, event.ends_at, event.min_account_level, event.territory_id)


EVENT_FACTS = KeyedCached("directline.event_facts", _event_facts, watch=(DirectLine,))


def event_facts(event_id: int) -> EventFacts | None:
    """The direct line's end and eligibility settings, kept per process until it changes."""
    return EVENT_FACTS.get(db.session, event_id)


class LockedQuestion(NamedTuple):
    """A question as a support reads it, under the lock a merge waits for."""

    id: int
    event_id: int
    author_id: int
    state: QuestionState
    coauthor: bool  # the supporter is one of the authors of duplicates merged into it
    generation: int  # of EVENT_FACTS, read in the same statement


_questions = Question.__table__
_LOCK_FOR_SUPPORT: dict[str, sa.Select] = {}  # built once per dialect


def lock_for_support(question_id: int, user: User) -> LockedQuestion | None:
    """The question's current state, read in one statement with the shared lock a merge's
    exclusive one waits for (PostgreSQL): a support never lands on a question being merged."""
    dialect = db.session.get_bind().dialect.name
    query = _LOCK_FOR_SUPPORT.get(dialect)
    if query is None:
        coauthors = QuestionCoauthor.__table__
        query = sa.select(
            _questions.c.id,
            _questions.c.event_id,
            _questions.c.author_id,
            _questions.c.state,
            sa.exists().where(
                coauthors.c.question_id == _questions.c.id,
                coauthors.c.user_id == sa.bindparam("user_id"),
            ),
            generation_of(EVENT_FACTS.name),
        ).where(_questions.c.id == sa.bindparam("question_id"))
        if dialect == "postgresql":
            query = query.with_for_update(read=True, of=_questions)
        _LOCK_FOR_SUPPORT[dialect] = query
    row = (
        db.session.connection()
        .execute(query, {"question_id": question_id, "user_id": user.id})
        .first()
    )
    return None if row is None else LockedQuestion(*row)


def support_locked(question: LockedQuestion, user: User) -> bool:
    """Support a question read by `lock_for_support`; True if counted now, False if the person
    had supported it already (the unique constraint decides)."""
    event = EVENT_FACTS.get(db.session, question.event_id, question.generation)
    now = utcnow()
    if event is None or now >= event.ends_at:
        raise DomainError(_l("Прямая линия закончилась: поддержать вопрос уже нельзя."))
    if question.state not in SUPPORTABLE_STATES:
        raise Conflict(_l("Этот вопрос сейчас нельзя поддержать."))
    if user.id == question.author_id or question.coauthor:
        raise DomainError(_l("Это ваш вопрос: поддерживать свой вопрос не нужно."))
    rule = EligibilityRule(
        min_level=event.min_account_level, territory_id=event.territory_id, subject=DIRECT_LINE
    )
    decision = check(user, rule, now.date())
    if not decision.allowed:
        raise DomainError(decision.reason or _l("Поддержать вопрос вам нельзя."))
    connection = db.session.connection()
    insert = insert_unless_present(
        QuestionSupport.__table__,
        ("question_id", "user_id"),
        QuestionSupport.__table__.c.id,
        connection.dialect.name,
    )
    new_id = connection.execute(
        insert, {"question_id": question.id, "user_id": user.id, "created_at": now}
    ).scalar()
    return new_id is not None


def support_question(question: Question, user: User) -> bool:
    """Support a published question; True if counted now, False if already supported."""
    locked = lock_for_support(question.id, user)
    if locked is None:
        raise Conflict(_l("Этот вопрос сейчас нельзя поддержать."))
    return support_locked(locked, user)
