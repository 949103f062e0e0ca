"""Moderation and the broadcast: the one transition function, the actions, merging duplicates."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from participation.core import audit
from participation.core.db import utcnow
from participation.core.errors import Conflict, FieldError
from participation.core.moderation import RejectionReason, rejection_text
from participation.core.outbox import notify
from participation.core.users import User
from participation.core.workflow import InvalidTransition
from participation.directline.models import (
    DirectLine,
    Question,
    QuestionCoauthor,
    QuestionState,
    QuestionSupport,
)
from participation.directline.services.common import (
    ANSWER_MAX,
    _clean_url,
    _lock_event,
    _lock_question,
    _tell_authors,
    author_ids,
    bump_live_version,
    event_path,
    my_questions_path,
    question_path,
)
from participation.directline.workflow import MERGE_TARGET_STATES, WORKFLOW, Action, Actor
from participation.extensions import db

Effect = Callable[[Question], None]
# Moves into or out of these states change what the live page shows.
LIVE_STATES = frozenset({QuestionState.ON_AIR, QuestionState.ANSWERED})


def transition(
    question: Question,
    action: Action,
    actor: User,
    *,
    expected_state: QuestionState | str | None = None,
    effect: Effect | None = None,
    details: dict[str, Any] | None = None,
) -> Question:
    """Check the table, apply the action's effect, move the state, record who did it."""
    _lock_question(question)
    if expected_state is not None and question.state != expected_state:
        raise InvalidTransition(
            question.state,
            action,
            message=_l("Вопрос уже обработан: обновите страницу, чтобы увидеть, что изменилось."),
        )
    row = WORKFLOW.check(question.state, action, [Actor.MODERATOR])
    from_state = question.state
    if effect is not None:
        effect(question)
    question.state = row.target
    if from_state == QuestionState.NEW:
        question.moderated_at = utcnow()
        question.moderated_by_id = actor.id
    if question.state != QuestionState.SHORTLISTED:
        question.shortlist_position = None
    db.session.flush()
    if LIVE_STATES & {from_state, question.state}:
        bump_live_version(question.event_id)
    audit.record(
        f"directline.question.{action.value}",
        question,
        actor_id=actor.id,
        from_state=from_state.value,
        to_state=question.state.value,
        **(details or {}),
    )
    return question


def publish_question(question: Question, actor: User, *, expected_state: Any = None) -> Question:
    """The question passed moderation: everyone sees it and may support it."""
    transition(question, Action.PUBLISH, actor, expected_state=expected_state)
    _tell_authors(
        question,
        "published",
        _("Вопрос № %(number)s опубликован", number=question.number),
        _("Ваш вопрос опубликован: другие жители могут его поддержать."),
        question_path(question.event_id, question.id),
    )
    return question


def reject_question(
    question: Question,
    actor: User,
    reason: RejectionReason | str | None,
    *,
    expected_state: Any = None,
) -> Question:
    """Reject with one of the moderation reasons; the author is told why."""
    try:
        reason = RejectionReason(reason)
    except ValueError:
        raise FieldError("reason", _l("Выберите причину отклонения.")) from None

    def effect(q: Question) -> None:
        q.rejection_reason = reason

    transition(
        question,
        Action.REJECT,
        actor,
        expected_state=expected_state,
        effect=effect,
        details={"reason": reason.value},
    )
    _tell_authors(
        question,
        "rejected",
        _("Вопрос № %(number)s отклонён", number=question.number),
        _("Модератор отклонил ваш вопрос. Причина: %(reason)s", reason=rejection_text(reason)),
        my_questions_path(question.event_id),
    )
    return question


def shortlist_question(question: Question, actor: User, *, expected_state: Any = None) -> Question:
    """Put the question at the end of the list for the broadcast."""
    _lock_event(question.event)

    def effect(q: Question) -> None:
        last = db.session.scalar(
            sa.select(sa.func.max(Question.shortlist_position)).where(
                Question.event_id == q.event_id, Question.state == QuestionState.SHORTLISTED
            )
        )
        q.shortlist_position = (last or 0) + 1

    return transition(
        question, Action.SHORTLIST, actor, expected_state=expected_state, effect=effect
    )


def unshortlist_question(
    question: Question, actor: User, *, expected_state: Any = None
) -> Question:
    """Back to the published questions."""
    return transition(question, Action.UNSHORTLIST, actor, expected_state=expected_state)


