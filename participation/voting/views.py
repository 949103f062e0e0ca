"""Public voting pages: campaigns, the ballot and its confirmation, receipts, results, the box.

Also the volunteer's assisted voting. The officials' pages are in manage.py.
"""

from __future__ import annotations

import logging

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    session,
    stream_with_context,
    url_for,
)
from flask_babel import gettext as _
from flask_limiter.util import get_remote_address
from flask_login import current_user, login_required

from participation.core import audit
from participation.core.db import utcnow
from participation.core.errors import FieldError
from participation.core.files import register_attachment_access
from participation.core.maps import centres, map_point
from participation.core.pagination import paginate
from participation.core.permissions import require
from participation.core.users import User
from participation.extensions import db, limiter
from participation.voting import box, tasks  # noqa: F401  (tasks registers the sealing sweep)
from participation.voting.forms import (
    AssistForm,
    ConfirmIdentityForm,
    VerifyForm,
    ballot_form,
    chosen_ids,
)
from participation.voting.models import Campaign, CampaignStatus, Channel, VotingObject
from participation.voting.pdf import results_csv_chunks
from participation.voting.permissions import can_assist, can_download_protocol, can_manage, can_view
from participation.voting.reports import (
    CHANNEL_LABELS,
    KIND_LABELS,
    PROTOCOL_OWNER,
    STATUS_LABELS,
    eligibility_text,
    period_text,
    rule_text,
)
from participation.voting.services import (
    PHOTO_OWNER,
    VotingRefused,
    ballot_objects,
    budget_summary,
    campaign_for_cast,
    cast_ballot,
    count_voters,
    find_resident,
    has_voted,
    home_territory_ids,
    money,
    object_photos,
    public_campaigns_query,
    receipt_in_box,
    revote_ballot,
    status_filter,
    validate_choices,
    voter_district,
    voting_refusal,
)
from participation.voting.tally import tally_campaign

log = logging.getLogger(__name__)
bp = Blueprint("voting", __name__, url_prefix="/voting")
ASSIST_SESSION_KEY = "voting_assist"


# --- Access to files ------------------------------------------------------------------------


def _photo_access(user, object_id: str) -> bool:
    obj = db.session.get(VotingObject, int(object_id)) if object_id.isdigit() else None
    return obj is not None and can_view(user, obj.campaign)


def _protocol_access(user, campaign_id: str) -> bool:
    campaign = db.session.get(Campaign, int(campaign_id)) if campaign_id.isdigit() else None
    return campaign is not None and can_download_protocol(user, campaign)


register_attachment_access(PHOTO_OWNER, _photo_access)
register_attachment_access(PROTOCOL_OWNER, _protocol_access)


@bp.app_context_processor
def _labels() -> dict:
    return {
        "voting_kind_labels": KIND_LABELS,
        "voting_status_labels": STATUS_LABELS,
        "voting_channel_labels": CHANNEL_LABELS,
        "voting_money": money,
        "voting_period": period_text,
        "voting_budget_summary": budget_summary,
    }


# --- Rate limits (per person and per address), settable in the app config -----------------


def cast_limit_per_user() -> str:
    return current_app.config.get("VOTING_CAST_LIMIT_PER_USER", "10 per minute")


def cast_limit_per_ip() -> str:
    return current_app.config.get("VOTING_CAST_LIMIT_PER_IP", "120 per minute")


def user_key() -> str:
    if current_user.is_authenticated:
        return f"user:{current_user.id}"
    return f"ip:{get_remote_address()}"


def _rate_limited(limit) -> None:
    campaign_id = (request.view_args or {}).get("campaign_id")
    log.warning("voting rate limit hit: %s %s", request.path, limit.limit)
    audit.record(
        "voting.refused", object_type="voting_campaigns", object_id=campaign_id, code="rate_limited"
    )
    db.session.commit()


# --- Helpers --------------------------------------------------------------------------------


def _load(campaign_id: int) -> Campaign:
    campaign = db.session.get(Campaign, campaign_id)
    if campaign is None:
        abort(404)
    require(can_view(current_user, campaign), reason="voting campaign not visible")
    return campaign


def _no_store(response: Response) -> Response:
    response.headers["Cache-Control"] = "no-store"
    return response


