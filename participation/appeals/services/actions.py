"""The staff's workflow actions: moderation, coordination, execution, approval."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta
from typing import Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from werkzeug.datastructures import FileStorage

from participation.appeals import deadlines
from participation.appeals.classifier import (
    Subcategory,
    answer_term,
    record_correction,
)
from participation.appeals.models import (
    AnswerStatus,
    Appeal,
    AppealAnswer,
    AppealEvent,
    AppealHandoff,
    Arrival,
    HandoffKind,
    RegionAppealSettings,
    Relation,
)
from participation.appeals.routing import (
    ARRIVAL_BY_RELATION,
    coordination_organization,
    find_route,
    relation,
)
from participation.appeals.services.common import (
    _check_file_count,
    _clean_comment,
    _clean_text,
    _files,
    _staff_of,
    _tz,
    offered_topic_ids,
    setting,
)
from participation.appeals.services.merging import answer_followers
from participation.appeals.services.reading import (
    current_draft,
)
from participation.appeals.services.transitions import (
    _may,
    transition,
)
from participation.appeals.signals import assigned_to_organization
from participation.appeals.workflow import (
    Action,
    ReturnedFrom,
)
from participation.core.db import utcnow
from participation.core.errors import DomainError, FieldError
from participation.core.files import Attachment, attach_files
from participation.core.i18n import local_date
from participation.core.moderation import RejectionReason
from participation.core.organizations import Organization
from participation.core.territories import Territory, TerritoryLevel
from participation.core.users import Role, User
from participation.extensions import db


def _after_moderation(appeal: Appeal) -> Arrival:
    """How a message reaches its addressee after moderation: a letter from the addressee's own
    СЭД stays «Из СЭД» (the «По стадии» filter tells them apart), the rest «после модерации»."""
    return Arrival.FROM_SED if appeal.arrival == Arrival.FROM_SED else Arrival.AFTER_MODERATION


def accept_appeal(
    appeal: Appeal, actor: User, comment: str | None = None, **kw: Any
) -> AppealEvent:
    """Moderator: the topic and addressee are right; pass the message on to coordination."""

    def effect(a: Appeal) -> None:
        target = coordination_organization(a.region, a.executor_organization)
        _hand_off(a, target, HandoffKind.FORWARD, actor)
        a.arrival = _after_moderation(a)

    return transition(
        appeal, Action.ACCEPT, actor, comment=_clean_comment(comment), effect=effect, **kw
    )


def change_topic(
    appeal: Appeal, actor: User, subcategory_id: int | None, comment: str | None = None, **kw: Any
) -> AppealEvent:
    """Moderator: put the message under another subcategory; term, deadlines and route follow."""
    _may(appeal, Action.CHANGE_TOPIC, actor, kw)
    allowed = offered_topic_ids(appeal.widget_organization)
    if subcategory_id is None or subcategory_id not in allowed:
        raise FieldError("subcategory_id", _l("Выберите тему из списка."))
    if subcategory_id == appeal.subcategory_id:
        raise FieldError("subcategory_id", _l("Сообщение уже в этой подкатегории."))
    before = appeal.subcategory_id

    def effect(a: Appeal) -> None:
        subcategory = db.session.get(Subcategory, subcategory_id)
        a.subcategory_id = subcategory.id
        a.subcategory = subcategory
        a.fast_track, a.term_days = answer_term(subcategory, a.region)
        due = deadlines.compute_deadlines(a.registered_at, a.term_days)
        a.answer_due_at = a.original_answer_due_at = due.answer_due_at
        a.coordination_due_at = due.coordination_due_at
        a.soon_due_flagged_at = a.overdue_flagged_at = None
        route = find_route(subcategory.id, a.territory, a.widget_organization)
        a.executor_organization_id = route.organization.id
        a.executor_organization = route.organization
        a.auto_routed = route.auto_routed
        record_correction(a.text, a.suggested_subcategory_id, subcategory.id, actor.id, a.id)

    return transition(
        appeal,
        Action.CHANGE_TOPIC,
        actor,
        comment=_clean_comment(comment),
        details={"from_subcategory_id": before, "to_subcategory_id": subcategory_id},
        effect=effect,
        **kw,
    )


def _organization(organization_id: int | None, field: str = "organization_id") -> Organization:
    organization = db.session.get(Organization, organization_id) if organization_id else None
    if organization is None:
        raise FieldError(field, _l("Выберите организацию из списка."))
    return organization


def change_addressee(
    appeal: Appeal, actor: User, organization_id: int | None, comment: str | None = None, **kw: Any
) -> AppealEvent:
    """Moderator: another organization is responsible for this problem."""
    _may(appeal, Action.CHANGE_ADDRESSEE, actor, kw)
    organization = _organization(organization_id)
    if organization.id == appeal.executor_organization_id:
        raise FieldError("organization_id", _l("Сообщение уже адресовано этой организации."))
    before = appeal.executor_organization_id

    def effect(a: Appeal) -> None:
        a.executor_organization_id = organization.id
        a.executor_organization = organization
        a.auto_routed = False
        if a.arrival == Arrival.FROM_SED:  # the letter came from the first addressee's СЭД
            a.arrival = Arrival.NEW

    return transition(
        appeal,
        Action.CHANGE_ADDRESSEE,
        actor,
        comment=_clean_comment(comment),
        details={"from_organization_id": before, "to_organization_id": organization.id},
        effect=effect,
        **kw,
    )


def reject_appeal(
    appeal: Appeal,
    actor: User,
    reason: RejectionReason | str | None,
    comment: str | None = None,
    **kw: Any,
) -> AppealEvent:
    """Moderator: refuse the message for one of the rules' reasons; the author is told why."""
    _may(appeal, Action.REJECT, actor, kw)
    try:
        reason = RejectionReason(reason)
    except ValueError:
        raise FieldError("reason", _l("Выберите причину отклонения из списка.")) from None

    def effect(a: Appeal) -> None:
        a.closed_at = utcnow()

    return transition(
        appeal,
        Action.REJECT,
        actor,
        comment=_clean_comment(comment),
        details={"reason": reason.value},
        effect=effect,
        **kw,
    )


