"""What the dashboards show: the filter read against the viewer's rights, figures with their
change, charts, tables and drill-down links. Shared by the dashboard views."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from markupsafe import Markup

from participation.appeals.models import Appeal, Channel
from participation.appeals.permissions import subtree_ids
from participation.core.charts import Bar, bar_chart_svg, column_chart_svg
from participation.core.i18n import number, percent
from participation.core.organizations import Organization
from participation.core.permissions import log as access_log
from participation.core.territories import Territory, TerritoryLevel
from participation.extensions import db
from participation.reports import reference
from participation.reports.definitions import BY_CODE, Better, Indicator, Source, Unit
from participation.reports.forms import ReportFilterForm
from participation.reports.permissions import (
    allowed_scope,
    can_view_region,
    region_id_of,
    viewable_region_ids,
)
from participation.reports.services import (
    Cut,
    Period,
    Row,
    Scope,
    appeals_behind,
    read,
    rollup_counters,
    values_from_counters,
)

# The dashboard's key figures, in the order shown.
KEY_CODES = (
    "received",
    "answered",
    "answered_on_time_share",
    "overdue_now",
    "in_work_now",
    "answer_days_avg",
    "answer_days_median",
    "rating_avg",
    "rated_high_share",
    "rated_low_share",
    "escalated",
    "returned_for_rework",
)
# The columns of the region page's tables.
TABLE_CODES = (
    "received",
    "answered",
    "answered_on_time_share",
    "overdue_now",
    "answer_days_avg",
    "rating_avg",
    "rated_low_share",
)
FILTER_ARGS = (
    "region",
    "grain",
    "day",
    "start",
    "end",
    "municipality",
    "organization",
    "exact",
    "category",
    "subcategory",
    "channel",
    "compare",
)


QUERY_SAFE = "!$'()*,/:;?@"

# --- the filter -------------------------------------------------------------------------------


@dataclass
class Filters:
    """The filter form read for this viewer: the period and the scope, or the form's errors."""

    form: ReportFilterForm
    tz: str
    region_id: int | None
    period: Period | None = None
    scope: Scope | None = None
    args: dict[str, str] = field(default_factory=dict)
    _paths: dict[str, str] = field(default_factory=dict, repr=False)

    @property
    def ok(self) -> bool:
        return self.scope is not None and self.period is not None

    def link(self, endpoint: str, **changes: Any) -> str:
        """A URL of `endpoint` with the same filter and `changes` on top (None drops one).

        The same URL as url_for() gives, with the endpoint's path built once: a heat matrix
        links every cell, and Werkzeug's URL building was a third of the page's time."""
        args = {**self.args, **changes}
        query = [(k, v) for k, v in args.items() if v not in (None, "")]
        path = self._paths.get(endpoint)
        if path is None:
            path = self._paths[endpoint] = url_for(endpoint)
        # Werkzeug's own encoding of query arguments (werkzeug.urls._urlencode).
        return f"{path}?{urlencode(query, safe=QUERY_SAFE)}" if query else path


def _territory_tree(region_id: int) -> sa.Select:
    tree = sa.select(Territory.id).where(Territory.id == region_id).cte(recursive=True)
    tree = tree.union_all(sa.select(Territory.id).where(Territory.parent_id == tree.c.id))
    return sa.select(tree.c.id)


def _names(query: sa.Select) -> list[tuple[int, str]]:
    return [(i, name) for i, name in read(query)]


