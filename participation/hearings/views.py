"""Public pages: the list, the hearing page with the draft, remarks, notice and documents."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from wtforms.fields.choices import SelectChoice

from participation.auth.eligibility import rule_description
from participation.core.db import utcnow
from participation.core.errors import Conflict, FieldError
from participation.core.files import register_attachment_access
from participation.core.maps import territory_map
from participation.core.pagination import paginate
from participation.core.permissions import require
from participation.extensions import db, login_manager
from participation.hearings import pdf, services
from participation.hearings import tasks as _tasks  # noqa: F401  (registers the sweep)
from participation.hearings.cli import rewind_command
from participation.hearings.forms import (
    FilterForm,
    RemarkForm,
    new_client_token,
)
from participation.hearings.labels import (
    REMARK_KIND_LABELS,
)
from participation.hearings.models import (
    DraftParagraph,
    Hearing,
)
from participation.hearings.permissions import (
    can_download_extract,
    can_manage,
    can_view,
)
from participation.hearings.presenters import (
    field_error,
    notice_facts,
    notice_pdf_response,
    pdf_response,
    template_helpers,
)
from participation.hearings.stages import PUBLIC_STAGES, STAGE_LABELS, stage_at, timeline

bp = Blueprint("hearings", __name__, url_prefix="/hearings")
bp.context_processor(template_helpers)
bp.cli.add_command(rewind_command)


def _attachment_rule(user: Any, hearing_id: str) -> bool:
    hearing = db.session.get(Hearing, int(hearing_id)) if hearing_id.isdigit() else None
    return hearing is not None and can_view(user, hearing)


register_attachment_access(services.ATTACHMENT_TYPE, _attachment_rule)


def _load(hearing_id: int) -> Hearing:
    hearing = services.hearing_with_territory(hearing_id)
    if hearing is None:
        abort(404)
    require(can_view(current_user, hearing), reason="hearing not published")
    return hearing


@bp.get("/")
def index():
    form = FilterForm(request.args)
    territories = services.territories_with_hearings()
    form.territory.choices = [SelectChoice(0, _("Все"))] + [
        SelectChoice(t.id, t.name) for t in territories
    ]
    form.stage.choices = [SelectChoice("", _("Все этапы"))] + [
        SelectChoice(s.value, STAGE_LABELS[s]) for s in PUBLIC_STAGES
    ]
    stage = next((s for s in PUBLIC_STAGES if s.value == request.args.get("stage")), None)
    territory_id = (
        form.territory.data
        if isinstance(form.territory.data, int) and form.territory.data > 0
        else None
    )
    page = paginate(services.public_hearings_query(territory_id=territory_id, stage=stage))
    return render_template("hearings/index.html", page=page, form=form)


def _remark_form(hearing: Hearing, paragraph_id: int | None = None) -> RemarkForm:
    form = RemarkForm(
        formdata=None, paragraph_id=paragraph_id or 0, client_token=new_client_token()
    )
    form.paragraph_id.choices = [
        SelectChoice(0, _("К проекту в целом")),
        *services.paragraph_choices(hearing),
    ]
    return form


@bp.get("/<int:hearing_id>")
def show(hearing_id: int):
    hearing = _load(hearing_id)
    now = utcnow()
    decision = services.remark_decision(current_user, hearing, now)
    return render_template(
        "hearings/show.html",
        hearing=hearing,
        outline=services.draft_outline(hearing),
        counts=services.published_counts(hearing),
        materials=services.materials(hearing),
        steps=timeline(hearing, now),
        stage=stage_at(hearing, now),
        decision=decision,
        rule_text=rule_description(services.eligibility_rule(hearing)),
        my_remarks=services.user_remarks(hearing, current_user),
        participant=services.participant_of(hearing, current_user),
        form=_remark_form(hearing) if decision else None,
        can_manage=can_manage(current_user, hearing),
        territory_map=territory_map(hearing.territory),
    )


def _remarks_page(hearing: Hearing, paragraph: DraftParagraph | None):
    decision = services.remark_decision(current_user, hearing)
    page = paginate(services.published_remarks_query(hearing, paragraph.id if paragraph else None))
    return render_template(
        "hearings/remarks.html",
        hearing=hearing,
        paragraph=paragraph,
        page=page,
        decision=decision,
        form=_remark_form(hearing, paragraph.id if paragraph else None) if decision else None,
    )


@bp.get("/<int:hearing_id>/paragraphs/<int:paragraph_id>")
def paragraph(hearing_id: int, paragraph_id: int):
    hearing = _load(hearing_id)
    found = db.session.get(DraftParagraph, paragraph_id)
    if found is None or found.hearing_id != hearing.id:
        abort(404)
    return _remarks_page(hearing, found)


@bp.get("/<int:hearing_id>/general")
def general(hearing_id: int):
    return _remarks_page(_load(hearing_id), None)


@bp.route("/<int:hearing_id>/remarks/new", methods=["GET", "POST"])
def new_remark(hearing_id: int):
    hearing = _load(hearing_id)
    if not current_user.is_authenticated:
        return login_manager.unauthorized()
    decision = services.remark_decision(current_user, hearing)
    if request.method == "GET":
        if not decision:
            flash(decision.reason, "error")
            return redirect(url_for("hearings.show", hearing_id=hearing.id))
        form = _remark_form(hearing, request.args.get("paragraph", type=int))
        return render_template("hearings/remark_form.html", hearing=hearing, form=form)
    form = RemarkForm()
    form.paragraph_id.choices = [
        SelectChoice(0, _("К проекту в целом")),
        *services.paragraph_choices(hearing),
    ]
    if form.validate():
        try:
            remark = services.submit_remark(
                hearing,
                current_user,
                text=form.text.data,
                kind=form.kind.data,
                paragraph_id=form.paragraph_id.data,
                client_token=form.client_token.data,
            )
        except services.NotAllowed as exc:
            db.session.rollback()
            flash(exc.message, "error")
            return redirect(url_for("hearings.show", hearing_id=hearing.id))
        except Conflict as exc:
            db.session.rollback()
            flash(exc.message, "error")
            return redirect(url_for("hearings.show", hearing_id=hearing.id, _anchor="my-remarks"))
        except FieldError as exc:
            db.session.rollback()
            field_error(form, exc)
        else:
            db.session.commit()
            flash(
                _(
                    "Спасибо! %(kind)s № %(number)d отправлено на модерацию. "
                    "После проверки оно появится на странице обсуждения.",
                    kind=REMARK_KIND_LABELS[remark.kind],
                    number=remark.number,
                ),
                "success",
            )
            return redirect(url_for("hearings.show", hearing_id=hearing.id, _anchor="my-remarks"))
    return render_template("hearings/remark_form.html", hearing=hearing, form=form), 400


@bp.get("/<int:hearing_id>/notice")
def notice(hearing_id: int):
    hearing = _load(hearing_id)
    return render_template("hearings/notice.html", hearing=hearing, facts=notice_facts(hearing))


@bp.get("/<int:hearing_id>/notice.pdf")
def notice_pdf(hearing_id: int):
    hearing = _load(hearing_id)
    require(hearing.is_published, reason="notice of a draft")
    return notice_pdf_response(hearing)


@bp.get("/<int:hearing_id>/protocol.pdf")
def protocol_pdf(hearing_id: int):
    """The public copy: no annex, participants named as on the pages («Мария И.»)."""
    hearing = _load(hearing_id)
    require(hearing.protocol_issued_at is not None, reason="no protocol yet")
    data = pdf.build_protocol_pdf(
        services.document_data(hearing), official=False, generated_at=utcnow()
    )
    return pdf_response(data, f"protocol-{hearing.id}-public.pdf")


@bp.get("/<int:hearing_id>/conclusion.pdf")
def conclusion_pdf(hearing_id: int):
    hearing = _load(hearing_id)
    require(hearing.conclusion_published_at is not None, reason="no conclusion yet")
    data = pdf.build_conclusion_pdf(services.document_data(hearing), generated_at=utcnow())
    return pdf_response(data, f"conclusion-{hearing.id}.pdf")


@bp.get("/<int:hearing_id>/extract.pdf")
def extract_pdf(hearing_id: int):
    hearing = _load(hearing_id)
    if not current_user.is_authenticated:
        return login_manager.unauthorized()
    participant = services.participant_of(hearing, current_user)
    require(can_download_extract(current_user, participant), reason="extract of someone else")
    require(hearing.protocol_issued_at is not None, reason="no protocol yet")
    data = pdf.build_extract_pdf(
        hearing,
        participant,
        services.participant_remark_rows(hearing, participant),
        generated_at=utcnow(),
    )
    return pdf_response(data, f"extract-{hearing.id}.pdf")
