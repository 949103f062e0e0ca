"""The publisher's result pages: results, moderation of free texts, exports, the PDF report."""

from __future__ import annotations

import tempfile
from pathlib import Path

import sqlalchemy as sa
from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required

from participation.backoffice.gate import require_component_ready
from participation.backoffice.readiness import POLLS
from participation.core.errors import DomainError
from participation.core.moderation import REJECTION_LABELS, RejectionReason
from participation.core.pagination import paginate
from participation.core.permissions import require
from participation.extensions import db
from participation.polls import services
from participation.polls.engine import (
    load_questionnaire,
)
from participation.polls.exports import SYNC_EXPORT_LIMIT, iter_rows, write_csv, write_xlsx
from participation.polls.forms import (
    ActionForm,
    ModerationForm,
)
from participation.polls.models import (
    ExportFormat,
    ExportStatus,
    Survey,
    SurveyAnswer,
    SurveyExport,
    SurveyQuestion,
    TextStatus,
)
from participation.polls.pdf import build_report
from participation.polls.permissions import (
    can_moderate,
)
from participation.polls.presenters import (
    flash_error,
    managed_survey,
    results_page,
    survey_or_404,
)
from participation.polls.results import (
    Dimension,
    response_count,
)
from participation.polls.snapshots import results_view_by
from participation.polls.tasks import export_path

bp = Blueprint("polls_reports", __name__, url_prefix="/polls/manage")

# --- results, moderation, exports ---------------------------------------------------------------


@bp.get("/<int:survey_id>/results")
@login_required
def results(survey_id: int):
    survey = managed_survey(survey_id)
    return results_page(survey, public=False)


@bp.get("/<int:survey_id>/texts")
@login_required
def texts(survey_id: int):
    if not current_user.is_authenticated:
        abort(404)
    survey = survey_or_404(survey_id)
    require(can_moderate(current_user, survey), reason="polls: moderate foreign survey")
    require_component_ready(survey.organization, POLLS)
    status = request.args.get("status", TextStatus.PENDING.value)
    if status not in {s.value for s in TextStatus}:
        status = TextStatus.PENDING.value
    query = (
        sa.select(SurveyAnswer)
        .join(SurveyQuestion, SurveyQuestion.id == SurveyAnswer.question_id)
        .where(SurveyQuestion.survey_id == survey.id, SurveyAnswer.text_status == status)
        .order_by(SurveyAnswer.id)
    )
    page = paginate(query, default_size=50)
    qn = load_questionnaire(survey.id)
    return render_template(
        "polls/texts.html",
        survey=survey,
        page=page,
        status=status,
        questions=qn.by_id,
        numbers={q.id: n for n, q in enumerate(qn.questions, 1)},
        option_text={o.id: o.text for q in qn.questions for o in q.options},
        reasons=REJECTION_LABELS,
        form=ModerationForm(formdata=None),
    )


@bp.post("/<int:survey_id>/texts/<bigid:answer_id>")
@login_required
def moderate(survey_id: int, answer_id: int):
    if not current_user.is_authenticated:
        abort(404)
    survey = survey_or_404(survey_id)
    require(can_moderate(current_user, survey), reason="polls: moderate foreign survey")
    answer = db.session.get(SurveyAnswer, answer_id)
    question = db.session.get(SurveyQuestion, answer.question_id) if answer else None
    require(question is not None and question.survey_id == survey.id, reason="polls: answer")
    form = ModerationForm()
    back = url_for(
        "polls_reports.texts", survey_id=survey.id, status=request.args.get("status", "pending")
    )
    if not form.validate():
        for errors in form.errors.values():
            flash(" ".join(str(e) for e in errors), "error")
        return redirect(back)
    try:
        services.moderate_answer(
            answer,
            form.decision.data == "approve",
            RejectionReason(form.reason.data) if form.reason.data else None,
            current_user,
        )
    except DomainError as exc:
        db.session.rollback()
        flash_error(exc)
        return redirect(back)
    db.session.commit()
    flash(_("Решение по ответу сохранено."), "success")
    return redirect(back)


