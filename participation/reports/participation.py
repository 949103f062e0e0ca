"""Participation indicators: votes, surveys, hearings, direct lines, widgets, connected areas.

Each figure is one GROUP BY on the feature's own tables. Every item sits on a territory (the
campaign's, the survey organizer's, the hearing's, the question's, the organization's); the
territory gives the region, the municipality and the time zone of its local days. A territory
is a region, a municipality (district or urban okrug) or a settlement inside one (OKTMO of 2, 8
and 11 digits), so the placement is two parent joins, done in SQL. What "held in the period"
means for each kind of event is written in the `rule` of its definition.
"""

from __future__ import annotations

import copy
from datetime import UTC, datetime, time, timedelta
from functools import cache
from typing import Any

import sqlalchemy as sa
from flask import g, has_request_context
from sqlalchemy.orm import aliased

from participation.core.db import utcnow
from participation.core.organizations import Organization, OrganizationKind
from participation.core.sqltime import local_day
from participation.core.territories import Territory, TerritoryLevel
from participation.directline.models import DirectLine, Question, QuestionState
from participation.hearings.models import Hearing, Remark, RemarkStatus
from participation.polls.models import Survey, SurveyResponse
from participation.reports.definitions import INDICATORS, Source
from participation.reports.reference import MUNICIPAL_LEVELS
from participation.reports.services import Cut, Period, Row, Scope, label_rows, read
from participation.voting.models import Ballot, Campaign
from participation.widgets.models import WidgetSettings, WidgetSiteDay

CODES = tuple(i.code for i in INDICATORS if i.source == Source.PARTICIPATION)
CUTS = (Cut.MUNICIPALITY, Cut.ORGANIZATION)


@cache
def places(name: str = "places") -> Any:
    """territory id → its region, municipality (None above one) and time zone, as a subquery
    (built once per name: a statement that needs two takes two names)."""
    t, p, g = aliased(Territory), aliased(Territory), aliased(Territory)

    def first(*nodes: Any, levels: tuple[Any, ...]) -> Any:
        return sa.case(*((n.level.in_(levels), n.id) for n in nodes), else_=sa.null())

    return (
        sa.select(
            t.id.label("id"),
            first(t, p, g, levels=(TerritoryLevel.REGION,)).label("region_id"),
            first(t, p, levels=MUNICIPAL_LEVELS).label("municipality_id"),
            t.timezone.label("timezone"),
        )
        .outerjoin(p, p.id == t.parent_id)
        .outerjoin(g, g.id == p.parent_id)
        .subquery(name)
    )


def _utc_window(period: Period) -> tuple[datetime, datetime]:
    """A UTC window surely holding every moment of the period's local days, in any zone."""
    return (
        datetime.combine(period.start - timedelta(days=1), time(), UTC),
        datetime.combine(period.end + timedelta(days=2), time(), UTC),
    )


def _on_days(moment: Any, zone: Any, period: Period, shift: int = 0) -> list[Any]:
    """`moment` falls on a local day of the period (shifted by `shift` days)."""
    lo, hi = _utc_window(period)
    day = local_day(moment, zone)
    return [
        moment >= lo + timedelta(days=shift),
        moment < hi + timedelta(days=shift),
        day >= period.start + timedelta(days=shift),
        day <= period.end + timedelta(days=shift),
    ]


class _Counter:
    """One indicator's GROUP BY: what is counted, where it sits, whose it is."""

    def __init__(self, scope: Scope, cut: Cut | None) -> None:
        self.scope, self.cut, self.places = scope, cut, places()

    def select(
        self,
        query: sa.Select,
        value: Any,
        territory: Any,
        organization: Any,
        where: list[Any],
    ) -> sa.Select:
        """(key, value) rows of one count: a row per key of the cut, one row «all» without."""
        pl, scope = self.places, self.scope
        key = {
            None: sa.literal("all"),
            Cut.MUNICIPALITY: pl.c.municipality_id,
            Cut.ORGANIZATION: organization,
        }[self.cut]
        stmt = (
            query.with_only_columns(key.label("key"), value.label("n"), maintain_column_froms=True)
            .join(pl, pl.c.id == territory)
            .where(pl.c.region_id == scope.region_id, *where)
        )
        if self.cut is not None:
            stmt = stmt.group_by(key)
        if scope.municipality_id is not None:
            stmt = stmt.where(pl.c.municipality_id == scope.municipality_id)
        if scope.organization_ids is not None:
            stmt = stmt.where(organization.in_(sorted(scope.organization_ids)))
        return stmt


