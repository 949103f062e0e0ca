"""The message lifecycle as data: states, actions, who may do what, buckets and labels.

`TRANSITIONS` is the one table the service (`services.transition`), the card (the actions shown)
and the tests read. Roles are the organization roles of the holder organization (the one whose
inbox the message is in now) plus two pseudo-roles: the message's author and the system (sweeps).
An executor acts only on messages assigned to them; that narrowing is done in permissions.py.
"""

from __future__ import annotations

import enum

from flask_babel import lazy_gettext as _l

from participation.core.users import Role
from participation.core.workflow import Workflow, t


class AppealState(enum.StrEnum):
    MODERATION = "moderation"  # модерация оператором платформы
    REJECTED = "rejected"  # отклонено модератором
    COORDINATION = "coordination"  # внешняя координация (ЦУР)
    ASSIGNMENT = "assignment"  # внутренняя координация: назначение исполнителя
    IN_WORK = "in_work"  # исполнитель готовит ответ
    APPROVAL = "approval"  # проект ответа на согласовании у руководителя
    POSTPONED = "postponed"  # решение отложено до новой даты
    ANSWERED = "answered"  # ответ направлен заявителю, ждёт оценки
    CLOSED = "closed"  # работа завершена
    ESCALATED = "escalated"  # низкая оценка: передано на рассмотрение вышестоящей организации
    # Объединено с основным сообщением о той же проблеме: ждёт его ответа (merging.py).
    MERGED = "merged"


class Action(enum.StrEnum):
    ACCEPT = "accept"
    CHANGE_TOPIC = "change_topic"
    CHANGE_ADDRESSEE = "change_addressee"
    REJECT = "reject"
    CONFIRM = "confirm"
    REDIRECT = "redirect"
    ASSIGN = "assign"
    REASSIGN = "reassign"
    SUBMIT_DRAFT = "submit_draft"
    POSTPONE = "postpone"
    RESUME = "resume"
    APPROVE = "approve"
    RETURN_DRAFT = "return_draft"
    RATE = "rate"  # оценка 3–5 (или 1–2, когда выше никого нет): закрыть
    ESCALATE = "escalate"  # оценка 1–2: на рассмотрение вышестоящей организации
    RETURN_FOR_REWORK = "return_for_rework"
    CLOSE_UNRATED = "close_unrated"


class Actor(enum.StrEnum):
    """Who is not an organization role: the message's author, and the platform itself."""

    AUTHOR = "author"
    SYSTEM = "system"


class Bucket(enum.StrEnum):
    """Inbox folders of the real platform (the coordinator's screen in the seeds)."""

    NEW = "new"
    IN_WORK = "in_work"
    ANSWERED = "answered"
    APPROVAL = "approval"
    RETURNED = "returned"
    POSTPONED = "postponed"
    REDIRECTED = "redirected"
    DONE = "done"


class SedFolder(enum.StrEnum):
    """«Отправлено в СЭД»: a view over the messages registered in the organization's СЭД.

    Not a bucket: a registered message keeps its workflow state and bucket (and shows in that
    folder too); these sub-folders split the registered ones by whether the answer came back.
    """

    IN_WORK = "sed_in_work"  # в работе: no answer from the СЭД yet
    ANSWERED = "sed_answered"  # получен ответ: the draft is with the head, sent, or closed


# A registered message held by the organization, by its workflow bucket.
SED_FOLDER_BUCKETS = {
    SedFolder.IN_WORK: (Bucket.NEW, Bucket.IN_WORK, Bucket.RETURNED, Bucket.POSTPONED),
    SedFolder.ANSWERED: (Bucket.APPROVAL, Bucket.ANSWERED, Bucket.DONE),
}


class ReturnedFrom(enum.StrEnum):
    HEAD = "head"  # руководитель вернул проект ответа (в рамках организации)
    RESIDENT = "resident"  # заявитель вернул ответ на доработку


S, A, R = AppealState, Action, Role
AUTHOR, SYSTEM = Actor.AUTHOR, Actor.SYSTEM

