"""Retention of personal data (152-ФЗ): what passed its term is anonymised, statistics stay.

Each kind of personal data has a term (settings RETENTION_*, see README). When it has passed,
the personal part is removed in place — names, contacts, free text that may name people,
files — while every row that a statistic counts stays with the fields it is counted by
(state, dates, topic, territory, organization, scores, age band…). So the reports' rollup,
the participation figures and the survey results are the same before and after, even when
recounted from the base tables. Voting is never touched: ballots are anonymous by design and
the ballot box's SHA-256 must stay as published.

Work is set-based: ids are taken in keyset batches and each batch is one UPDATE per table
(the only per-row Python is the list of erased files' paths). Anonymised rows no longer match
the selection, so a second run changes nothing. A dry run counts what a run would change and
writes nothing; a real run writes one audit entry per kind with its counts.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from flask import current_app

from participation.appeals.models import (
    Appeal,
    AppealAnswer,
    AppealEvent,
    AppealHandoff,
    AppealRating,
)
from participation.appeals.workflow import FINAL_STATES
from participation.core import audit
from participation.core.db import utcnow
from participation.core.files import ERASED_NAME, Attachment, erase_attachments
from participation.core.outbox import Channel as OutboxChannel
from participation.core.outbox import Notification, OutboxMessage
from participation.directline.models import DirectLine, Question
from participation.extensions import db
from participation.hearings.models import Hearing, Participant, Remark
from participation.polls.models import Survey, SurveyAnswer, SurveyDraft, SurveyResponse
from participation.widgets.models import WidgetSession

PLACEHOLDER = ERASED_NAME  # what anonymised free text reads, as an erased file's name
BATCH = 1000
PURGE_ACTION = "privacy.purge"
PURGE_LOCK = 7_140_018  # any constant no other advisory lock uses
# The sweep purges at most this often (every run is audit-logged per kind).
SWEEP_EVERY = timedelta(days=1)


@dataclass(frozen=True)
class Term:
    """How long a kind of personal data is kept: years or days, from a setting."""

    setting: str
    unit: str  # "years" | "days"

    def cutoff(self, now: datetime) -> datetime:
        value = int(current_app.config[self.setting])
        if self.unit == "days":
            return now - timedelta(days=value)
        return years_before(now, value)


def years_before(moment: datetime, years: int) -> datetime:
    """The same calendar moment `years` earlier (29 February → 28 February)."""
    try:
        return moment.replace(year=moment.year - years)
    except ValueError:
        return moment.replace(year=moment.year - years, day=28)


@dataclass
class KindResult:
    kind: str
    cutoff: datetime
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.counts.values())


def _batches(query: sa.Select) -> Iterator[list[int]]:
    """The ids `query` (a SELECT of one integer id column) yields, in keyset batches."""
    column = query.selected_columns[0]
    last = None
    while True:
        q = query.order_by(column).limit(BATCH)
        if last is not None:
            q = q.where(column > last)
        ids = list(db.session.scalars(q))
        if not ids:
            return
        last = ids[-1]
        yield ids


def _count(query: sa.Select) -> int:
    return int(db.session.scalar(sa.select(sa.func.count()).select_from(query.subquery())) or 0)


def _update(model: Any, *where: Any, **values: Any) -> int:
    result = db.session.execute(
        sa.update(model).where(*where).values(**values).execution_options(synchronize_session=False)
    )
    return int(result.rowcount or 0)


def _delete(model: Any, *where: Any) -> int:
    result = db.session.execute(
        sa.delete(model).where(*where).execution_options(synchronize_session=False)
    )
    return int(result.rowcount or 0)


def _changed(column: Any) -> Any:
    """Free text not yet anonymised."""
    return sa.and_(column.is_not(None), column != PLACEHOLDER)


# --- messages ---------------------------------------------------------------------------------


def _messages(cutoff: datetime) -> sa.Select:
    """Messages closed before `cutoff` and not anonymised yet; an escalated one waits for its
    review (the higher organization's copy) to pass the term as well."""
    review = sa.orm.aliased(Appeal)
    open_review = sa.exists().where(
        review.review_of_id == Appeal.id,
        sa.or_(review.closed_at.is_(None), review.closed_at >= cutoff),
    )
    return sa.select(Appeal.id).where(
        Appeal.state.in_(sorted(FINAL_STATES)),
        Appeal.closed_at < cutoff,
        Appeal.text != PLACEHOLDER,
        ~open_review,
    )


def _message_files(messages: sa.Select) -> sa.Select:
    """The files (not yet erased) of these messages (a SELECT of ids) and of their answers."""
    ids = messages.subquery()
    as_text = sa.select(sa.cast(ids.c.id, sa.String))
    answers = sa.select(sa.cast(AppealAnswer.id, sa.String)).where(
        AppealAnswer.appeal_id.in_(sa.select(ids.c.id))
    )
    return sa.select(Attachment.id).where(
        Attachment.deleted_at.is_(None),
        sa.or_(
            sa.and_(
                Attachment.attached_to_type == "appeal", Attachment.attached_to_id.in_(as_text)
            ),
            sa.and_(
                Attachment.attached_to_type == "appeal_answer",
                Attachment.attached_to_id.in_(answers),
            ),
        ),
    )


def purge_messages(cutoff: datetime, dry_run: bool) -> dict[str, int]:
    """Messages: applicant's contacts, text, address, staff comments, answers, files."""
    query = _messages(cutoff)
    if dry_run:
        return {"messages": _count(query), "files": _count(_message_files(query))}
    counts = {"messages": 0, "files": 0}
    for ids in _batches(query):
        inside = Appeal.id.in_(ids)
        files = list(db.session.scalars(_message_files(sa.select(Appeal.id).where(inside))))
        counts["files"] += erase_attachments(files)
        _update(
            AppealEvent,
            AppealEvent.appeal_id.in_(ids),
            AppealEvent.comment.is_not(None),
            comment=None,
        )
        _update(AppealAnswer, AppealAnswer.appeal_id.in_(ids), text=PLACEHOLDER, remarks=None)
        _update(
            AppealRating,
            AppealRating.appeal_id.in_(ids),
            AppealRating.comment.is_not(None),
            comment=None,
        )
        _update(
            AppealHandoff,
            AppealHandoff.appeal_id.in_(ids),
            AppealHandoff.reason.is_not(None),
            reason=PLACEHOLDER,
        )
        counts["messages"] += _update(
            Appeal,
            inside,
            text=PLACEHOLDER,
            address=None,
            caller_name=None,
            caller_phone=None,
            caller_email=None,
            postponement_reason=None,
        )
    return counts


# --- survey answers ---------------------------------------------------------------------------


def _survey_end() -> Any:
    return sa.case(
        (
            sa.and_(Survey.closed_at.is_not(None), Survey.closed_at < Survey.ends_at),
            Survey.closed_at,
        ),
        else_=Survey.ends_at,
    )


def _surveys(cutoff: datetime) -> sa.Select:
    return sa.select(Survey.id).where(_survey_end() < cutoff)


def _named_responses(survey_ids: Any) -> Any:
    return sa.and_(
        SurveyResponse.survey_id.in_(survey_ids), SurveyResponse.respondent_id.is_not(None)
    )


def _texts(survey_ids: Any) -> Any:
    responses = sa.select(SurveyResponse.id).where(SurveyResponse.survey_id.in_(survey_ids))
    return sa.and_(SurveyAnswer.response_id.in_(responses), _changed(SurveyAnswer.text_value))


def purge_survey_answers(cutoff: datetime, dry_run: bool) -> dict[str, int]:
    """Closed surveys: who gave a named response, free-text answers, unsent drafts."""
    surveys = _surveys(cutoff)
    if dry_run:
        return {
            "named_responses": _count(
                sa.select(SurveyResponse.id).where(_named_responses(surveys))
            ),
            "text_answers": _count(sa.select(SurveyAnswer.id).where(_texts(surveys))),
            "drafts": _count(sa.select(SurveyDraft.id).where(SurveyDraft.survey_id.in_(surveys))),
        }
    counts = {"named_responses": 0, "text_answers": 0, "drafts": 0}
    for ids in _batches(surveys):
        counts["text_answers"] += _update(SurveyAnswer, _texts(ids), text_value=PLACEHOLDER)
        counts["named_responses"] += _update(
            SurveyResponse, _named_responses(ids), respondent_id=None
        )
        counts["drafts"] += _delete(SurveyDraft, SurveyDraft.survey_id.in_(ids))
    return counts


# --- hearings ---------------------------------------------------------------------------------


def _year_of(column: Any) -> Any:
    """The first of January of a date's year (only the year of birth is kept)."""
    if db.session.get_bind().dialect.name == "postgresql":
        return sa.cast(sa.func.date_trunc("year", column), sa.Date)
    return sa.func.date(column, "start of year")


def purge_hearings(cutoff: datetime, dry_run: bool) -> dict[str, int]:
    """Hearings whose remarks closed: participants' identification data and remarks' text.

    Whether a participant resides in the territory, and each remark's status and paragraph,
    stay: the protocol's split and the figures are made of them.
    """
    hearings = sa.select(Hearing.id).where(Hearing.remarks_close_at < cutoff)
    people = sa.and_(Participant.hearing_id.in_(hearings), Participant.last_name != PLACEHOLDER)
    texts = sa.and_(Remark.hearing_id.in_(hearings), Remark.text != PLACEHOLDER)
    if dry_run:
        return {
            "participants": _count(sa.select(Participant.id).where(people)),
            "remarks": _count(sa.select(Remark.id).where(texts)),
        }
    counts = {"participants": 0, "remarks": 0}
    for ids in _batches(hearings):
        counts["participants"] += _update(
            Participant,
            Participant.hearing_id.in_(ids),
            Participant.last_name != PLACEHOLDER,
            last_name=PLACEHOLDER,
            first_name="",
            middle_name=None,
            address=PLACEHOLDER,
            birth_date=_year_of(Participant.birth_date),
        )
        counts["remarks"] += _update(
            Remark, Remark.hearing_id.in_(ids), Remark.text != PLACEHOLDER, text=PLACEHOLDER
        )
    return counts


# --- direct lines -----------------------------------------------------------------------------


def purge_directline(cutoff: datetime, dry_run: bool) -> dict[str, int]:
    """Direct lines that ended: the questions' text and address (state and dates stay)."""
    events = sa.select(DirectLine.id).where(DirectLine.ends_at < cutoff)
    if dry_run:
        query = sa.select(Question.id).where(
            Question.event_id.in_(events), Question.text != PLACEHOLDER
        )
        return {"questions": _count(query)}
    counts = {"questions": 0}
    for ids in _batches(events):
        counts["questions"] += _update(
            Question,
            Question.event_id.in_(ids),
            Question.text != PLACEHOLDER,
            text=PLACEHOLDER,
            address=None,
        )
    return counts


# --- sessions and notifications ---------------------------------------------------------------


def purge_sessions(cutoff: datetime, dry_run: bool) -> dict[str, int]:
    """Widget logins last used before the term: who logged in, on which site, when."""
    old = WidgetSession.last_seen_at < cutoff
    if dry_run:
        return {"widget_sessions": _count(sa.select(WidgetSession.id).where(old))}
    counts = {"widget_sessions": 0}
    for ids in _batches(sa.select(WidgetSession.id).where(old)):
        counts["widget_sessions"] += _delete(WidgetSession, WidgetSession.id.in_(ids))
    return counts


def purge_notifications(cutoff: datetime, dry_run: bool) -> dict[str, int]:
    """The feed's old items and sent e-mails' addresses and text (the dedup keys stay, so
    nothing is ever sent twice)."""
    feed = sa.select(Notification.id).where(Notification.created_at < cutoff)
    mail = sa.select(OutboxMessage.id).where(
        OutboxMessage.sent_at < cutoff, OutboxMessage.body != PLACEHOLDER
    )
    if dry_run:
        return {"feed_items": _count(feed), "sent_emails": _count(mail)}
    counts = {"feed_items": 0, "sent_emails": 0}
    for ids in _batches(feed):
        counts["feed_items"] += _delete(Notification, Notification.id.in_(ids))
    for ids in _batches(mail):
        counts["sent_emails"] += _update(
            OutboxMessage,
            OutboxMessage.id.in_(ids),
            email=sa.case(
                (OutboxMessage.channel == OutboxChannel.EMAIL, PLACEHOLDER), else_=sa.null()
            ),
            body=PLACEHOLDER,
        )
    return counts


# --- the kinds, the run -----------------------------------------------------------------------


@dataclass(frozen=True)
class Kind:
    name: str
    label: str
    term: Term
    purge: Callable[[datetime, bool], dict[str, int]]


KINDS: tuple[Kind, ...] = (
    Kind("messages", "Сообщения", Term("RETENTION_MESSAGES_YEARS", "years"), purge_messages),
    Kind(
        "survey_answers",
        "Ответы на опросы",
        Term("RETENTION_SURVEY_ANSWERS_YEARS", "years"),
        purge_survey_answers,
    ),
    Kind(
        "hearings",
        "Участники и замечания общественных обсуждений",
        Term("RETENTION_HEARINGS_YEARS", "years"),
        purge_hearings,
    ),
    Kind(
        "directline",
        "Вопросы прямых линий",
        Term("RETENTION_DIRECTLINE_YEARS", "years"),
        purge_directline,
    ),
    Kind(
        "sessions",
        "Входы через виджеты",
        Term("RETENTION_SESSIONS_DAYS", "days"),
        purge_sessions,
    ),
    Kind(
        "notifications",
        "Уведомления и отправленные письма",
        Term("RETENTION_NOTIFICATIONS_DAYS", "days"),
        purge_notifications,
    ),
)


def one_purge_at_a_time() -> None:
    """Wait for any other purge's transaction (PostgreSQL; SQLite writes one at a time)."""
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(sa.select(sa.func.pg_advisory_xact_lock(PURGE_LOCK)))


def purge_personal_data(
    *, dry_run: bool = False, now: datetime | None = None, commit: bool = False
) -> list[KindResult]:
    """Anonymise every kind of personal data past its term (or only count, on a dry run).

    With `commit` each kind is committed with its audit entry (the command and the sweep:
    a long run does not hold one transaction); otherwise the caller commits.
    """
    now = now or utcnow()
    results = []
    for kind in KINDS:
        cutoff = kind.term.cutoff(now)
        if not dry_run:
            one_purge_at_a_time()
        result = KindResult(kind.name, cutoff, kind.purge(cutoff, dry_run))
        if not dry_run:
            audit.record(
                PURGE_ACTION,
                object_type="privacy",
                object_id=kind.name,
                kind=kind.name,
                cutoff=cutoff.isoformat(),
                counts=result.counts,
            )
            db.session.flush()
            if commit:
                db.session.commit()
        results.append(result)
    return results


def last_purge_at() -> datetime | None:
    return db.session.scalar(
        sa.select(sa.func.max(audit.AuditEntry.at)).where(audit.AuditEntry.action == PURGE_ACTION)
    )


def purge_due(now: datetime | None = None) -> bool:
    """Whether the sweep should purge now: not within SWEEP_EVERY of the last run."""
    last = last_purge_at()
    return last is None or last <= (now or utcnow()) - SWEEP_EVERY


def terms() -> list[tuple[Kind, int]]:
    """Each kind with its configured term (in its unit)."""
    return [(kind, int(current_app.config[kind.term.setting])) for kind in KINDS]
