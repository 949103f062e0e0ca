"""Staff pages of the geography: the inbox's map data and the region's public map settings."""

from __future__ import annotations

from flask import Blueprint, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from participation.appeals.inbox import parse_filters, start_bucket
from participation.backoffice.gate import current_organization, staff_context, staff_gate
from participation.core.errors import FieldError
from participation.core.permissions import require
from participation.extensions import db
from participation.geo.forms import PublicMapForm
from participation.geo.map_data import (
    curated_region,
    inbox_map_points,
    map_settings,
    parse_bbox,
    set_public_map,
)
from participation.geo.permissions import can_manage_public_map

bp = Blueprint("geo_backoffice", __name__, url_prefix="/backoffice/map")
bp.before_request(staff_gate)
bp.context_processor(staff_context)


@bp.get("/inbox-points")
def inbox_points():
    """The inbox folder's points in the visible box: the same scope and filters as the list."""
    organization = current_organization()
    filters = parse_filters(request.args, start_bucket(current_user, organization))
    try:
        bbox = parse_bbox(request.args.get("bbox"))
    except FieldError as exc:
        response = jsonify({"detail": str(exc.message), "field": exc.field})
        return response, 422
    found = inbox_map_points(current_user, organization, filters, bbox)
    response = jsonify(
        {
            "limit": found.limit,
            "capped": found.capped,
            "points": [
                {
                    "id": p.id,
                    "number": str(p.id),
                    "lat": p.lat,
                    "lon": p.lon,
                    "state": p.status,
                    "state_label": p.status_label,
                    "category": p.category,
                    "subcategory": p.subcategory,
                    "url": url_for("appeals_backoffice.card", appeal_id=p.id),
                }
                for p in found.points
            ],
        }
    )
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/public", methods=["GET", "POST"])
def public_map_settings():
    """The region's curator turns its public map of problems (and its texts) on or off."""
    organization = current_organization()
    require(can_manage_public_map(current_user, organization), reason="not the region's curator")
    region = curated_region(organization)
    saved = map_settings(region.id)
    form = PublicMapForm(
        data=None
        if request.method == "POST"
        else {
            "public_map": bool(saved and saved.public_map),
            "publish_texts": bool(saved and saved.publish_texts),
        }
    )
    if form.validate_on_submit():
        try:
            set_public_map(
                region,
                enabled=form.public_map.data,
                publish_texts=form.publish_texts.data,
                actor_id=current_user.id,
            )
        except FieldError as exc:
            db.session.rollback()
            flash(exc.message, "error")
        else:
            db.session.commit()
            flash(
                _("Публичная карта проблем включена.")
                if form.public_map.data
                else _("Публичная карта проблем выключена."),
                "success",
            )
            return redirect(url_for(".public_map_settings"))
    return render_template(
        "geo/settings.html", form=form, region=region, settings=saved, organization=organization
    ), (400 if request.method == "POST" else 200)