TRANSITIONS = (
    # Moderation (оператор платформы)
    t(S.MODERATION, A.ACCEPT, S.COORDINATION, R.MODERATOR),
    t(S.MODERATION, A.CHANGE_TOPIC, S.MODERATION, R.MODERATOR),
    t(S.MODERATION, A.CHANGE_ADDRESSEE, S.MODERATION, R.MODERATOR),
    t(S.MODERATION, A.REJECT, S.REJECTED, R.MODERATOR),
    # External coordination (региональный координатор, ЦУР)
    t(S.COORDINATION, A.CONFIRM, S.ASSIGNMENT, R.COORDINATOR),
    t(S.COORDINATION, A.REDIRECT, S.ASSIGNMENT, R.COORDINATOR),
    # Internal coordination (координатор организации-исполнителя)
    t(S.ASSIGNMENT, A.ASSIGN, S.IN_WORK, R.COORDINATOR),
    t(S.ASSIGNMENT, A.REDIRECT, S.ASSIGNMENT, R.COORDINATOR),
    t(S.IN_WORK, A.REASSIGN, S.IN_WORK, R.COORDINATOR),
    # …also while postponed or with the head: an executor who leaves hands everything over.
    t(S.POSTPONED, A.REASSIGN, S.POSTPONED, R.COORDINATOR),
    t(S.APPROVAL, A.REASSIGN, S.APPROVAL, R.COORDINATOR),
    # Execution
    t(S.IN_WORK, A.SUBMIT_DRAFT, S.APPROVAL, R.EXECUTOR),
    t(S.IN_WORK, A.POSTPONE, S.POSTPONED, R.EXECUTOR, R.HEAD),
    t(S.POSTPONED, A.RESUME, S.IN_WORK, R.EXECUTOR, R.COORDINATOR),
    t(S.POSTPONED, A.SUBMIT_DRAFT, S.APPROVAL, R.EXECUTOR),
    # Approval (руководитель)
    t(S.APPROVAL, A.APPROVE, S.ANSWERED, R.HEAD),
    t(S.APPROVAL, A.RETURN_DRAFT, S.IN_WORK, R.HEAD),
    # The author's word on the answer
    t(S.ANSWERED, A.RATE, S.CLOSED, AUTHOR),
    t(S.ANSWERED, A.ESCALATE, S.ESCALATED, AUTHOR),
    t(S.ANSWERED, A.RETURN_FOR_REWORK, S.IN_WORK, AUTHOR),
    t(S.ANSWERED, A.CLOSE_UNRATED, S.CLOSED, SYSTEM),
)

WORKFLOW = Workflow(TRANSITIONS)

# Every role the table can be asked about (tests iterate over all of them).
ALL_ACTORS: tuple[Role | Actor, ...] = (*Role, *Actor)

FINAL_STATES = frozenset({S.REJECTED, S.CLOSED, S.ESCALATED})
# States with a running answer deadline (the sweep and "overdue only" look at these).
OPEN_STATES = frozenset(
    {S.MODERATION, S.COORDINATION, S.ASSIGNMENT, S.IN_WORK, S.APPROVAL, S.POSTPONED}
)
# Before an executor is at work, the coordination countdown is shown as well.
COORDINATION_STATES = frozenset({S.MODERATION, S.COORDINATION, S.ASSIGNMENT})

_STATE_BUCKETS = {
    S.MODERATION: Bucket.NEW,
    S.COORDINATION: Bucket.NEW,
    S.ASSIGNMENT: Bucket.NEW,
    S.IN_WORK: Bucket.IN_WORK,
    S.APPROVAL: Bucket.APPROVAL,
    S.POSTPONED: Bucket.POSTPONED,
    S.ANSWERED: Bucket.ANSWERED,
    S.REJECTED: Bucket.DONE,
    S.CLOSED: Bucket.DONE,
    S.ESCALATED: Bucket.DONE,
    S.MERGED: Bucket.DONE,  # handled here by merging; the main message is the one worked on
}
OPEN_BUCKETS = frozenset(
    {Bucket.NEW, Bucket.IN_WORK, Bucket.RETURNED, Bucket.APPROVAL, Bucket.POSTPONED}
)