def _results_refused(campaign: Campaign) -> Response:
    text = _(
        "Итоги будут опубликованы после окончания голосования: %(when)s. До этого момента "
        "число голосов за объекты не видит никто, в том числе организаторы.",
        when=_localdt(campaign),
    )
    return make_response(render_template("voting/not_yet.html", campaign=campaign, text=text), 403)


def _localdt(campaign: Campaign) -> str:
    from participation.core.i18n import local_datetime

    return local_datetime(campaign.effective_closes_at, campaign.territory.timezone)


# --- Lists and the campaign page -----------------------------------------------------------

PUBLIC_STATUSES = (CampaignStatus.OPEN, CampaignStatus.UPCOMING, CampaignStatus.CLOSED)


@bp.get("/")
def index():
    now = utcnow()
    status = request.args.get("status")
    status = status if status in {s.value for s in PUBLIC_STATUSES} else None
    home = home_territory_ids(current_user if current_user.is_authenticated else None)
    own = []
    if home:
        own = list(
            db.session.scalars(
                status_filter(public_campaigns_query(territory_ids=home), status, now).limit(50)
            )
        )
    page = paginate(status_filter(public_campaigns_query(exclude=home), status, now))
    return render_template(
        "voting/index.html",
        own=own,
        page=page,
        status=status,
        statuses=PUBLIC_STATUSES,
        now=now,
    )


@bp.get("/<int:campaign_id>")
def show(campaign_id: int):
    campaign = _load(campaign_id)
    now = utcnow()
    status = campaign.status(now)
    voted = current_user.is_authenticated and has_voted(campaign, current_user)
    refusal = None
    if status == CampaignStatus.OPEN and current_user.is_authenticated and not voted:
        refusal = voting_refusal(campaign, current_user, now)
    objects = campaign.objects
    turnout = None
    if campaign.show_turnout or status == CampaignStatus.CLOSED:
        turnout = count_voters(campaign)
    return render_template(
        "voting/show.html",
        campaign=campaign,
        status=status,
        voted=voted,
        refusal=refusal,
        objects=objects,
        object_points=[_object_point(campaign, o) for o in objects],
        map_centres=centres([campaign.territory]),
        photos=object_photos([o.id for o in objects]),
        turnout=turnout,
        rule=rule_text(campaign),
        eligibility=eligibility_text(campaign),
        period=period_text(campaign),
        can_manage=can_manage(current_user, campaign),
        can_assist=can_assist(current_user, campaign) and status == CampaignStatus.OPEN,
    )


def _object_point(campaign: Campaign, obj: VotingObject) -> dict | None:
    """The object on the vote's map: its number next to it, a link to its page."""
    return map_point(
        obj.latitude,
        obj.longitude,
        _("№ %(number)d. %(title)s", number=obj.number, title=obj.title),
        url=url_for("voting.object_card", campaign_id=campaign.id, object_id=obj.id),
        tag=_("№ %(number)d", number=obj.number),
    )


@bp.get("/<int:campaign_id>/objects/<int:object_id>")
def object_card(campaign_id: int, object_id: int):
    campaign = _load(campaign_id)
    obj = db.session.get(VotingObject, object_id)
    if obj is None or obj.campaign_id != campaign.id:
        abort(404)
    return render_template(
        "voting/object.html",
        campaign=campaign,
        obj=obj,
        photos=object_photos([obj.id]).get(obj.id, []),
    )


# --- Voting: ballot → confirmation → cast → receipt ----------------------------------------


def _refused_page(campaign: Campaign, refusal: VotingRefused) -> Response:
    return make_response(
        render_template("voting/refused.html", campaign=campaign, refusal=refusal),
        refusal.status,
    )


@bp.route("/<int:campaign_id>/ballot", methods=["GET", "POST"])
@login_required
def ballot(campaign_id: int):
    campaign = _load(campaign_id)
    now = utcnow()
    refusal = voting_refusal(campaign, current_user, now)
    if refusal is not None:
        log.info("ballot page refused: campaign=%s code=%s", campaign.id, refusal.code)
        audit.record("voting.refused", campaign, code=refusal.code, voter_id=current_user.id)
        db.session.commit()
        return _refused_page(campaign, refusal)
    revote = has_voted(campaign, current_user)
    if revote and not campaign.allow_revote:
        flash(_("Вы уже проголосовали в этом голосовании."), "info")
        return redirect(url_for(".show", campaign_id=campaign.id))
    district = voter_district(campaign, current_user)
    objects = ballot_objects(campaign, district)
    form = ballot_form(campaign, objects)
    if form.validate_on_submit():
        try:
            chosen = validate_choices(campaign, chosen_ids(form), district)
        except FieldError as exc:
            form.choices.errors = [*form.choices.errors, exc.message]
        else:
            return render_template(
                "voting/confirm.html",
                campaign=campaign,
                form=form,
                chosen=chosen,
                revote=revote,
                action=url_for(".cast", campaign_id=campaign.id),
            )
    return render_template(
        "voting/ballot.html",
        campaign=campaign,
        form=form,
        objects=objects,
        photos=object_photos([o.id for o in objects]),
        district=district,
        revote=revote,
        rule=rule_text(campaign),
    )


