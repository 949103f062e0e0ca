"""Resident pages: the submission form, my messages, the answer, rating and rework."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import (
    Blueprint,
    abort,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required
from wtforms.fields.choices import SelectChoice

from participation.appeals import (
    services,
    tasks,  # noqa: F401  (registers the deadline sweep)
)
from participation.appeals.classifier import categories_with_subcategories
from participation.appeals.forms import RateForm, ReworkForm, SubmitForm, parse_coordinate
from participation.appeals.models import Appeal, Channel, RatingVia
from participation.appeals.permissions import (
    can_rate,
    can_return_for_rework,
    can_view_answer_files,
    can_view_appeal_files,
    can_view_own,
)
from participation.appeals.presenters import register_presenters
from participation.appeals.routing import region_of, submission_territories
from participation.auth.eligibility import check, rule_description
from participation.core.db import utcnow
from participation.core.errors import DomainError, FieldError, render_error
from participation.core.files import (
    Attachment,
    keep_for_retry,
    register_attachment_access,
    staged_uploads,
)
from participation.core.i18n import local_date
from participation.core.limits import arg_id, fits_db_int, parse_id
from participation.core.maps import home_view, municipal_centres
from participation.core.organizations import Organization
from participation.core.pagination import paginate
from participation.core.permissions import require
from participation.extensions import db

bp = Blueprint("appeals", __name__)
register_presenters(bp)

register_attachment_access("appeal", can_view_appeal_files)
register_attachment_access("appeal_answer", can_view_answer_files)


def _widget_organization() -> Organization | None:
    code = request.args.get("widget", "").strip()
    if not code:
        return None
    organization = db.session.scalar(
        sa.select(Organization).where(
            Organization.widget_code == code, Organization.widget_revoked_at.is_(None)
        )
    )
    if organization is None:
        abort(404)
    return organization


def _topic_choices(widget_organization: Organization | None) -> list[SelectChoice]:
    """Subcategories grouped by category (only those offered here)."""
    offered = services.offered_topic_ids(widget_organization)
    choices = [SelectChoice("", _("— выберите тему —"))]
    for category, subcategories in categories_with_subcategories():
        choices.extend(
            SelectChoice(s.id, s.name, optgroup=category.name)
            for s in subcategories
            if s.id in offered
        )
    return choices


def _territory_choices(
    widget_organization: Organization | None, subcategory_id: int | None = None
) -> list[SelectChoice]:
    """Municipalities grouped by region: those where someone answers the topic."""
    choices = [SelectChoice("", _("— выберите —"))]
    if subcategory_id is not None and not fits_db_int(subcategory_id):
        subcategory_id = None  # refused next to its field; list what any topic is served in
    for territory in submission_territories(widget_organization, subcategory_id):
        region = territory.region()
        choices.append(
            SelectChoice(territory.id, territory.name, optgroup=region.name if region else None)
        )
    return choices


def _map_home(widget_organization: Organization | None):
    """Where the form's map opens: the widget's territory, else the resident's own."""
    return (
        widget_organization.territory
        if widget_organization is not None
        else current_user.registration_territory
    )


def _files(attachments_field) -> list:
    return [f for f in (attachments_field.data or []) if getattr(f, "filename", "")]


def _apply_field_error(form, exc: FieldError) -> None:
    target = form._fields.get(exc.field) or form._fields.get("text")
    target.errors = [*target.errors, exc.message]


