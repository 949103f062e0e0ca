"""How messages read on pages: labels, badges, countdowns and timeline lines, in Russian."""

from __future__ import annotations

import contextlib
from typing import Any

from flask import Blueprint
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from participation.appeals.deadlines import countdown, time_left
from participation.appeals.models import Appeal, AppealEvent, Arrival, Channel, Relation
from participation.appeals.workflow import (
    ACTION_LABELS,
    BUCKET_LABELS,
    COORDINATION_STATES,
    FOLDER_TITLES,
    RESIDENT_STATE_LABELS,
    RETURNED_LABELS,
    SED_FOLDER_LABELS,
    SED_FOLDERS_LABEL,
    STATE_LABELS,
    Action,
    Actor,
)
from participation.core.labels import role_label
from participation.core.moderation import REJECTION_LABELS, RejectionReason
from participation.core.users import Role

CHANNEL_LABELS = {
    Channel.PORTAL: _l("Портал Госуслуг"),
    Channel.WIDGET: _l("Сайт организации"),
    Channel.API: _l("Мобильное приложение"),
    Channel.OPERATOR: _l("Оператор приёма"),
    Channel.DIRECT_LINE: _l("Прямая линия"),
}
ARRIVAL_LABELS = {
    Arrival.NEW: _l("Новое"),
    Arrival.AFTER_MODERATION: _l("После модерации"),
    Arrival.FROM_HIGHER: _l("Из вышестоящей организации"),
    Arrival.FROM_LOWER: _l("Из нижестоящей организации"),
    Arrival.FROM_NON_SUBORDINATE: _l("Из неподведомственной организации"),
    Arrival.FROM_SED: _l("Из СЭД"),
}
RELATION_LABELS = {
    Relation.SUBORDINATE: _l("в подведомственную организацию"),
    Relation.HIGHER: _l("в вышестоящую организацию"),
    Relation.NON_SUBORDINATE: _l("в неподведомственную организацию"),
}
SORT_LABELS = {
    "due": _l("По сроку ответа"),
    "received_desc": _l("Сначала новые"),
    "received": _l("Сначала старые"),
}
EVENT_LABELS = {
    "submit": _l("Сообщение зарегистрировано"),
    "escalation_received": _l("Поступило на рассмотрение после низкой оценки"),
    "sed_registered": _l("Зарегистрировано в СЭД организации"),
    # Duplicates (services/merging.py): on the follower, and `…_main` on the main message.
    "join": _l("Житель присоединился к сообщению о той же проблеме"),
    "join_main": _l("К сообщению присоединился житель"),
    "merge": _l("Объединено с сообщением о той же проблеме"),
    "merge_main": _l("С сообщением объединён повтор"),
    "unmerge": _l("Объединение отменено"),
    "unmerge_main": _l("Повтор снова рассматривается отдельно"),
    "answer_of_main": _l("Направлен ответ основного сообщения"),
    **{action.value: label for action, label in ACTION_LABELS.items()},
    Action.ACCEPT.value: _l("Модератор принял сообщение"),
    Action.CHANGE_TOPIC.value: _l("Изменена категория"),
    Action.CHANGE_ADDRESSEE.value: _l("Изменён адресат"),
    Action.REJECT.value: _l("Сообщение отклонено"),
    Action.CONFIRM.value: _l("Адресат подтверждён, сообщение направлено на исполнение"),
    Action.REDIRECT.value: _l("Сообщение перенаправлено"),
    Action.ASSIGN.value: _l("Назначен исполнитель"),
    Action.REASSIGN.value: _l("Назначен другой исполнитель"),
    Action.SUBMIT_DRAFT.value: _l("Проект ответа отправлен на согласование"),
    Action.POSTPONE.value: _l("Решение отложено"),
    Action.RESUME.value: _l("Работа возобновлена"),
    Action.APPROVE.value: _l("Ответ утверждён и направлен заявителю"),
    Action.RETURN_DRAFT.value: _l("Проект ответа возвращён на доработку"),
    Action.RATE.value: _l("Заявитель оценил ответ"),
    Action.ESCALATE.value: _l("Заявитель низко оценил ответ"),
    Action.RETURN_FOR_REWORK.value: _l("Заявитель вернул ответ на доработку"),
    Action.CLOSE_UNRATED.value: _l("Закрыто без оценки"),
}
# The flash after a staff action: «Сообщение № 12: принято — готово.»
ACTION_DONE = {
    Action.ACCEPT: _l("принято и передано на координацию"),
    Action.CHANGE_TOPIC: _l("категория изменена"),
    Action.CHANGE_ADDRESSEE: _l("адресат изменён"),
    Action.REJECT: _l("отклонено, заявитель уведомлён"),
    Action.CONFIRM: _l("направлено на исполнение"),
    Action.REDIRECT: _l("перенаправлено"),
    Action.ASSIGN: _l("исполнитель назначен"),
    Action.REASSIGN: _l("исполнитель переназначен"),
    Action.SUBMIT_DRAFT: _l("проект ответа отправлен на согласование"),
    Action.POSTPONE: _l("решение отложено, заявитель уведомлён"),
    Action.RESUME: _l("работа возобновлена"),
    Action.APPROVE: _l("ответ направлен заявителю"),
    Action.RETURN_DRAFT: _l("проект ответа возвращён исполнителю"),
}
# What the resident's timeline shows (internal steps stay internal).
RESIDENT_EVENTS = frozenset(
    {
        "submit",
        "join",
        "merge",
        "unmerge",
        "answer_of_main",
        Action.REJECT.value,
        Action.CONFIRM.value,
        Action.REDIRECT.value,
        Action.POSTPONE.value,
        Action.APPROVE.value,
        Action.RATE.value,
        Action.ESCALATE.value,
        Action.RETURN_FOR_REWORK.value,
        Action.CLOSE_UNRATED.value,
    }
)