def move_in_shortlist(question: Question, actor: User, direction: str) -> Question:
    """Swap the question with its neighbour above ("up") or below ("down") in the shortlist."""
    if direction not in ("up", "down"):
        raise FieldError("direction", _l("Неизвестное направление."))
    _lock_event(question.event)
    _lock_question(question)
    if question.state != QuestionState.SHORTLISTED:
        raise Conflict(_l("Вопроса уже нет в списке к эфиру: обновите страницу."))
    position = question.shortlist_position
    query = sa.select(Question).where(
        Question.event_id == question.event_id, Question.state == QuestionState.SHORTLISTED
    )
    if direction == "up":
        query = query.where(Question.shortlist_position < position).order_by(
            Question.shortlist_position.desc()
        )
    else:
        query = query.where(Question.shortlist_position > position).order_by(
            Question.shortlist_position
        )
    neighbour = db.session.scalar(query.limit(1))
    if neighbour is None:
        return question  # already first (or last)
    question.shortlist_position, neighbour.shortlist_position = (
        neighbour.shortlist_position,
        position,
    )
    db.session.flush()
    audit.record("directline.question.moved", question, actor_id=actor.id, direction=direction)
    return question


def current_on_air(event: DirectLine) -> Question | None:
    """The question being answered on air now, if any."""
    return db.session.scalar(
        sa.select(Question).where(
            Question.event_id == event.id, Question.state == QuestionState.ON_AIR
        )
    )


def put_on_air(question: Question, actor: User, *, expected_state: Any = None) -> Question:
    """The speaker takes this question now; only one question is on air at a time."""
    event = question.event
    _lock_event(event)
    if not event.is_live():
        raise Conflict(_l("Вопрос можно вывести в эфир только во время трансляции."))
    current = current_on_air(event)
    if current is not None and current.id != question.id:
        raise Conflict(
            _l(
                "В эфире уже вопрос № %(number)s: сначала отметьте ответ на него "
                "или снимите его с эфира.",
                number=current.number,
            )
        )

    def effect(q: Question) -> None:
        q.on_air_at = utcnow()

    try:
        with db.session.begin_nested():
            transition(question, Action.ON_AIR, actor, expected_state=expected_state, effect=effect)
    except sa.exc.IntegrityError:
        # Another moderator put a question on air at the same moment (the partial unique index).
        raise Conflict(
            _l("В эфире уже другой вопрос: обновите страницу, чтобы увидеть, какой.")
        ) from None
    _tell_authors(
        question,
        "on_air",
        _("Ваш вопрос в эфире"),
        _(
            "Прямо сейчас в эфире прямой линии «%(title)s» отвечают на ваш вопрос.",
            title=event.title,
        ),
        f"{event_path(event.id)}/live",
    )
    return question


def take_off_air(question: Question, actor: User, *, expected_state: Any = None) -> Question:
    """Taken off air without an answer: back at the top of the shortlist."""
    _lock_event(question.event)

    def effect(q: Question) -> None:
        first = db.session.scalar(
            sa.select(sa.func.min(Question.shortlist_position)).where(
                Question.event_id == q.event_id, Question.state == QuestionState.SHORTLISTED
            )
        )
        q.on_air_at = None
        q.shortlist_position = (first or 1) - 1

    return transition(question, Action.OFF_AIR, actor, expected_state=expected_state, effect=effect)


def _clean_answer(text: str | None, url: str | None) -> tuple[str | None, str | None]:
    clean = (text or "").replace("\r\n", "\n").strip() or None
    if clean is not None and len(clean) > ANSWER_MAX:
        raise FieldError(
            "answer_text",
            _l("Ответ не длиннее %(max)d символов, сейчас %(n)d.", max=ANSWER_MAX, n=len(clean)),
        )
    link = _clean_url(url, "answer_url", required=False)
    if clean is None and link is None:
        raise FieldError(
            "answer_text",
            _l("Кратко запишите ответ или дайте ссылку на момент записи эфира."),
        )
    return clean, link


def mark_answered(
    question: Question,
    actor: User,
    *,
    answer_text: str | None,
    answer_url: str | None,
    expected_state: Any = None,
) -> Question:
    """The speaker answered: a short text or a link to the moment in the recording."""
    clean, link = _clean_answer(answer_text, answer_url)

    def effect(q: Question) -> None:
        q.answer_text, q.answer_url = clean, link
        q.answered_at = utcnow()

    transition(question, Action.ANSWER, actor, expected_state=expected_state, effect=effect)
    _tell_authors(
        question,
        "answered",
        _("Ответ на вопрос № %(number)s", number=question.number),
        _(
            "В эфире прямой линии «%(title)s» ответили на ваш вопрос.",
            title=question.event.title,
        ),
        question_path(question.event_id, question.id),
    )
    return question


