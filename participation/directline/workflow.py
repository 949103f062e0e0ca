"""What moderators may do with a question in each state: the transitions table as data."""

from __future__ import annotations

import enum

from flask_babel import lazy_gettext as _l

from participation.core.workflow import Workflow, t
from participation.directline.models import Phase
from participation.directline.models import QuestionState as S


class Action(enum.StrEnum):
    PUBLISH = "publish"
    REJECT = "reject"
    MERGE = "merge"  # this question is a duplicate: merge it into another one
    SHORTLIST = "shortlist"
    UNSHORTLIST = "unshortlist"
    ON_AIR = "on_air"
    OFF_AIR = "off_air"  # taken off air without an answer (back to the shortlist)
    ANSWER = "answer"


class Actor(enum.StrEnum):
    MODERATOR = "moderator"


M = Actor.MODERATOR

WORKFLOW = Workflow(
    [
        # Table order is the order the buttons appear in.
        t(S.NEW, Action.PUBLISH, S.PUBLISHED, M),
        t(S.NEW, Action.REJECT, S.REJECTED, M),
        t(S.NEW, Action.MERGE, S.MERGED, M),
        t(S.PUBLISHED, Action.SHORTLIST, S.SHORTLISTED, M),
        t(S.PUBLISHED, Action.ON_AIR, S.ON_AIR, M),
        t(S.PUBLISHED, Action.REJECT, S.REJECTED, M),
        t(S.PUBLISHED, Action.MERGE, S.MERGED, M),
        t(S.SHORTLISTED, Action.ON_AIR, S.ON_AIR, M),
        t(S.SHORTLISTED, Action.UNSHORTLIST, S.PUBLISHED, M),
        t(S.SHORTLISTED, Action.REJECT, S.REJECTED, M),
        t(S.SHORTLISTED, Action.MERGE, S.MERGED, M),
        t(S.ON_AIR, Action.ANSWER, S.ANSWERED, M),
        t(S.ON_AIR, Action.OFF_AIR, S.SHORTLISTED, M),
    ]
)

# A duplicate may be merged into a question in one of these states.
MERGE_TARGET_STATES = frozenset({S.PUBLISHED, S.SHORTLISTED, S.ON_AIR, S.ANSWERED})

ACTION_LABELS = {
    Action.PUBLISH: _l("Опубликовать"),
    Action.REJECT: _l("Отклонить"),
    Action.MERGE: _l("Объединить с другим вопросом"),
    Action.SHORTLIST: _l("В список к эфиру"),
    Action.UNSHORTLIST: _l("Убрать из списка к эфиру"),
    Action.ON_AIR: _l("В эфир"),
    Action.OFF_AIR: _l("Снять с эфира без ответа"),
    Action.ANSWER: _l("Ответ дан"),
}

STATE_LABELS = {
    S.NEW: _l("На модерации"),
    S.PUBLISHED: _l("Опубликован"),
    S.SHORTLISTED: _l("Отобран для эфира"),
    S.ON_AIR: _l("Сейчас в эфире"),
    S.ANSWERED: _l("Ответ дан в эфире"),
    S.REJECTED: _l("Отклонён"),
    S.MERGED: _l("Объединён с похожим вопросом"),
}

PHASE_LABELS = {
    Phase.ANNOUNCED: _l("Приём вопросов скоро начнётся"),
    Phase.COLLECTING: _l("Идёт приём вопросов"),
    Phase.LIVE: _l("Идёт эфир"),
    Phase.FINISHED: _l("Прямая линия завершена"),
}
