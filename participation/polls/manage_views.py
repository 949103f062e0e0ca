"""The publisher's survey pages: create, edit, questions, conditions, publish, copy, preview."""

from __future__ import annotations

from datetime import timedelta

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
from wtforms.fields.choices import SelectChoice

from participation.backoffice.gate import component_closed, require_component_ready
from participation.backoffice.readiness import BY_KEY, POLLS, closed_reason, is_confirmed
from participation.core.db import utcnow
from participation.core.errors import DomainError, FieldError
from participation.core.pagination import paginate
from participation.core.permissions import require
from participation.core.users import AccountLevel, Gender
from participation.extensions import db
from participation.polls import answering, services
from participation.polls.engine import (
    condition_text,
    load_questionnaire,
)
from participation.polls.forms import (
    ActionForm,
    ConditionForm,
    QuestionForm,
    SectionForm,
    SurveyForm,
)
from participation.polls.models import (
    CONDITION_SOURCE_KINDS,
    QuestionKind,
    Survey,
    SurveyParticipant,
    SurveyQuestion,
    SurveySection,
    SurveyState,
)
from participation.polls.permissions import (
    can_publish_in,
    can_use_polls_cabinet,
    publishing_organizations,
)
from participation.polls.presenters import (
    answer_page,
    flash_error,
    managed_survey,
)
from participation.polls.results import (
    KIND_LABELS,
)
from participation.polls.views import polls_number

bp = Blueprint("polls_manage", __name__, url_prefix="/polls/manage")

# --- the publisher's cabinet ------------------------------------------------------------------


def _cabinet() -> None:
    if not current_user.is_authenticated:
        abort(404)
    require(can_use_polls_cabinet(current_user), reason="polls: not a publisher")


@bp.get("")
@login_required
def index():
    _cabinet()
    organizations, closed = _by_readiness(publishing_organizations(current_user))
    if not organizations:
        return component_closed(closed[0], BY_KEY[POLLS])
    query = (
        sa.select(Survey)
        .where(Survey.organization_id.in_([o.id for o in organizations]))
        .order_by(Survey.created_at.desc(), Survey.id.desc())
    )
    page = paginate(query, default_size=10)
    counts = dict(
        db.session.execute(
            sa.select(SurveyParticipant.survey_id, sa.func.count())
            .where(SurveyParticipant.survey_id.in_([s.id for s in page.items]))
            .group_by(SurveyParticipant.survey_id)
        ).all()
    )
    return render_template(
        "polls/manage.html",
        page=page,
        counts=counts,
        organizations=organizations,
        closed=[(o, closed_reason(o, BY_KEY[POLLS])) for o in closed],
        form=ActionForm(),
    )


def _by_readiness(organizations: list) -> tuple[list, list]:
    """The publisher's organizations split into those whose surveys are open and the rest."""
    ready = [o for o in organizations if is_confirmed(o, POLLS)]
    return ready, [o for o in organizations if o not in ready]


def _survey_form(organization, survey: Survey | None = None) -> SurveyForm:
    tz = organization.territory.timezone
    if survey is not None and request.method == "GET":
        form = SurveyForm(
            obj=survey,
            mode="anonymous" if survey.anonymous else "named",
            starts_at=services.to_local(survey.starts_at, tz),
            ends_at=services.to_local(survey.ends_at, tz),
            territory_ids=[t.id for t in survey.territories],
            min_level=survey.min_level.value,
            gender=survey.gender.value if survey.gender else "",
        )
    elif request.method == "GET":
        start = services.to_local(utcnow() + timedelta(days=1), tz).replace(
            hour=9, minute=0, second=0, microsecond=0
        )
        form = SurveyForm(
            starts_at=start,
            ends_at=start + timedelta(days=14),
            territory_ids=[organization.territory_id],
        )
    else:
        form = SurveyForm()
    form.territory_ids.choices = [
        SelectChoice(t.id, t.name) for t in services.territory_choices(organization)
    ]
    return form


def _settings(form: SurveyForm, tz: str) -> services.SurveySettings:
    return services.SurveySettings(
        title=form.title.data or "",
        description=form.description.data or "",
        anonymous=form.mode.data == "anonymous",
        starts_at=services.to_utc(form.starts_at.data, tz),
        ends_at=services.to_utc(form.ends_at.data, tz),
        territory_ids=list(form.territory_ids.data or []),
        min_level=AccountLevel(form.min_level.data),
        min_age=form.min_age.data,
        max_age=form.max_age.data,
        gender=Gender(form.gender.data) if form.gender.data else None,
        allow_legal_entities=bool(form.allow_legal_entities.data),
        results_public=bool(form.results_public.data),
    )


