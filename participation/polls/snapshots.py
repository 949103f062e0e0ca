"""Results of large surveys: computed by a job into a snapshot, shown from it on the pages.

Up to LIVE_LIMIT responses the pages count live (one pass over the answers, well under a
second). Past it, counting a million responses takes seconds, so the page shows the latest
snapshot with its time and asks a job to refresh it when it is older than MAX_AGE (or older
than the close of the survey). The periodic sweep refreshes stale snapshots too.

The job counts once, and only what is new: the snapshot keeps the tally (tally.py) of the
responses up to some id, and a refresh adds the tally of the responses after it. Responses
are never changed or deleted one by one, so that stays exact, with one catch: ids are handed
out before commit, so a response can become visible after a higher id was already counted.
Hence the tally is carried forward only up to the highest id seen by a refresh at least
SETTLE_AFTER ago (by then every response with a lower id has long committed), the newer ones
are counted again each time, and before using it a refresh checks that the responses up to
its id are still exactly as many as it counted (an index-only count); if not, it counts
everything again.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

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
    compute_with_breakdowns,
    response_count,
)
from participation.polls.tally import IdRange, Tally, count_tally, text_counts

LIVE_LIMIT = 10_000
MAX_AGE = timedelta(minutes=10)
# A refresh asked for and not done within this time is asked for again (a lost job).
RETRY_AFTER = timedelta(minutes=10)
# Longer than any transaction that writes a response (a web request's): the responses with
# ids up to the highest seen this long ago are all committed, and their tally final.
SETTLE_AFTER = timedelta(minutes=5)
TALLY_VERSION = 1


@dataclass
class ResultsView:
    results: SurveyResults | None  # None while the first snapshot is being computed
    breakdown: Breakdown | None
    computed_at: datetime | None  # None for live figures
    respondents: int = 0  # responses now (a snapshot may be older)
    refreshing: bool = False
    requested: bool = False  # a refresh was asked for: the caller must commit
    breakdowns: list[Breakdown] = field(default_factory=list)  # one per dimension asked for


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
    return results_view_by(survey, qn, [dimension] if dimension else [])


def results_view_by(
    survey: Survey, qn: Questionnaire | None, dimensions: Sequence[Dimension]
) -> ResultsView:
    """results_view with any number of breakdowns (a report has them all): still one pass
    over the answers for a small survey, none for a large one."""
    qn = qn or load_questionnaire(survey.id)
    if not _more_than(survey.id, LIVE_LIMIT):
        results, breakdowns = compute_with_breakdowns(survey, qn, list(dimensions))
        return ResultsView(
            results,
            breakdowns[0] if breakdowns else None,
            None,
            respondents=results.total,
            breakdowns=breakdowns,
        )
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
    breakdowns = [assemble_breakdown(survey, d, snapshot.data[d.value]) for d in dimensions]
    return ResultsView(
        results,
        breakdowns[0] if breakdowns else None,
        snapshot.computed_at,
        respondents,
        refreshing,
        requested,
        breakdowns,
    )


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
    """Job: bring the snapshot up to date (totals and the three breakdowns) in one pass over
    the answers of the responses it has not counted yet, or of all of them the first time."""
    survey = db.session.get(Survey, survey_id)
    if survey is None:
        return
    started = utcnow()
    qn = load_questionnaire(survey.id)
    snapshot = db.session.scalar(
        sa.select(SurveyResultSnapshot).where(SurveyResultSnapshot.survey_id == survey.id)
    )
    if snapshot is None:
        snapshot = SurveyResultSnapshot(survey_id=survey.id)
        db.session.add(snapshot)
    kept = _kept_tally(survey.id, (snapshot.data or {}).get("tally"))
    # Counted: the responses after the kept tally's id, up to the highest id now.
    top = db.session.scalar(
        sa.select(sa.func.max(SurveyResponse.id)).where(SurveyResponse.survey_id == survey.id)
    )
    seen_at = utcnow()
    settle = _settle_upto(kept, top, seen_at)
    counted = IdRange(after=kept.upto, upto=top)
    if settle == top:  # (the first count) all of them join the kept tally
        settled, newer = count_tally(survey.id, list(Dimension), qn=qn, ids=counted)
    elif settle == kept.upto:  # none do yet
        newer, _none = count_tally(survey.id, list(Dimension), qn=qn, ids=counted)
        settled = Tally()
    else:  # those up to `settle`: only then is the split asked for (it is one more column
        # to group by, whose values PostgreSQL can't guess: fine for the few newest only)
        settled, newer = count_tally(
            survey.id,
            list(Dimension),
            qn=qn,
            ids=IdRange(after=kept.upto, upto=top, settled_upto=settle),
        )
    base = kept.tally.add(settled)
    now_tally = Tally().add(base).add(newer)
    data: dict[str, Any] = {"totals": now_tally.totals_raw(text_counts(qn))}
    for dimension in Dimension:
        data[dimension.value] = now_tally.breakdown_raw(dimension)
    data["tally"] = {
        "version": TALLY_VERSION,
        "upto": settle if settle is not None else kept.upto,
        "seen": [top, seen_at.isoformat()] if top is not None else None,
        "counts": base.to_json(),
    }
    # Pages add the responses with a later id to the snapshot's count.
    data["last_id"] = top
    snapshot.data = data
    snapshot.responses = now_tally.total
    # The figures are as of the start of the counting: answers that came in meanwhile show
    # up in the next refresh.
    snapshot.computed_at = started
    db.session.commit()


@dataclass
class _Kept:
    tally: Tally
    upto: int | None = None  # the responses with ids up to this one are in `tally`
    seen: tuple[int, datetime] | None = None  # the highest id the last refresh saw, and when


def _kept_tally(survey_id: int, stored: dict[str, Any] | None) -> _Kept:
    """The snapshot's tally, if it can be built on: its responses are still all there, and
    no other; otherwise an empty one (everything is counted again)."""
    if not stored or stored.get("version") != TALLY_VERSION or stored.get("upto") is None:
        return _Kept(Tally())
    tally = Tally.from_json(stored["counts"])
    now_there = db.session.scalar(
        sa.select(sa.func.count())
        .select_from(SurveyResponse)
        .where(SurveyResponse.survey_id == survey_id, SurveyResponse.id <= stored["upto"])
    )
    if now_there != tally.total:  # one committed late (or a lost snapshot write): recount
        return _Kept(Tally())
    seen = stored.get("seen")
    return _Kept(
        tally, stored["upto"], (seen[0], datetime.fromisoformat(seen[1])) if seen else None
    )


def _settle_upto(kept: _Kept, top: int | None, now: datetime) -> int | None:
    """Up to which id the new counts join the kept tally for good."""
    if top is None:
        return kept.upto
    if kept.upto is None:
        # The first count: taken as final. A response with a lower id that commits after it
        # makes the next refresh's check fail, and that refresh counts everything again.
        return top
    if kept.seen is not None and kept.seen[1] <= now - SETTLE_AFTER:
        return max(kept.upto, min(kept.seen[0], top))
    return kept.upto


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