def bucket_for(state: AppealState, returned_from: ReturnedFrom | None = None) -> Bucket:
    """The inbox folder of a message in `state` at its holder organization."""
    if state == S.IN_WORK and returned_from is not None:
        return Bucket.RETURNED
    return _STATE_BUCKETS[state]


STATE_LABELS = {
    S.MODERATION: _l("На модерации"),
    S.REJECTED: _l("Отклонено"),
    S.COORDINATION: _l("На координации в ЦУР"),
    S.ASSIGNMENT: _l("Назначение исполнителя"),
    S.IN_WORK: _l("В работе"),
    S.APPROVAL: _l("На согласовании"),
    S.POSTPONED: _l("Отложено"),
    S.ANSWERED: _l("Дан ответ"),
    S.CLOSED: _l("Закрыто"),
    S.ESCALATED: _l("Передано в вышестоящую организацию"),
    S.MERGED: _l("Объединено с другим сообщением"),
}

# What a resident sees: fewer, plainer steps.
RESIDENT_STATE_LABELS = {
    S.MODERATION: _l("Проверяется модератором"),
    S.REJECTED: _l("Отклонено"),
    S.COORDINATION: _l("Передаётся исполнителю"),
    S.ASSIGNMENT: _l("Передаётся исполнителю"),
    S.IN_WORK: _l("В работе"),
    S.APPROVAL: _l("В работе"),
    S.POSTPONED: _l("Решение отложено"),
    S.ANSWERED: _l("Получен ответ"),
    S.CLOSED: _l("Закрыто"),
    S.ESCALATED: _l("На рассмотрении вышестоящей организации"),
    S.MERGED: _l("Ждёт ответа вместе с сообщением о той же проблеме"),
}

ACTION_LABELS = {
    A.ACCEPT: _l("Принять и передать на координацию"),
    A.CHANGE_TOPIC: _l("Изменить категорию"),
    A.CHANGE_ADDRESSEE: _l("Изменить адресата"),
    A.REJECT: _l("Отклонить"),
    A.CONFIRM: _l("Подтвердить адресата и направить на исполнение"),
    A.REDIRECT: _l("Перенаправить в другую организацию"),
    A.ASSIGN: _l("Назначить исполнителя"),
    A.REASSIGN: _l("Переназначить исполнителя"),
    A.SUBMIT_DRAFT: _l("Отправить проект ответа на согласование"),
    A.POSTPONE: _l("Отложить решение"),
    A.RESUME: _l("Возобновить работу"),
    A.APPROVE: _l("Утвердить ответ и направить заявителю"),
    A.RETURN_DRAFT: _l("Вернуть проект ответа на доработку"),
    A.RATE: _l("Оценить ответ"),
    A.ESCALATE: _l("Оценить ответ и передать в вышестоящую организацию"),
    A.RETURN_FOR_REWORK: _l("Вернуть на доработку"),
    A.CLOSE_UNRATED: _l("Закрыть без оценки"),
}

BUCKET_LABELS = {
    Bucket.NEW: _l("Новые"),
    Bucket.IN_WORK: _l("В работе"),
    Bucket.ANSWERED: _l("Подготовлен ответ"),
    Bucket.APPROVAL: _l("На согласовании"),
    Bucket.RETURNED: _l("Возвращены"),
    Bucket.POSTPONED: _l("Отложенные"),
    Bucket.REDIRECTED: _l("Перенаправленные"),
    Bucket.DONE: _l("Отработанные"),
}

SED_FOLDERS_LABEL = _l("Отправлено в СЭД")
SED_FOLDER_LABELS = {
    SedFolder.IN_WORK: _l("в работе"),
    SedFolder.ANSWERED: _l("получен ответ"),
}
# The heading of a folder's page.
FOLDER_TITLES = {
    **BUCKET_LABELS,
    SedFolder.IN_WORK: _l("Отправлено в СЭД: в работе"),
    SedFolder.ANSWERED: _l("Отправлено в СЭД: получен ответ"),
}

RETURNED_LABELS = {
    ReturnedFrom.HEAD: _l("в рамках организации"),
    ReturnedFrom.RESIDENT: _l("заявителем"),
}