def _counts(scope: Scope, period: Period, cut: Cut | None) -> dict[str, dict[Any, int]]:
    """Every participation count of the period per key (key "all" without a cut)."""
    c = _Counter(scope, cut)
    zone = c.places.c.timezone
    now = utcnow()
    parts: dict[str, sa.Select] = {}

    closes = Campaign.effective_closes_at
    parts["votes_held"] = c.select(
        sa.select(Campaign.id),
        sa.func.count(),
        Campaign.territory_id,
        Campaign.organization_id,
        [
            Campaign.published_at.is_not(None),
            Campaign.opens_at < closes,
            closes <= now,
            *_on_days(closes, zone, period),
        ],
    )
    parts["ballots_cast"] = c.select(
        sa.select(Ballot.id).join(Campaign, Campaign.id == Ballot.campaign_id),
        sa.func.count(),
        sa.func.coalesce(Ballot.district_id, Campaign.territory_id),
        Campaign.organization_id,
        [Ballot.cast_on >= period.start, Ballot.cast_on <= period.end],
    )

    ends = sa.case(
        (
            sa.and_(Survey.closed_at.is_not(None), Survey.closed_at < Survey.ends_at),
            Survey.closed_at,
        ),
        else_=Survey.ends_at,
    )
    parts["surveys_held"] = c.select(
        sa.select(Survey.id).join(Organization, Organization.id == Survey.organization_id),
        sa.func.count(),
        Organization.territory_id,
        Survey.organization_id,
        [
            Survey.published_at.is_not(None),
            Survey.starts_at < ends,
            ends <= now,
            *_on_days(ends, zone, period),
        ],
    )
    parts["survey_answers"] = c.select(
        sa.select(SurveyResponse.id)
        .join(Survey, Survey.id == SurveyResponse.survey_id)
        .join(Organization, Organization.id == Survey.organization_id),
        sa.func.count(),
        Organization.territory_id,
        Survey.organization_id,
        _on_days(SurveyResponse.submitted_at, zone, period),
    )

    # `remarks_close_at` is the midnight after the last day of remarks: that last day is the
    # day the hearing is held, one day before the local day of the closing moment.
    parts["hearings_held"] = c.select(
        sa.select(Hearing.id),
        sa.func.count(),
        Hearing.territory_id,
        Hearing.organization_id,
        [
            Hearing.notice_published_at.is_not(None),
            Hearing.remarks_close_at <= now,
            *_on_days(Hearing.remarks_close_at, zone, period, shift=1),
        ],
    )
    parts["hearing_remarks"] = c.select(
        sa.select(Remark.id).join(Hearing, Hearing.id == Remark.hearing_id),
        sa.func.count(),
        Hearing.territory_id,
        Hearing.organization_id,
        [Remark.status != RemarkStatus.REJECTED, *_on_days(Remark.submitted_at, zone, period)],
    )

    questions = sa.select(Question.id).join(DirectLine, DirectLine.id == Question.event_id)
    parts["directline_questions"] = c.select(
        questions,
        sa.func.count(),
        Question.territory_id,
        DirectLine.host_organization_id,
        [
            Question.state.not_in((QuestionState.REJECTED, QuestionState.MERGED)),
            *_on_days(Question.created_at, zone, period),
        ],
    )
    parts["directline_answered"] = c.select(
        questions,
        sa.func.count(),
        Question.territory_id,
        DirectLine.host_organization_id,
        [
            Question.state == QuestionState.ANSWERED,
            Question.answered_at.is_not(None),
            *_on_days(Question.answered_at, zone, period),
        ],
    )

    parts["widget_sites"] = c.select(
        sa.select(WidgetSettings.organization_id).join(
            Organization, Organization.id == WidgetSettings.organization_id
        ),
        sa.func.count(),
        Organization.territory_id,
        Organization.id,
        [
            WidgetSettings.site_url.is_not(None),
            WidgetSettings.site_url != "",
            WidgetSettings.code_generated_at.is_not(None),
            Organization.widget_revoked_at.is_(None),
        ],
    )
    parts["widget_visits"] = c.select(
        sa.select(WidgetSiteDay.id).join(
            Organization, Organization.id == WidgetSiteDay.organization_id
        ),
        sa.func.coalesce(sa.func.sum(WidgetSiteDay.views), 0),
        Organization.territory_id,
        Organization.id,
        [WidgetSiteDay.day >= period.start, WidgetSiteDay.day <= period.end],
    )
    # One statement for all of them: each count is small, its round trip was half its cost.
    codes = list(parts)
    numbered = [
        stmt.add_columns(sa.literal(i).label("part")) for i, stmt in enumerate(parts.values())
    ]
    out: dict[str, dict[Any, int]] = {code: {} for code in codes}
    for key, n, part in read(sa.union_all(*numbered)):
        out[codes[part]][key] = int(n or 0)
    return out


