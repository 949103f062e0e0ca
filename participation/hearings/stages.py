"""The stage of a hearing, derived from its dates: in Python for one hearing, in SQL for lists.

Each stage starts at a moment kept on the hearing; the current stage is the furthest one whose
moment has come. Window dates are the organizer's local midnights (the territory's time zone),
so «приём с 1 по 14 июня» opens at 00:00 on 1 June and closes at 00:00 on 15 June, local time.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from participation.hearings.models import Hearing, HearingKind


class Stage(enum.StrEnum):
    DRAFT = "draft"  # not published: only the organizer sees it
    ANNOUNCED = "announced"
    EXPOSITION = "exposition"
    REMARKS_OPEN = "remarks_open"
    MEETING = "meeting"
    REMARKS_CLOSED = "remarks_closed"
    PROTOCOL = "protocol"
    CONCLUSION = "conclusion"

    @property
    def rank(self) -> int:
        return list(Stage).index(self)


STAGE_LABELS = {
    Stage.DRAFT: _l("Черновик, не опубликовано"),
    Stage.ANNOUNCED: _l("Оповещение опубликовано"),
    Stage.EXPOSITION: _l("Экспозиция проекта"),
    Stage.REMARKS_OPEN: _l("Приём предложений и замечаний"),
    Stage.MEETING: _l("Собрание участников"),
    Stage.REMARKS_CLOSED: _l("Приём завершён, готовится протокол"),
    Stage.PROTOCOL: _l("Протокол оформлен"),
    Stage.CONCLUSION: _l("Заключение опубликовано"),
}

# Stages a visitor can filter the public list by (a draft is never public).
PUBLIC_STAGES = tuple(s for s in Stage if s != Stage.DRAFT)


def local_midnight(day: date, tz: ZoneInfo) -> datetime:
    """00:00 of `day` in the time zone `tz`, as a UTC moment."""
    return datetime.combine(day, time(0, 0), tzinfo=tz).astimezone(UTC)


def day_after_midnight(day: date, tz: ZoneInfo) -> datetime:
    """The end of `day` in `tz`: midnight of the next day, as a UTC moment (exclusive bound)."""
    return local_midnight(day + timedelta(days=1), tz)


def local_today(tz: ZoneInfo, now: datetime) -> date:
    """The calendar day in time zone `tz` at the moment `now`."""
    return now.astimezone(tz).date()


def stage_starts(hearing: Hearing) -> list[tuple[Stage, datetime | None]]:
    """Every stage of this hearing with the moment it starts (None: not scheduled yet)."""
    steps: list[tuple[Stage, datetime | None]] = [
        (Stage.ANNOUNCED, hearing.notice_published_at),
        (Stage.EXPOSITION, hearing.exposition_starts_at),
        (Stage.REMARKS_OPEN, hearing.remarks_open_at),
    ]
    if hearing.kind == HearingKind.PUBLIC_HEARING:
        steps.append((Stage.MEETING, hearing.meeting_at))
    steps += [
        (Stage.REMARKS_CLOSED, hearing.remarks_close_at),
        (Stage.PROTOCOL, hearing.protocol_issued_at),
        (Stage.CONCLUSION, hearing.conclusion_published_at),
    ]
    return steps


def stage_at(hearing: Hearing, now: datetime) -> Stage:
    """The stage of `hearing` at the moment `now`."""
    if hearing.notice_published_at is None:
        return Stage.DRAFT
    current = Stage.ANNOUNCED
    for stage, starts in stage_starts(hearing):
        if starts is not None and starts <= now:
            current = stage
    return current


def stage_sql(now: datetime) -> sa.Case:
    """The same rule as `stage_at` as an SQL expression, for filtering lists in the database."""
    return sa.case(
        (Hearing.notice_published_at.is_(None), Stage.DRAFT.value),
        (Hearing.conclusion_published_at <= now, Stage.CONCLUSION.value),
        (Hearing.protocol_issued_at <= now, Stage.PROTOCOL.value),
        (Hearing.remarks_close_at <= now, Stage.REMARKS_CLOSED.value),
        (
            sa.and_(Hearing.kind == HearingKind.PUBLIC_HEARING, Hearing.meeting_at <= now),
            Stage.MEETING.value,
        ),
        (Hearing.remarks_open_at <= now, Stage.REMARKS_OPEN.value),
        (Hearing.exposition_starts_at <= now, Stage.EXPOSITION.value),
        else_=Stage.ANNOUNCED.value,
    )


def window_is_open(hearing: Hearing, now: datetime) -> bool:
    """Remarks are accepted: published, and between the local midnights of the window."""
    return (
        hearing.notice_published_at is not None
        and hearing.remarks_open_at <= now < hearing.remarks_close_at
    )


@dataclass(frozen=True)
class TimelineStep:
    stage: Stage
    label: str
    starts_at: datetime | None
    reached: bool
    current: bool


def timeline(hearing: Hearing, now: datetime) -> list[TimelineStep]:
    """The stages for the page: what has happened, what is now, what is planned."""
    current = stage_at(hearing, now)
    return [
        TimelineStep(
            stage=stage,
            label=str(STAGE_LABELS[stage]),
            starts_at=starts,
            reached=stage.rank <= current.rank and current != Stage.DRAFT,
            current=stage == current,
        )
        for stage, starts in stage_starts(hearing)
    ]