@bp.route("/appeals/new", methods=["GET", "POST"])
@login_required
def new():
    widget_organization = _widget_organization()
    rule = services.eligibility_rule()
    # On GET the page explains a refusal; a POST is checked again by the service anyway.
    decision = check(current_user, rule, utcnow().date()) if request.method == "GET" else None
    if decision is not None and not decision.allowed:
        return render_template(
            "appeals/not_allowed.html", reason=decision.reason, rule=rule_description(rule)
        ), 403
    form = SubmitForm()
    staged = staged_uploads(request.form, uploaded_by_id=current_user.id)
    if request.method == "GET" and current_user.registration_territory_id:
        form.territory_id.data = current_user.registration_territory_id
    join_error = None
    if request.method == "POST" and "join" in request.form:
        joined, join_error = _join(form, request.form["join"])
        if joined is not None:
            return joined
    elif form.validate_on_submit() and "suggest" not in request.form:
        try:
            submission = services.submit_appeal(
                submitted_by=current_user,
                submission_key=form.submission_key.data,
                subcategory_id=form.subcategory_id.data,
                text=form.text.data,
                territory_id=form.territory_id.data,
                address=form.address.data,
                latitude=form.latitude.parsed,
                longitude=form.longitude.parsed,
                files=_files(form.attachments),
                staged=staged,
                channel=Channel.WIDGET if widget_organization else Channel.PORTAL,
                widget_organization_id=widget_organization.id if widget_organization else None,
            )
        except FieldError as exc:
            db.session.rollback()
            _apply_field_error(form, exc)
        except DomainError as exc:
            db.session.rollback()
            return render_template(
                "appeals/not_allowed.html", reason=exc.message, rule=rule_description(rule)
            ), exc.status
        else:
            appeal = submission.appeal
            # Read before the commit, which expires the row (no second SELECT for the flash).
            appeal_id, number = appeal.id, appeal.number
            due = local_date(appeal.answer_due_at, submission.timezone)
            db.session.commit()
            flash(
                _(
                    "Сообщение зарегистрировано под номером %(number)s. Срок ответа — до %(date)s.",
                    number=number,
                    date=due,
                ),
                "success",
            )
            return redirect(url_for("appeals.my_detail", appeal_id=appeal_id))
    max_files = services.setting("APPEALS_MAX_FILES")
    if request.method == "POST" and "csrf_token" not in form.errors:
        staged = keep_for_retry(
            staged,
            _files(form.attachments),
            uploaded_by_id=current_user.id,
            field="attachments",
            limit=max_files,
        )
        db.session.commit()  # the kept files outlive the refused request
    # The lists are built only to show the form (a successful submission does not need them).
    form.subcategory_id.choices = _topic_choices(widget_organization)
    suggestions, autoselected = [], False
    if "suggest" in request.form:
        suggestions = services.topic_suggestions(form.text.data or "", widget_organization)
        best = services.autoselected_topic(suggestions)
        if best is not None and not form.subcategory_id.data:
            form.subcategory_id.data, autoselected = best, True
    # Only the territories where someone answers the chosen (or pre-selected) topic.
    form.territory_id.choices = _territory_choices(widget_organization, form.subcategory_id.data)
    home = _map_home(widget_organization)
    region = region_of(home) if home is not None else None
    return render_template(
        "appeals/new.html",
        form=form,
        map_region=region,
        map_centres=municipal_centres(region),
        map_home=home_view(home),
        widget_organization=widget_organization,
        suggestions=suggestions,
        autoselected=autoselected,
        rule=rule_description(rule),
        max_files=max_files,
        staged=staged,
        max_length=services.setting("APPEALS_TEXT_MAX_LENGTH"),
        nearby=_nearby(*_point(form), form.subcategory_id.data),
        join_error=join_error,
    ), (400 if form.errors or join_error else 200)


def _point(form: SubmitForm) -> tuple[Any, Any]:
    """The form's point as typed or placed on the map; (None, None) when unreadable."""
    try:
        return (
            parse_coordinate(form.latitude.data, "latitude"),
            parse_coordinate(form.longitude.data, "longitude"),
        )
    except ValueError:
        return None, None


def _nearby(latitude: Any, longitude: Any, subcategory_id: Any) -> list[services.NearbyChoice]:
    """«Похожие сообщения рядом» for the point and topic on the form, when both are given."""
    if latitude is None or longitude is None or not isinstance(subcategory_id, int):
        return []
    try:
        return services.nearby_for(current_user, latitude, longitude, subcategory_id)
    except FieldError:
        return []  # the point or topic is refused next to its own field


def _join(form: SubmitForm, raw_id: str) -> tuple[Any, str | None]:
    """The resident joins a message from «Похожие сообщения рядом» instead of sending theirs."""
    main_id = parse_id(raw_id)
    main = db.session.get(Appeal, main_id) if main_id else None
    if main is None:
        return None, _("Такого сообщения нет: выберите из списка «Похожие сообщения рядом».")
    try:
        latitude = parse_coordinate(form.latitude.data, "latitude")
        longitude = parse_coordinate(form.longitude.data, "longitude")
    except ValueError as exc:
        return None, _("Точка на карте: %(error)s", error=str(exc))
    try:
        follower = services.join_appeal(
            main,
            current_user,
            submission_key=form.submission_key.data,
            text=form.text.data,
            address=form.address.data,
            latitude=latitude,
            longitude=longitude,
        )
    except DomainError as exc:
        db.session.rollback()
        return None, exc.message
    follower_id = follower.id
    db.session.commit()
    flash(
        _(
            "Вы присоединились к сообщению № %(number)s: ответ по нему придёт и вам, и вы "
            "сможете его оценить.",
            number=main.number,
        ),
        "success",
    )
    return redirect(url_for("appeals.my_detail", appeal_id=follower_id)), None


@bp.get("/appeals/new/nearby")
@login_required
def nearby():
    """The form's «Похожие сообщения рядом» as HTML (the page's script asks as the point moves)."""
    subcategory_id = arg_id("subcategory_id")
    if subcategory_id is None:
        return render_error(400, _("Параметр subcategory_id — номер темы."))
    try:
        found = services.nearby_for(
            current_user, request.args.get("lat"), request.args.get("lon"), subcategory_id
        )
    except FieldError as exc:
        return render_error(400, exc.message)
    return render_template("appeals/_nearby.html", nearby=found)