def _field_error(form, exc: FieldError) -> None:
    target = getattr(form, exc.field, None)
    if target is not None:
        target.errors = [*list(target.errors or []), exc.message]
    else:
        flash(exc.message, "error")


@bp.route("/new", methods=["GET", "POST"])
@login_required
def create():
    _cabinet()
    organizations = publishing_organizations(current_user)
    ready, _closed = _by_readiness(organizations)
    chosen = request.values.get("organization_id", type=int) or (ready or organizations)[0].id
    organization = next((o for o in organizations if o.id == chosen), None)
    require(organization is not None and can_publish_in(current_user, organization))
    require_component_ready(organization, POLLS)
    organizations = ready
    form = _survey_form(organization)
    if form.validate_on_submit():
        try:
            survey = services.create_survey(
                organization, current_user, _settings(form, organization.territory.timezone)
            )
        except FieldError as exc:
            db.session.rollback()
            _field_error(form, exc)
        else:
            db.session.commit()
            flash(_("Опрос создан. Добавьте вопросы."), "success")
            return redirect(url_for("polls_manage.questions", survey_id=survey.id))
    return render_template(
        "polls/settings.html",
        form=form,
        survey=None,
        organization=organization,
        organizations=organizations,
    ), (400 if form.errors else 200)


@bp.route("/<int:survey_id>/settings", methods=["GET", "POST"])
@login_required
def edit(survey_id: int):
    survey = managed_survey(survey_id)
    form = _survey_form(survey.organization, survey)
    if form.validate_on_submit():
        try:
            services.update_survey(survey, _settings(form, survey.timezone))
        except FieldError as exc:
            db.session.rollback()
            _field_error(form, exc)
        except DomainError as exc:
            db.session.rollback()
            flash_error(exc)
        else:
            db.session.commit()
            flash(_("Настройки опроса сохранены."), "success")
            return redirect(url_for("polls_manage.questions", survey_id=survey.id))
    return render_template(
        "polls/settings.html",
        form=form,
        survey=survey,
        organization=survey.organization,
        organizations=[survey.organization],
    ), (400 if form.errors else 200)


@bp.get("/<int:survey_id>")
@login_required
def questions(survey_id: int):
    survey = managed_survey(survey_id)
    qn = load_questionnaire(survey.id)
    count = services.respondent_count(survey.id)
    return render_template(
        "polls/questions.html",
        survey=survey,
        qn=qn,
        respondents=count,
        locked=bool(count) or survey.state() == SurveyState.CLOSED,
        problems=services.publication_problems(survey) if survey.published_at is None else [],
        audience=answering.audience_description(survey),
        condition_text=lambda q: condition_text(qn, q),
        kind_labels=KIND_LABELS,
        section_form=SectionForm(formdata=None),
        form=ActionForm(),
    )


@bp.get("/<int:survey_id>/count.json")
@login_required
def live_count(survey_id: int):
    survey = managed_survey(survey_id)
    return {"respondents": services.respondent_count(survey.id)}


def _done(message: str, survey: Survey):
    db.session.commit()
    flash(message, "success")
    return redirect(url_for("polls_manage.questions", survey_id=survey.id))


def _refused(exc: DomainError, survey: Survey):
    db.session.rollback()
    flash_error(exc)
    return redirect(url_for("polls_manage.questions", survey_id=survey.id))


@bp.post("/<int:survey_id>/publish")
@login_required
def publish(survey_id: int):
    survey = managed_survey(survey_id)
    if not ActionForm().validate():
        abort(400)
    try:
        services.publish_survey(survey)
    except DomainError as exc:
        return _refused(exc, survey)
    return _done(_("Опрос опубликован."), survey)


@bp.post("/<int:survey_id>/close")
@login_required
def close(survey_id: int):
    survey = managed_survey(survey_id)
    if not ActionForm().validate():
        abort(400)
    try:
        services.close_survey(survey)
    except DomainError as exc:
        return _refused(exc, survey)
    return _done(_("Опрос завершён: ответы больше не принимаются."), survey)


