"""Classifier administration (/admin/classifier) and the topic-suggestion endpoint (JSON).

The operator's administrators edit the national classifier; an administrator of an organization
whose territory is a region (the government, the ЦУР, a regional ministry) sets that region's
fast-track list. Everyone else gets 404.
"""

from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from participation.appeals.classifier import (
    Category,
    Subcategory,
    administered_region,
    can_edit_classifier,
    can_set_region_fast_track,
    categories_with_subcategories,
    create_category,
    create_subcategory,
    region_overrides,
    rename_category,
    set_category_active,
    set_national_fast_track,
    set_region_fast_track,
    set_subcategory_active,
    update_subcategory,
)
from participation.appeals.classifier_forms import (
    CategoryForm,
    CategoryRenameForm,
    NearbyRadiusForm,
    RegionFastTrackForm,
    SubcategoryEditForm,
    SubcategoryForm,
    ToggleForm,
)
from participation.backoffice.gate import current_organization, staff_context, staff_gate
from participation.core.errors import FieldError, render_error
from participation.core.limits import parse_id
from participation.core.organizations import Organization
from participation.core.permissions import require
from participation.core.territories import Territory, TerritoryLevel
from participation.extensions import db, limiter
from participation.geo.services import NEARBY_RADIUS_M, set_nearby_radius

bp = Blueprint("classifier", __name__, url_prefix="/admin/classifier")
bp.before_request(staff_gate)
bp.context_processor(staff_context)

api_bp = Blueprint("classifier_api", __name__, url_prefix="/api/appeals")

SUGGEST_TEXT_MAX = 5000


def _require_editor() -> None:
    require(
        can_edit_classifier(current_user, current_organization()),
        reason="not an operator administrator",
    )


def _category_or_404(category_id: int) -> Category:
    _require_editor()
    category = db.session.get(Category, category_id)
    require(category is not None, reason="no such category")
    return category


def _subcategory_or_404(subcategory_id: int) -> Subcategory:
    _require_editor()
    subcategory = db.session.get(Subcategory, subcategory_id)
    require(subcategory is not None, reason="no such subcategory")
    return subcategory


def _apply(form, exc: FieldError) -> None:
    target = form._fields.get(exc.field)
    if target is None:
        flash(exc.message, "error")
    else:
        target.errors = [*target.errors, exc.message]


# --- the national classifier -----------------------------------------------------------------


@bp.get("/")
def index():
    organization = current_organization()
    if not can_edit_classifier(current_user, organization):
        region = administered_region(current_user, organization)
        require(region is not None, reason="not a classifier administrator")
        return redirect(url_for("classifier.region", territory_id=region.id))
    counts = dict(
        db.session.execute(
            sa.select(Subcategory.category_id, sa.func.count(Subcategory.id)).group_by(
                Subcategory.category_id
            )
        ).all()
    )
    categories = db.session.scalars(sa.select(Category).order_by(Category.position, Category.id))
    regions = db.session.scalars(
        sa.select(Territory)
        .where(Territory.level == TerritoryLevel.REGION)
        .order_by(Territory.name)
    )
    return render_template(
        "appeals/classifier/index.html",
        categories=list(categories),
        counts=counts,
        regions=list(regions),
    )


@bp.route("/categories/new", methods=["GET", "POST"])
def category_new():
    _require_editor()
    form = CategoryForm()
    if form.validate_on_submit():
        try:
            category = create_category(form.code.data, form.name.data, current_user)
        except FieldError as exc:
            _apply(form, exc)
        else:
            db.session.commit()
            flash(_("Категория «%(name)s» добавлена.", name=category.name), "success")
            return redirect(url_for("classifier.category", category_id=category.id))
    status = 400 if form.errors else 200
    return render_template("appeals/classifier/category_new.html", form=form), status


@bp.get("/categories/<int:category_id>")
def category(category_id: int):
    category = _category_or_404(category_id)
    return _render_category(category, CategoryRenameForm(formdata=None, name=category.name))


@bp.post("/categories/<int:category_id>/rename")
def category_rename(category_id: int):
    category = _category_or_404(category_id)
    form = CategoryRenameForm()
    if form.validate_on_submit():
        try:
            rename_category(category, form.name.data, current_user)
        except FieldError as exc:
            _apply(form, exc)
        else:
            db.session.commit()
            flash(_("Категория переименована: «%(name)s».", name=category.name), "success")
            return redirect(url_for("classifier.category", category_id=category.id))
    return _render_category(category, form), 400


