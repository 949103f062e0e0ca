"""Survey pages: residents find and answer surveys; publishers build, run and analyse them."""

from __future__ import annotations

import sqlalchemy as sa
from flask import (
    Blueprint,
    abort,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required

from participation.core.files import register_attachment_access
from participation.core.i18n import number
from participation.core.pagination import paginate
from participation.core.permissions import require
from participation.extensions import db
from participation.polls import answering, services
from participation.polls.engine import (
    load_questionnaire,
)
from participation.polls.forms import (
    ActionForm,
)
from participation.polls.models import (
    Survey,
    SurveyParticipant,
    SurveyState,
)
from participation.polls.permissions import (
    can_manage,
    can_see_public_results,
    can_use_polls_cabinet,
    can_view,
)
from participation.polls.presenters import (
    STATE_LABELS,
    answer_page,
    results_page,
    survey_or_404,
)

bp = Blueprint("polls", __name__, url_prefix="/polls")


def _image_access(user, survey_id: str) -> bool:
    survey = db.session.get(Survey, int(survey_id)) if survey_id.isdigit() else None
    return survey is not None and can_view(user, survey)


register_attachment_access(services.IMAGE_OWNER, _image_access)


@bp.app_template_filter("polls_num")
def polls_number(value: float | None) -> str:
    """A number as typed into a form field: «1234,5» (no thousands separator)."""
    return "" if value is None else number(value, 6, grouping=False)


@bp.app_template_global()
def polls_state_label(state: SurveyState) -> str:
    return str(STATE_LABELS[state])


# --- residents -----------------------------------------------------------------------------


@bp.get("/")
def index():
    if current_user.is_authenticated:
        query = answering.available_surveys_query(current_user)
    else:
        query = answering.open_surveys_query()
    page = paginate(query, default_size=10)
    published = list(db.session.scalars(answering.results_published_query().limit(10)))
    return render_template(
        "polls/index.html",
        page=page,
        published=published,
        describe=answering.audience_description,
        is_publisher=can_use_polls_cabinet(current_user),
    )


@bp.get("/my")
@login_required
def mine():
    page = paginate(answering.answered_surveys_query(current_user), default_size=10)
    answered_on = dict(
        db.session.execute(
            sa.select(SurveyParticipant.survey_id, SurveyParticipant.answered_on).where(
                SurveyParticipant.user_id == current_user.id,
                SurveyParticipant.survey_id.in_([s.id for s in page.items]),
            )
        ).all()
    )
    return render_template(
        "polls/mine.html",
        page=page,
        answered_on=answered_on,
        drafts=answering.drafts_of(current_user),
    )


@bp.get("/<int:survey_id>")
def show(survey_id: int):
    survey = survey_or_404(survey_id)
    require(can_view(current_user, survey), reason="polls: unpublished survey")
    decision = answering.answer_decision(current_user, survey)
    draft = answering.get_draft(survey, current_user) if current_user.is_authenticated else None
    return render_template(
        "polls/show.html",
        survey=survey,
        decision=decision,
        draft=draft,
        audience=answering.audience_description(survey),
        question_count=len(load_questionnaire(survey.id).questions),
        can_manage=can_manage(current_user, survey),
        results_visible=can_see_public_results(current_user, survey),
        form=ActionForm(),
    )


@bp.route("/<int:survey_id>/answer", methods=["GET", "POST"])
@login_required
def answer(survey_id: int):
    generation = None
    if request.method == "POST":
        # One statement: the survey under the lock against question edits, and the
        # generation that tells whether this process's copy of its questions is current.
        found = answering.lock_for_answer(survey_id)
        if found is None:
            abort(404)
        survey, generation = found
    else:
        survey = survey_or_404(survey_id)
    require(can_view(current_user, survey), reason="polls: unpublished survey")
    # A submission's insert into the register refuses a repeat by itself (same message).
    submitting = request.method == "POST" and request.form.get("action") == "submit"
    decision = answering.answer_decision(current_user, survey, check_register=not submitting)
    if not decision.allowed:
        flash(decision.reason or "", "error")
        return redirect(url_for("polls.show", survey_id=survey.id))
    return answer_page(survey, preview=False, generation=generation)


@bp.post("/<int:survey_id>/draft/discard")
@login_required
def discard_draft(survey_id: int):
    survey = survey_or_404(survey_id)
    require(can_view(current_user, survey), reason="polls: unpublished survey")
    if not ActionForm().validate():
        abort(400)
    answering.discard_draft(survey, current_user)
    db.session.commit()
    flash(_("Черновик удалён."), "success")
    return redirect(url_for("polls.show", survey_id=survey.id))


@bp.get("/<int:survey_id>/thanks")
@login_required
def thanks(survey_id: int):
    survey = survey_or_404(survey_id)
    require(answering.has_answered(survey.id, current_user.id), reason="polls: thanks unanswered")
    return render_template("polls/thanks.html", survey=survey)


@bp.get("/<int:survey_id>/results")
def public_results(survey_id: int):
    survey = survey_or_404(survey_id)
    require(can_see_public_results(current_user, survey), reason="polls: results not public")
    return results_page(survey, public=True)