@bp.get("/appeals/new/territories")
@login_required
def served_territories():
    """The territories the form offers for a topic (the page's script narrows its list)."""
    raw = request.args.get("subcategory_id", "").strip()
    if raw and not raw.isdigit():
        return render_error(400, _("Параметр subcategory_id — номер темы."))
    widget_organization = _widget_organization()
    territories = submission_territories(widget_organization, int(raw) if raw else None)
    return jsonify({"territories": [t.id for t in territories]})


@bp.get("/my/appeals")
@login_required
def my_list():
    query = (
        sa.select(Appeal)
        .where(Appeal.author_id == current_user.id)
        .order_by(Appeal.registered_at.desc(), Appeal.id.desc())
        .options(
            sa.orm.selectinload(Appeal.subcategory),
            sa.orm.selectinload(Appeal.executor_organization).selectinload(Organization.territory),
        )
    )
    page = paginate(query, default_size=10)
    return render_template("appeals/my_list.html", page=page)


def _own_appeal(appeal_id: int) -> Appeal:
    appeal = db.session.get(Appeal, appeal_id)
    if appeal is None:
        abort(404)
    require(can_view_own(current_user, appeal), reason="appeal of another resident")
    return appeal


def _attachments(kind: str, ids: list[int]) -> dict[int, list[Attachment]]:
    return services.attachments_of(kind, ids)


def _render_detail(appeal: Appeal, rate_form=None, rework_form=None, status: int = 200):
    answer = services.approved_answer(appeal)
    return render_template(
        "appeals/my_detail.html",
        appeal=appeal,
        answer=answer,
        files=_attachments("appeal", [appeal.id]).get(appeal.id, []),
        answer_files=_attachments("appeal_answer", [answer.id]).get(answer.id, [])
        if answer
        else [],
        history=services.appeal_history(appeal),
        rating=services.appeal_rating(appeal),
        review=services.review_cycle_of(appeal),
        rate_form=rate_form or RateForm(),
        rework_form=rework_form or ReworkForm(),
        may_rate=can_rate(current_user, appeal),
        may_rework=can_return_for_rework(current_user, appeal),
    ), status


@bp.get("/my/appeals/<int:appeal_id>")
@login_required
def my_detail(appeal_id: int):
    return _render_detail(_own_appeal(appeal_id))


@bp.post("/my/appeals/<int:appeal_id>/rate")
@login_required
def rate(appeal_id: int):
    appeal = _own_appeal(appeal_id)
    form = RateForm()
    if form.validate_on_submit():
        try:
            services.rate_appeal(
                appeal, current_user, form.score.data, form.comment.data, via=RatingVia.CABINET
            )
        except FieldError as exc:
            db.session.rollback()
            _apply_field_error(form, exc)
        except DomainError as exc:
            db.session.rollback()
            flash(exc.message, "error")
            return redirect(url_for("appeals.my_detail", appeal_id=appeal_id))
        else:
            db.session.commit()
            flash(_("Спасибо, ваша оценка учтена."), "success")
            return redirect(url_for("appeals.my_detail", appeal_id=appeal_id))
    return _render_detail(appeal, rate_form=form, status=400)


@bp.post("/my/appeals/<int:appeal_id>/rework")
@login_required
def rework(appeal_id: int):
    appeal = _own_appeal(appeal_id)
    require(can_return_for_rework(current_user, appeal), reason="rework not allowed")
    form = ReworkForm()
    if form.validate_on_submit():
        try:
            services.return_for_rework(appeal, current_user, form.comment.data)
        except FieldError as exc:
            db.session.rollback()
            _apply_field_error(form, exc)
        else:
            db.session.commit()
            flash(_("Ответ возвращён на доработку."), "success")
            return redirect(url_for("appeals.my_detail", appeal_id=appeal_id))
    return _render_detail(appeal, rework_form=form, status=400)


@bp.route("/appeals/rate/<token>", methods=["GET", "POST"])
def rate_by_link(token: str):
    appeal = services.appeal_from_rating_token(token)
    answer = services.approved_answer(appeal)
    rating = services.appeal_rating(appeal)
    form = RateForm()
    if rating is None and form.validate_on_submit():
        try:
            services.rate_appeal(
                appeal, None, form.score.data, form.comment.data, via=RatingVia.LINK
            )
        except FieldError as exc:
            db.session.rollback()
            _apply_field_error(form, exc)
        except DomainError as exc:
            db.session.rollback()
            flash(exc.message, "error")
        else:
            db.session.commit()
            flash(_("Спасибо, ваша оценка учтена."), "success")
            return redirect(url_for("appeals.rate_by_link", token=token))
    return render_template(
        "appeals/rate_link.html",
        appeal=appeal,
        answer=answer,
        rating=rating,
        form=form,
        token=token,
    ), (400 if form.errors else 200)
