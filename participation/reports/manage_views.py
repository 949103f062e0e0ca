"""Staff dashboards: an organization's, the region's (down to the messages behind a figure),
and «Проблемные точки»."""

from __future__ import annotations

from flask import Blueprint, abort, g, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.orm import selectinload

from participation.appeals.models import Appeal
from participation.appeals.presenters import register_presenters
from participation.backoffice.gate import current_organization, staff_context, staff_gate
from participation.core.errors import FieldError
from participation.core.maps import municipal_centres
from participation.core.organizations import Organization
from participation.core.pagination import paginate
from participation.core.permissions import require
from participation.core.territories import Territory
from participation.extensions import db
from participation.geo import cells as grid
from participation.reports import heatmap, services
from participation.reports import presenters as p
from participation.reports.definitions import BY_CODE
from participation.reports.permissions import (
    can_view_dashboards,
    can_view_organization,
    sees_whole_region,
)

bp = Blueprint("reports_manage", __name__, url_prefix="/reports")
bp.before_request(staff_gate)
bp.context_processor(staff_context)
register_presenters(bp)

OVERDUE_LIST = 20


@bp.context_processor
def _helpers() -> dict:
    return {
        "show": p.show,
        "BY_CODE": BY_CODE,
        "heat_level": p.heat_level,
        "region_page": sees_whole_region(current_user, g.get("staff_organization")),
    }


def _heat_map(filters: p.Filters) -> dict:
    """The heat-map layer of a dashboard: its cells at the size the page asks for (?cell=),
    the legend, and the busiest cells for the table beside the map. Built only when asked:
    a year of a region's points is the costliest query of the page (bench/geo_heatmap.py), and
    the dashboards' figures should not wait for it."""
    error, size = None, grid.DEFAULT_CELL
    asked = request.args.get("cell")
    if asked:
        try:
            size = grid.check_cell_size(
                int(asked) if asked.isascii() and asked.isdigit() else asked
            )
        except FieldError as exc:
            error = exc.message
    view_args = request.view_args or {}
    sizes = [
        (s, p.cell_size_label(s), url_for(request.endpoint, **view_args, **filters.args, cell=s))
        for s in grid.CELL_SIZES
    ]
    if not asked or error:
        return {"shown": False, "error": error, "cell": None, "sizes": sizes}
    found = heatmap.heat_cells(filters.scope, filters.period, size, limit=heatmap.DASHBOARD_CELLS)
    centres = municipal_centres(db.session.get(Territory, filters.scope.region_id))
    return {
        "shown": True,
        "error": error,
        "cell": size,
        "cell_label": p.cell_size_label(size),
        "sizes": sizes,
        "cells": [
            {
                "south": x.south,
                "west": x.west,
                "north": x.north,
                "east": x.east,
                "count": x.count,
                "level": found.level(x),
            }
            for x in found.cells
        ],
        "legend": found.legend,
        "truncated": found.truncated,
        "busiest": heatmap.busiest(found, centres),
        "centres": centres,
    }


def _filters(target: Organization | None = None) -> p.Filters:
    organization = current_organization()
    require(can_view_dashboards(current_user, organization), reason="no dashboard role")
    filters = p.read_filters(current_user, organization, request.args, target)
    require(filters is not None, reason="no region to show")
    if filters.form.errors:
        return filters
    require(filters.scope is not None, reason="reports scope of others")
    return filters


@bp.get("/")
def dashboard():
    organization = current_organization()
    return _organization_page(organization)


@bp.get("/organization/<int:organization_id>")
def organization(organization_id: int):
    target = db.session.get(Organization, organization_id)
    if target is None:
        abort(404)
    require(
        can_view_organization(current_user, current_organization(), target),
        reason="dashboard of a foreign organization",
    )
    return _organization_page(target)


