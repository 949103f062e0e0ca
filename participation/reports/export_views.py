"""Downloads of the analytics: tables as CSV/XLSX, the statistics CSV, the governor's PDF,
and the daily digest's subscribe/unsubscribe control (staff), plus the public open-data CSV."""

from __future__ import annotations

import tempfile
from pathlib import Path
from zoneinfo import ZoneInfo

from flask import (
    Blueprint,
    Response,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    send_file,
    stream_with_context,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user

from participation.appeals.classifier import Category
from participation.appeals.models import Channel
from participation.appeals.permissions import subtree_ids
from participation.backoffice.gate import current_organization, staff_context, staff_gate
from participation.core.db import utcnow
from participation.core.exports import CSV_MIMETYPE, XLSX_MIMETYPE, content_disposition
from participation.core.forms import Form
from participation.core.organizations import Organization, OrganizationKind
from participation.core.permissions import require
from participation.core.territories import Territory, TerritoryLevel
from participation.extensions import db
from participation.reports import digest_tasks  # noqa: F401  (registers the digest sweep)
from participation.reports.digest import (
    is_subscribed,
    may_subscribe,
    subscribe_digest,
    unsubscribe_digest,
)
from participation.reports.export_forms import ExportForm
from participation.reports.exports import (
    Table,
    breakdown_table,
    stat_csv,
    table_csv,
    table_xlsx,
    trend_table,
)
from participation.reports.pdf import build_governor_report
from participation.reports.permissions import (
    allowed_scope,
    can_view_dashboards,
    can_view_organization,
    region_id_of,
    sees_whole_region,
)
from participation.reports.services import CUT_LABELS, Cut, Period, Scope
from participation.reports.summary import local_today, scope_name, summarize

bp = Blueprint("reports_exports", __name__, url_prefix="/reports/export")
PUBLIC_ENDPOINTS = frozenset({"reports_exports.open_data"})


@bp.before_request
def _gate():
    if request.endpoint in PUBLIC_ENDPOINTS:
        return None
    return staff_gate()


bp.context_processor(staff_context)


# --- who sees what ---------------------------------------------------------------------------


def _viewer() -> Organization:
    """The staff member's organization; 404 without an analytics role there."""
    organization = current_organization()
    require(can_view_dashboards(current_user, organization), reason="reports: no analytics role")
    return organization


def _requested_scope(form: ExportForm) -> tuple[Scope, Organization | None]:
    """The scope the request asks for, if this person may see it (else 404), and the
    organization the figures are about (None for a whole region)."""
    viewer = _viewer()
    region_id = request.args.get("region", type=int) or region_id_of(viewer)
    region = db.session.get(Territory, region_id) if region_id else None
    require(region is not None and region.level == TerritoryLevel.REGION, reason="region")
    requested, named = Scope(region_id=region.id), None
    if form.organization.data is not None:
        named = db.session.get(Organization, form.organization.data)
        require(
            named is not None and can_view_organization(current_user, viewer, named),
            reason="reports: organization not visible",
        )
        requested = requested.narrowed(organization_ids=frozenset(subtree_ids(named)))
    if form.municipality.data is not None:
        territory = db.session.get(Territory, form.municipality.data)
        require(
            territory is not None
            and territory.level in (TerritoryLevel.MUNICIPAL_DISTRICT, TerritoryLevel.URBAN_OKRUG)
            and territory.parent_id == region.id,
            reason="reports: foreign municipality",
        )
        requested = requested.narrowed(municipality_id=territory.id)
    if form.category.data is not None:
        require(db.session.get(Category, form.category.data) is not None, reason="category")
        requested = requested.narrowed(category_id=form.category.data)
    if form.channel.data:
        requested = requested.narrowed(channel=Channel(form.channel.data))
    scope = allowed_scope(current_user, viewer, requested)
    require(scope is not None, reason="reports: scope not allowed")
    if named is None and not sees_whole_region(current_user, viewer):
        named = viewer
    return scope, named


def _timezone(scope: Scope) -> str:
    return db.session.get(Territory, scope.region_id).timezone


def _read_form() -> tuple[ExportForm, Scope, Period, Organization | None] | Response:
    """The request's form, scope and period; bad input: the page again, messages by the fields."""
    form = ExportForm(request.args)
    if not form.validate():
        return _page(form, 400)
    scope, organization = _requested_scope(form)
    tz = organization.territory.timezone if organization is not None else _timezone(scope)
    return form, scope, form.period(local_today(tz, utcnow())), organization


# --- pages -------------------------------------------------------------------------------------


class DigestForm(Form):
    """Subscribe or unsubscribe: only the CSRF token and the button's value."""


def _page(form: ExportForm, status: int = 200) -> Response:
    organization = _viewer()
    return make_response(
        render_template(
            "reports/exports.html",
            form=form,
            digest_form=DigestForm(),
            can_subscribe=may_subscribe(current_user, organization),
            subscribed=is_subscribed(current_user, organization),
            is_operator=organization.kind == OrganizationKind.OPERATOR,
        ),
        status,
    )


@bp.get("/")
def index():
    return _page(ExportForm(request.args))


@bp.post("/digest")
def digest():
    organization = _viewer()
    require(may_subscribe(current_user, organization), reason="reports: digest")
    if not DigestForm().validate():
        flash(_("Форма устарела. Обновите страницу и повторите."), "error")
        return redirect(url_for(".index"))
    if request.form.get("action") == "unsubscribe":
        unsubscribe_digest(current_user, organization)
        message = _("Ежедневная сводка больше не будет приходить.")
    else:
        subscribe_digest(current_user, organization)
        message = _("Ежедневная сводка будет приходить каждое утро за прошедший день.")
    db.session.commit()
    flash(message, "success")
    return redirect(url_for(".index"))


# --- downloads ---------------------------------------------------------------------------------


def _stamp(period: Period) -> tuple[str, str]:
    """The period in a Russian file name and in an ASCII one."""
    if period.start == period.end:
        return period.start.strftime("%d.%m.%Y"), period.start.isoformat()
    return (
        f"{period.start:%d.%m.%Y}–{period.end:%d.%m.%Y}",
        f"{period.start.isoformat()}_{period.end.isoformat()}",
    )


def _csv_response(chunks, filename: str, fallback: str) -> Response:
    response = Response(stream_with_context(chunks), mimetype=CSV_MIMETYPE)
    response.headers["Content-Disposition"] = content_disposition(filename, fallback)
    response.headers["Cache-Control"] = "private, no-store"
    return response


def _table_response(table: Table, fmt: str, name: str, fallback: str) -> Response:
    if fmt == "csv":
        return _csv_response(table_csv(table), f"{name}.csv", f"{fallback}.csv")
    # XlsxWriter writes rows to disk as they come; the file is sent from disk in blocks.
    handle = tempfile.NamedTemporaryFile(suffix=".xlsx", delete=False)  # noqa: SIM115
    handle.close()
    path = Path(handle.name)
    table_xlsx(table, path)
    response = send_file(path, mimetype=XLSX_MIMETYPE, max_age=0)
    response.headers["Content-Disposition"] = content_disposition(
        f"{name}.xlsx", f"{fallback}.xlsx"
    )
    response.headers["Cache-Control"] = "private, no-store"
    response.call_on_close(lambda: path.unlink(missing_ok=True))
    return response


def _format_or_404(fmt: str) -> None:
    require(fmt in ("csv", "xlsx"), reason="reports: format")


def _download(fmt: str, make) -> Response:
    """A table as CSV or XLSX: `make(form, scope, period)` gives the table and its names."""
    _format_or_404(fmt)
    read = _read_form()
    if isinstance(read, Response):
        return read
    form, scope, period, _org = read
    table_, name, fallback = make(form, scope, period)
    return _table_response(table_, fmt, name, fallback)


@bp.get("/table.<fmt>")
def table(fmt: str):
    def make(form, scope, period):
        cut = Cut(form.cut.data)
        russian, ascii_ = _stamp(period)
        return (
            breakdown_table(scope, period, cut),
            _("Показатели по разрезу «%(cut)s» %(period)s", cut=CUT_LABELS[cut], period=russian),
            f"indicators-{cut.value}-{ascii_}",
        )

    return _download(fmt, make)


@bp.get("/trend.<fmt>")
def trend(fmt: str):
    def make(form, scope, period):
        step = Cut(form.step.data)
        russian, ascii_ = _stamp(period)
        return (
            trend_table(scope, period, step),
            _("Динамика показателей %(period)s", period=russian),
            f"trend-{step.value}-{ascii_}",
        )

    return _download(fmt, make)


@bp.get("/statistics.csv")
def statistics():
    read = _read_form()
    if isinstance(read, Response):
        return read
    _form, scope, period, _org = read
    russian, ascii_ = _stamp(period)
    return _csv_response(
        stat_csv(scope, period, public=False),
        _("Статистика обращений %(period)s.csv", period=russian),
        f"statistics-{ascii_}.csv",
    )


@bp.get("/governor.pdf")
def governor():
    read = _read_form()
    if isinstance(read, Response):
        return read
    _form, scope, period, organization = read
    tz = organization.territory.timezone if organization is not None else _timezone(scope)
    summary = summarize(
        scope,
        period,
        name=scope_name(scope, organization),
        timezone=tz,
        generated_at=utcnow().astimezone(ZoneInfo(tz)),
    )
    russian, ascii_ = _stamp(period)
    response = Response(build_governor_report(summary), mimetype="application/pdf")
    response.headers["Content-Disposition"] = content_disposition(
        _("Справка для губернатора %(period)s.pdf", period=russian), f"governor-{ascii_}.pdf"
    )
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.get("/open-data/<int:region_id>/statistics.csv")
def open_data(region_id: int):
    """The public statistics of a region: no login, counts under 5 shown as «менее 5»."""
    region = db.session.get(Territory, region_id)
    require(region is not None and region.level == TerritoryLevel.REGION, reason="region")
    form = ExportForm(request.args)
    if not form.validate():
        errors = [str(e) for field in (form.start, form.end) for e in field.errors]
        return Response(" ".join(errors) or _("Неверный период."), 400, mimetype="text/plain")
    period = form.period(local_today(region.timezone, utcnow()))
    russian, ascii_ = _stamp(period)
    return _csv_response(
        stat_csv(Scope(region_id=region.id), period, public=True),
        _("Открытые данные: %(region)s %(period)s.csv", region=region.name, period=russian),
        f"open-data-{region.oktmo}-{ascii_}.csv",
    )
