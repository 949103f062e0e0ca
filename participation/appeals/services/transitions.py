"""The one transition function, the event row, the notifications, and rating links.

Every workflow move goes through `transition()`: it checks the table in workflow.py, applies
the action's effect, moves the state, writes the event row and queues the notifications through
the outbox, all in the caller's transaction.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from participation.appeals.models import (
    Appeal,
    AppealEvent,
)
from participation.appeals.permissions import acting_roles
from participation.appeals.services.common import (
    _cabinet_link,
    _card_link,
    _staff_of,
    _tz,
    setting,
)
from participation.appeals.services.reading import (
    approved_answer,
)
from participation.appeals.signals import answer_approved
from participation.appeals.workflow import (
    WORKFLOW,
    Action,
    Actor,
    AppealState,
    ReturnedFrom,
)
from participation.core.db import utcnow
from participation.core.errors import DomainError
from participation.core.i18n import count_days, local_date, local_datetime
from participation.core.moderation import RejectionReason, rejection_text
from participation.core.outbox import notify
from participation.core.preferences import NoticeKind
from participation.core.users import Role, User
from participation.core.workflow import InvalidTransition
from participation.extensions import db

# An action's own changes; may return details to add to the event row.
Effect = Callable[[Appeal], dict[str, Any] | None]


def _lock(appeal: Appeal) -> None:
    """Re-read the row under a lock, so two people cannot move the same message at once."""
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.refresh(appeal, with_for_update=True)


def transition(
    appeal: Appeal,
    action: Action,
    actor: User | None,
    *,
    comment: str | None = None,
    details: dict[str, Any] | None = None,
    effect: Effect | None = None,
    returned_from: ReturnedFrom | None = None,
    expected_state: AppealState | str | None = None,
    roles: Sequence[Any] | None = None,
) -> AppealEvent:
    """Check the workflow table, apply the action, write the event, queue the notifications.

    `roles` is for trusted callers only (a signed rating link stands for the author);
    otherwise the roles come from the actor's place in the holder organization.
    """
    _lock(appeal)
    _check_expected(appeal, action, expected_state)
    if roles is None:
        roles = (
            [Actor.SYSTEM]
            if actor is None
            else acting_roles(actor, appeal, appeal.holder_organization)
        )
    row = WORKFLOW.check(appeal.state, action, roles)
    role = next(r for r in roles if r in row.roles)
    from_state = appeal.state
    acting_organization_id = appeal.holder_organization_id
    details = dict(details or {})
    if effect is not None:
        details.update(effect(appeal) or {})
    appeal.set_state(row.target, returned_from)
    event = _write_event(
        appeal,
        action.value,
        actor,
        role,
        from_state,
        comment=comment,
        details=details,
        organization_id=None if role in (Actor.AUTHOR, Actor.SYSTEM) else acting_organization_id,
    )
    _notify_after(appeal, action, event)
    return event


def _check_expected(appeal: Appeal, action: Action, expected: AppealState | str | None) -> None:
    if expected is not None and appeal.state != expected:
        raise InvalidTransition(
            appeal.state,
            action,
            message=_l(
                "Сообщение уже обработано: обновите страницу, чтобы увидеть, что изменилось."
            ),
        )


def _write_event(
    appeal: Appeal,
    action: str,
    actor: User | None,
    role: Any,
    from_state: AppealState | None,
    *,
    comment: str | None = None,
    details: dict[str, Any] | None = None,
    organization_id: int | None = None,
) -> AppealEvent:
    event = AppealEvent(
        appeal_id=appeal.id,
        action=action,
        actor_id=actor.id if actor is not None else None,
        actor_role=str(role),
        organization_id=organization_id,
        at=utcnow(),
        from_state=from_state.value if from_state is not None else None,
        to_state=appeal.state.value,
        comment=comment,
        details=details or {},
    )
    db.session.add(event)
    db.session.flush()
    return event


def _may(appeal: Appeal, action: Action, actor: User | None, kw: dict[str, Any]) -> None:
    """Refuse early, before looking at the input, when the actor may not take this action."""
    _check_expected(appeal, action, kw.get("expected_state"))
    roles = (
        [Actor.SYSTEM] if actor is None else acting_roles(actor, appeal, appeal.holder_organization)
    )
    WORKFLOW.check(appeal.state, action, roles)


def _tell_staff(appeal: Appeal, event: AppealEvent, users: Sequence[User], subject: str, body: str):
    for user in users:
        notify(
            user.id,
            f"appeal:{appeal.id}:e{event.id}:u{user.id}",
            subject,
            body,
            link=_card_link(appeal),
            timezone=_tz(appeal),
        )


def _tell_author(
    appeal: Appeal,
    event: AppealEvent,
    subject: str,
    body: str,
    *,
    email: bool = True,
    timezone: str | None = None,
) -> None:
    """The author's feed (linking to the cabinet) and, if `email`, a letter; `timezone`: the
    message's (display_tz()), when the caller knows it already."""
    address = appeal.contact_email if email else None
    if appeal.author_id is None and address is None:
        return
    notify(
        appeal.author_id,
        f"appeal:{appeal.id}:e{event.id}:author",
        subject,
        body,
        link=_cabinet_link(appeal) if appeal.author_id else None,
        email=address,
        timezone=timezone or _tz(appeal),
        kind=NoticeKind.MESSAGES,
    )


