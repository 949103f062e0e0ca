"""Residents' pages of direct lines: the list, an event, asking, supporting, my questions, live."""

from __future__ import annotations

from typing import Any

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required
from wtforms.fields.choices import SelectChoice

from participation.auth.eligibility import check, rule_description
from participation.core.db import utcnow
from participation.core.errors import DomainError, FieldError
from participation.core.limits import arg_id
from participation.core.moderation import REJECTION_LABELS, rejection_text
from participation.core.pagination import paginate
from participation.core.permissions import require
from participation.core.safety import safe_next
from participation.directline import queries, services
from participation.directline import tasks as _tasks  # noqa: F401  (the conversion job)
from participation.directline.forms import PlainForm, QuestionForm
from participation.directline.models import (
    PUBLIC_STATES,
    SUPPORTABLE_STATES,
    DirectLine,
    Phase,
    Question,
    QuestionState,
)
from participation.directline.permissions import can_manage, can_view_question, is_author
from participation.directline.workflow import ACTION_LABELS, PHASE_LABELS, STATE_LABELS
from participation.extensions import db, limiter

bp = Blueprint("directline", __name__, url_prefix="/directline")


def status_label(question: Question) -> str:
    """What a resident reads about a question: a converted one is «передан как сообщение»."""
    if question.appeal_id is not None:
        return _("Передан как сообщение")
    return str(STATE_LABELS[question.state])


@bp.context_processor
def _helpers() -> dict[str, Any]:
    return {
        "status_label": status_label,
        "STATE_LABELS": STATE_LABELS,
        "ACTION_LABELS": ACTION_LABELS,
        "PHASE_LABELS": PHASE_LABELS,
        "REJECTION_LABELS": REJECTION_LABELS,
        "rejection_text": rejection_text,
        "QuestionState": QuestionState,
        "Phase": Phase,
    }


def _person_key() -> str:
    """Rate limits count per person (a whole office may share one address)."""
    return f"user:{current_user.id}" if current_user.is_authenticated else request.remote_addr


def load_event(event_id: int) -> DirectLine:
    event = queries.event_with_host(event_id)
    if event is None:
        abort(404)
    return event


def load_question(event: DirectLine, question_id: int) -> Question:
    question = db.session.get(Question, question_id)
    require(
        question is not None and question.event_id == event.id,
        reason="question of another direct line",
    )
    return question


def apply_field_error(form, exc: FieldError) -> None:
    """Show a service's FieldError next to its field (or above the form)."""
    target = form._fields.get(exc.field)
    if target is not None:
        target.errors = [*list(target.errors or []), exc.message]
    else:
        form.form_errors.append(exc.message)


@bp.get("/")
def index():
    upcoming, past = queries.public_events()
    return render_template("directline/index.html", upcoming=upcoming, past=past, now=utcnow())


@bp.get("/<int:event_id>")
def show(event_id: int):
    event = load_event(event_id)
    sort = request.args.get("sort", "popular")
    sort = sort if sort in queries.SORTS else "popular"
    category_ids = {c.id for c in event.categories}
    category_id = arg_id("category")
    category_id = category_id if category_id in category_ids else None
    page = paginate(
        queries.public_questions_query(event, sort=sort, category_id=category_id),
        default_size=10,
    )
    ids = [q.id for q in page.items]
    now = utcnow()
    finished = event.is_finished(now)
    return render_template(
        "directline/show.html",
        event=event,
        page=page,
        sort=sort,
        category_id=category_id,
        supports=queries.support_counts(ids),
        coauthors=queries.coauthor_counts(ids),
        mine=queries.supported_by(current_user, ids),
        own=queries.authored_by(current_user, ids),
        phase=event.phase(now),
        accepts=event.accepts_questions(now),
        rule_text=rule_description(services.eligibility_rule(event)),
        my_count=len(queries.my_questions(event, current_user))
        if current_user.is_authenticated
        else 0,
        answered=queries.answered(event) if finished else [],
        stats=queries.statistics(event) if finished else None,
        support_form=PlainForm(),
        may_manage=can_manage(current_user, event),
        supportable=SUPPORTABLE_STATES,
    )


def _question_form(event: DirectLine, formdata=None) -> QuestionForm:
    form = QuestionForm(
        formdata=formdata,
        territory_id=services.default_question_territory(event, current_user),
    )
    form.category_id.choices = [SelectChoice(c.id, c.name) for c in event.categories]
    form.territory_id.choices = [SelectChoice("", _("— выберите —"))] + [
        SelectChoice(t.id, t.name) for t in services.question_territories(event)
    ]
    return form