def _organization_page(target: Organization):
    filters = _filters(target)
    filters.args.setdefault("organization", str(target.id))  # drill-downs keep to its tree
    data = {}
    if filters.ok:
        scope, period = filters.scope, filters.period
        # The topics first: the total of messages open now is folded from their count. Neither
        # the topics' table nor the trend shows a median: not counted for them.
        by_topic = services.breakdown(scope, period, services.Cut.SUBCATEGORY, medians=False)
        now = services.figures(scope, period)
        before = services.figures(scope, period.previous()) if filters.form.compare.data else None
        cut = p.trend_cut(period)
        steps = services.trend(scope, period, cut, medians=False)
        data = {
            "figures": p.key_figures(now, before, filters),
            "now": now,
            "trend": steps,
            "trend_chart": p.trend_chart(steps, _("Поступило сообщений за период")),
            "overdue": list(
                db.session.scalars(
                    p.behind_messages("overdue_now", scope, period)
                    .options(
                        selectinload(Appeal.executor_organization),
                        selectinload(Appeal.subcategory),
                    )
                    .limit(OVERDUE_LIST)
                )
            ),
            "worst": p.worst_subcategories(by_topic),
            "heat": _heat_map(filters),
        }
    return render_template(
        "reports/dashboard.html",
        target=target,
        filters=filters,
        endpoint=request.endpoint,
        **data,
    )


@bp.get("/region")
def region():
    organization = current_organization()
    require(sees_whole_region(current_user, organization), reason="not a region viewer")
    filters = _filters()
    data = {}
    if filters.ok:
        scope, period = filters.scope, filters.period
        cut = services.Cut.ORGANIZATION if scope.municipality_id else services.Cut.MUNICIPALITY
        rows = services.breakdown(scope, period, cut)
        compare = filters.form.compare.data
        before = p.previous_rows(scope, period, cut) if compare else {}
        total = services.figures(scope, period)
        total_before = p.previous_rows(scope, period, None).get("all") if compare else None
        if compare and total_before is None:
            total_before = services.Row("all", "", services.values_from_counters({}))
        data = {
            "cut": cut,
            "rows": rows,
            "before": before,
            "total": total,
            "total_before": total_before,
            "codes": p.TABLE_CODES,
            "change": p.change,
            "municipality_name": {c.value: c.label for c in filters.form.municipality.choices}.get(
                scope.municipality_id
            ),
            "heat": _heat_map(filters),
        }
    return render_template(
        "reports/region.html", filters=filters, endpoint=request.endpoint, **data
    )


@bp.get("/hotspots")
def hotspots():
    filters = _filters()
    data = {}
    if filters.ok:
        scope, period = filters.scope, filters.period
        places = services.Cut.TERRITORY if scope.municipality_id else services.Cut.MUNICIPALITY
        topics = services.Cut.SUBCATEGORY if scope.category_id else services.Cut.CATEGORY
        subcategories = services.hotspots(scope, period, services.Cut.SUBCATEGORY)
        territories = services.hotspots(scope, period, places)
        data = {
            "subcategories": subcategories,
            "territories": territories,
            "places": places,
            "topics": topics,
            "matrix": services.heat_matrix(scope, period, places, topics),
            "subcategory_chart": p.hotspot_chart(
                "hot-subcategories", _("Самые частые подкатегории"), subcategories
            ),
            "territory_chart": p.hotspot_chart(
                "hot-territories", _("Территории с наибольшим числом сообщений"), territories
            ),
            "growth_text": p.growth_text,
            "heat": _heat_map(filters),
        }
    return render_template(
        "reports/hotspots.html", filters=filters, endpoint=request.endpoint, **data
    )


@bp.get("/messages")
def messages():
    code = request.args.get("indicator", "")
    require(p.drillable(code), reason="unknown indicator")
    filters = _filters()
    page, counted = None, set()
    if filters.ok:
        query = p.behind_messages(code, filters.scope, filters.period).options(
            selectinload(Appeal.executor_organization),
            selectinload(Appeal.subcategory),
            selectinload(Appeal.territory),
        )
        page = paginate(query, default_size=50, sizes=(50, 100))
        counted = p.in_numerator(code, filters.scope, filters.period, page.items)
    return render_template(
        "reports/messages.html",
        filters=filters,
        code=code,
        title=p.behind_title(code),
        note=p.behind_note(code),
        numerator=p.numerator_title(code),
        counted=counted,
        page=page,
    )