def _download_name(survey: Survey, extension: str) -> str:
    return f"survey-{survey.id}-responses.{extension}"


@bp.get("/<int:survey_id>/export.<fmt>")
@login_required
def export(survey_id: int, fmt: str):
    survey = managed_survey(survey_id)
    if fmt not in {f.value for f in ExportFormat}:
        abort(404)
    total = response_count(survey.id)
    if total > SYNC_EXPORT_LIMIT:
        return render_template(
            "polls/export_large.html", survey=survey, fmt=fmt, total=total, form=ActionForm()
        )
    # The file is written to a temporary file page by page and sent from disk in blocks:
    # memory stays flat whatever the number of responses (the page size bounds it).
    handle = tempfile.NamedTemporaryFile(suffix=f".{fmt}", delete=False)  # noqa: SIM115
    handle.close()
    path = Path(handle.name)
    writer = write_csv if fmt == ExportFormat.CSV else write_xlsx
    writer(iter_rows(survey.id), path)
    mimetype = (
        "text/csv"
        if fmt == ExportFormat.CSV
        else "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    response = send_file(
        path,
        mimetype=mimetype,
        as_attachment=True,
        download_name=_download_name(survey, fmt),
        max_age=0,
    )
    response.call_on_close(lambda: path.unlink(missing_ok=True))
    return response


@bp.post("/<int:survey_id>/export.<fmt>")
@login_required
def start_export(survey_id: int, fmt: str):
    survey = managed_survey(survey_id)
    if fmt not in {f.value for f in ExportFormat} or not ActionForm().validate():
        abort(400)
    job = services.request_export(survey, current_user, ExportFormat(fmt))
    db.session.commit()
    return redirect(url_for("polls_reports.export_status", survey_id=survey.id, export_id=job.id))


def _export_of(survey: Survey, export_id: int) -> SurveyExport:
    job = db.session.get(SurveyExport, export_id)
    require(job is not None and job.survey_id == survey.id, reason="polls: export")
    return job


@bp.get("/<int:survey_id>/exports/<int:export_id>")
@login_required
def export_status(survey_id: int, export_id: int):
    survey = managed_survey(survey_id)
    job = _export_of(survey, export_id)
    if request.args.get("format") == "json":
        return {"status": job.status.value, "percent": job.percent, "rows_done": job.rows_done}
    return render_template("polls/export_status.html", survey=survey, job=job)


@bp.get("/<int:survey_id>/exports/<int:export_id>/download")
@login_required
def export_download(survey_id: int, export_id: int):
    survey = managed_survey(survey_id)
    job = _export_of(survey, export_id)
    if job.status != ExportStatus.DONE:
        abort(404)
    try:
        path = export_path(job)
    except FileNotFoundError:
        abort(404)
    if not path.exists():
        abort(404)
    return send_file(
        path,
        as_attachment=True,
        download_name=_download_name(survey, job.format.value),
        max_age=0,
    )


@bp.get("/<int:survey_id>/report.pdf")
@login_required
def report_pdf(survey_id: int):
    survey = managed_survey(survey_id)
    qn = load_questionnaire(survey.id)
    view = results_view_by(survey, qn, list(Dimension))
    if view.requested:
        db.session.commit()
    if view.results is None:
        flash(
            _("Итоги опроса ещё считаются. Отчёт можно будет скачать через минуту-другую."), "error"
        )
        return redirect(url_for("polls_reports.results", survey_id=survey.id))
    pdf = build_report(survey, view.results, view.breakdowns)
    response = Response(pdf, mimetype="application/pdf")
    response.headers["Content-Disposition"] = (
        f'attachment; filename="survey-{survey.id}-report.pdf"'
    )
    return response