@bp.post("/<int:campaign_id>/cast")
@login_required
@limiter.limit(cast_limit_per_user, key_func=user_key, on_breach=_rate_limited)
@limiter.limit(cast_limit_per_ip, on_breach=_rate_limited)
def cast(campaign_id: int):
    campaign = campaign_for_cast(campaign_id)  # one query: the campaign, locked for casting
    if campaign is None:
        abort(404)
    require(can_view(current_user, campaign), reason="voting campaign not visible")
    form = ballot_form(campaign, [])
    if not form.validate_on_submit():
        flash(_("Бюллетень не принят: проверьте выбор и отправьте ещё раз."), "error")
        return redirect(url_for(".ballot", campaign_id=campaign.id))
    try:
        if form.receipt_code.data and campaign.allow_revote:
            result = revote_ballot(campaign, current_user, chosen_ids(form), form.receipt_code.data)
        else:
            result = cast_ballot(campaign, current_user, chosen_ids(form), channel=Channel.SELF)
    except VotingRefused as refusal:
        db.session.commit()  # keeps the refusal's audit entry; nothing else was written
        flash(refusal.message, "error")
        return redirect(url_for(".show", campaign_id=campaign.id))
    except FieldError as exc:
        db.session.commit()
        flash(exc.message, "error")
        return redirect(url_for(".ballot", campaign_id=campaign.id))
    # Rendered before the commit, while the rows are still loaded (no reload after commit);
    # the page reaches the voter only if the commit succeeds.
    page = render_template("voting/receipt.html", campaign=campaign, result=result)
    db.session.commit()
    return _no_store(make_response(page))


# --- Assisted voting (volunteers) -----------------------------------------------------------


def _assisted_resident(campaign: Campaign) -> User | None:
    held = session.get(ASSIST_SESSION_KEY) or {}
    if held.get("campaign") != campaign.id:
        return None
    return db.session.get(User, held.get("user"))


@bp.route("/<int:campaign_id>/assist", methods=["GET", "POST"])
@login_required
@limiter.limit("120 per hour", key_func=user_key, methods=["POST"], on_breach=_rate_limited)
def assist(campaign_id: int):
    campaign = _load(campaign_id)
    require(can_assist(current_user, campaign), reason="not a volunteer of the organizer")
    form = AssistForm()
    if form.validate_on_submit():
        resident = find_resident(form.esia_oid.data)
        audit.record("voting.assist_lookup", campaign, found=resident is not None)
        db.session.commit()
        if resident is None:
            form.esia_oid.errors = [
                _(
                    "Житель с таким OID не найден. Он должен хотя бы раз войти на платформу "
                    "через Госуслуги."
                )
            ]
        else:
            session[ASSIST_SESSION_KEY] = {"campaign": campaign.id, "user": resident.id}
            return redirect(url_for(".assist_ballot", campaign_id=campaign.id))
    return render_template("voting/assist.html", campaign=campaign, form=form)