@bp.post("/<int:survey_id>/copy")
@login_required
def copy(survey_id: int):
    survey = managed_survey(survey_id)
    if not ActionForm().validate():
        abort(400)
    copy_ = services.copy_survey(survey, current_user, survey.organization)
    db.session.commit()
    flash(_("Сделана копия опроса. Проверьте сроки и опубликуйте её."), "success")
    return redirect(url_for("polls_manage.questions", survey_id=copy_.id))


@bp.post("/<int:survey_id>/delete")
@login_required
def delete(survey_id: int):
    survey = managed_survey(survey_id)
    if not ActionForm().validate():
        abort(400)
    try:
        services.delete_survey(survey)
    except DomainError as exc:
        return _refused(exc, survey)
    db.session.commit()
    flash(_("Черновик опроса удалён."), "success")
    return redirect(url_for("polls_manage.index"))


# --- sections and questions ---------------------------------------------------------------------


def _section_of(survey: Survey, section_id: int) -> SurveySection:
    section = db.session.get(SurveySection, section_id)
    require(section is not None and section.survey_id == survey.id, reason="polls: section")
    return section


def _question_of(survey: Survey, question_id: int) -> SurveyQuestion:
    question = db.session.get(SurveyQuestion, question_id)
    require(question is not None and question.survey_id == survey.id, reason="polls: question")
    return question


@bp.post("/<int:survey_id>/sections")
@login_required
def add_section(survey_id: int):
    survey = managed_survey(survey_id)
    form = SectionForm()
    if not form.validate():
        for errors in form.errors.values():
            flash(" ".join(str(e) for e in errors), "error")
        return redirect(url_for("polls_manage.questions", survey_id=survey.id))
    try:
        services.add_section(survey, form.title.data or "", form.description.data or None)
    except DomainError as exc:
        return _refused(exc, survey)
    return _done(_("Раздел добавлен."), survey)


@bp.route("/<int:survey_id>/sections/<int:section_id>", methods=["GET", "POST"])
@login_required
def edit_section(survey_id: int, section_id: int):
    survey = managed_survey(survey_id)
    section = _section_of(survey, section_id)
    form = SectionForm(obj=section)
    if form.validate_on_submit():
        try:
            services.update_section(section, form.title.data or "", form.description.data or None)
        except DomainError as exc:
            return _refused(exc, survey)
        return _done(_("Раздел сохранён."), survey)
    return render_template("polls/section.html", survey=survey, section=section, form=form)


@bp.post("/<int:survey_id>/sections/<int:section_id>/delete")
@login_required
def delete_section(survey_id: int, section_id: int):
    survey = managed_survey(survey_id)
    section = _section_of(survey, section_id)
    if not ActionForm().validate():
        abort(400)
    try:
        services.delete_section(section)
    except DomainError as exc:
        return _refused(exc, survey)
    return _done(_("Раздел удалён вместе с его вопросами."), survey)


def _question_data(form: QuestionForm) -> services.QuestionData:
    return services.QuestionData(
        kind=QuestionKind(form.kind.data),
        text=form.text.data or "",
        description=form.description.data or None,
        required=bool(form.required.data),
        max_choices=form.max_choices.data,
        max_length=form.max_length.data,
        min_value=getattr(form, "min_number", None),
        max_value=getattr(form, "max_number", None),
        scale_max=int(form.scale_max.data) if form.scale_max.data else None,
        has_other=bool(form.has_other.data),
        options=(form.options.data or "").splitlines(),
        rows=(form.rows.data or "").splitlines(),
    )


def _save_question(survey: Survey, form: QuestionForm, section=None, question=None):
    """Create or update a question, and store its picture if one came with the form."""
    data = _question_data(form)
    question = (
        services.add_question(section, data)
        if question is None
        else services.update_question(question, data)
    )
    upload = form.image.data
    if upload and getattr(upload, "filename", ""):
        services.attach_image(question, upload.stream, upload.filename, current_user)
    return question


def _question_page(survey, form, section, question, status=200):
    return render_template(
        "polls/question_form.html", survey=survey, form=form, section=section, question=question
    ), status


@bp.route("/<int:survey_id>/sections/<int:section_id>/questions/new", methods=["GET", "POST"])
@login_required
def add_question(survey_id: int, section_id: int):
    survey = managed_survey(survey_id)
    section = _section_of(survey, section_id)
    form = QuestionForm()
    if form.validate_on_submit():
        try:
            _save_question(survey, form, section=section)
        except FieldError as exc:
            db.session.rollback()
            _field_error(form, exc)
        except DomainError as exc:
            return _refused(exc, survey)
        else:
            return _done(_("Вопрос добавлен."), survey)
    return _question_page(survey, form, section, None, 400 if form.errors else 200)