@bp.post("/categories/<int:category_id>/active")
def category_active(category_id: int):
    category = _category_or_404(category_id)
    form = ToggleForm()
    if not form.validate_on_submit():
        flash(_("Не удалось изменить категорию: неверные данные формы."), "error")
        return redirect(url_for("classifier.category", category_id=category.id))
    set_category_active(category, form.flag, current_user)
    db.session.commit()
    if category.active:
        flash(_("Категория «%(name)s» снова предлагается жителям.", name=category.name), "success")
    else:
        flash(
            _("Категория «%(name)s» больше не предлагается жителям.", name=category.name),
            "success",
        )
    return redirect(url_for("classifier.category", category_id=category.id))


def _render_category(category: Category, form: CategoryRenameForm):
    return render_template(
        "appeals/classifier/category.html",
        category=category,
        form=form,
        toggle=ToggleForm(formdata=None, value="0" if category.active else "1"),
    )


@bp.route("/categories/<int:category_id>/subcategories/new", methods=["GET", "POST"])
def subcategory_new(category_id: int):
    category = _category_or_404(category_id)
    form = SubcategoryForm()
    if form.validate_on_submit():
        try:
            subcategory = create_subcategory(
                category,
                form.code.data,
                form.name.data,
                form.fast_track.data,
                form.keywords.data,
                current_user,
            )
        except FieldError as exc:
            _apply(form, exc)
        else:
            db.session.commit()
            flash(_("Подкатегория «%(name)s» добавлена.", name=subcategory.name), "success")
            return redirect(url_for("classifier.subcategory", subcategory_id=subcategory.id))
    status = 400 if form.errors else 200
    return (
        render_template("appeals/classifier/subcategory_new.html", category=category, form=form),
        status,
    )


@bp.route("/subcategories/<int:subcategory_id>", methods=["GET", "POST"])
def subcategory(subcategory_id: int):
    subcategory = _subcategory_or_404(subcategory_id)
    if request.method == "GET":
        form = SubcategoryEditForm(
            formdata=None, name=subcategory.name, keywords=subcategory.keywords
        )
        return _render_subcategory(subcategory, form)
    form = SubcategoryEditForm()
    if form.validate_on_submit():
        try:
            update_subcategory(subcategory, form.name.data, form.keywords.data, current_user)
        except FieldError as exc:
            _apply(form, exc)
        else:
            db.session.commit()
            flash(_("Подкатегория «%(name)s» сохранена.", name=subcategory.name), "success")
            return redirect(url_for("classifier.subcategory", subcategory_id=subcategory.id))
    return _render_subcategory(subcategory, form), 400


@bp.post("/subcategories/<int:subcategory_id>/nearby-radius")
def subcategory_nearby_radius(subcategory_id: int):
    subcategory = _subcategory_or_404(subcategory_id)
    form = NearbyRadiusForm()
    if form.validate_on_submit():
        try:
            set_nearby_radius(subcategory, form.nearby_radius_m.data, current_user)
        except FieldError as exc:
            _apply(form, exc)
        else:
            db.session.commit()
            flash(
                _(
                    "«%(name)s»: похожие сообщения ищутся в радиусе %(radius)d м.",
                    name=subcategory.name,
                    radius=subcategory.nearby_radius_m or NEARBY_RADIUS_M,
                ),
                "success",
            )
            return redirect(url_for("classifier.subcategory", subcategory_id=subcategory.id))
    edit = SubcategoryEditForm(formdata=None, name=subcategory.name, keywords=subcategory.keywords)
    return _render_subcategory(subcategory, edit, radius_form=form), 400


def _render_subcategory(
    subcategory: Subcategory,
    form: SubcategoryEditForm,
    radius_form: NearbyRadiusForm | None = None,
):
    if radius_form is None:
        value = subcategory.nearby_radius_m
        radius_form = NearbyRadiusForm(
            formdata=None, nearby_radius_m="" if value is None else str(value)
        )
    return render_template(
        "appeals/classifier/subcategory.html",
        subcategory=subcategory,
        form=form,
        radius_form=radius_form,
        default_radius=NEARBY_RADIUS_M,
        fast_toggle=ToggleForm(formdata=None, value="0" if subcategory.fast_track else "1"),
        active_toggle=ToggleForm(formdata=None, value="0" if subcategory.active else "1"),
    )


