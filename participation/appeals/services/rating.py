"""The author's word on the answer: the rating (a low one opens a review cycle), rework."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from participation.appeals import deadlines
from participation.appeals.models import (
    Appeal,
    AppealEvent,
    AppealHandoff,
    AppealRating,
    Arrival,
    HandoffKind,
    RatingVia,
    Relation,
)
from participation.appeals.permissions import MAX_REWORKS
from participation.appeals.services.common import (
    _clean_comment,
    _staff_of,
    setting,
)
from participation.appeals.services.transitions import (
    _tell_author,
    _tell_staff,
    _write_event,
    transition,
)
from participation.appeals.signals import (
    answer_returned,
    assigned_to_organization,
    escalated,
    rating_received,
)
from participation.appeals.workflow import (
    Action,
    Actor,
    AppealState,
    ReturnedFrom,
)
from participation.core.db import utcnow
from participation.core.errors import Conflict, FieldError
from participation.core.i18n import local_date
from participation.core.organizations import Organization
from participation.core.users import Role, User
from participation.core.workflow import InvalidTransition
from participation.extensions import db


def _check_score(score: Any) -> int:
    try:
        value = int(score)
    except (TypeError, ValueError):
        value = 0
    if isinstance(score, bool) or not 1 <= value <= 5 or str(score).strip() != str(value):
        raise FieldError("score", _l("Поставьте оценку от 1 до 5."))
    return value


def higher_organization(appeal: Appeal) -> Organization | None:
    """Where a low rating sends the message: the addressee's higher organization."""
    return appeal.executor_organization.parent


def rate_appeal(
    appeal: Appeal,
    user: User | None,
    score: Any,
    comment: str | None = None,
    *,
    via: RatingVia = RatingVia.CABINET,
) -> AppealEvent:
    """The author rates the answer, once; 2 or less sends it to the higher organization.

    `user` is the logged-in author (cabinet), or None when a valid signed link stands for them.
    """
    score = _check_score(score)
    comment = _clean_comment(comment)
    if via == RatingVia.CABINET and (user is None or appeal.author_id != user.id):
        raise InvalidTransition(appeal.state, Action.RATE)
    if db.session.scalar(sa.select(AppealRating.id).where(AppealRating.appeal_id == appeal.id)):
        raise Conflict(_l("Вы уже оценили этот ответ."))
    if appeal.state != AppealState.ANSWERED:
        raise InvalidTransition(
            appeal.state, Action.RATE, message=_l("Оценить можно только полученный ответ.")
        )
    try:
        with db.session.begin_nested():
            db.session.add(
                AppealRating(
                    appeal_id=appeal.id,
                    author_id=appeal.author_id,
                    organization_id=appeal.executor_organization_id,
                    score=score,
                    comment=comment,
                    via=via,
                    created_at=utcnow(),
                )
            )
            db.session.flush()
    except sa.exc.IntegrityError:
        raise Conflict(_l("Вы уже оценили этот ответ.")) from None
    actor = user if user is not None else appeal.author
    higher = higher_organization(appeal) if score <= 2 else None
    details = {"score": score, "via": via.value}
    if higher is None:
        if score <= 2:
            details["no_higher_organization"] = True

        def close(a: Appeal) -> None:
            a.closed_at = utcnow()

        event = transition(
            appeal,
            Action.RATE,
            actor,
            comment=comment,
            details=details,
            effect=close,
            roles=[Actor.AUTHOR],
        )
        rating_received.send(appeal, score=score, event=event)
        return event
    reviews: list[Appeal] = []

    def escalate(a: Appeal) -> dict[str, Any]:
        a.closed_at = utcnow()
        reviews.append(_open_review_cycle(a, higher, score, comment))
        return {"review_appeal_id": reviews[0].id}

    event = transition(
        appeal,
        Action.ESCALATE,
        actor,
        comment=comment,
        details={**details, "higher_organization_id": higher.id},
        effect=escalate,
        roles=[Actor.AUTHOR],
    )
    review = reviews[0]
    rating_received.send(appeal, score=score, event=event)
    escalated.send(appeal, review=review, event=event)
    _tell_author(
        appeal,
        event,
        _("Сообщение № %(number)s передано на рассмотрение", number=appeal.number),
        _(
            "Вы оценили ответ на %(score)d из 5. Сообщение передано на рассмотрение "
            "в вышестоящую организацию «%(org)s» под номером %(review)s; "
            "ответ будет дан до %(date)s.",
            score=score,
            org=higher.display_name,
            review=review.number,
            date=local_date(review.answer_due_at, higher.territory.timezone),
        ),
    )
    return event