@bp.route("/<int:event_id>/ask", methods=["GET", "POST"])
@login_required
@limiter.limit("20 per minute", key_func=_person_key, methods=["POST"])
def ask(event_id: int):
    event = load_event(event_id)
    decision = check(current_user, services.eligibility_rule(event), utcnow().date())
    form = _question_form(event, request.form if request.method == "POST" else None)
    status = 200
    if request.method == "POST":
        status = 400
        if form.validate_on_submit():
            try:
                submission = services.submit_question(
                    event,
                    current_user,
                    submission_key=form.submission_key.data,
                    category_id=form.category_id.data,
                    text=form.text.data,
                    territory_id=form.territory_id.data,
                    address=form.address.data,
                )
            except FieldError as exc:
                db.session.rollback()
                apply_field_error(form, exc)
            except DomainError as exc:
                db.session.rollback()
                form.form_errors.append(exc.message)
            else:
                db.session.commit()
                if submission.created:
                    flash(
                        _(
                            "Вопрос № %(number)s принят. Он появится в списке после проверки "
                            "модератором.",
                            number=submission.question.number,
                        ),
                        "success",
                    )
                else:
                    flash(_("Этот вопрос уже отправлен."), "success")
                return redirect(url_for("directline.my_questions", event_id=event.id))
    return render_template(
        "directline/ask.html",
        event=event,
        form=form,
        decision=decision,
        accepts=event.accepts_questions(),
        rule_text=rule_description(services.eligibility_rule(event)),
    ), status


@bp.post("/<int:event_id>/questions/<int:question_id>/support")
@login_required
@limiter.limit("60 per minute", key_func=_person_key)
def support(event_id: int, question_id: int):
    # The event's settings come from the per-process cache; the question is read in one
    # statement, under the lock a merge waits for, with what the checks need.
    if services.event_facts(event_id) is None:
        abort(404)
    question = services.lock_for_support(question_id, current_user)
    require(
        question is not None and question.event_id == event_id,
        reason="question of another direct line",
    )
    require(question.state in PUBLIC_STATES, reason="support of an unpublished question")
    form = PlainForm()
    back = safe_next(request.form.get("next")) or url_for("directline.show", event_id=event_id)
    if not form.validate_on_submit():
        flash(_("Форма устарела. Обновите страницу и повторите."), "error")
        return redirect(back)
    try:
        counted = services.support_locked(question, current_user)
    except DomainError as exc:
        db.session.rollback()
        flash(exc.message, "error")
        return redirect(back)
    db.session.commit()
    if counted:
        flash(_("Вы поддержали вопрос № %(number)s.", number=str(question.id)), "success")
    else:
        flash(_("Вы уже поддержали этот вопрос: каждый может поддержать его один раз."), "success")
    return redirect(back)


@bp.get("/<int:event_id>/questions/<int:question_id>")
def question(event_id: int, question_id: int):
    event = load_event(event_id)
    q = load_question(event, question_id)
    coauthors = queries.coauthor_ids(q)
    require(can_view_question(current_user, q, coauthors), reason="question not public")
    own = is_author(current_user, q, coauthors)
    return render_template(
        "directline/question.html",
        event=event,
        q=q,
        supports=queries.support_counts([q.id]).get(q.id, 0),
        coauthor_count=len(coauthors),
        supported=q.id in queries.supported_by(current_user, [q.id]),
        own=own,
        answers=queries.message_answers([q]) if own else {},  # a message's answer is private
        support_form=PlainForm(),
        finished=event.is_finished(),
        supportable=SUPPORTABLE_STATES,
    )


@bp.get("/<int:event_id>/my")
@login_required
def my_questions(event_id: int):
    event = load_event(event_id)
    questions = queries.my_questions(event, current_user)
    ids = [q.id for q in questions]
    return render_template(
        "directline/my.html",
        event=event,
        questions=questions,
        supports=queries.support_counts(ids),
        answers=queries.message_answers(questions),
    )


@bp.get("/<int:event_id>/live")
def live(event_id: int):
    event = load_event(event_id)
    return render_template(
        "directline/live.html", event=event, snapshot=queries.live_snapshot(event)
    )


@bp.get("/<int:event_id>/live.json")
def live_json(event_id: int):
    event = queries.event_for_live(event_id)
    if event is None:
        abort(404)
    # Thousands of viewers poll this: one small query answers "nothing changed" (304).
    etag = f"dl{event.id}-v{event.live_version}-{event.phase().value}"
    if request.if_none_match.contains(etag):
        response = current_app.response_class(status=304)
    else:
        response = jsonify(queries.live_snapshot(event))
    response.set_etag(etag)
    # The same for everyone and stale after seconds: a shared cache may keep it briefly.
    response.headers["Cache-Control"] = "public, max-age=2"
    return response
