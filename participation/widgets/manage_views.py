"""The organization administrator's «Веб-виджет» page: settings, the code, statistics."""

from __future__ import annotations

from datetime import timedelta

from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user

from participation.backoffice.gate import current_organization, staff_context, staff_gate
from participation.core.db import utcnow
from participation.core.errors import DomainError, FieldError
from participation.core.permissions import require
from participation.core.security import FRAMEABLE
from participation.extensions import db
from participation.widgets import designs, services
from participation.widgets.forms import (
    KIND_DESCRIPTIONS,
    KIND_LABELS,
    DisableForm,
    GenerateForm,
    SettingsForm,
)
from participation.widgets.models import WidgetKind
from participation.widgets.permissions import can_configure_widget

admin_bp = Blueprint("widget_admin", __name__, url_prefix="/admin/widget")

admin_bp.before_request(staff_gate)
admin_bp.context_processor(staff_context)

PERIODS = {"7": 7, "30": 30, "365": 365, "all": None}


@admin_bp.before_request
def _administrators_only():
    require(
        can_configure_widget(current_user, current_organization()), reason="not an administrator"
    )


def _admin_page(settings_form: SettingsForm | None = None, status: int = 200) -> Response:
    organization = current_organization()
    settings = services.settings_of(organization)
    if settings_form is None:
        settings_form = SettingsForm(
            formdata=None,
            kind=settings.kind.value,
            design=settings.design.value,
            text_choice=settings.text_choice or "",
            custom_text=settings.custom_text or "",
            site_url=settings.site_url or "",
        )
    period = request.args.get("period", "30")
    days = PERIODS.get(period, 30)
    since = utcnow().date() - timedelta(days=days - 1) if days else None
    enabled = services.is_enabled(organization)
    declared = services.normalize_site(settings.site_url)
    return make_response(
        render_template(
            "widgets/admin.html",
            organization=organization,
            settings=settings,
            form=settings_form,
            generate_form=GenerateForm(formdata=None),
            disable_form=DisableForm(formdata=None),
            enabled=enabled,
            generated=settings.code_generated_at is not None,
            snippet=services.snippet(organization, request.host_url) if enabled else None,
            preview_url=url_for("widgets.home", code=organization.widget_code) if enabled else None,
            stats=services.site_statistics(organization, since),
            period=period if period in PERIODS else "30",
            declared_site=declared,
            kind_labels=KIND_LABELS,
            kind_descriptions=KIND_DESCRIPTIONS,
            design_groups=designs.designs_by_scheme(),
            design_rows=designs.DESIGNS,
            sample_banner=designs.banner,
            widget_kind=_kind_or(settings_form.kind.data, settings.kind),
            banner_preview_url=url_for("widget_admin.preview", **_preview_args(settings_form)),
            placements=services.placements(organization, declared),
            first_screen_top=designs.FIRST_SCREEN_TOP,
        ),
        status,
    )


def _kind_or(value: str | None, fallback: WidgetKind) -> WidgetKind:
    try:
        return WidgetKind(value)
    except ValueError:
        return fallback


def _preview_args(form: SettingsForm) -> dict[str, str]:
    """The banner's choices in the form (as saved, or as just submitted) for the preview."""
    return {
        name: form[name].data or ""
        for name in ("kind", "design", "text_choice", "custom_text")
        if form[name].data
    }


@admin_bp.route("/preview", methods=["GET", "POST"])
def preview():
    """The banner as chosen in the form, not yet saved: the cabinet's preview frame loads it
    (GET, as the choice changes, from widget-admin.js; POST from «Показать» without JS)."""
    organization = current_organization()
    values = request.values
    settings = services.settings_of(organization)
    kind = _kind_or(values.get("kind"), settings.kind)
    design = values.get("design") or settings.design
    problem = None
    try:
        text_choice, custom_text = services.check_banner_text(
            kind, values.get("text_choice"), values.get("custom_text")
        )
    except FieldError as exc:
        text_choice, custom_text, problem = None, None, exc.message
    response = make_response(
        render_template(
            "widgets/preview.html",
            organization=organization,
            banner=designs.banner(design, kind, text_choice, custom_text),
            kind=kind,
            problem=problem,
        )
    )
    setattr(response, FRAMEABLE, "'self'")  # shown in the cabinet's own page only
    response.headers["Cache-Control"] = "no-store"
    return response


@admin_bp.get("/")
def index():
    return _admin_page()


@admin_bp.post("/settings")
def save_settings():
    organization = current_organization()
    form = SettingsForm()
    if form.validate_on_submit():
        try:
            services.save_settings(
                organization,
                current_user,
                kind=form.kind.data,
                design=form.design.data,
                text_choice=form.text_choice.data,
                custom_text=form.custom_text.data,
                site_url=form.site_url.data,
            )
        except FieldError as exc:
            db.session.rollback()
            form[exc.field].errors = [*form[exc.field].errors, exc.message]
        else:
            db.session.commit()
            flash(_("Настройки виджета сохранены. Виджет на сайте изменится сразу."), "success")
            return redirect(url_for("widget_admin.index"))
    return _admin_page(form, status=400)


@admin_bp.post("/code")
def generate():
    organization = current_organization()
    form = GenerateForm()
    if not form.validate_on_submit():
        abort(400)
    replacing = services.settings_of(organization).code_generated_at is not None
    if replacing and not form.replace.data:
        flash(
            _(
                "Код не изменён: подтвердите, что прежний код перестанет работать, "
                "и нажмите «Сгенерировать новый код» ещё раз."
            ),
            "error",
        )
        return redirect(url_for("widget_admin.index") + "#code")
    services.generate_code(organization, current_user)
    db.session.commit()
    if replacing:
        flash(
            _("Создан новый код. Прежний код больше не работает: замените его на сайте."),
            "success",
        )
    else:
        flash(
            _("Код виджета создан. Скопируйте его и вставьте на главную страницу сайта."),
            "success",
        )
    return redirect(url_for("widget_admin.index") + "#code")


@admin_bp.post("/disable")
def disable():
    organization = current_organization()
    if not DisableForm().validate_on_submit():
        abort(400)
    try:
        services.disable_widget(organization, current_user)
    except DomainError as exc:
        flash(exc.message, "error")
        return redirect(url_for("widget_admin.index"))
    db.session.commit()
    flash(
        _("Виджет отключён: на сайтах вместо него показывается нейтральное сообщение."),
        "success",
    )
    return redirect(url_for("widget_admin.index"))
