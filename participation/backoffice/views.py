"""Staff cabinet pages: the landing page, the readiness confirmation screen, the switcher."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from participation.backoffice.forms import (
    ComponentReadinessForm,
    ReadinessForm,
    SwitchOrganizationForm,
)
from participation.backoffice.gate import (
    choose_organization,
    current_organization,
    staff_context,
    staff_gate,
)
from participation.backoffice.permissions import can_confirm_ready
from participation.backoffice.readiness import (
    COMPONENTS,
    confirm_component,
    confirmations,
    may_confirm,
    role_names,
)
from participation.backoffice.sections import sections_for
from participation.backoffice.services import (
    READY,
    TRAINING,
    confirm_organization,
    pending_confirmations,
    roles_of,
    staff_organizations,
)
from participation.core.errors import FieldError
from participation.core.permissions import deny
from participation.core.safety import safe_next
from participation.core.users import User
from participation.extensions import db

bp = Blueprint("backoffice", __name__, url_prefix="/backoffice")
bp.before_request(staff_gate)
bp.context_processor(staff_context)


@bp.get("/")
def index():
    organization = current_organization()
    return render_template(
        "backoffice/index.html",
        organization=organization,
        roles=roles_of(current_user, organization),
        sections=sections_for(current_user, organization),
    )


@bp.route("/confirm", methods=["GET", "POST"])
def confirm():
    organization = current_organization()
    form = ReadinessForm(next=request.args.get("next"))
    if form.validate_on_submit():
        try:
            given = confirm_organization(
                organization, current_user, ready=form.ready.data, training=form.training.data
            )
        except FieldError as exc:
            form[exc.field].errors.append(exc.message)
        else:
            db.session.commit()
            if given:
                flash(_("Подтверждение сохранено."), "success")
            if organization.is_ready:
                return redirect(safe_next(form.next.data) or url_for("backoffice.index"))
            return redirect(url_for("backoffice.confirm", next=safe_next(form.next.data)))
    confirmed_by = {
        READY: _confirmer(organization.ready_confirmed_by_id),
        TRAINING: _confirmer(organization.training_confirmed_by_id),
    }
    pending = pending_confirmations(organization)
    for name in (READY, TRAINING):
        if name not in pending:
            form[name].render_kw = {"disabled": True, "checked": True}
    may_confirm_ready = can_confirm_ready(current_user, organization)
    if READY in pending and not may_confirm_ready:
        form.ready.render_kw = {"disabled": True}
    return render_template(
        "backoffice/confirm.html",
        organization=organization,
        form=form,
        pending=pending,
        confirmed_by=confirmed_by,
        may_confirm_ready=may_confirm_ready,
        can_submit=TRAINING in pending or (READY in pending and may_confirm_ready),
    )


@bp.route("/readiness", methods=["GET", "POST"])
def readiness():
    """Each component's readiness in one organization (the current one unless ?organization=)."""
    form = ComponentReadinessForm()
    wanted = request.args.get("organization", type=int)
    if request.method == "POST":
        wanted = _int_or_none(form.organization_id.data)
    organization = _own_organization(wanted)
    if form.validate_on_submit():
        try:
            if not form.statement.data:
                raise FieldError("statement", _("Отметьте пункт, который вы подтверждаете."))
            given = confirm_component(organization, form.component.data or "", current_user)
        except FieldError as exc:
            flash(exc.message, "error")
        else:
            db.session.commit()
            flash(
                _("Готовность подтверждена.") if given else _("Готовность уже была подтверждена."),
                "success",
            )
            back = safe_next(form.next.data)
            if back:
                return redirect(back)
            return redirect(url_for("backoffice.readiness", organization=organization.id))
    confirmed = confirmations(organization)
    rows = [
        {
            "component": component,
            "confirmed": confirmed.get(component.key),
            "confirmed_by": _confirmer(
                getattr(confirmed.get(component.key), "confirmed_by_id", None)
            ),
            "confirmers": role_names(component, organization),
            "may_confirm": may_confirm(current_user, organization, component),
        }
        for component in COMPONENTS
    ]
    return render_template(
        "backoffice/readiness.html",
        organization=organization,
        rows=rows,
        form=form,
        next=safe_next(request.args.get("next")),
    )


@bp.post("/organization")
def switch_organization():
    form = SwitchOrganizationForm()
    if not form.validate_on_submit():
        deny(reason="bad organization switch")
    organization = choose_organization(form.organization_id.data)
    flash(_("Текущая организация: %(name)s.", name=organization.display_name), "success")
    return redirect(url_for("backoffice.index"))


def _own_organization(organization_id: int | None):
    """The current organization, or another one the person works in (404 for the rest)."""
    if organization_id is None:
        return current_organization()
    found = next((o for o in staff_organizations(current_user) if o.id == organization_id), None)
    if found is None:
        deny(reason="readiness of a foreign organization")
    return found


def _int_or_none(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _confirmer(user_id: int | None) -> User | None:
    return db.session.get(User, user_id) if user_id is not None else None