def _notify_after(appeal: Appeal, action: Action, event: AppealEvent) -> None:
    """Who hears about this move: the next people to act, and the author where it concerns them."""
    number = appeal.number
    holder = appeal.holder_organization_id
    state = appeal.state
    if state in (AppealState.COORDINATION, AppealState.ASSIGNMENT) and action != Action.ASSIGN:
        _tell_staff(
            appeal,
            event,
            _staff_of(holder, Role.COORDINATOR),
            _("Новое сообщение № %(number)s", number=number),
            _("Сообщение № %(number)s ждёт координации.", number=number),
        )
    elif state == AppealState.IN_WORK and appeal.executor_id is not None:
        subjects = {
            Action.RETURN_DRAFT: _(
                "Проект ответа по сообщению № %(number)s возвращён", number=number
            ),
            Action.RETURN_FOR_REWORK: _(
                "Заявитель вернул ответ по сообщению № %(number)s на доработку", number=number
            ),
        }
        executor = db.session.get(User, appeal.executor_id)
        _tell_staff(
            appeal,
            event,
            [executor],
            subjects.get(action, _("Вам назначено сообщение № %(number)s", number=number)),
            event.comment or _("Подготовьте ответ по сообщению № %(number)s.", number=number),
        )
    elif state == AppealState.APPROVAL:
        _tell_staff(
            appeal,
            event,
            _staff_of(holder, Role.HEAD),
            _("Проект ответа на согласование: сообщение № %(number)s", number=number),
            _("Проверьте и утвердите ответ по сообщению № %(number)s.", number=number),
        )

    tz = _tz(appeal)
    if action == Action.REJECT:
        reason = event.details.get("reason")
        because = rejection_text(RejectionReason(reason)) if reason else (event.comment or "")
        _tell_author(
            appeal,
            event,
            _("Сообщение № %(number)s отклонено", number=number),
            _("Модератор отклонил сообщение. Причина: %(reason)s", reason=because)
            + (f"\n\n{event.comment}" if event.comment and reason else ""),
        )
    elif action in (Action.CONFIRM, Action.REDIRECT):
        _tell_author(
            appeal,
            event,
            _("Сообщение № %(number)s передано исполнителю", number=number),
            _(
                "Ваше сообщение направлено в организацию «%(org)s».",
                org=appeal.executor_organization.display_name,
            ),
            email=False,
        )
    elif action == Action.POSTPONE:
        _tell_author(
            appeal,
            event,
            _("Решение по сообщению № %(number)s отложено", number=number),
            _(
                "Проблему не удаётся решить в срок. Причина: %(reason)s\n"
                "Новый срок ответа — до %(date)s.",
                reason=appeal.postponement_reason,
                date=local_date(appeal.answer_due_at, tz),
            ),
        )
    elif action == Action.APPROVE:
        _tell_answer(appeal, event)


def _tell_answer(appeal: Appeal, event: AppealEvent) -> None:
    answer = approved_answer(appeal)
    answer_approved.send(appeal, answer=answer)
    link = rating_link(appeal)
    subject = _("Ответ на сообщение № %(number)s", number=appeal.number)
    # No verb agrees with the organization's name: «Минстрой РБ», «МБУ …», «Администрация …».
    body = _(
        "%(when)s получен ответ на ваше сообщение № %(number)s.\nОтвечает: %(org)s.\n\n"
        "%(text)s\n\nОцените ответ по ссылке (она действует %(days)s) или в личном кабинете.",
        org=appeal.executor_organization.display_name,
        number=appeal.number,
        when=local_datetime(answer.decided_at if answer else event.at, _tz(appeal)),
        text=answer.text if answer else "",
        days=count_days(int(setting("APPEALS_RATING_DAYS"))),
    )
    address = appeal.contact_email
    if appeal.author_id is not None:
        notify(
            appeal.author_id,
            f"appeal:{appeal.id}:e{event.id}:author",
            subject,
            body,
            link=_cabinet_link(appeal),
            feed=True,
            timezone=_tz(appeal),
        )
    if address:
        notify(
            appeal.author_id,
            f"appeal:{appeal.id}:e{event.id}:author-mail",
            subject,
            body,
            link=link,
            email=address,
            feed=False,
            timezone=_tz(appeal),
            kind=NoticeKind.MESSAGES,
        )


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="appeal-rating")


def rating_token(appeal: Appeal) -> str:
    """A signed token that lets the author rate this message's answer without logging in."""
    return _serializer().dumps({"a": appeal.id, "u": appeal.author_id or 0})


def rating_link(appeal: Appeal) -> str:
    return f"{current_app.config['PUBLIC_BASE_URL']}/appeals/rate/{rating_token(appeal)}"


class BadRatingLink(DomainError):
    status = 404


def appeal_from_rating_token(token: str) -> Appeal:
    """The message a rating link is for; refuses forged, altered and expired links."""
    max_age = int(setting("APPEALS_RATING_DAYS")) * 86400
    try:
        data = _serializer().loads(token, max_age=max_age)
    except SignatureExpired:
        raise BadRatingLink(
            _l("Срок действия ссылки истёк. Оценить ответ можно в личном кабинете.")
        ) from None
    except BadSignature:
        raise BadRatingLink(_l("Ссылка для оценки ответа недействительна.")) from None
    appeal = db.session.get(Appeal, data.get("a")) if isinstance(data, dict) else None
    if appeal is None or (appeal.author_id or 0) != data.get("u"):
        raise BadRatingLink(_l("Ссылка для оценки ответа недействительна."))
    return appeal
