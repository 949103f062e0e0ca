"""What the survey pages of residents (views.py) and publishers (manage_views.py,
report_views.py) share: loading with checks, the questionnaire page, the results page."""

from __future__ import annotations

import sqlalchemy as sa
from flask import (
    abort,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from participation.backoffice.gate import require_component_ready
from participation.backoffice.readiness import POLLS
from participation.core.charts import bar_chart_svg, stacked_chart_svg
from participation.core.errors import DomainError
from participation.core.i18n import number, percent
from participation.core.permissions import require
from participation.extensions import db
from participation.polls import answering
from participation.polls.engine import (
    condition_text,
    field_name,
    load_questionnaire,
    rendered_questions,
    text_limit,
)
from participation.polls.exports import SYNC_EXPORT_LIMIT
from participation.polls.forms import (
    ActionForm,
)
from participation.polls.models import (
    QuestionKind,
    Survey,
    SurveyAnswer,
    SurveyState,
    TextStatus,
)
from participation.polls.pdf import question_bars
from participation.polls.permissions import (
    can_manage,
)
from participation.polls.results import (
    DIMENSION_LABELS,
    KIND_LABELS,
    Dimension,
)
from participation.polls.snapshots import results_view

# A survey's state as residents read it (pages and the resident API).
STATE_LABELS = {
    SurveyState.DRAFT: _l("Черновик"),
    SurveyState.SCHEDULED: _l("Ещё не начался"),
    SurveyState.OPEN: _l("Идёт"),
    SurveyState.CLOSED: _l("Завершён"),
}


def survey_or_404(survey_id: int) -> Survey:
    survey = db.session.get(Survey, survey_id)
    if survey is None:
        abort(404)
    return survey


def managed_survey(survey_id: int) -> Survey:
    if not current_user.is_authenticated:
        abort(404)
    survey = survey_or_404(survey_id)
    require(can_manage(current_user, survey), reason="polls: manage foreign survey")
    require_component_ready(survey.organization, POLLS)
    return survey


def flash_error(exc: DomainError) -> None:
    flash(exc.message, "error")


def answer_page(survey: Survey, preview: bool, generation: int | None = None):
    """The questionnaire, a section at a time (answer and preview share it); `generation`:
    see answering.answer_section."""
    endpoint = "polls_manage.preview" if preview else "polls.answer"
    survey_id = survey.id  # the commit below expires the row; redirects need only the id
    if request.method == "POST":
        form = ActionForm()
        if not form.validate():
            abort(400)
        try:
            action = answering.Action(request.form.get("action", "next"))
        except ValueError:
            abort(400)
        section = request.form.get("section", "")
        try:
            step = answering.answer_section(
                survey,
                current_user,
                int(section) if section.isdigit() else -1,
                request.form,
                action,
                preview=preview,
                generation=generation,
            )
        except DomainError as exc:
            db.session.rollback()
            flash_error(exc)
            return redirect(url_for("polls.show", survey_id=survey_id))
        if step.outcome == answering.Outcome.INVALID:
            db.session.rollback()
            return render_section(survey, step.section, step.answers, step.errors, preview, 400)
        db.session.commit()
        if step.outcome == answering.Outcome.SAVED:
            flash(
                _("Черновик сохранён. Вернуться к опросу можно в любое время до его окончания."),
                "success",
            )
        elif step.outcome == answering.Outcome.SUBMITTED:
            return redirect(url_for("polls.thanks", survey_id=survey_id))
        elif step.outcome == answering.Outcome.PREVIEW_PASSED:
            flash(_("Предпросмотр: ответы прошли все проверки. Ничего не сохранено."), "success")
            return redirect(url_for("polls_manage.questions", survey_id=survey_id))
        return redirect(url_for(endpoint, survey_id=survey_id))
    qn, index, answers = answering.current_position(survey, current_user, preview)
    return render_section(survey, index, answers, {}, preview, 200, qn=qn)


def render_section(survey, index, answers, errors, preview, status, qn=None):
    qn = qn or load_questionnaire(survey.id)
    questions = rendered_questions(qn, index, answers)
    raw = request.form if request.method == "POST" else None
    numbers = {q.id: n for n, q in enumerate(qn.questions, 1)}
    return (
        render_template(
            "polls/answer.html",
            survey=survey,
            qn=qn,
            index=index,
            section=qn.sections[index] if qn.sections else None,
            questions=questions,
            answers=answers,
            raw=raw,
            errors=errors,
            numbers=numbers,
            preview=preview,
            is_last=answering.next_section(qn, index, answers) is None,
            is_first=answering.previous_section(qn, index, answers) is None,
            field_name=field_name,
            condition_text=lambda q: condition_text(qn, q),
            text_limit=text_limit,
            form=ActionForm(),
        ),
        status,
    )


# --- results ---------------------------------------------------------------------------------


def charts(results) -> dict[int, object]:
    charts = {}
    for result in results.questions:
        bars = question_bars(result)
        if bars:
            charts[result.question.id] = bar_chart_svg(
                f"chart-{result.question.id}", f"{result.number}. {result.question.text}", bars
            )
        if result.kind == QuestionKind.MATRIX and result.rows:
            charts[result.question.id] = stacked_chart_svg(
                f"chart-{result.question.id}",
                f"{result.number}. {result.question.text}",
                [o.text for o in result.question.choices],
                [(row.text, [c.share for c in cells]) for row, _t, cells in result.rows],
            )
    return charts


def breakdown_charts(results, breakdown) -> dict[int, object]:
    charts = {}
    groups = breakdown.visible_groups
    for result in results.questions:
        question = result.question
        if question.kind not in (QuestionKind.SINGLE, QuestionKind.MULTIPLE) or not groups:
            continue
        charts[question.id] = stacked_chart_svg(
            f"bchart-{question.id}",
            f"{result.number}. {question.text} — {DIMENSION_LABELS[breakdown.dimension]}",
            [o.text for o in question.choices],
            [
                (g.label, [breakdown.share(question.id, o.id, g.key) for o in question.choices])
                for g in groups
            ],
        )
    return charts


def texts(question_ids: list[int], limit: int = 20) -> dict[int, list[str]]:
    """Up to `limit` published free-text answers per question (one small query each)."""
    return {
        question_id: list(
            db.session.scalars(
                sa.select(SurveyAnswer.text_value)
                .where(
                    SurveyAnswer.question_id == question_id,
                    SurveyAnswer.text_status == TextStatus.APPROVED,
                )
                .order_by(SurveyAnswer.id)
                .limit(limit)
            )
        )
        for question_id in question_ids
    }


def results_page(survey: Survey, public: bool):
    qn = load_questionnaire(survey.id)
    raw_dimension = request.args.get("by", "")
    dimension = Dimension(raw_dimension) if raw_dimension in {d.value for d in Dimension} else None
    view = results_view(survey, qn, dimension)
    if view.requested:
        db.session.commit()  # the refresh job leaves once this commits
    results, breakdown = view.results, view.breakdown
    text_ids = [q.id for q in qn.questions if q.kind == QuestionKind.TEXT or q.has_other]
    return render_template(
        "polls/results.html",
        survey=survey,
        view=view,
        results=results,
        charts=charts(results) if results else {},
        breakdown=breakdown,
        breakdown_charts=breakdown_charts(results, breakdown) if breakdown else {},
        dimension=dimension,
        dimensions=DIMENSION_LABELS,
        texts=texts(text_ids),
        public=public,
        percent=percent,
        number=number,
        kind_labels=KIND_LABELS,
        export_limit=SYNC_EXPORT_LIMIT,
        respondents=view.respondents,
    )