@bp.post("/subcategories/<int:subcategory_id>/fast-track")
def subcategory_fast_track(subcategory_id: int):
    subcategory = _subcategory_or_404(subcategory_id)
    form = ToggleForm()
    if not form.validate_on_submit():
        flash(_("Не удалось изменить срок: неверные данные формы."), "error")
    else:
        set_national_fast_track(subcategory, form.flag, current_user)
        db.session.commit()
        if subcategory.fast_track:
            flash(_("«%(name)s»: теперь фаст-трек, 10 дней.", name=subcategory.name), "success")
        else:
            flash(_("«%(name)s»: теперь обычный срок.", name=subcategory.name), "success")
    return redirect(url_for("classifier.subcategory", subcategory_id=subcategory.id))


@bp.post("/subcategories/<int:subcategory_id>/active")
def subcategory_active(subcategory_id: int):
    subcategory = _subcategory_or_404(subcategory_id)
    form = ToggleForm()
    if not form.validate_on_submit():
        flash(_("Не удалось изменить подкатегорию: неверные данные формы."), "error")
    else:
        set_subcategory_active(subcategory, form.flag, current_user)
        db.session.commit()
        if subcategory.active:
            flash(_("«%(name)s» снова предлагается жителям.", name=subcategory.name), "success")
        else:
            flash(_("«%(name)s» больше не предлагается жителям.", name=subcategory.name), "success")
    return redirect(url_for("classifier.subcategory", subcategory_id=subcategory.id))


# --- a region's fast-track list ----------------------------------------------------------------


def _region_or_404(territory_id: int) -> Territory:
    region = db.session.get(Territory, territory_id)
    require(
        can_set_region_fast_track(current_user, current_organization(), region),
        reason="not an administrator of this region",
    )
    return region


@bp.get("/regions/<int:territory_id>")
def region(territory_id: int):
    region = _region_or_404(territory_id)
    return _render_region(region)


@bp.post("/regions/<int:territory_id>/subcategories/<int:subcategory_id>")
def region_set(territory_id: int, subcategory_id: int):
    region = _region_or_404(territory_id)
    subcategory = db.session.get(Subcategory, subcategory_id)
    require(subcategory is not None, reason="no such subcategory")
    form = RegionFastTrackForm()
    if not form.validate_on_submit():
        return _render_region(region, failed=(subcategory.id, form)), 400
    set_region_fast_track(region, subcategory, form.chosen, current_user)
    db.session.commit()
    flash(_("«%(name)s»: срок в регионе сохранён.", name=subcategory.name), "success")
    return redirect(
        url_for("classifier.region", territory_id=region.id, _anchor=f"sub-{subcategory.id}")
    )


def _render_region(region: Territory, failed: tuple[int, RegionFastTrackForm] | None = None):
    overrides = region_overrides(region)
    forms = {}
    groups = categories_with_subcategories()
    for _category, subcategories in groups:
        for sub in subcategories:
            mode = {None: "inherit", True: "on", False: "off"}[overrides.get(sub.id)]
            forms[sub.id] = RegionFastTrackForm(formdata=None, mode=mode)
    if failed is not None:
        forms[failed[0]] = failed[1]
    return render_template(
        "appeals/classifier/region.html",
        region=region,
        groups=groups,
        overrides=overrides,
        forms=forms,
    )


# --- topic suggestion for the submission form ------------------------------------------------


def _suggest_rate_key() -> str:
    return f"user:{current_user.id}" if current_user.is_authenticated else request.remote_addr


@api_bp.get("/suggest")
@limiter.limit("60 per minute", key_func=_suggest_rate_key)
def suggest():
    if not current_user.is_authenticated:
        return render_error(401, _("Войдите через Госуслуги, чтобы получить подсказку."))
    text = request.args.get("text", "")
    if len(text) > SUGGEST_TEXT_MAX:
        return render_error(
            400, _("Текст слишком длинный: не больше %(max)d символов.", max=SUGGEST_TEXT_MAX)
        )
    organization = None
    raw_org = request.args.get("org", "").strip()
    if raw_org:
        organization_id = parse_id(raw_org)
        if organization_id is None:
            return render_error(400, _("Параметр org — номер организации."))
        organization = db.session.get(Organization, organization_id)
        if organization is None:
            return render_error(404, _("Организация не найдена."))
    # The same list the form shows without JavaScript (a widget's own topics only).
    from participation.appeals.services import autoselected_topic, topic_suggestions

    found = topic_suggestions(text, organization)
    return jsonify(
        {
            # The topic the form pre-selects (null: the suggester is not sure enough).
            "selected": autoselected_topic(found),
            "suggestions": [
                {
                    "subcategory_id": sub.id,
                    "subcategory": sub.name,
                    "category_id": sub.category_id,
                    "category": sub.category.name,
                    "confidence": s.confidence,
                    "matched_terms": list(s.matched_terms),
                }
                for sub, s in found
            ],
        }
    )
