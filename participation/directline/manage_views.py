"""Moderators' pages: announcing a direct line, the question queue, the broadcast, the results."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from wtforms.fields.choices import SelectChoice

from participation.backoffice.gate import require_component_ready, staff_context, staff_gate
from participation.backoffice.readiness import DIRECTLINE
from participation.core.db import utcnow
from participation.core.errors import DomainError, FieldError
from participation.core.labels import ACCOUNT_LEVEL_LABELS
from participation.core.organizations import Organization
from participation.core.pagination import paginate
from participation.core.permissions import require
from participation.core.safety import safe_next
from participation.core.users import AccountLevel
from participation.directline import queries, services
from participation.directline.forms import (
    ActionForm,
    AnswerForm,
    EventForm,
    MergeForm,
    MoveForm,
    PlainForm,
    RejectForm,
    int_or_none,
)
from participation.directline.models import CONVERTIBLE_STATES, DirectLine, Question, QuestionState
from participation.directline.permissions import (
    HOST_CREATOR_ROLES,
    HOST_KINDS,
    can_create_for,
    can_edit,
    can_manage,
    is_operator_moderator,
)
from participation.directline.views import _helpers, apply_field_error, load_event, load_question
from participation.directline.workflow import WORKFLOW, Action, Actor
from participation.extensions import db

manage = Blueprint("directline_manage", __name__, url_prefix="/backoffice/directline")
manage.before_request(staff_gate)
manage.context_processor(staff_context)
manage.context_processor(_helpers)


def _load_managed(event_id: int) -> DirectLine:
    event = load_event(event_id)
    require(can_manage(current_user, event), reason="not a moderator of this direct line")
    require_component_ready(event.host_organization, DIRECTLINE)
    return event


def _host_choices() -> list[Organization]:
    """Bodies this person may announce a direct line for."""
    query = sa.select(Organization).where(Organization.kind.in_(HOST_KINDS))
    if not is_operator_moderator(current_user):
        ids = [m.organization_id for m in current_user.memberships if m.role in HOST_CREATOR_ROLES]
        query = query.where(Organization.id.in_(ids or [-1]))
    return list(db.session.scalars(query.order_by(Organization.name)))


@manage.get("/")
def manage_index():
    page = paginate(queries.managed_events_query(current_user))
    return render_template(
        "directline/manage/index.html", page=page, hosts=_host_choices(), now=utcnow()
    )


def _event_form(hosts: list[Organization], event: DirectLine | None, formdata=None) -> EventForm:
    if event is None:
        form = EventForm(
            formdata=formdata,
            min_account_level=AccountLevel.STANDARD.value,
            categories=[key for key, _label, _code in services.PRESET_CATEGORIES],
        )
        form.host_id.choices = [SelectChoice(h.id, h.name) for h in hosts]
        host = next((h for h in hosts if h.id == form.host_id.data), hosts[0] if hosts else None)
    else:
        tz = event.tz
        chosen = {str(label): key for key, label, _code in services.PRESET_CATEGORIES}
        form = EventForm(
            formdata=formdata,
            obj=event,
            min_account_level=event.min_account_level.value,
            categories=[chosen[c.name] for c in event.categories if c.name in chosen],
            questions_open_at=event.questions_open_at.astimezone(tz).replace(tzinfo=None),
            questions_close_at=event.questions_close_at.astimezone(tz).replace(tzinfo=None),
            starts_at=event.starts_at.astimezone(tz).replace(tzinfo=None),
            ends_at=event.ends_at.astimezone(tz).replace(tzinfo=None),
        )
        del form.host_id
        host = event.host_organization
    form.categories.choices = [
        SelectChoice(key, label) for key, label, _code in services.PRESET_CATEGORIES
    ]
    form.min_account_level.choices = [
        SelectChoice(level.value, label) for level, label in ACCOUNT_LEVEL_LABELS.items()
    ]
    territories = services.eligibility_territories(host) if host else []
    form.territory_id.choices = [
        SelectChoice(t.id, _("Жители: %(name)s", name=t.name)) for t in territories
    ] + [SelectChoice("", _("Все, без ограничения по месту жительства"))]
    if formdata is None and event is None and territories:
        form.territory_id.data = territories[0].id
    return form


def _event_input(form: EventForm) -> services.EventInput:
    return services.EventInput(
        title=form.title.data,
        speaker=form.speaker.data,
        description=form.description.data,
        questions_open_at=form.questions_open_at.data,
        questions_close_at=form.questions_close_at.data,
        starts_at=form.starts_at.data,
        ends_at=form.ends_at.data,
        stream_url=form.stream_url.data,
        recording_url=form.recording_url.data,
        categories=form.categories.data or [],
        min_account_level=form.min_account_level.data,
        territory_id=form.territory_id.data,
    )


@manage.route("/new", methods=["GET", "POST"])
def manage_new():
    hosts = _host_choices()
    require(bool(hosts), reason="may not announce direct lines")
    form = _event_form(hosts, None, request.form if request.method == "POST" else None)
    status = 200
    if request.method == "POST":
        status = 400
        host = next((h for h in hosts if h.id == form.host_id.data), None)
        if host is None:
            form.host_id.errors = [_("Выберите организацию из списка.")]
        elif form.validate_on_submit():
            require(can_create_for(current_user, host), reason="not a host organizer")
            try:
                event = services.create_event(host, current_user, _event_input(form))
            except FieldError as exc:
                db.session.rollback()
                apply_field_error(form, exc)
            else:
                db.session.commit()
                flash(_("Прямая линия объявлена."), "success")
                return redirect(url_for("directline_manage.manage_show", event_id=event.id))
    return render_template("directline/manage/form.html", form=form, event=None), status


@manage.route("/<int:event_id>/edit", methods=["GET", "POST"])
def manage_edit(event_id: int):
    event = load_event(event_id)
    require(can_edit(current_user, event), reason="may not edit this direct line")
    form = _event_form([], event, request.form if request.method == "POST" else None)
    status = 200
    if request.method == "POST":
        status = 400
        if form.validate_on_submit():
            try:
                services.update_event(event, current_user, _event_input(form))
            except FieldError as exc:
                db.session.rollback()
                apply_field_error(form, exc)
            else:
                db.session.commit()
                flash(_("Изменения сохранены."), "success")
                return redirect(url_for("directline_manage.manage_show", event_id=event.id))
    return render_template("directline/manage/form.html", form=form, event=event), status


def _state_arg() -> QuestionState | None:
    raw = request.args.get("state", QuestionState.NEW.value)
    if raw == "all":
        return None
    return next((s for s in QuestionState if s.value == raw), QuestionState.NEW)


def _action_forms() -> dict[str, Any]:
    return {
        "action_form": ActionForm(formdata=None),
        "reject_form": RejectForm(formdata=None),
        "merge_form": MergeForm(formdata=None),
        "answer_form": AnswerForm(formdata=None),
        "move_form": MoveForm(formdata=None),
        "plain_form": PlainForm(formdata=None),
    }


def _actions(question: Question) -> list[Action]:
    return WORKFLOW.actions(question.state, [Actor.MODERATOR])


@manage.get("/<int:event_id>")
def manage_show(event_id: int):
    event = _load_managed(event_id)
    state = _state_arg()
    page = paginate(queries.moderation_query(event, state), default_size=50)
    ids = [q.id for q in page.items]
    return render_template(
        "directline/manage/show.html",
        event=event,
        page=page,
        state=state,
        counts=queries.state_counts(event),
        supports=queries.support_counts(ids),
        coauthors=queries.coauthor_counts(ids),
        actions=_actions,
        phase=event.phase(),
        may_edit=can_edit(current_user, event),
        **_action_forms(),
    )


@manage.get("/<int:event_id>/broadcast")
def manage_broadcast(event_id: int):
    event = _load_managed(event_id)
    shortlist = queries.shortlist(event)
    current = queries.on_air(event)
    done = queries.answered(event)
    ids = [q.id for q in [*shortlist, *done]] + ([current.id] if current else [])
    return render_template(
        "directline/manage/broadcast.html",
        event=event,
        shortlist=shortlist,
        current=current,
        answered=done,
        supports=queries.support_counts(ids),
        phase=event.phase(),
        actions=_actions,
        **_action_forms(),
    )


@manage.get("/<int:event_id>/results")
def manage_results(event_id: int):
    event = _load_managed(event_id)
    waiting = paginate(
        queries.moderation_query(event, None).where(
            Question.state.in_(CONVERTIBLE_STATES), Question.appeal_id.is_(None)
        ),
        default_size=50,
    )
    converted = list(
        db.session.scalars(
            queries.moderation_query(event, None).where(Question.appeal_id.is_not(None)).limit(200)
        )
    )
    return render_template(
        "directline/manage/results.html",
        event=event,
        stats=queries.statistics(event),
        waiting=waiting,
        converted=converted,
        finished=event.is_finished(),
        **_action_forms(),
    )


def _back(event: DirectLine) -> str:
    return safe_next(request.form.get("next")) or url_for(
        "directline_manage.manage_show", event_id=event.id
    )


def _run(event: DirectLine, call, success: str):
    """Call one service; commit and say `success`, or roll back and say what went wrong."""
    try:
        call()
    except DomainError as exc:
        db.session.rollback()
        flash(exc.message, "error")
    else:
        db.session.commit()
        flash(success, "success")
    return redirect(_back(event))


@manage.post("/<int:event_id>/start")
def start(event_id: int):
    event = _load_managed(event_id)
    if not PlainForm().validate_on_submit():
        flash(_("Форма устарела. Обновите страницу и повторите."), "error")
        return redirect(_back(event))
    return _run(event, lambda: services.start_broadcast(event, current_user), _("Эфир начался."))


@manage.post("/<int:event_id>/finish")
def finish(event_id: int):
    event = _load_managed(event_id)
    if not PlainForm().validate_on_submit():
        flash(_("Форма устарела. Обновите страницу и повторите."), "error")
        return redirect(_back(event))
    return _run(
        event,
        lambda: services.finish_broadcast(event, current_user),
        _("Эфир завершён. Вопросы без ответа можно передать как сообщения."),
    )


@manage.post("/<int:event_id>/convert-all")
def convert_all(event_id: int):
    event = _load_managed(event_id)
    if not PlainForm().validate_on_submit():
        flash(_("Форма устарела. Обновите страницу и повторите."), "error")
        return redirect(_back(event))
    try:
        waiting = services.request_bulk_conversion(event, current_user)
    except DomainError as exc:
        db.session.rollback()
        flash(exc.message, "error")
        return redirect(_back(event))
    db.session.commit()  # the job starts after this commit
    if waiting:
        flash(
            _(
                "Вопросов без ответа: %(n)d. Они передаются как сообщения; обновите страницу, "
                "чтобы увидеть итог.",
                n=waiting,
            ),
            "success",
        )
    else:
        flash(_("Все вопросы без ответа уже переданы как сообщения."), "success")
    return redirect(_back(event))


def _target(event: DirectLine, raw: str | None) -> Question | None:
    number = int_or_none((raw or "").strip().lstrip("№").strip())
    if number is None or number < 1:
        return None
    target = db.session.get(Question, number)
    return target if target is not None and target.event_id == event.id else None


@manage.post("/<int:event_id>/questions/<int:question_id>/<action>")
def act(event_id: int, question_id: int, action: str):
    event = _load_managed(event_id)
    question = load_question(event, question_id)
    forms = {
        "reject": RejectForm,
        "merge": MergeForm,
        "answer": AnswerForm,
        "update_answer": AnswerForm,
        "move": MoveForm,
        "convert": PlainForm,
    }
    simple = {
        "publish": (services.publish_question, _("Вопрос № %(n)s опубликован.")),
        "shortlist": (services.shortlist_question, _("Вопрос № %(n)s в списке к эфиру.")),
        "unshortlist": (services.unshortlist_question, _("Вопрос № %(n)s убран из списка.")),
        "on_air": (services.put_on_air, _("Вопрос № %(n)s в эфире.")),
        "off_air": (services.take_off_air, _("Вопрос № %(n)s снят с эфира.")),
    }
    if action not in forms and action not in simple:
        require(False, reason="unknown direct-line action")
    form = forms.get(action, ActionForm)()
    if not form.validate_on_submit():
        flash(_("Форма устарела. Обновите страницу и повторите."), "error")
        return redirect(_back(event))
    n = question.number
    expected = getattr(form, "state", None)
    expected = expected.data or None if expected is not None else None
    if action in simple:
        service, message = simple[action]
        return _run(
            event,
            lambda: service(question, current_user, expected_state=expected),
            message % {"n": n},
        )
    if action == "reject":
        return _run(
            event,
            lambda: services.reject_question(
                question, current_user, form.reason.data, expected_state=expected
            ),
            _("Вопрос № %(n)s отклонён, автору сообщена причина.", n=n),
        )
    if action == "merge":
        target = _target(event, form.target.data)
        return _run(
            event,
            lambda: services.merge_questions(
                question, target, current_user, expected_state=expected
            ),
            _(
                "Вопрос № %(n)s объединён с вопросом № %(target)s.",
                n=n,
                target=target.number if target else "",
            ),
        )
    if action == "answer":
        return _run(
            event,
            lambda: services.mark_answered(
                question,
                current_user,
                answer_text=form.answer_text.data,
                answer_url=form.answer_url.data,
                expected_state=expected,
            ),
            _("Ответ на вопрос № %(n)s опубликован.", n=n),
        )
    if action == "update_answer":
        return _run(
            event,
            lambda: services.update_answer(
                question,
                current_user,
                answer_text=form.answer_text.data,
                answer_url=form.answer_url.data,
            ),
            _("Ответ на вопрос № %(n)s изменён.", n=n),
        )
    if action == "move":
        return _run(
            event,
            lambda: services.move_in_shortlist(question, current_user, form.direction.data),
            _("Порядок изменён."),
        )
    return _convert(event, question)


def _convert(event: DirectLine, question: Question):
    try:
        conversion = services.convert_question(question, current_user)
    except DomainError as exc:
        db.session.rollback()
        flash(exc.message, "error")
        return redirect(_back(event))
    db.session.commit()
    if conversion.created:
        flash(
            _(
                "Вопрос № %(n)s передан как сообщение № %(appeal)s.",
                n=question.number,
                appeal=conversion.appeal.number,
            ),
            "success",
        )
    else:
        flash(
            _(
                "Вопрос № %(n)s уже передан как сообщение № %(appeal)s.",
                n=question.number,
                appeal=conversion.appeal.number,
            ),
            "success",
        )
    return redirect(_back(event))