@bp.route("/<int:campaign_id>/assist/ballot", methods=["GET", "POST"])
@login_required
def assist_ballot(campaign_id: int):
    campaign = _load(campaign_id)
    require(can_assist(current_user, campaign), reason="not a volunteer of the organizer")
    resident = _assisted_resident(campaign)
    if resident is None:
        return redirect(url_for(".assist", campaign_id=campaign.id))
    refusal = voting_refusal(campaign, resident)
    if refusal is None and has_voted(campaign, resident):
        refusal = VotingRefused(_("Этот житель уже проголосовал."), "already_voted")
    if refusal is not None:
        audit.record(
            "voting.refused", campaign, code=refusal.code, voter_id=resident.id, assisted=True
        )
        db.session.commit()
        session.pop(ASSIST_SESSION_KEY, None)
        return _refused_page(campaign, refusal)
    district = voter_district(campaign, resident)
    objects = ballot_objects(campaign, district)
    form = ballot_form(campaign, objects)
    identity = ConfirmIdentityForm()
    if form.validate_on_submit() and identity.validate():
        try:
            chosen = validate_choices(campaign, chosen_ids(form), district)
        except FieldError as exc:
            form.choices.errors = [*form.choices.errors, exc.message]
        else:
            return render_template(
                "voting/confirm.html",
                campaign=campaign,
                form=form,
                identity=identity,
                chosen=chosen,
                resident=resident,
                action=url_for(".assist_cast", campaign_id=campaign.id),
            )
    return render_template(
        "voting/ballot.html",
        campaign=campaign,
        form=form,
        identity=identity,
        resident=resident,
        objects=objects,
        photos={},
        district=district,
        revote=False,
        rule=rule_text(campaign),
    )


@bp.post("/<int:campaign_id>/assist/cast")
@login_required
@limiter.limit(cast_limit_per_ip, on_breach=_rate_limited)
def assist_cast(campaign_id: int):
    campaign = _load(campaign_id)
    require(can_assist(current_user, campaign), reason="not a volunteer of the organizer")
    resident = _assisted_resident(campaign)
    form = ballot_form(campaign, [])
    identity = ConfirmIdentityForm()
    if resident is None or not (form.validate_on_submit() and identity.validate()):
        flash(_("Бюллетень не принят: проверьте выбор и подтверждение личности."), "error")
        return redirect(url_for(".assist", campaign_id=campaign.id))
    try:
        result = cast_ballot(
            campaign,
            resident,
            chosen_ids(form),
            channel=Channel.ASSISTED,
            volunteer=current_user._get_current_object(),
        )
    except (VotingRefused, FieldError) as exc:
        db.session.commit()
        flash(exc.message, "error")
        return redirect(url_for(".assist_ballot", campaign_id=campaign.id))
    session.pop(ASSIST_SESSION_KEY, None)
    page = render_template(
        "voting/receipt.html", campaign=campaign, result=result, resident=resident
    )
    db.session.commit()
    return _no_store(make_response(page))


# --- Receipt check, results, the anonymized box --------------------------------------------


@bp.route("/<int:campaign_id>/verify", methods=["GET", "POST"])
@limiter.limit("30 per minute", methods=["POST"], on_breach=_rate_limited)
def verify(campaign_id: int):
    campaign = _load(campaign_id)
    form = VerifyForm()
    found = None
    if form.validate_on_submit():
        try:
            found = receipt_in_box(campaign, form.code.data)
        except FieldError as exc:
            form.code.errors = [*form.code.errors, exc.message]
    return render_template(
        "voting/verify.html",
        campaign=campaign,
        form=form,
        found=found,
        closed=campaign.is_closed(utcnow()),
    )


@bp.get("/<int:campaign_id>/results")
def results(campaign_id: int):
    campaign = _load(campaign_id)
    if not campaign.is_closed(utcnow()):
        return _results_refused(campaign)
    tally = tally_campaign(campaign)
    return render_template(
        "voting/results.html",
        campaign=campaign,
        tally=tally,
        rule=rule_text(campaign),
        period=period_text(campaign),
        can_manage=can_manage(current_user, campaign),
    )


def _download(chunks, filename: str, mimetype: str) -> Response:
    # Werkzeug adds «; charset=utf-8» to text/* types itself: the mimetype names none.
    response = Response(stream_with_context(chunks), mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@bp.get("/<int:campaign_id>/results.csv")
def results_csv(campaign_id: int):
    campaign = _load(campaign_id)
    if not campaign.is_closed(utcnow()):
        return _results_refused(campaign)
    tally = tally_campaign(campaign)
    return _download(results_csv_chunks(tally), f"results-voting-{campaign.id}.csv", "text/csv")


@bp.get("/<int:campaign_id>/box.<any(csv, json):fmt>")
def ballot_box(campaign_id: int, fmt: str):
    campaign = _load(campaign_id)
    if not campaign.is_closed(utcnow()):
        return _results_refused(campaign)
    if fmt == "csv":
        return _download(box.csv_chunks(campaign), f"ballot-box-{campaign.id}.csv", "text/csv")
    return _download(
        box.json_chunks(campaign), f"ballot-box-{campaign.id}.json", "application/json"
    )
