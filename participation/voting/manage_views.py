"""Officials' voting pages in the staff cabinet: create, edit before the first ballot, objects
and photos, publish, close early with a reason, download the protocol."""

from __future__ import annotations

import io

from flask import (
    Blueprint,
    abort,
    flash,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user

from participation.backoffice.gate import (
    current_organization,
    require_component_ready,
    staff_context,
    staff_gate,
)
from participation.backoffice.readiness import VOTING
from participation.core.db import utcnow
from participation.core.errors import Conflict, FieldError
from participation.core.files import Attachment
from participation.core.pagination import paginate
from participation.core.permissions import require
from participation.core.users import AccountLevel
from participation.extensions import db
from participation.voting.forms import (
    ActionForm,
    CampaignForm,
    CloseForm,
    ObjectForm,
    PhotoForm,
    SelectChoice,
)
from participation.voting.models import (
    BallotRule,
    Campaign,
    CampaignKind,
    CampaignStatus,
    VotingObject,
)
from participation.voting.permissions import can_download_protocol, can_manage, can_organize
from participation.voting.reports import (
    INLINE_PROTOCOL_MAX_OBJECTS,
    eligibility_text,
    period_text,
    protocol_filename,
    protocol_pdf,
    rule_text,
)
from participation.voting.services import (
    CampaignData,
    ObjectData,
    add_object,
    add_object_photo,
    campaign_districts,
    campaign_territories,
    close_campaign_early,
    count_voters,
    create_campaign,
    delete_object,
    edit_refusal,
    latest_protocol,
    object_photos,
    organization_campaigns_query,
    publish_campaign,
    publish_refusal,
    remove_object_photo,
    request_protocol,
    update_campaign,
    update_object,
    voters_by_channel,
)

bp = Blueprint("voting_manage", __name__, url_prefix="/backoffice/voting")
bp.before_request(staff_gate)
bp.context_processor(staff_context)


def _load(campaign_id: int) -> Campaign:
    campaign = db.session.get(Campaign, campaign_id)
    if campaign is None:
        abort(404)
    require(can_manage(current_user, campaign), reason="voting campaign of another organization")
    require_component_ready(campaign.organization, VOTING)
    return campaign


def _load_object(campaign: Campaign, object_id: int) -> VotingObject:
    obj = db.session.get(VotingObject, object_id)
    if obj is None or obj.campaign_id != campaign.id:
        abort(404)
    return obj


def _field_error(form, exc: FieldError) -> None:
    field = getattr(form, exc.field, None)
    if field is None:
        flash(exc.message, "error")
    else:
        field.errors = [*field.errors, exc.message]


def _campaign_form(organization, campaign: Campaign | None = None) -> CampaignForm:
    if campaign is not None and request.method == "GET":
        tz = campaign.territory.tz
        form = CampaignForm(
            obj=campaign,
            kind=campaign.kind.value,
            ballot_rule=campaign.ballot_rule.value,
            min_level=campaign.min_level.value,
            opens_local=campaign.opens_at.astimezone(tz).replace(tzinfo=None),
            closes_local=campaign.closes_at.astimezone(tz).replace(tzinfo=None),
        )
    else:
        form = CampaignForm()
        if request.method == "GET":
            form.show_turnout.data = True
    form.territory_id.choices = [
        SelectChoice(t.id, t.name) for t in campaign_territories(organization)
    ]
    return form


def _campaign_data(form: CampaignForm) -> CampaignData:
    return CampaignData(
        title=form.title.data or "",
        territory_id=form.territory_id.data,
        opens_local=form.opens_local.data,
        closes_local=form.closes_local.data,
        kind=CampaignKind(form.kind.data),
        rules_text=form.rules_text.data or "",
        ballot_rule=BallotRule(form.ballot_rule.data),
        max_choices=form.max_choices.data,
        budget_limit=form.budget_limit.data,
        per_district=form.per_district.data,
        winners_count=form.winners_count.data or 1,
        turnout_target=form.turnout_target.data,
        show_turnout=form.show_turnout.data,
        allow_revote=form.allow_revote.data,
        min_level=AccountLevel(form.min_level.data),
        min_age=form.min_age.data,
    )


@bp.get("/")
def index():
    organization = current_organization()
    require(can_organize(current_user, organization), reason="not a voting organizer")
    page = paginate(organization_campaigns_query(organization))
    return render_template(
        "voting/manage/index.html", organization=organization, page=page, now=utcnow()
    )


@bp.route("/new", methods=["GET", "POST"])
def new():
    organization = current_organization()
    require(can_organize(current_user, organization), reason="not a voting organizer")
    form = _campaign_form(organization)
    if form.validate_on_submit():
        try:
            campaign = create_campaign(organization, current_user, _campaign_data(form))
        except FieldError as exc:
            db.session.rollback()
            _field_error(form, exc)
        else:
            db.session.commit()
            flash(_("Черновик голосования создан. Добавьте объекты и опубликуйте его."), "success")
            return redirect(url_for(".show", campaign_id=campaign.id))
    return render_template("voting/manage/form.html", form=form, campaign=None)


@bp.get("/<int:campaign_id>")
def show(campaign_id: int):
    campaign = _load(campaign_id)
    now = utcnow()
    status = campaign.status(now)
    return render_template(
        "voting/manage/show.html",
        campaign=campaign,
        status=status,
        objects=campaign.objects,
        photos=object_photos([o.id for o in campaign.objects]),
        edit_refusal=edit_refusal(campaign, now),
        publish_refusal=publish_refusal(campaign, now) if status == CampaignStatus.DRAFT else None,
        voters=count_voters(campaign),
        by_channel=voters_by_channel(campaign),
        rule=rule_text(campaign),
        eligibility=eligibility_text(campaign),
        period=period_text(campaign),
        protocol=latest_protocol(campaign),
        inline_protocol=len(campaign.objects) <= INLINE_PROTOCOL_MAX_OBJECTS,
        action_form=ActionForm(),
        photo_form=PhotoForm(),
    )


@bp.route("/<int:campaign_id>/edit", methods=["GET", "POST"])
def edit(campaign_id: int):
    campaign = _load(campaign_id)
    refusal = edit_refusal(campaign)
    if refusal is not None:
        flash(refusal, "error")
        return redirect(url_for(".show", campaign_id=campaign.id))
    form = _campaign_form(campaign.organization, campaign)
    if form.validate_on_submit():
        try:
            update_campaign(campaign, current_user, _campaign_data(form))
        except FieldError as exc:
            db.session.rollback()
            campaign = _load(campaign_id)
            _field_error(form, exc)
        except Conflict as exc:
            db.session.commit()  # keeps the audit entry of the refused edit
            flash(exc.message, "error")
            return redirect(url_for(".show", campaign_id=campaign_id))
        else:
            db.session.commit()
            flash(_("Изменения сохранены."), "success")
            return redirect(url_for(".show", campaign_id=campaign.id))
    return render_template("voting/manage/form.html", form=form, campaign=campaign)


def _object_form(campaign: Campaign, obj: VotingObject | None = None) -> ObjectForm:
    form = ObjectForm(obj=obj) if obj is not None and request.method == "GET" else ObjectForm()
    form.district_id.choices = [SelectChoice("", _("— не выбран —"))] + [
        SelectChoice(t.id, t.name) for t in campaign_districts(campaign)
    ]
    return form


def _object_data(form: ObjectForm) -> ObjectData:
    return ObjectData(
        title=form.title.data or "",
        description=form.description.data or "",
        address=form.address.data,
        latitude=form.latitude.data,
        longitude=form.longitude.data,
        cost=form.cost.data,
        district_id=form.district_id.data,
    )


@bp.route("/<int:campaign_id>/objects/new", methods=["GET", "POST"])
@bp.route("/<int:campaign_id>/objects/<int:object_id>/edit", methods=["GET", "POST"])
def object_form(campaign_id: int, object_id: int | None = None):
    campaign = _load(campaign_id)
    obj = _load_object(campaign, object_id) if object_id is not None else None
    refusal = edit_refusal(campaign)
    if refusal is not None:
        flash(refusal, "error")
        return redirect(url_for(".show", campaign_id=campaign.id))
    form = _object_form(campaign, obj)
    if form.validate_on_submit():
        try:
            if obj is None:
                add_object(campaign, current_user, _object_data(form))
            else:
                update_object(obj, current_user, _object_data(form))
        except FieldError as exc:
            db.session.rollback()
            _field_error(form, exc)
            campaign = _load(campaign_id)
        except Conflict as exc:
            db.session.commit()
            flash(exc.message, "error")
            return redirect(url_for(".show", campaign_id=campaign_id))
        else:
            db.session.commit()
            flash(_("Объект сохранён."), "success")
            return redirect(url_for(".show", campaign_id=campaign_id))
    return render_template("voting/manage/object_form.html", form=form, campaign=campaign, obj=obj)


def _act(campaign_id: int, action, success: str):
    """Run a one-button action (CSRF-checked) and come back to the campaign page."""
    campaign = _load(campaign_id)
    if not ActionForm().validate_on_submit():
        flash(_("Форма устарела. Обновите страницу и повторите."), "error")
        return redirect(url_for(".show", campaign_id=campaign.id))
    try:
        action(campaign)
    except Conflict as exc:
        db.session.commit()  # refusals leave an audit entry and nothing else
        flash(exc.message, "error")
    else:
        db.session.commit()
        flash(success, "success")
    return redirect(url_for(".show", campaign_id=campaign_id))


@bp.post("/<int:campaign_id>/objects/<int:object_id>/delete")
def object_delete(campaign_id: int, object_id: int):
    def action(campaign: Campaign) -> None:
        delete_object(_load_object(campaign, object_id), current_user)

    return _act(campaign_id, action, _("Объект удалён."))


@bp.post("/<int:campaign_id>/objects/<int:object_id>/photos")
def photo_add(campaign_id: int, object_id: int):
    campaign = _load(campaign_id)
    obj = _load_object(campaign, object_id)
    form = PhotoForm()
    if form.validate_on_submit():
        try:
            add_object_photo(obj, current_user, form.photo.data.stream, form.photo.data.filename)
        except FieldError as exc:
            db.session.rollback()
            flash(exc.message, "error")
        except Conflict as exc:
            db.session.commit()
            flash(exc.message, "error")
        else:
            db.session.commit()
            flash(_("Фотография добавлена."), "success")
    else:
        for errors in form.errors.values():
            for message in errors:
                flash(message, "error")
    return redirect(url_for(".show", campaign_id=campaign.id))


@bp.post("/<int:campaign_id>/objects/<int:object_id>/photos/<int:photo_id>/delete")
def photo_delete(campaign_id: int, object_id: int, photo_id: int):
    def action(campaign: Campaign) -> None:
        obj = _load_object(campaign, object_id)
        photo = db.session.get(Attachment, photo_id)
        if photo is None or photo.attached_to_id != str(obj.id):
            abort(404)
        remove_object_photo(obj, current_user, photo)

    return _act(campaign_id, action, _("Фотография удалена."))


@bp.post("/<int:campaign_id>/publish")
def publish(campaign_id: int):
    return _act(
        campaign_id,
        lambda campaign: publish_campaign(campaign, current_user),
        _("Голосование опубликовано: жители увидят его, а голосовать смогут с начала периода."),
    )


@bp.route("/<int:campaign_id>/close", methods=["GET", "POST"])
def close(campaign_id: int):
    campaign = _load(campaign_id)
    form = CloseForm()
    if form.validate_on_submit():
        try:
            close_campaign_early(campaign, current_user, form.reason.data)
        except FieldError as exc:
            db.session.rollback()
            _field_error(form, exc)
        except Conflict as exc:
            db.session.rollback()
            flash(exc.message, "error")
            return redirect(url_for(".show", campaign_id=campaign_id))
        else:
            db.session.commit()
            flash(_("Голосование завершено досрочно. Причина записана."), "success")
            return redirect(url_for(".show", campaign_id=campaign_id))
    return render_template("voting/manage/close.html", form=form, campaign=campaign)


@bp.get("/<int:campaign_id>/protocol.pdf")
def protocol(campaign_id: int):
    campaign = _load(campaign_id)
    require(can_download_protocol(current_user, campaign), reason="protocol")
    if not campaign.is_closed(utcnow()):
        flash(_("Протокол формируется после окончания голосования."), "error")
        return redirect(url_for(".show", campaign_id=campaign.id))
    if len(campaign.objects) > INLINE_PROTOCOL_MAX_OBJECTS:
        return redirect(url_for(".show", campaign_id=campaign.id))
    return send_file(
        io.BytesIO(protocol_pdf(campaign)),
        mimetype="application/pdf",
        as_attachment=True,
        download_name=protocol_filename(campaign),
        max_age=0,
    )


@bp.post("/<int:campaign_id>/protocol")
def protocol_request(campaign_id: int):
    def action(campaign: Campaign) -> None:
        require(can_download_protocol(current_user, campaign), reason="protocol")
        request_protocol(campaign, current_user)

    return _act(
        campaign_id,
        action,
        _("Протокол формируется. Ссылка на файл появится на этой странице, когда он будет готов."),
    )
