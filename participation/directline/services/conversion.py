"""After the broadcast: questions not answered on air become ordinary messages, one each."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from participation.appeals.models import Appeal, AppealAnswer, Channel
from participation.appeals.signals import answer_approved
from participation.core import audit
from participation.core.db import utcnow
from participation.core.errors import Conflict, DomainError
from participation.core.jobs import enqueue_after_commit
from participation.core.outbox import notify
from participation.core.users import User
from participation.directline.models import (
    CONVERTIBLE_STATES,
    DirectLine,
    Question,
)
from participation.directline.services.common import (
    _lock_question,
    _tell_authors,
    author_ids,
    conversion_key,
    my_questions_path,
)
from participation.extensions import db


@dataclass(frozen=True)
class Conversion:
    appeal: Appeal
    created: bool  # False: the question had already become this message


def convert_question(question: Question, actor: User) -> Conversion:
    """Turn a question not answered on air into an ordinary message (exactly one)."""
    _lock_question(question)
    if question.appeal_id is not None:
        return Conversion(db.session.get(Appeal, question.appeal_id), created=False)
    event = question.event
    if not event.is_finished():
        raise Conflict(_l("Передать вопрос как сообщение можно после окончания прямой линии."))
    if question.state not in CONVERTIBLE_STATES:
        raise Conflict(
            _l("Вопрос № %(number)s нельзя передать как сообщение.", number=question.number)
        )
    from participation.appeals.services import submit_appeal

    subcategory_id = question.category.subcategory_id
    territory = question.territory
    try:
        with db.session.begin_nested():
            submission = submit_appeal(
                submitted_by=question.author,
                submission_key=conversion_key(question.id),
                subcategory_id=subcategory_id,
                text=question.text,
                territory_id=territory.id,
                # The message form needs a place; without an address the municipality stands in.
                address=question.address or territory.name,
                channel=Channel.DIRECT_LINE,
                suggested_subcategory_id=subcategory_id,
            )
    except DomainError as exc:
        raise DomainError(
            _(
                "Вопрос № %(number)s не передан как сообщение: %(reason)s",
                number=question.number,
                reason=exc.message,
            )
        ) from None
    appeal = submission.appeal
    question.appeal_id = appeal.id
    question.converted_at = utcnow()
    question.converted_by_id = actor.id
    db.session.flush()
    audit.record("directline.question.converted", question, actor_id=actor.id, appeal_id=appeal.id)
    _tell_authors(
        question,
        "converted",
        _("Вопрос № %(number)s передан как сообщение", number=question.number),
        _(
            "На ваш вопрос не ответили в эфире прямой линии «%(title)s». Чтобы он не потерялся, "
            "мы передали его как сообщение № %(appeal)s: ответ придёт в личный кабинет.",
            title=event.title,
            appeal=appeal.number,
        ),
        my_questions_path(event.id),
    )
    return Conversion(appeal, created=submission.created)


def unconverted_question_ids(event: DirectLine) -> list[int]:
    """Questions not answered on air that have not become messages yet."""
    return list(
        db.session.scalars(
            sa.select(Question.id)
            .where(
                Question.event_id == event.id,
                Question.state.in_(CONVERTIBLE_STATES),
                Question.appeal_id.is_(None),
            )
            .order_by(Question.id)
        )
    )


def request_bulk_conversion(event: DirectLine, actor: User) -> int:
    """Queue the conversion of every unanswered question; returns how many are waiting."""
    if not event.is_finished():
        raise Conflict(_l("Передать вопросы как сообщения можно после окончания прямой линии."))
    waiting = (
        db.session.scalar(
            sa.select(sa.func.count())
            .select_from(Question)
            .where(
                Question.event_id == event.id,
                Question.state.in_(CONVERTIBLE_STATES),
                Question.appeal_id.is_(None),
            )
        )
        or 0
    )
    if waiting:
        audit.record("directline.bulk_conversion", event, actor_id=actor.id, waiting=waiting)
        # No sweep catches this job up if it is lost (Redis down): nothing is half-done, the
        # moderator's page still counts the questions waiting and offers the button, and
        # asking again is safe (the job converts each question once, even run twice).
        enqueue_after_commit(
            "participation.directline.tasks:convert_unanswered_questions", event.id, actor.id
        )
    return waiting


def question_for_appeal(appeal_id: int) -> Question | None:
    """The direct-line question a message came from, if it came from one."""
    return db.session.scalar(sa.select(Question).where(Question.appeal_id == appeal_id))


@answer_approved.connect
def tell_coauthors_the_answer(appeal: Appeal, answer: AppealAnswer | None = None, **_kw) -> None:
    """The message a question became is answered: the author reads it in the message; the
    people whose same questions were merged into it get the answer in their feed."""
    question = question_for_appeal(appeal.id)
    if question is None or answer is None:
        return
    event = question.event
    for user_id in sorted(author_ids(question) - {appeal.author_id}):
        notify(
            user_id,
            f"directline:q{question.id}:answer{answer.id}:u{user_id}",
            _("Ответ на вопрос № %(number)s", number=question.number),
            _(
                "На вопрос № %(number)s прямой линии «%(title)s», к которому присоединён ваш, "
                "ответила организация «%(org)s»:\n\n%(text)s",
                number=question.number,
                title=event.title,
                org=answer.organization.display_name,
                text=answer.text,
            ),
            link=my_questions_path(event.id),
            timezone=event.timezone,
        )