def read_filters(
    user: Any, organization: Organization, args: Any, target: Organization | None = None
) -> Filters | None:
    """The filter of a page. `target`: the organization whose dashboard it is (its tree is the
    scope); None: a region page (the region if the person sees it whole, else their tree).
    None when the person may see nothing here at all."""
    if target is not None:
        own = region_id_of(target)
        regions = [own] if own is not None else viewable_region_ids(user, organization)
        if own is None and not regions:
            regions = list(
                read(sa.select(Territory.id).where(Territory.level == TerritoryLevel.REGION))
                .scalars()
                .all()
            )
    else:
        regions = viewable_region_ids(user, organization)
        if not regions and region_id_of(organization) is not None:
            regions = [region_id_of(organization)]
    if not regions:
        return None
    form = ReportFilterForm(formdata=args or None)
    asked = form.region.data
    region_id = asked if asked in regions else regions[0]
    whole_region = target is None and can_view_region(user, organization, region_id)
    if target is not None:
        tree = frozenset(subtree_ids(target))
    elif whole_region:
        tree = None
    else:
        tree = frozenset(subtree_ids(organization))
    region_names = dict(
        _names(sa.select(Territory.id, Territory.name).where(Territory.id.in_(regions)))
    )
    organizations = sa.select(Organization.id, Organization.name, Organization.short_name)
    if tree is None:
        organizations = organizations.where(
            Organization.territory_id.in_(_territory_tree(region_id))
        )
    else:
        organizations = organizations.where(Organization.id.in_(sorted(tree)))
    topics = reference.topics()
    form.offer(
        regions=[(i, region_names.get(i, str(i))) for i in regions],
        municipalities=list(reference.municipalities(region_id)),
        organizations=sorted(
            ((i, short or name) for i, name, short in read(organizations)), key=lambda o: o[1]
        ),
        categories=list(topics.categories),
        subcategories=list(topics.subcategories),
    )
    form.region.data = region_id if asked is None else asked
    tz = (target or organization).territory.timezone
    filters = Filters(form=form, tz=tz, region_id=region_id)
    filters.args = {
        name: str(value) for name in FILTER_ARGS if (value := args.get(name)) not in (None, "")
    }
    valid = form.validate()
    if form.refused_ids():
        access_log.warning(
            "reports: refused filter ids user=%s organization=%s args=%s",
            getattr(user, "id", None),
            organization.id,
            dict(filters.args),
        )
    if not valid:
        return filters
    ids = tree
    if form.organization.data is not None:
        chosen = db_organization(form.organization.data)
        picked = frozenset({chosen.id}) if form.exact.data else frozenset(subtree_ids(chosen))
        ids = picked if ids is None else picked & ids
    requested = Scope(
        region_id=region_id,
        municipality_id=form.municipality.data,
        organization_ids=ids,
        category_id=form.category.data,
        subcategory_id=form.subcategory.data,
        channel=Channel(form.channel.data) if form.channel.data else None,
    )
    filters.scope = allowed_scope(user, organization, requested)
    filters.period = form.period(datetime.now(ZoneInfo(tz)).date())
    return filters


def db_organization(organization_id: int) -> Organization:
    return db.session.get(Organization, organization_id)


# --- figures ----------------------------------------------------------------------------------


def show(indicator: Indicator, value: float | None) -> str:
    """A figure as people read it: «56,2 %», «3,5», «1 234»; «нет данных» for none."""
    if value is None:
        return _("нет данных")
    if indicator.unit == Unit.SHARE:
        return percent(value)
    if indicator.unit == Unit.COUNT:
        return number(value, 0)
    return number(value, 1 if indicator.unit == Unit.DAYS else 2)


@dataclass
class Change:
    """A figure's change against the previous period, said in words (not only a colour)."""

    arrow: str
    text: str
    sense: str  # "better", "worse", "same", "none": a CSS class and the words in `text`


def change(indicator: Indicator, now: float | None, before: float | None) -> Change:
    if now is None or before is None:
        return Change("", _("нет данных за прошлый период"), "none")
    diff = now - before
    if abs(diff) < 1e-9:
        return Change("=", _("без изменений"), "same")
    if indicator.unit == Unit.SHARE:
        size = _("%(n)s п. п.", n=number(abs(diff) * 100, 1))
    elif indicator.unit == Unit.COUNT:
        size = number(abs(diff), 0)
        if before:
            size += f" ({percent(abs(diff) / before)})"
    else:
        size = number(abs(diff), 2)
    sign = "+" if diff > 0 else "−"
    arrow = "▲" if diff > 0 else "▼"
    if indicator.better == Better.NEUTRAL:
        return Change(arrow, _("%(size)s к прошлому периоду", size=sign + size), "same")
    good = (diff > 0) == (indicator.better == Better.UP)
    words = _("лучше") if good else _("хуже")
    return Change(
        arrow,
        _("%(size)s к прошлому периоду, %(words)s", size=sign + size, words=words),
        "better" if good else "worse",
    )


@dataclass
class Figure:
    indicator: Indicator
    value: float | None
    shown: str
    change: Change | None
    link: str


def key_figures(now: Row, before: Row | None, filters: Filters, codes=KEY_CODES) -> list[Figure]:
    out = []
    for code in codes:
        indicator = BY_CODE[code]
        value = now.values.get(code)
        snapshot = code in ("in_work_now", "overdue_now")
        moved = (
            None
            if before is None or snapshot
            else change(indicator, value, before.values.get(code))
        )
        out.append(
            Figure(
                indicator,
                value,
                show(indicator, value),
                moved,
                filters.link("reports_manage.messages", indicator=code),
            )
        )
    return out


def trend_cut(period: Period) -> Cut:
    if period.days <= 31:
        return Cut.DAY
    if period.days <= 190:
        return Cut.WEEK
    return Cut.MONTH


def trend_chart(rows: list[Row], title: str) -> Markup:
    received = BY_CODE["received"]
    return column_chart_svg(
        "trend",
        title,
        [
            Bar(
                row.label[:5] if len(row.label) == 10 else row.label,  # 01.03.2026 → 01.03
                float(row.values.get("received") or 0),
                show(received, row.values.get("received")),
            )
            for row in rows
        ],
    )