def display_tz(appeal: Appeal) -> str:
    """The time zone the message's dates are shown in: that of the answering organization."""
    return appeal.executor_organization.territory.timezone


def appeal_countdown(appeal: Appeal) -> str:
    if appeal.is_thanks:
        return str(_("благодарность, ответ не обязателен"))
    return countdown(appeal.answer_due_at, display_tz(appeal))


def coordination_countdown(appeal: Appeal) -> str | None:
    """«На координацию: …» while the message has not reached an executor yet."""
    if appeal.state not in COORDINATION_STATES:
        return None
    return time_left(appeal.coordination_due_at)


def actor_label(role: str) -> str:
    if role == Actor.AUTHOR:
        return _("Заявитель")
    if role == Actor.SYSTEM:
        return _("Платформа")
    try:
        return role_label(Role(role))
    except ValueError:
        return role


def event_label(event: AppealEvent) -> str:
    return str(EVENT_LABELS.get(event.action, event.action))


def event_details(event: AppealEvent) -> str:
    """A short line with what the event's details mean for a reader."""
    details = event.details or {}
    parts = []
    if details.get("reason"):
        with contextlib.suppress(ValueError):
            parts.append(str(REJECTION_LABELS[RejectionReason(details["reason"])]))
    if details.get("relation"):
        parts.append(str(RELATION_LABELS.get(Relation(details["relation"]), "")))
    if details.get("main_id"):
        parts.append(_("основное сообщение № %(number)s", number=details["main_id"]))
    if details.get("follower_id"):
        parts.append(_("повтор № %(number)s", number=details["follower_id"]))
    if details.get("score"):
        parts.append(_("оценка %(score)d из 5", score=details["score"]))
    return "; ".join(p for p in parts if p)


def register_presenters(bp: Blueprint) -> None:
    """Make the labels and helpers available to the blueprint's templates."""

    @bp.context_processor
    def _appeal_helpers() -> dict[str, Any]:
        return {
            "STATE_LABELS": STATE_LABELS,
            "RESIDENT_STATE_LABELS": RESIDENT_STATE_LABELS,
            "BUCKET_LABELS": BUCKET_LABELS,
            "FOLDER_TITLES": FOLDER_TITLES,
            "SED_FOLDER_LABELS": SED_FOLDER_LABELS,
            "SED_FOLDERS_LABEL": SED_FOLDERS_LABEL,
            "ACTION_LABELS": ACTION_LABELS,
            "RETURNED_LABELS": RETURNED_LABELS,
            "CHANNEL_LABELS": CHANNEL_LABELS,
            "ARRIVAL_LABELS": ARRIVAL_LABELS,
            "RELATION_LABELS": RELATION_LABELS,
            "SORT_LABELS": SORT_LABELS,
            "RESIDENT_EVENTS": RESIDENT_EVENTS,
            "display_tz": display_tz,
            "appeal_countdown": appeal_countdown,
            "coordination_countdown": coordination_countdown,
            "actor_label": actor_label,
            "event_label": event_label,
            "event_details": event_details,
        }