def _connected(scope: Scope, period: Period, cut: Cut | None) -> dict[Any, tuple[int, int]]:
    """Municipalities of the scope and how many of them are connected: (connected, all)."""
    if cut == Cut.ORGANIZATION:
        return {}
    pl = places()
    administration = aliased(Organization)
    ready = sa.exists().where(
        administration.territory_id == pl.c.id,
        administration.kind == OrganizationKind.MUNICIPAL,
        administration.ready_confirmed_at.is_not(None),
        administration.training_confirmed_at.is_not(None),
        local_day(administration.ready_confirmed_at, pl.c.timezone) <= period.end,
        local_day(administration.training_confirmed_at, pl.c.timezone) <= period.end,
    )
    connected = sa.func.sum(sa.case((ready, 1), else_=0))
    key = pl.c.municipality_id if cut == Cut.MUNICIPALITY else None
    stmt = sa.select(*([key] if key is not None else []), connected, sa.func.count()).where(
        pl.c.region_id == scope.region_id, pl.c.id == pl.c.municipality_id
    )
    if key is not None:
        stmt = stmt.group_by(key)
    if scope.municipality_id is not None:
        stmt = stmt.where(pl.c.id == scope.municipality_id)
    if scope.organization_ids is not None:
        # The municipalities the organizations work in.
        own = places("own_places")
        stmt = stmt.where(
            pl.c.id.in_(
                sa.select(own.c.municipality_id)
                .join(Organization, Organization.territory_id == own.c.id)
                .where(Organization.id.in_(sorted(scope.organization_ids)))
            )
        )
    if key is None:
        done, total = read(stmt).one()
        return {"all": (int(done or 0), int(total or 0))}
    return {k: (int(done or 0), int(total or 0)) for k, done, total in read(stmt)}


def _rows(scope: Scope, period: Period, cut: Cut | None) -> dict[Any, Row]:
    """The rows of a cut, counted once per request (the public page shows the region's total
    and the rating's municipalities: one count serves both)."""
    if not has_request_context():
        return _count_rows(scope, period, cut)
    cache = g.setdefault("participation_rows", {})
    if (scope, period, cut) not in cache:
        cache[(scope, period, cut)] = _count_rows(scope, period, cut)
    return copy.deepcopy(cache[(scope, period, cut)])


def _count_rows(scope: Scope, period: Period, cut: Cut | None) -> dict[Any, Row]:
    counts = _counts(scope, period, cut)
    connected = _connected(scope, period, cut)
    keys: list[Any] = []
    for per_key in [*counts.values(), connected]:
        keys += [k for k in per_key if k not in keys]
    if cut is None and "all" not in keys:
        keys.append("all")
    rows: dict[Any, Row] = {}
    for key in keys:
        values: dict[str, float | int | None] = {code: counts[code].get(key, 0) for code in counts}
        done, total = connected.get(key, (0, 0))
        values["connected_municipalities_share"] = done / total if total else None
        rows[key] = Row(
            key=key,
            label="",
            values=values,
            counters={"municipalities_connected": done, "municipalities": total},
        )
    return rows


def _check(period: Period) -> None:
    if period.end < period.start:
        raise ValueError(f"bad report period {period}")


def figures(scope: Scope, period: Period) -> Row:
    """Every participation indicator of the scope over the period: the sum of its
    municipalities' rows (an item above any municipality has the key None)."""
    _check(period)
    rows = _rows(scope, period, Cut.MUNICIPALITY).values()
    counters = {
        name: sum(row.counters[name] for row in rows)
        for name in ("municipalities_connected", "municipalities")
    }
    values: dict[str, float | int | None] = {
        code: sum(row.values[code] for row in rows)
        for code in CODES
        if code != "connected_municipalities_share"
    }
    total = counters["municipalities"]
    values["connected_municipalities_share"] = (
        counters["municipalities_connected"] / total if total else None
    )
    return Row(key="all", label="", values=values, counters=counters)


def breakdown(scope: Scope, period: Period, cut: Cut = Cut.MUNICIPALITY) -> list[Row]:
    """The participation indicators per municipality or per organization (labelled)."""
    _check(period)
    if cut not in CUTS:
        raise ValueError(f"participation is not cut by {cut}")
    rows = _rows(scope, period, cut)
    label_rows(cut, rows.values())
    return sorted(rows.values(), key=lambda row: (str(row.label), str(row.key)))