def _open_review_cycle(
    appeal: Appeal, higher: Organization, score: int, comment: str | None
) -> Appeal:
    """A new message at the higher organization, linked to the low-rated one, with its own term."""
    now = utcnow()
    due = deadlines.compute_deadlines(now, appeal.term_days)
    review = Appeal(
        submitted_by_id=appeal.submitted_by_id,
        submission_key=f"review-of-{appeal.id}",
        author_id=appeal.author_id,
        caller_name=appeal.caller_name,
        caller_phone=appeal.caller_phone,
        caller_email=appeal.caller_email,
        channel=appeal.channel,
        widget_organization_id=appeal.widget_organization_id,
        subcategory_id=appeal.subcategory_id,
        text=appeal.text,
        address=appeal.address,
        latitude=appeal.latitude,
        longitude=appeal.longitude,
        territory_id=appeal.territory_id,
        region_id=appeal.region_id,
        applicant_region_id=appeal.applicant_region_id,
        executor_organization_id=higher.id,
        holder_organization_id=higher.id,
        auto_routed=False,
        arrival=Arrival.FROM_LOWER,
        fast_track=appeal.fast_track,
        term_days=appeal.term_days,
        registered_at=now,
        answer_due_at=due.answer_due_at,
        coordination_due_at=due.coordination_due_at,
        original_answer_due_at=due.answer_due_at,
        cycle=appeal.cycle + 1,
        review_of_id=appeal.id,
    )
    review.set_state(AppealState.ASSIGNMENT)
    db.session.add(review)
    db.session.flush()
    db.session.add(
        AppealHandoff(
            appeal_id=appeal.id,
            from_organization_id=appeal.executor_organization_id,
            to_organization_id=higher.id,
            kind=HandoffKind.ESCALATION,
            relation=Relation.HIGHER,
            reason=_("Низкая оценка ответа заявителем"),
            actor_id=appeal.author_id,
            at=now,
        )
    )
    event = _write_event(
        review,
        "escalation_received",
        None,
        Actor.SYSTEM,
        None,
        details={"review_of_id": appeal.id},
        organization_id=higher.id,
    )
    _tell_staff(
        review,
        event,
        _staff_of(higher.id, Role.COORDINATOR),
        _("На рассмотрение: сообщение № %(number)s", number=review.number),
        _(
            "Заявитель оценил ответ организации «%(org)s» на сообщение № %(old)s на %(score)d "
            "из 5. Комментарий заявителя: %(comment)s\n"
            "Ответ, вложения и оценка — в карточке сообщения. Рассмотрите его повторно.",
            org=appeal.executor_organization.display_name,
            old=appeal.number,
            score=score,
            comment=comment or "—",
        ),
    )
    assigned_to_organization.send(review, organization_id=higher.id, event=event)
    return review


def return_for_rework(appeal: Appeal, user: User, comment: str | None) -> AppealEvent:
    """The author sends the answer back: the executor must work on it again."""
    comment = _clean_comment(comment, "comment", required=_l("Напишите, что не так с ответом."))
    if appeal.merged_into_id is not None and appeal.state == AppealState.ANSWERED:
        raise Conflict(
            _l(
                "Ответ дан на общее сообщение № %(main)s: его можно только оценить; при низкой "
                "оценке сообщение рассмотрит вышестоящая организация.",
                main=appeal.merged_into_id,
            )
        )
    if appeal.rework_count >= MAX_REWORKS and appeal.state == AppealState.ANSWERED:
        raise Conflict(_l("Ответ уже возвращался на доработку; теперь его можно только оценить."))

    def effect(a: Appeal) -> None:
        a.rework_count += 1
        a.answered_at = None
        rework_due = utcnow() + timedelta(days=int(setting("APPEALS_REWORK_DAYS")))
        if rework_due > a.answer_due_at:
            a.answer_due_at = rework_due
            a.soon_due_flagged_at = a.overdue_flagged_at = None

    event = transition(
        appeal,
        Action.RETURN_FOR_REWORK,
        user,
        comment=comment,
        effect=effect,
        returned_from=ReturnedFrom.RESIDENT,
    )
    answer_returned.send(appeal, event=event)
    return event


def close_unrated(appeal: Appeal) -> AppealEvent:
    """System: the rating period is over without a rating; the message closes."""

    def effect(a: Appeal) -> None:
        a.closed_at = utcnow()

    return transition(appeal, Action.CLOSE_UNRATED, None, effect=effect)
