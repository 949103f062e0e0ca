"""The organization administrator's «API-ключи» pages: list, create (secret shown once), revoke."""

from __future__ import annotations

from flask import Blueprint, abort, flash, make_response, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from participation.api import services
from participation.api.forms import SCOPE_LABELS, ApiKeyForm, RevokeForm
from participation.api.permissions import can_manage_api_keys, can_revoke
from participation.backoffice.gate import current_organization, staff_context, staff_gate
from participation.core.errors import DomainError, FieldError
from participation.core.permissions import require
from participation.extensions import db

bp = Blueprint("api_keys", __name__, url_prefix="/admin/api-keys")
bp.before_request(staff_gate)
bp.context_processor(staff_context)


@bp.before_request
def _administrators_only():
    require(
        can_manage_api_keys(current_user, current_organization()), reason="not an administrator"
    )


@bp.get("/")
def index():
    organization = current_organization()
    return render_template(
        "api/keys.html",
        keys=services.keys_of(organization),
        revoke_form=RevokeForm(formdata=None),
        scope_labels=SCOPE_LABELS,
        roles={s: sorted(r.value for r in roles) for s, roles in services.SCOPE_ROLES.items()},
    )


@bp.route("/new", methods=["GET", "POST"])
def new():
    organization = current_organization()
    form = ApiKeyForm()
    if not form.is_submitted():
        form = ApiKeyForm(formdata=None, expires_on=services.default_expiry())
    elif form.validate():
        try:
            issued = services.create_api_key(
                organization, form.name.data, form.scopes.data, form.expires_on.data, current_user
            )
        except FieldError as exc:
            db.session.rollback()
            form[exc.field].errors = [*form[exc.field].errors, exc.message]
        else:
            db.session.commit()
            # The secret is in this page only: never in a redirect, a flash or a cache.
            response = make_response(
                render_template("api/key_created.html", key=issued.key, token=issued.token)
            )
            response.headers["Cache-Control"] = "no-store"
            return response
    status = 400 if form.errors else 200
    return render_template("api/key_new.html", form=form), status


@bp.post("/<int:key_id>/revoke")
def revoke(key_id: int):
    organization = current_organization()
    key = services.key_of(organization, key_id)
    require(key is not None and can_revoke(current_user, key, organization), reason="foreign key")
    if not RevokeForm().validate_on_submit():
        abort(400)
    try:
        services.revoke_api_key(key, current_user)
    except DomainError as exc:
        flash(exc.message, "error")
    else:
        db.session.commit()
        flash(_("Ключ «%(name)s» отозван и больше не работает.", name=key.name), "success")
    return redirect(url_for("api_keys.index"))