def _hand_off(
    appeal: Appeal,
    target: Organization,
    kind: HandoffKind,
    actor: User | None,
    *,
    rel: Relation | None = None,
    reason: str | None = None,
) -> None:
    if target.id != appeal.holder_organization_id:
        db.session.add(
            AppealHandoff(
                appeal_id=appeal.id,
                from_organization_id=appeal.holder_organization_id,
                to_organization_id=target.id,
                kind=kind,
                relation=rel,
                reason=reason,
                actor_id=actor.id if actor else None,
                at=utcnow(),
            )
        )
    appeal.holder_organization_id = target.id
    appeal.holder_organization = target


def confirm_addressee(
    appeal: Appeal, actor: User, comment: str | None = None, **kw: Any
) -> AppealEvent:
    """Regional coordinator: the addressee is right; send the message to it for execution."""

    def effect(a: Appeal) -> None:
        _hand_off(a, a.executor_organization, HandoffKind.FORWARD, actor)
        a.arrival = _after_moderation(a)

    event = transition(
        appeal, Action.CONFIRM, actor, comment=_clean_comment(comment), effect=effect, **kw
    )
    assigned_to_organization.send(
        appeal, organization_id=appeal.holder_organization_id, event=event
    )
    return event


def redirect_appeal(
    appeal: Appeal, actor: User, organization_id: int | None, reason: str | None, **kw: Any
) -> AppealEvent:
    """Coordinator: send the message to another organization (subordinate, higher or not)."""
    _may(appeal, Action.REDIRECT, actor, kw)
    organization = _organization(organization_id)
    reason = _clean_comment(reason, "reason", required=_l("Укажите причину перенаправления."))
    if organization.id in (appeal.holder_organization_id, appeal.executor_organization_id):
        raise FieldError("organization_id", _l("Выберите другую организацию."))
    rel = relation(appeal.executor_organization, organization)
    before = appeal.executor_organization_id

    def effect(a: Appeal) -> None:
        _hand_off(a, organization, HandoffKind.REDIRECT, actor, rel=rel, reason=reason)
        a.executor_organization_id = organization.id
        a.executor_organization = organization
        a.executor_id = None
        a.auto_routed = False
        a.arrival = ARRIVAL_BY_RELATION[rel]

    event = transition(
        appeal,
        Action.REDIRECT,
        actor,
        comment=reason,
        details={
            "from_organization_id": before,
            "to_organization_id": organization.id,
            "relation": rel.value,
        },
        effect=effect,
        **kw,
    )
    assigned_to_organization.send(appeal, organization_id=organization.id, event=event)
    return event


