"""Management pages of organizers (уполномоченный, администратор of the organizing body)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.datastructures import FileStorage
from wtforms.fields.choices import SelectChoice

from participation.backoffice.gate import (
    current_organization,
    require_component_ready,
    staff_context,
    staff_gate,
)
from participation.backoffice.readiness import HEARINGS
from participation.core.db import utcnow
from participation.core.errors import DomainError, FieldError
from participation.core.pagination import paginate
from participation.core.permissions import require
from participation.core.users import AccountLevel
from participation.extensions import db
from participation.hearings import pdf, services
from participation.hearings import tasks as _tasks  # noqa: F401  (registers the sweep)
from participation.hearings.forms import (
    AttendeeForm,
    ConclusionForm,
    HearingForm,
    MaterialForm,
    ModerationForm,
    ProtocolForm,
    RecommendationForm,
    SpeechForm,
)
from participation.hearings.models import (
    Attendance,
    Hearing,
    HearingKind,
    ParticipantKind,
    ParticipantScope,
    Remark,
    RemarkStatus,
)
from participation.hearings.permissions import (
    can_manage,
    can_organize_in,
)
from participation.hearings.presenters import (
    field_error,
    notice_pdf_response,
    pdf_response,
    template_helpers,
)
from participation.hearings.stages import stage_at, timeline

manage = Blueprint("hearings_manage", __name__, url_prefix="/backoffice/hearings")
manage.before_request(staff_gate)
manage.context_processor(staff_context)
manage.context_processor(template_helpers)


def _load_managed(hearing_id: int) -> Hearing:
    hearing = services.hearing_with_territory(hearing_id)
    if hearing is None:
        abort(404)
    require(can_manage(current_user, hearing), reason="not an organizer of this hearing")
    require_component_ready(hearing.organization, HEARINGS)
    return hearing


def _load_remark(hearing: Hearing, remark_id: int) -> Remark:
    remark = db.session.get(Remark, remark_id)
    require(
        remark is not None and remark.hearing_id == hearing.id, reason="remark of another hearing"
    )
    return remark


@manage.get("/")
def manage_index():
    organization = current_organization()
    if not can_organize_in(current_user, organization):
        return render_template("hearings/manage/no_rights.html", organization=organization), 403
    page = paginate(services.organization_hearings_query(organization))
    return render_template("hearings/manage/index.html", page=page, organization=organization)


def _hearing_form(organization, hearing: Hearing | None = None, formdata=None) -> HearingForm:
    if hearing is None:
        form = HearingForm(
            formdata=formdata,
            organizer_address=organization.address,
            initiator=organization.name,
            min_account_level=AccountLevel.CONFIRMED.value,
            participant_scope=ParticipantScope.REGION.value,
            kind=HearingKind.PUBLIC_DISCUSSION.value,
        )
    else:
        form = HearingForm(
            formdata=formdata,
            obj=hearing,
            kind=hearing.kind.value,
            min_account_level=hearing.min_account_level.value,
            participant_scope=hearing.participant_scope.value,
            exposition_starts_on=hearing.exposition_first_day,
            exposition_ends_on=hearing.exposition_last_day,
            remarks_opens_on=hearing.remarks_first_day,
            remarks_closes_on=hearing.remarks_last_day,
            meeting_date=hearing.local_date(hearing.meeting_at) if hearing.meeting_at else None,
            meeting_time=hearing.meeting_at.astimezone(hearing.tz).time()
            if hearing.meeting_at
            else None,
        )
    form.territory_id.choices = [
        SelectChoice(t.id, t.name) for t in services.organizer_territories(organization)
    ]
    return form


def _hearing_input(form: HearingForm) -> services.HearingInput:
    return services.HearingInput(
        kind=HearingKind(form.kind.data),
        title=form.title.data,
        subject=form.subject.data,
        territory_id=form.territory_id.data,
        initiator=form.initiator.data,
        organizer_address=form.organizer_address.data,
        draft_text=form.draft_text.data,
        exposition_place=form.exposition_place.data,
        exposition_starts_on=form.exposition_starts_on.data,
        exposition_ends_on=form.exposition_ends_on.data,
        exposition_hours=form.exposition_hours.data,
        consultations=form.consultations.data,
        remarks_opens_on=form.remarks_opens_on.data,
        remarks_closes_on=form.remarks_closes_on.data,
        submission_ways=form.submission_ways.data,
        meeting_date=form.meeting_date.data,
        meeting_time=form.meeting_time.data,
        meeting_place=form.meeting_place.data,
        meeting_link=form.meeting_link.data,
        publication_sources=form.publication_sources.data,
        min_account_level=AccountLevel(form.min_account_level.data),
        participant_scope=ParticipantScope(form.participant_scope.data),
    )


def _upload(field) -> tuple[Any, str] | None:
    data = field.data
    if isinstance(data, FileStorage) and data.filename:
        return data.stream, data.filename
    return None


@manage.route("/new", methods=["GET", "POST"])
def manage_new():
    organization = current_organization()
    require(can_organize_in(current_user, organization), reason="not an organizer")
    form = _hearing_form(organization, formdata=request.form if request.method == "POST" else None)
    if request.method == "POST" and form.validate_on_submit():
        try:
            hearing = services.create_hearing(
                organization, current_user, _hearing_input(form), _upload(form.draft_pdf)
            )
        except FieldError as exc:
            db.session.rollback()
            field_error(form, exc)
        else:
            db.session.commit()
            flash(
                _("Черновик сохранён. Проверьте текст проекта и опубликуйте оповещение."), "success"
            )
            return redirect(url_for("hearings_manage.manage_show", hearing_id=hearing.id))
    status = 400 if request.method == "POST" else 200
    return render_template("hearings/manage/form.html", form=form, hearing=None), status


@manage.route("/<int:hearing_id>/edit", methods=["GET", "POST"])
def manage_edit(hearing_id: int):
    hearing = _load_managed(hearing_id)
    if hearing.is_published:
        flash(
            _("Оповещение уже опубликовано: проект, сроки и материалы больше менять нельзя."),
            "error",
        )
        return redirect(url_for("hearings_manage.manage_show", hearing_id=hearing.id))
    form = _hearing_form(
        hearing.organization, hearing, formdata=request.form if request.method == "POST" else None
    )
    if request.method == "POST" and form.validate_on_submit():
        try:
            services.update_hearing(
                hearing, current_user, _hearing_input(form), _upload(form.draft_pdf)
            )
        except DomainError as exc:
            db.session.rollback()
            if isinstance(exc, FieldError):
                field_error(form, exc)
            else:
                flash(exc.message, "error")
        else:
            db.session.commit()
            flash(_("Изменения сохранены."), "success")
            return redirect(url_for("hearings_manage.manage_show", hearing_id=hearing.id))
    status = 400 if request.method == "POST" else 200
    return render_template("hearings/manage/form.html", form=form, hearing=hearing), status


def _manage_page(hearing: Hearing, *, material=None, protocol=None, conclusion=None, status=200):
    now = utcnow()
    remark_status = next((s for s in RemarkStatus if s.value == request.args.get("status")), None)
    unanswered = request.args.get("unanswered") == "1"
    page = paginate(
        services.manage_remarks_query(hearing, remark_status, unanswered), default_size=50
    )
    return (
        render_template(
            "hearings/manage/show.html",
            hearing=hearing,
            page=page,
            status=remark_status,
            unanswered=unanswered,
            counts=services.remark_counts_by_status(hearing),
            missing=services.remarks_without_recommendation(hearing),
            materials=services.materials(hearing),
            material_form=material or MaterialForm(formdata=None),
            protocol_form=protocol
            or ProtocolForm(formdata=None, number=f"{hearing.id}/{now.year}"),
            conclusion_form=conclusion or ConclusionForm(formdata=None),
            steps=timeline(hearing, now),
            stage=stage_at(hearing, now),
        ),
        status,
    )


@manage.get("/<int:hearing_id>")
def manage_show(hearing_id: int):
    return _manage_page(_load_managed(hearing_id))


@manage.post("/<int:hearing_id>/materials")
def manage_add_material(hearing_id: int):
    hearing = _load_managed(hearing_id)
    form = MaterialForm()
    if form.validate_on_submit():
        upload = _upload(form.file)
        try:
            if upload is None:
                raise FieldError("file", _("Выберите файл материала."))
            services.add_material(hearing, current_user, form.title.data, *upload)
        except FieldError as exc:
            db.session.rollback()
            field_error(form, exc)
        except DomainError as exc:
            db.session.rollback()
            flash(exc.message, "error")
            return redirect(url_for("hearings_manage.manage_show", hearing_id=hearing.id))
        else:
            db.session.commit()
            flash(_("Материал добавлен."), "success")
            return redirect(url_for("hearings_manage.manage_show", hearing_id=hearing.id))
    return _manage_page(hearing, material=form, status=400)


@manage.post("/<int:hearing_id>/materials/<int:material_id>/delete")
def manage_remove_material(hearing_id: int, material_id: int):
    hearing = _load_managed(hearing_id)
    try:
        services.remove_material(hearing, material_id)
    except DomainError as exc:
        db.session.rollback()
        flash(exc.message, "error")
    else:
        db.session.commit()
        flash(_("Материал удалён."), "success")
    return redirect(url_for("hearings_manage.manage_show", hearing_id=hearing.id))


@manage.post("/<int:hearing_id>/publish")
def manage_publish(hearing_id: int):
    hearing = _load_managed(hearing_id)
    try:
        services.publish_notice(hearing, current_user)
    except DomainError as exc:
        db.session.rollback()
        flash(exc.message, "error")
    else:
        db.session.commit()
        flash(_("Оповещение опубликовано. Проект доступен жителям."), "success")
    return redirect(url_for("hearings_manage.manage_show", hearing_id=hearing.id))


@manage.get("/<int:hearing_id>/notice.pdf")
def manage_notice_pdf(hearing_id: int):
    return notice_pdf_response(_load_managed(hearing_id))


def _remark_page(
    hearing: Hearing, remark: Remark, moderation=None, recommendation=None, status=200
):
    moderation = moderation or ModerationForm(formdata=None)
    recommendation = recommendation or RecommendationForm(
        formdata=None,
        decision=remark.recommendation.value if remark.recommendation else None,
        reason=remark.recommendation_reason,
    )
    return (
        render_template(
            "hearings/manage/remark.html",
            hearing=hearing,
            remark=remark,
            moderation=moderation,
            recommendation=recommendation,
        ),
        status,
    )


def _after_handling(hearing: Hearing, remark: Remark):
    following = services.next_remark_to_handle(hearing, remark.number)
    if following is not None:
        return redirect(
            url_for("hearings_manage.manage_remark", hearing_id=hearing.id, remark_id=following.id)
        )
    return redirect(url_for("hearings_manage.manage_show", hearing_id=hearing.id))


@manage.get("/<int:hearing_id>/remarks/<int:remark_id>")
def manage_remark(hearing_id: int, remark_id: int):
    hearing = _load_managed(hearing_id)
    return _remark_page(hearing, _load_remark(hearing, remark_id))


@manage.post("/<int:hearing_id>/remarks/<int:remark_id>/moderate")
def manage_moderate(hearing_id: int, remark_id: int):
    hearing = _load_managed(hearing_id)
    remark = _load_remark(hearing, remark_id)
    form = ModerationForm()
    if form.validate_on_submit():
        try:
            services.moderate_remark(
                remark,
                current_user,
                publish=form.decision.data == "publish",
                reason=form.reason.data,
            )
        except FieldError as exc:
            db.session.rollback()
            field_error(form, exc)
        except DomainError as exc:
            db.session.rollback()
            flash(exc.message, "error")
            return redirect(
                url_for("hearings_manage.manage_remark", hearing_id=hearing.id, remark_id=remark.id)
            )
        else:
            db.session.commit()
            flash(
                _("Замечание № %(number)d опубликовано.", number=remark.number)
                if remark.status == RemarkStatus.PUBLISHED
                else _(
                    "Замечание № %(number)d отклонено, автор получит уведомление.",
                    number=remark.number,
                ),
                "success",
            )
            if remark.status == RemarkStatus.PUBLISHED:
                return redirect(
                    url_for(
                        "hearings_manage.manage_remark", hearing_id=hearing.id, remark_id=remark.id
                    )
                )
            return _after_handling(hearing, remark)
    return _remark_page(hearing, remark, moderation=form, status=400)


@manage.post("/<int:hearing_id>/remarks/<int:remark_id>/recommend")
def manage_recommend(hearing_id: int, remark_id: int):
    hearing = _load_managed(hearing_id)
    remark = _load_remark(hearing, remark_id)
    form = RecommendationForm()
    if form.validate_on_submit():
        try:
            services.set_recommendation(
                remark, current_user, decision=form.decision.data, reason=form.reason.data
            )
        except FieldError as exc:
            db.session.rollback()
            field_error(form, exc)
        except DomainError as exc:
            db.session.rollback()
            flash(exc.message, "error")
            return redirect(
                url_for("hearings_manage.manage_remark", hearing_id=hearing.id, remark_id=remark.id)
            )
        else:
            db.session.commit()
            flash(
                _("Рекомендация по замечанию № %(number)d сохранена.", number=remark.number),
                "success",
            )
            return _after_handling(hearing, remark)
    return _remark_page(hearing, remark, recommendation=form, status=400)


def _meeting_forms(hearing: Hearing, attendee=None, speech=None):
    attendees = services.meeting_attendees(hearing)
    attendee = attendee or AttendeeForm(formdata=None)
    speech = speech or SpeechForm(formdata=None)
    speech.participant_id.choices = [SelectChoice(0, _("— выберите —"))] + [
        SelectChoice(p.id, p.official_name) for p in attendees
    ]
    speech.paragraph_id.choices = [
        SelectChoice(0, _("К проекту в целом")),
        *services.paragraph_choices(hearing),
    ]
    return attendees, attendee, speech


def _meeting_page(hearing: Hearing, attendee=None, speech=None, status=200):
    attendees, attendee, speech = _meeting_forms(hearing, attendee, speech)
    return (
        render_template(
            "hearings/manage/meeting.html",
            hearing=hearing,
            attendees=attendees,
            attendee_form=attendee,
            speech_form=speech,
        ),
        status,
    )


@manage.get("/<int:hearing_id>/meeting")
def manage_meeting(hearing_id: int):
    hearing = _load_managed(hearing_id)
    if not hearing.is_hearing:
        abort(404)
    return _meeting_page(hearing)


@manage.post("/<int:hearing_id>/meeting/attendees")
def manage_register_attendee(hearing_id: int):
    hearing = _load_managed(hearing_id)
    form = AttendeeForm()
    if form.validate_on_submit():
        data = services.AttendeeInput(
            kind=ParticipantKind(form.kind.data),
            attendance=Attendance(form.attendance.data),
            last_name=form.last_name.data,
            first_name=form.first_name.data,
            middle_name=form.middle_name.data,
            birth_date=form.birth_date.data,
            address=form.address.data,
            resident=form.resident.data,
            legal_entity_name=form.legal_entity_name.data,
            legal_entity_ogrn=form.legal_entity_ogrn.data,
        )
        try:
            participant = services.register_attendee(hearing, current_user, data)
        except FieldError as exc:
            db.session.rollback()
            field_error(form, exc)
        except DomainError as exc:
            db.session.rollback()
            flash(exc.message, "error")
            return redirect(url_for("hearings_manage.manage_meeting", hearing_id=hearing.id))
        else:
            db.session.commit()
            flash(_("Участник %(name)s зарегистрирован.", name=participant.full_name), "success")
            return redirect(url_for("hearings_manage.manage_meeting", hearing_id=hearing.id))
    return _meeting_page(hearing, attendee=form, status=400)


@manage.post("/<int:hearing_id>/meeting/speeches")
def manage_record_speech(hearing_id: int):
    hearing = _load_managed(hearing_id)
    _attendees, _attendee, form = _meeting_forms(hearing, speech=SpeechForm())
    if form.validate_on_submit():
        try:
            remark = services.record_speech(
                hearing,
                current_user,
                participant_id=form.participant_id.data,
                paragraph_id=form.paragraph_id.data,
                kind=form.kind.data,
                text=form.text.data,
            )
        except FieldError as exc:
            db.session.rollback()
            field_error(form, exc)
        except DomainError as exc:
            db.session.rollback()
            flash(exc.message, "error")
            return redirect(url_for("hearings_manage.manage_meeting", hearing_id=hearing.id))
        else:
            db.session.commit()
            flash(_("Выступление записано как № %(number)d.", number=remark.number), "success")
            return redirect(url_for("hearings_manage.manage_meeting", hearing_id=hearing.id))
    return _meeting_page(hearing, speech=form, status=400)


@manage.post("/<int:hearing_id>/protocol")
def manage_issue_protocol(hearing_id: int):
    hearing = _load_managed(hearing_id)
    form = ProtocolForm()
    if form.validate_on_submit():
        try:
            services.issue_protocol(hearing, current_user, number=form.number.data)
        except FieldError as exc:
            db.session.rollback()
            field_error(form, exc)
        except DomainError as exc:
            db.session.rollback()
            flash(exc.message, "error")
            return _documents(hearing)
        else:
            db.session.commit()
            flash(_("Протокол № %(number)s оформлен.", number=hearing.protocol_number), "success")
            return _documents(hearing)
    return _manage_page(hearing, protocol=form, status=400)


def _documents(hearing: Hearing):
    return redirect(
        url_for("hearings_manage.manage_show", hearing_id=hearing.id, _anchor="documents")
    )


@manage.get("/<int:hearing_id>/protocol.pdf")
def manage_protocol_pdf(hearing_id: int):
    """The official copy with the annex listing participants' identification data."""
    hearing = _load_managed(hearing_id)
    require(hearing.protocol_issued_at is not None, reason="no protocol yet")
    data = pdf.build_protocol_pdf(
        services.document_data(hearing), official=True, generated_at=utcnow()
    )
    return pdf_response(data, f"protocol-{hearing.id}-official.pdf")


@manage.post("/<int:hearing_id>/conclusion")
def manage_publish_conclusion(hearing_id: int):
    hearing = _load_managed(hearing_id)
    form = ConclusionForm()
    if form.validate_on_submit():
        try:
            services.publish_conclusion(hearing, current_user, text=form.text.data)
        except FieldError as exc:
            db.session.rollback()
            field_error(form, exc)
        except DomainError as exc:
            db.session.rollback()
            form.text.errors = [exc.message]
            return _manage_page(hearing, conclusion=form, status=409)
        else:
            db.session.commit()
            flash(_("Заключение опубликовано, участники получат уведомление."), "success")
            return _documents(hearing)
    return _manage_page(hearing, conclusion=form, status=400)
