"""The public statistics page (no login): region totals, the rating, the frequent problems.

Only anonymised aggregates: no names, no message text; counts that could point at a person
are «менее 5», shares over fewer than five items are not shown.
"""

from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, abort, redirect, render_template, request, url_for
from flask_babel import gettext as _

from participation.core.charts import Bar, bar_chart_svg
from participation.core.i18n import number
from participation.core.territories import Territory, TerritoryLevel
from participation.extensions import db
from participation.geo.map_data import public_map_region
from participation.reports import participation
from participation.reports import rating as r
from participation.reports.definitions import BY_CODE
from participation.reports.services import GRAIN_LABELS, Cut, Scope, figures
from participation.reports.services import hotspots as top_topics

bp = Blueprint("reports", __name__, url_prefix="/statistics")


@bp.get("/")
def index():
    regions = r.regions_with_data()
    if len(regions) == 1:
        return redirect(url_for(".region", oktmo=regions[0].oktmo))
    return render_template("reports/public_index.html", regions=regions)


def _figure(code: str, value, counters) -> dict:
    indicator = BY_CODE[code]
    base = counters.get(indicator.denominator) if indicator.denominator else None
    return {"indicator": indicator, "shown": r.public_value(indicator, value, base)}


def _hotspot_bars(spots) -> tuple[list[dict], list[Bar]]:
    received = BY_CODE["received"]
    items, bars = [], []
    for spot in spots:
        shown = r.public_value(received, spot.count)
        hidden = shown != r.show_value(received, spot.count)
        items.append(
            {
                "label": spot.label,
                "shown": shown,
                "before": r.public_value(received, spot.previous),
            }
        )
        # A hidden count draws no bar: its length would tell the number.
        bars.append(Bar(label=spot.label, value=0 if hidden else spot.count, caption=shown))
    return items, bars


@bp.get("/<oktmo>")
def region(oktmo: str):
    region = db.session.scalar(
        sa.select(Territory).where(
            Territory.oktmo == oktmo, Territory.level == TerritoryLevel.REGION
        )
    )
    if region is None:
        abort(404)
    period = r.chosen_period(
        request.args.get("grain"), request.args.get("day"), r.region_today(region)
    )
    scope = Scope(region_id=region.id)
    # The rating first: the region's totals are then folded from its municipalities' rows.
    rating = r.compute_rating(region.id, period, r.RatingOf.MUNICIPALITIES)
    messages = figures(scope, period)
    taking_part = participation.figures(scope, period)
    message_figures = [
        _figure(code, messages.values.get(code), messages.counters)
        for code in r.PUBLIC_MESSAGE_CODES
    ]
    participation_figures = [
        _figure(code, taking_part.values.get(code), taking_part.counters)
        for code in participation.CODES
    ]

    # counts of one counter only (not the whole breakdown): the month-by-topic sums
    hotspots, bars = _hotspot_bars(
        top_topics(scope, period, Cut.SUBCATEGORY, limit=r.PUBLIC_HOTSPOTS)
    )
    hotspots_chart = (
        bar_chart_svg("hotspots-chart", _("Частые темы сообщений за период"), bars)
        if bars
        else None
    )

    rating_chart = (
        bar_chart_svg(
            "rating-chart",
            _("Итоговый балл муниципалитетов"),
            [
                Bar(label=row.label, value=row.score, caption=number(row.score, 1))
                for row in rating.rows
                if row.score is not None
            ],
        )
        if any(row.score is not None for row in rating.rows)
        else None
    )
    return render_template(
        "reports/public.html",
        region=region,
        period=period,
        grains=[(g.value, GRAIN_LABELS[g]) for g in r.PERIOD_GRAINS],
        message_figures=message_figures,
        participation_figures=participation_figures,
        hotspots=hotspots,
        hotspots_chart=hotspots_chart,
        rating=rating,
        rating_chart=rating_chart,
        method=r.method_text(rating),
        public_value=r.public_value,
        public_map=public_map_region(region.id) is not None,
    )