def executors_of(organization_id: int) -> list[User]:
    """People who may be assigned messages in the organization."""
    return _staff_of(organization_id, Role.EXECUTOR)


def _executor(appeal: Appeal, executor_id: int | None) -> User:
    executor = db.session.get(User, executor_id) if executor_id else None
    if executor is None or not executor.has_role(Role.EXECUTOR, appeal.holder_organization_id):
        raise FieldError(
            "executor_id", _l("Выберите исполнителя из списка сотрудников организации.")
        )
    return executor


def assign_executor(
    appeal: Appeal, actor: User, executor_id: int | None, comment: str | None = None, **kw: Any
) -> AppealEvent:
    """Organization coordinator: give the message to one executor."""
    _may(appeal, Action.ASSIGN, actor, kw)
    executor = _executor(appeal, executor_id)

    def effect(a: Appeal) -> None:
        a.executor_id = executor.id
        a.executor = executor

    return transition(
        appeal,
        Action.ASSIGN,
        actor,
        comment=_clean_comment(comment),
        details={"executor_id": executor.id},
        effect=effect,
        **kw,
    )


def reassign_executor(
    appeal: Appeal, actor: User, executor_id: int | None, comment: str | None = None, **kw: Any
) -> AppealEvent:
    """Organization coordinator: give the message to another executor."""
    _may(appeal, Action.REASSIGN, actor, kw)
    executor = _executor(appeal, executor_id)
    if executor.id == appeal.executor_id:
        raise FieldError("executor_id", _l("Этот исполнитель уже назначен."))
    before = appeal.executor_id

    def effect(a: Appeal) -> None:
        a.executor_id = executor.id
        a.executor = executor

    return transition(
        appeal,
        Action.REASSIGN,
        actor,
        comment=_clean_comment(comment),
        details={"from_executor_id": before, "executor_id": executor.id},
        effect=effect,
        returned_from=appeal.returned_from,
        **kw,
    )


def submit_draft(
    appeal: Appeal,
    actor: User,
    text: str | None,
    files: Sequence[FileStorage] | None = None,
    staged: Sequence[Attachment] = (),
    **kw: Any,
) -> AppealEvent:
    """Executor: write the answer (with photos or documents) and send it to the head."""
    _may(appeal, Action.SUBMIT_DRAFT, actor, kw)
    text = _clean_text(
        text,
        "text",
        max_length=int(setting("APPEALS_ANSWER_MAX_LENGTH")),
        empty=_l("Напишите текст ответа."),
    )
    files = _files(files)
    _check_file_count(files, kept=len(staged))

    def effect(a: Appeal) -> dict[str, Any]:
        answer = AppealAnswer(
            appeal_id=a.id,
            author_id=actor.id,
            organization_id=a.holder_organization_id,
            text=text,
            status=AnswerStatus.SUBMITTED,
            created_at=utcnow(),
        )
        db.session.add(answer)
        db.session.flush()
        attach_files(
            files, staged, uploaded_by_id=actor.id, attached_to=("appeal_answer", answer.id)
        )
        return {"answer_id": answer.id}

    return transition(appeal, Action.SUBMIT_DRAFT, actor, effect=effect, **kw)


def max_postponement_days(region: Territory) -> int:
    """How many days past the original due date the region lets an answer be postponed."""
    days = db.session.scalar(
        sa.select(RegionAppealSettings.max_postponement_days).where(
            RegionAppealSettings.territory_id == region.id
        )
    )
    return days if days is not None else int(setting("APPEALS_MAX_POSTPONEMENT_DAYS"))