def update_answer(
    question: Question, actor: User, *, answer_text: str | None, answer_url: str | None
) -> Question:
    """Correct the published answer (e.g. add the link to the recording after the broadcast)."""
    _lock_question(question)
    if question.state != QuestionState.ANSWERED:
        raise Conflict(_l("Ответ можно изменить только у вопроса, на который ответили в эфире."))
    question.answer_text, question.answer_url = _clean_answer(answer_text, answer_url)
    db.session.flush()
    bump_live_version(question.event_id)
    audit.record("directline.question.answer_updated", question, actor_id=actor.id)
    return question


# --- merging duplicates ----------------------------------------------------------------------


def merge_questions(
    duplicate: Question, target: Question, actor: User, *, expected_state: Any = None
) -> Question:
    """Merge a duplicate into `target`: its authors and supports move over, each person once."""
    if target is None or target.event_id != duplicate.event_id:
        raise FieldError("target", _l("Укажите номер вопроса этой же прямой линии."))
    if target.id == duplicate.id:
        raise FieldError("target", _l("Вопрос нельзя объединить с самим собой."))
    # Lock both rows in id order, so two crossing merges cannot deadlock.
    for row in sorted((duplicate, target), key=lambda q: q.id):
        _lock_question(row)
    if target.state not in MERGE_TARGET_STATES:
        raise FieldError(
            "target",
            _l(
                "Вопрос № %(number)s не опубликован: объединять можно только с опубликованным.",
                number=target.number,
            ),
        )
    if duplicate.appeal_id is not None or target.appeal_id is not None:
        raise Conflict(_l("Вопрос уже передан как сообщение: объединять его нельзя."))

    def effect(q: Question) -> None:
        q.merged_into_id = target.id

    transition(
        duplicate,
        Action.MERGE,
        actor,
        expected_state=expected_state,
        effect=effect,
        details={"into": target.id},
    )
    moved_authors = _move_authors(duplicate, target)
    _move_supports(duplicate, target)
    # Questions merged earlier into the duplicate now point at the target directly.
    db.session.execute(
        sa.update(Question)
        .where(Question.merged_into_id == duplicate.id)
        .values(merged_into_id=target.id)
    )
    db.session.flush()
    db.session.expire(target)
    link = question_path(target.event_id, target.id)
    for user_id in sorted(moved_authors):
        notify(
            user_id,
            f"directline:q{duplicate.id}:merged:u{user_id}",
            _("Вопрос № %(number)s объединён с похожим", number=duplicate.number),
            _(
                "Ваш вопрос объединён с похожим вопросом № %(target)s: ответ на него будет и "
                "ответом вам. Поддержки вашего вопроса перенесены.",
                target=target.number,
            ),
            link=link,
            timezone=target.event.timezone,
        )
    return target


def _move_authors(duplicate: Question, target: Question) -> set[int]:
    """Make the duplicate's authors co-authors of the target; return them all."""
    moved = author_ids(duplicate)
    already = author_ids(target)
    for user_id in sorted(moved - already):
        db.session.add(
            QuestionCoauthor(question_id=target.id, user_id=user_id, from_question_id=duplicate.id)
        )
    db.session.flush()
    return moved


def _move_supports(duplicate: Question, target: Question) -> None:
    """Carry supports over; a person who supported both counts once, authors not at all."""
    s = sa.orm.aliased(QuestionSupport)
    t = sa.orm.aliased(QuestionSupport)
    authors = author_ids(target)
    db.session.execute(
        sa.insert(QuestionSupport).from_select(
            ["question_id", "user_id", "created_at"],
            sa.select(sa.literal(target.id), s.user_id, s.created_at).where(
                s.question_id == duplicate.id,
                s.user_id.not_in(authors),
                ~sa.exists().where(t.question_id == target.id, t.user_id == s.user_id),
            ),
        )
    )
    db.session.execute(
        sa.delete(QuestionSupport).where(QuestionSupport.question_id == duplicate.id)
    )
    # A supporter of the target who asked the duplicate is now one of its authors.
    db.session.execute(
        sa.delete(QuestionSupport).where(
            QuestionSupport.question_id == target.id, QuestionSupport.user_id.in_(authors)
        )
    )
