"""Staff pages of the rating: the table with its method, and the curator's weights form."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from participation.backoffice.gate import current_organization, staff_context, staff_gate
from participation.core.permissions import require
from participation.core.territories import Territory, TerritoryLevel
from participation.extensions import db
from participation.reports import rating as r
from participation.reports.permissions import can_edit_weights, can_see_rating, region_id_of
from participation.reports.rating_forms import weights_form
from participation.reports.services import GRAIN_LABELS

bp = Blueprint("reports_rating", __name__, url_prefix="/reports/rating")
bp.before_request(staff_gate)
bp.context_processor(staff_context)


def _region() -> Territory:
    """The region asked for (?region=id), else the current organization's; 404 if foreign."""
    asked = request.args.get("region", type=int)
    region_id = region_id_of(current_organization()) if asked is None else asked
    region = db.session.get(Territory, region_id) if region_id is not None else None
    require(region is not None and region.level == TerritoryLevel.REGION, reason="no region")
    require(can_see_rating(current_user, region.id), reason="rating of a foreign region")
    return region


@bp.get("/")
def index():
    region = _region()
    period = r.chosen_period(
        request.args.get("grain"), request.args.get("day"), r.region_today(region)
    )
    try:
        of = r.RatingOf(request.args.get("of", r.RatingOf.MUNICIPALITIES))
    except ValueError:
        of = r.RatingOf.MUNICIPALITIES
    rating = r.compute_rating(region.id, period, of)
    return render_template(
        "reports/rating.html",
        region=region,
        rating=rating,
        method=r.method_text(rating),
        show_value=r.show_value,
        can_edit=can_edit_weights(current_user, region.id),
        grains=[(g.value, GRAIN_LABELS[g]) for g in r.PERIOD_GRAINS],
        kinds=r.RATING_OF_LABELS,
    )


@bp.route("/weights", methods=["GET", "POST"])
def weights():
    region = _region()
    require(can_edit_weights(current_user, region.id), reason="not the region's curator")
    current, default = r.region_weights(region.id)
    form = weights_form(current)
    if form.validate_on_submit():
        r.save_weights(region.id, form.weights, current_user)
        db.session.commit()
        flash(_("Веса рейтинга сохранены."), "success")
        return redirect(url_for(".index", region=region.id))
    return render_template(
        "reports/weights.html", region=region, form=form, default=default, codes=r.CODES
    )