def set_max_postponement_days(region: Territory, days: int) -> RegionAppealSettings:
    """The region's limit on postponements (1–365 days past the original due date)."""
    if region.level != TerritoryLevel.REGION:
        raise FieldError("territory_id", _l("Ограничение задаётся для субъекта РФ."))
    if not 1 <= days <= 365:
        raise FieldError("days", _l("Число дней — от 1 до 365."))
    row = db.session.scalar(
        sa.select(RegionAppealSettings).where(RegionAppealSettings.territory_id == region.id)
    )
    if row is None:
        row = RegionAppealSettings(territory_id=region.id, max_postponement_days=days)
        db.session.add(row)
    else:
        row.max_postponement_days = days
    db.session.flush()
    return row


def postpone_appeal(
    appeal: Appeal, actor: User, until: date | None, reason: str | None, **kw: Any
) -> AppealEvent:
    """Executor or head: the problem cannot be solved in time; give the reason and a new date."""
    _may(appeal, Action.POSTPONE, actor, kw)
    reason = _clean_comment(
        reason, "reason", required=_l("Укажите, почему проблему не удаётся решить в срок.")
    )
    if until is None:
        raise FieldError("until", _l("Укажите новую дату ответа."))
    tz = _tz(appeal)
    new_due = deadlines.end_of_local_day(until, tz)
    limit_days = max_postponement_days(appeal.region)
    latest = appeal.original_answer_due_at + timedelta(days=limit_days)
    if new_due <= max(appeal.answer_due_at, utcnow()):
        raise FieldError(
            "until",
            _l(
                "Новая дата должна быть позже текущего срока ответа (%(date)s).",
                date=local_date(max(appeal.answer_due_at, utcnow()), tz),
            ),
        )
    if new_due.date() > latest.astimezone(new_due.tzinfo).date():
        raise FieldError(
            "until",
            _l(
                "Отложить можно не более чем на %(days)d дней от первоначального срока — "
                "не позднее %(date)s.",
                days=limit_days,
                date=local_date(latest, tz),
            ),
        )
    before = appeal.answer_due_at

    def effect(a: Appeal) -> None:
        a.answer_due_at = new_due
        a.postponed_until = new_due
        a.postponement_reason = reason
        a.postponement_count += 1
        a.soon_due_flagged_at = a.overdue_flagged_at = None

    return transition(
        appeal,
        Action.POSTPONE,
        actor,
        comment=reason,
        details={"from": before.isoformat(), "until": until.isoformat()},
        effect=effect,
        **kw,
    )


def resume_appeal(
    appeal: Appeal, actor: User, comment: str | None = None, **kw: Any
) -> AppealEvent:
    """Back to work on a postponed message before its new date."""
    return transition(appeal, Action.RESUME, actor, comment=_clean_comment(comment), **kw)


def approve_answer(
    appeal: Appeal, actor: User, comment: str | None = None, **kw: Any
) -> AppealEvent:
    """Head: approve the draft; it goes to the resident with a link to rate it."""
    draft = current_draft(appeal)

    def effect(a: Appeal) -> None:
        if draft is None:
            raise DomainError(_l("Нет проекта ответа на согласовании."))
        draft.status = AnswerStatus.APPROVED
        draft.decided_at = utcnow()
        draft.decided_by_id = actor.id
        a.answered_at = utcnow()

    event = transition(
        appeal,
        Action.APPROVE,
        actor,
        comment=_clean_comment(comment),
        details={"answer_id": draft.id if draft else None},
        effect=effect,
        **kw,
    )
    answer_followers(appeal, event)
    return event


def return_draft(appeal: Appeal, actor: User, remarks: str | None, **kw: Any) -> AppealEvent:
    """Head: send the draft back to the executor with remarks."""
    _may(appeal, Action.RETURN_DRAFT, actor, kw)
    remarks = _clean_comment(
        remarks, "comment", required=_l("Напишите замечания к проекту ответа.")
    )
    draft = current_draft(appeal)

    def effect(a: Appeal) -> None:
        if draft is not None:
            draft.status = AnswerStatus.RETURNED
            draft.decided_at = utcnow()
            draft.decided_by_id = actor.id
            draft.remarks = remarks

    return transition(
        appeal,
        Action.RETURN_DRAFT,
        actor,
        comment=remarks,
        details={"answer_id": draft.id if draft else None},
        effect=effect,
        returned_from=ReturnedFrom.HEAD,
        **kw,
    )