@bp.route("/<int:survey_id>/questions/<int:question_id>", methods=["GET", "POST"])
@login_required
def edit_question(survey_id: int, question_id: int):
    survey = managed_survey(survey_id)
    question = _question_of(survey, question_id)
    if request.method == "GET":
        form = QuestionForm(obj=question)
        # set after: `obj` wins over keyword arguments for the names it also has (options, rows…)
        form.kind.data = question.kind.value
        form.options.data = "\n".join(o.text for o in question.choices if not o.is_other)
        form.rows.data = "\n".join(o.text for o in question.rows)
        form.scale_max.data = str(question.scale_max or 5)
        for name in ("min_value", "max_value"):
            value = getattr(question, name)
            form[name].data = polls_number(value)
    else:
        form = QuestionForm()
    if form.validate_on_submit():
        try:
            _save_question(survey, form, question=question)
        except FieldError as exc:
            db.session.rollback()
            _field_error(form, exc)
        except DomainError as exc:
            return _refused(exc, survey)
        else:
            return _done(_("Вопрос сохранён."), survey)
    return _question_page(survey, form, question.section, question, 400 if form.errors else 200)


@bp.post("/<int:survey_id>/questions/<int:question_id>/delete")
@login_required
def delete_question(survey_id: int, question_id: int):
    survey = managed_survey(survey_id)
    question = _question_of(survey, question_id)
    if not ActionForm().validate():
        abort(400)
    try:
        services.delete_question(question)
    except DomainError as exc:
        return _refused(exc, survey)
    return _done(_("Вопрос удалён."), survey)


@bp.post("/<int:survey_id>/questions/<int:question_id>/image/delete")
@login_required
def delete_image(survey_id: int, question_id: int):
    survey = managed_survey(survey_id)
    question = _question_of(survey, question_id)
    if not ActionForm().validate():
        abort(400)
    try:
        services.remove_image(question)
    except DomainError as exc:
        return _refused(exc, survey)
    return _done(_("Картинка убрана."), survey)


@bp.post("/<int:survey_id>/questions/<int:question_id>/move/<direction>")
@login_required
def move_question(survey_id: int, question_id: int, direction: str):
    survey = managed_survey(survey_id)
    question = _question_of(survey, question_id)
    if not ActionForm().validate() or direction not in ("up", "down"):
        abort(400)
    try:
        services.move_question(question, -1 if direction == "up" else 1)
    except DomainError as exc:
        return _refused(exc, survey)
    return _done(_("Порядок вопросов изменён."), survey)


@bp.route("/<int:survey_id>/questions/<int:question_id>/condition", methods=["GET", "POST"])
@login_required
def edit_condition(survey_id: int, question_id: int):
    survey = managed_survey(survey_id)
    question = _question_of(survey, question_id)
    qn = load_questionnaire(survey.id)
    earlier = qn.questions[: qn.questions.index(question)]
    form = ConditionForm(
        option_ids=sorted(qn.conditions.get(question.id, set()))
        if request.method == "GET"
        else None
    )
    form.option_ids.choices = [
        SelectChoice(o.id, f"{qn.number_of(q.id)}. {q.text[:80]} — {o.text}")
        for q in earlier
        if q.kind in CONDITION_SOURCE_KINDS
        for o in q.choices
    ]
    if form.validate_on_submit():
        try:
            services.set_condition(question, list(form.option_ids.data or []))
        except FieldError as exc:
            db.session.rollback()
            _field_error(form, FieldError("option_ids", exc.message))
        except DomainError as exc:
            return _refused(exc, survey)
        else:
            return _done(_("Условие показа сохранено."), survey)
    return render_template(
        "polls/condition.html",
        survey=survey,
        question=question,
        number=qn.number_of(question.id),
        form=form,
    ), (400 if form.errors else 200)


@bp.route("/<int:survey_id>/preview", methods=["GET", "POST"])
@login_required
def preview(survey_id: int):
    survey = managed_survey(survey_id)
    return answer_page(survey, preview=True)


from participation.polls import report_views  # noqa: E402, F401  (results and exports)