def worst_subcategories(rows: list[Row], limit: int = 10) -> list[Row]:
    """Subcategories with answers or overdue messages, the lowest on-time share first, then
    the most overdue now."""
    seen = [
        r for r in rows if (r.values.get("answered") or 0) or (r.values.get("overdue_now") or 0)
    ]

    def badness(row: Row) -> tuple:
        share = row.values.get("answered_on_time_share")
        return (
            share if share is not None else 2.0,
            -(row.values.get("overdue_now") or 0),
            row.label,
        )

    return sorted(seen, key=badness)[:limit]


def hotspot_chart(chart_id: str, title: str, spots: list) -> Markup:
    return bar_chart_svg(
        chart_id, title, [Bar(s.label, float(s.count), number(s.count, 0)) for s in spots]
    )


def heat_level(count: int, peak: int) -> int:
    """0 (none) … 5 (the busiest cell): the cell's shade class; the number is always shown."""
    if not count or not peak:
        return 0
    return max(1, min(5, -(-count * 5 // peak)))


def cell_size_label(metres: int) -> str:
    """«250 м», «1 км», «4 км»: a heat-map cell's side."""
    if metres % 1000 == 0:
        return _("%(n)s км", n=metres // 1000)
    return _("%(n)s м", n=metres)


def growth_text(spot) -> str:
    if spot.growth is None:
        return _("новое: в прошлом периоде не было") if spot.count else "—"
    arrow = "▲" if spot.growth > 0 else ("▼" if spot.growth < 0 else "=")
    sign = "+" if spot.growth > 0 else ("−" if spot.growth < 0 else "")
    return f"{arrow} {sign}{percent(abs(spot.growth))}"


def drillable(code: str) -> bool:
    """An indicator whose messages can be listed (not a participation figure)."""
    indicator = BY_CODE.get(code)
    return indicator is not None and indicator.source in (Source.ROLLUP, Source.SNAPSHOT)


def behind_messages(code: str, scope: Scope, period: Period) -> sa.Select:
    """The messages behind a figure, each once (services.appeals_behind gives one row per
    fact): newest first, or the earliest deadline first for a snapshot figure."""
    behind = appeals_behind(code, scope, period).order_by(None)
    if BY_CODE[code].source == Source.SNAPSHOT:  # already one row per message, read in due order
        return behind.with_only_columns(Appeal).order_by(Appeal.answer_due_at, Appeal.id)
    behind = behind.subquery()
    query = sa.select(Appeal).where(Appeal.id.in_(sa.select(behind.c.appeal_id)))
    return query.order_by(Appeal.registered_at.desc(), Appeal.id.desc())


# What the numerator of a share counts, for the column marking it on the messages page.
NUMERATOR_TITLES = {
    "answered_on_time": _l("Ответ в срок"),
    "fast_track_on_time": _l("Ответ в срок"),
    "rated_high": _l("Оценка 4–5"),
    "rated_low": _l("Оценка 1–2"),
}


def numerator_title(code: str) -> str | None:
    indicator = BY_CODE[code]
    if indicator.denominator is None or indicator.numerator not in NUMERATOR_TITLES:
        return None
    return str(NUMERATOR_TITLES[indicator.numerator])


def in_numerator(code: str, scope: Scope, period: Period, appeals: list[Appeal]) -> set[int]:
    """Which of the listed messages a share's numerator counts (one query for the page)."""
    indicator = BY_CODE[code]
    if numerator_title(code) is None or not appeals:
        return set()
    behind = appeals_behind(code, scope, period).order_by(None).subquery()
    return set(
        read(
            sa.select(behind.c.appeal_id).where(
                behind.c[indicator.numerator] > 0,
                behind.c.appeal_id.in_([a.id for a in appeals]),
            )
        ).scalars()
    )


def behind_title(code: str) -> str:
    """The name of the figure whose messages are listed."""
    return str(BY_CODE[code].name)


def behind_note(code: str) -> str:
    """What the list holds when a share or an average is drilled into."""
    indicator = BY_CODE.get(code)
    if indicator is None or indicator.denominator is None:
        return ""
    return _(
        "Показатель — доля или среднее; в списке сообщения, по которым он считается (знаменатель)."
    )


def previous_rows(scope: Scope, period: Period, cut: Cut | None) -> dict[Any, Row]:
    """The rollup figures of the period before, per key of `cut` (one query: no snapshot,
    no medians; what a comparison column needs)."""
    return {
        key: Row(key=key, label="", values=values_from_counters(counters), counters=counters)
        for key, counters in rollup_counters(scope, period.previous(), cut).items()
    }
