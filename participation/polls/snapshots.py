"""Results of large surveys: computed by a job into a snapshot, shown from it on the pages.

Up to LIVE_LIMIT responses the pages count live (a few GROUP BY queries, well under a
second). Past it, counting a million responses takes seconds, so the page shows the latest
snapshot with its time and asks a job to refresh it when it is older than MAX_AGE (or older
than the close of the survey). The periodic sweep refreshes stale snapshots too.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa

from participation.core.db import utcnow
from participation.core.jobs import enqueue_after_commit, sweep
from participation.extensions import db
from participation.polls.engine import Questionnaire, load_questionnaire
from participation.polls.models import Survey, SurveyResponse, SurveyResultSnapshot, SurveyState
from participation.polls.results import (
    Breakdown,
    Dimension,
    SurveyResults,
    assemble_breakdown,
    assemble_results,
    breakdown_raw,
    compute_breakdown,
    compute_results,
    response_count,
    totals_raw,
)

LIVE_LIMIT = 10_000
MAX_AGE = timedelta(minutes=10)
# A refresh asked for and not done within this time is asked for again (a lost job).
RETRY_AFTER = timedelta(minutes=10)


@dataclass
class ResultsView:
    results: SurveyResults | None  # None while the first snapshot is being computed
    breakdown: Breakdown | None
    computed_at: datetime | None  # None for live figures
    respondents: int = 0  # responses now (a snapshot may be older)
    refreshing: bool = False
    requested: bool = False  # a refresh was asked for: the caller must commit


def _stale(snapshot: SurveyResultSnapshot, survey: Survey, now: datetime) -> bool:
    if snapshot.computed_at is None:
        return True
    if survey.state(now) == SurveyState.CLOSED:
        closed = survey.closed_at or survey.ends_at
        return snapshot.computed_at < closed
    return snapshot.computed_at < now - MAX_AGE


def _request_refresh(snapshot: SurveyResultSnapshot, now: datetime) -> bool:
    pending = snapshot.requested_at is not None and (
        snapshot.computed_at is None or snapshot.requested_at > snapshot.computed_at
    )
    if pending and snapshot.requested_at > now - RETRY_AFTER:
        return False
    snapshot.requested_at = now
    enqueue_after_commit(
        "participation.polls.snapshots:refresh_results", snapshot.survey_id, queue="reports"
    )
    return True


def results_view(
    survey: Survey, qn: Questionnaire | None = None, dimension: Dimension | None = None
) -> ResultsView:
    """Figures for a results page: live for small surveys, from the snapshot for large ones.

    May ask for a refresh (the caller commits, so the job leaves after the commit).
    """
    qn = qn or load_questionnaire(survey.id)
    if not _more_than(survey.id, LIVE_LIMIT):
        breakdown = compute_breakdown(survey, dimension) if dimension else None
        results = compute_results(survey, qn)
        return ResultsView(results, breakdown, None, respondents=results.total)
    now = utcnow()
    snapshot = db.session.scalar(
        sa.select(SurveyResultSnapshot).where(SurveyResultSnapshot.survey_id == survey.id)
    )
    if snapshot is None:
        snapshot = SurveyResultSnapshot(survey_id=survey.id, data={})
        db.session.add(snapshot)
        db.session.flush()
    respondents = _current_count(survey.id, snapshot)
    requested = _stale(snapshot, survey, now) and _request_refresh(snapshot, now)
    refreshing = requested or (
        snapshot.requested_at is not None
        and (snapshot.computed_at is None or snapshot.requested_at > snapshot.computed_at)
    )
    if snapshot.computed_at is None:
        return ResultsView(None, None, None, respondents, True, requested)
    results = assemble_results(survey, qn, snapshot.data["totals"])
    breakdown = (
        assemble_breakdown(survey, dimension, snapshot.data[dimension.value]) if dimension else None
    )
    return ResultsView(results, breakdown, snapshot.computed_at, respondents, refreshing, requested)


def _more_than(survey_id: int, n: int) -> bool:
    """Has the survey more than n responses? (Walks at most n+1 index entries.)"""
    return (
        db.session.scalar(
            sa.select(SurveyResponse.id)
            .where(SurveyResponse.survey_id == survey_id)
            .order_by(SurveyResponse.id)
            .offset(n)
            .limit(1)
        )
        is not None
    )


def _current_count(survey_id: int, snapshot: SurveyResultSnapshot) -> int:
    """Responses now: the snapshot's count plus those with a later id (an index range),
    instead of counting a million rows on every page view."""
    last_id = (snapshot.data or {}).get("last_id")
    if snapshot.computed_at is None or last_id is None:
        return response_count(survey_id)
    newer = db.session.scalar(
        sa.select(sa.func.count())
        .select_from(SurveyResponse)
        .where(SurveyResponse.survey_id == survey_id, SurveyResponse.id > last_id)
    )
    return snapshot.responses + newer


def refresh_results(survey_id: int) -> None:
    """Job: count everything once (totals and the three breakdowns) into the snapshot."""
    survey = db.session.get(Survey, survey_id)
    if survey is None:
        return
    started = utcnow()
    qn = load_questionnaire(survey.id)
    data = {"totals": totals_raw(survey.id, qn)}
    for dimension in Dimension:
        data[dimension.value] = breakdown_raw(survey, dimension)
    snapshot = db.session.scalar(
        sa.select(SurveyResultSnapshot).where(SurveyResultSnapshot.survey_id == survey.id)
    )
    if snapshot is None:
        snapshot = SurveyResultSnapshot(survey_id=survey.id)
        db.session.add(snapshot)
    # Pages add the responses with a later id to the snapshot's count. Taken after counting:
    # a response committed during the count with a smaller id waits for the next refresh.
    data["last_id"] = db.session.scalar(
        sa.select(sa.func.max(SurveyResponse.id)).where(SurveyResponse.survey_id == survey.id)
    )
    snapshot.data = data
    snapshot.responses = data["totals"]["total"]
    # The figures are as of the start of the counting: answers that came in meanwhile show
    # up in the next refresh.
    snapshot.computed_at = started
    db.session.commit()


@sweep
def refresh_stale_results() -> int:
    """Ask for a refresh of every stale snapshot (large surveys someone has looked at)."""
    now = utcnow()
    asked = 0
    rows = db.session.execute(
        sa.select(SurveyResultSnapshot, Survey).join(
            Survey, Survey.id == SurveyResultSnapshot.survey_id
        )
    ).all()
    for snapshot, survey in rows:
        if _stale(snapshot, survey, now) and _request_refresh(snapshot, now):
            asked += 1
    return asked
