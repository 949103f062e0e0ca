"""Staff pages: the inbox with buckets and filters, the message card with its actions, curators."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from wtforms.fields.choices import SelectChoice

from participation.appeals import services
from participation.appeals.curator import curator_overview
from participation.appeals.forms import (
    ActionForm,
    AssignForm,
    CallerForm,
    DraftForm,
    MergeForm,
    OrganizationForm,
    PostponeForm,
    RedirectForm,
    RejectForm,
    ReturnForm,
    TopicForm,
)
from participation.appeals.inbox import (
    BUCKET_ORDER,
    SED_FOLDERS,
    load_inbox,
    parse_filters,
    start_bucket,
)
from participation.appeals.models import Appeal, AppealHandoff, Arrival, Channel
from participation.appeals.permissions import (
    available_actions,
    can_view_as_staff,
    sees_only_assigned,
)
from participation.appeals.presenters import ACTION_DONE, register_presenters
from participation.appeals.views import (
    _apply_field_error,
    _attachments,
    _files,
    _territory_choices,
    _topic_choices,
)
from participation.appeals.workflow import Action
from participation.backoffice.gate import current_organization, staff_context, staff_gate
from participation.core.errors import DomainError, FieldError
from participation.core.files import Attachment, keep_for_retry, staged_uploads
from participation.core.maps import home_view, municipal_centres
from participation.core.organizations import Organization
from participation.core.permissions import require
from participation.core.territories import TerritoryLevel
from participation.core.users import Role
from participation.extensions import db
from participation.geo.permissions import can_manage_public_map

bp = Blueprint("appeals_backoffice", __name__, url_prefix="/backoffice/appeals")
bp.before_request(staff_gate)
bp.context_processor(staff_context)
register_presenters(bp)


@bp.get("/")
def inbox():
    organization = current_organization()
    filters = parse_filters(request.args, start_bucket(current_user, organization))
    data = load_inbox(current_user, organization, filters)
    map_mode = request.args.get("view") == "map"
    return render_template(
        "appeals/backoffice/inbox.html",
        organization=organization,
        inbox=data,
        buckets=BUCKET_ORDER,
        sed_folders=SED_FOLDERS,
        channels=list(Channel),
        stages=[a for a in Arrival if a != Arrival.NEW],
        only_assigned=sees_only_assigned(current_user, organization),
        may_enter=current_user.has_role(Role.OPERATOR, organization.id),
        is_curator=current_user.has_role(Role.CURATOR, organization.id),
        map_mode=map_mode,
        map_centres=municipal_centres(organization.territory.region()) if map_mode else [],
    )


def _load(appeal_id: int) -> tuple[Appeal, Organization]:
    appeal = db.session.get(Appeal, appeal_id)
    if appeal is None:
        abort(404)
    organization = current_organization()
    require(can_view_as_staff(current_user, appeal, organization), reason="appeal of others")
    return appeal, organization


# --- action forms ---------------------------------------------------------------------------

FormFactory = Callable[[Appeal], ActionForm]


def _organizations_choices(appeal: Appeal) -> list[SelectChoice]:
    rows = db.session.scalars(
        sa.select(Organization)
        .where(Organization.id != appeal.holder_organization_id)
        .order_by(Organization.name)
    )
    return [SelectChoice("", _("— выберите организацию —"))] + [
        SelectChoice(o.id, o.display_name) for o in rows
    ]


def _executor_choices(appeal: Appeal) -> list[SelectChoice]:
    return [SelectChoice("", _("— выберите исполнителя —"))] + [
        SelectChoice(u.id, u.full_name)
        for u in services.executors_of(appeal.holder_organization_id)
    ]


def _form(action: Action, appeal: Appeal, formdata: Any = None) -> ActionForm:
    """The form of one action, with its choices; bound to the request when `formdata`."""
    kwargs: dict[str, Any] = {"prefix": action.value}
    if formdata is None:
        kwargs["formdata"] = None
    cls = {
        Action.CHANGE_TOPIC: TopicForm,
        Action.CHANGE_ADDRESSEE: OrganizationForm,
        Action.REJECT: RejectForm,
        Action.REDIRECT: RedirectForm,
        Action.ASSIGN: AssignForm,
        Action.REASSIGN: AssignForm,
        Action.SUBMIT_DRAFT: DraftForm,
        Action.POSTPONE: PostponeForm,
        Action.RETURN_DRAFT: ReturnForm,
    }.get(action, ActionForm)
    form = cls(**kwargs)
    if formdata is None:
        form.state.data = appeal.state.value
    if isinstance(form, TopicForm):
        form.subcategory_id.choices = _topic_choices(appeal.widget_organization)
    if isinstance(form, OrganizationForm | RedirectForm):
        form.organization_id.choices = _organizations_choices(appeal)
    if isinstance(form, AssignForm):
        form.executor_id.choices = _executor_choices(appeal)
    return form


def _run(action: Action, appeal: Appeal, form: Any, staged: list[Attachment]) -> None:
    """Call the service of one action with the form's data."""
    state = form.state.data or None
    comment = form.comment.data
    kw = {"expected_state": state}
    user = current_user._get_current_object()
    handlers: dict[Action, Callable[[], Any]] = {
        Action.ACCEPT: lambda: services.accept_appeal(appeal, user, comment, **kw),
        Action.CHANGE_TOPIC: lambda: services.change_topic(
            appeal, user, form.subcategory_id.data, comment, **kw
        ),
        Action.CHANGE_ADDRESSEE: lambda: services.change_addressee(
            appeal, user, form.organization_id.data, comment, **kw
        ),
        Action.REJECT: lambda: services.reject_appeal(
            appeal, user, form.reason.data or None, comment, **kw
        ),
        Action.CONFIRM: lambda: services.confirm_addressee(appeal, user, comment, **kw),
        Action.REDIRECT: lambda: services.redirect_appeal(
            appeal, user, form.organization_id.data, form.reason.data, **kw
        ),
        Action.ASSIGN: lambda: services.assign_executor(
            appeal, user, form.executor_id.data, comment, **kw
        ),
        Action.REASSIGN: lambda: services.reassign_executor(
            appeal, user, form.executor_id.data, comment, **kw
        ),
        Action.SUBMIT_DRAFT: lambda: services.submit_draft(
            appeal, user, form.text.data, _files(form.attachments), staged=staged, **kw
        ),
        Action.POSTPONE: lambda: services.postpone_appeal(
            appeal, user, form.until.data, form.reason.data, **kw
        ),
        Action.RESUME: lambda: services.resume_appeal(appeal, user, comment, **kw),
        Action.APPROVE: lambda: services.approve_answer(appeal, user, comment, **kw),
        Action.RETURN_DRAFT: lambda: services.return_draft(appeal, user, comment, **kw),
    }
    handler = handlers.get(action)
    if handler is None:  # the author's and the system's actions have no staff form
        abort(404)
    handler()


def _render_card(
    appeal: Appeal,
    organization: Organization,
    failed: ActionForm | None = None,
    status=200,
    staged: list[Attachment] | None = None,
    merge_form: MergeForm | None = None,
):
    actions = [
        a
        for a in available_actions(current_user, appeal, organization)
        if a not in (Action.RATE, Action.ESCALATE, Action.RETURN_FOR_REWORK)
    ]
    forms = {a: _form(a, appeal) for a in actions}
    failed_action = None
    if failed is not None:
        failed_action = Action(failed._prefix.rstrip("-"))
        forms[failed_action] = failed
    answers = services.answers_of(appeal)
    earlier = services.earlier_cycle(appeal)
    if earlier is not None and not can_view_as_staff(current_user, earlier.appeal, organization):
        earlier = None
    earlier_answer_id = earlier.answer.id if earlier and earlier.answer else None
    handoffs = list(
        db.session.scalars(
            sa.select(AppealHandoff)
            .where(AppealHandoff.appeal_id == appeal.id)
            .options(
                sa.orm.selectinload(AppealHandoff.from_organization),
                sa.orm.selectinload(AppealHandoff.to_organization),
            )
            .order_by(AppealHandoff.at, AppealHandoff.id)
        )
    )
    return render_template(
        "appeals/backoffice/card.html",
        appeal=appeal,
        organization=organization,
        forms=forms,
        failed_action=failed_action,
        staged=staged or [],
        files=_attachments("appeal", [appeal.id]).get(appeal.id, []),
        answers=answers,
        answer_files=_attachments("appeal_answer", [a.id for a in answers]),
        history=services.appeal_history(appeal),
        handoffs=handoffs,
        rating=services.appeal_rating(appeal),
        review=services.review_cycle_of(appeal),
        earlier=earlier,
        earlier_files=_attachments("appeal", [earlier.appeal.id] if earlier else []),
        earlier_answer_files=_attachments(
            "appeal_answer", [earlier_answer_id] if earlier_answer_id else []
        ),
        **_duplicates(appeal, organization, merge_form),
    ), status


def _duplicates(
    appeal: Appeal, organization: Organization, form: MergeForm | None
) -> dict[str, Any]:
    """The card's «Повторы» part: what this message follows, who follows it, candidates."""
    may_merge = services.may_merge_from(current_user, appeal)
    main = appeal.merged_into
    return {
        "main": main,
        "main_visible": main is not None and can_view_as_staff(current_user, main, organization),
        "followers": services.followers_of(appeal),
        "may_merge": may_merge,
        "may_unmerge": main is not None and services.can_merge(current_user, appeal, main),
        "candidates": services.duplicate_candidates(appeal) if may_merge else [],
        "merge_form": form or MergeForm(formdata=None),
    }


def _staged(form: Any) -> list[Attachment]:
    """Files kept from the user's refused try of a form with files (core.files staging)."""
    if "attachments" not in form._fields:
        return []
    return staged_uploads(request.form, uploaded_by_id=current_user.id)


def _keep_files(staged: list[Attachment], form: Any) -> list[Attachment]:
    """After a refused try (rolled back): keep the files sent, to list them on the form."""
    if "attachments" not in form._fields:
        return []
    kept = keep_for_retry(
        staged,
        _files(form.attachments),
        uploaded_by_id=current_user.id,
        field="attachments",
        limit=services.setting("APPEALS_MAX_FILES"),
    )
    db.session.commit()  # the kept files outlive the refused request
    return kept


@bp.get("/<int:appeal_id>")
def card(appeal_id: int):
    appeal, organization = _load(appeal_id)
    return _render_card(appeal, organization)


@bp.post("/<int:appeal_id>/<action_name>")
def act(appeal_id: int, action_name: str):
    appeal, organization = _load(appeal_id)
    try:
        action = Action(action_name)
    except ValueError:
        abort(404)
    require(
        action in available_actions(current_user, appeal, organization),
        reason=f"action {action_name} not available",
    )
    form = _form(action, appeal, formdata=request.form)
    staged = _staged(form)
    if not form.validate_on_submit():
        staged = _keep_files(staged, form)
        return _render_card(appeal, organization, failed=form, status=400, staged=staged)
    try:
        _run(action, appeal, form, staged)
    except FieldError as exc:
        db.session.rollback()
        _apply_field_error(form, exc)
        staged = _keep_files(staged, form)
        appeal = db.session.get(Appeal, appeal_id)
        return _render_card(appeal, organization, failed=form, status=400, staged=staged)
    except DomainError as exc:
        db.session.rollback()
        flash(exc.message, "error")
        return redirect(url_for("appeals_backoffice.card", appeal_id=appeal_id))
    db.session.commit()
    flash(
        _(
            "Сообщение № %(number)s: %(done)s.",
            number=appeal.number,
            done=str(ACTION_DONE.get(action, action.value)),
        ),
        "success",
    )
    if can_view_as_staff(current_user, appeal, organization) and available_actions(
        current_user, appeal, organization
    ):
        return redirect(url_for("appeals_backoffice.card", appeal_id=appeal_id))
    return redirect(url_for("appeals_backoffice.inbox"))


@bp.post("/<int:appeal_id>/merge")
def merge(appeal_id: int):
    """This message repeats another one: it follows that one's answer from now on."""
    appeal, organization = _load(appeal_id)
    require(services.may_merge_from(current_user, appeal), reason="merge not allowed")
    form = MergeForm(request.form)
    if form.validate():
        main = db.session.get(Appeal, int(form.main.data))
        if main is None or not can_view_as_staff(current_user, main, organization):
            form.main.errors.append(_("Сообщения с таким номером нет или оно вам недоступно."))
        else:
            try:
                services.merge_appeals(appeal, main, current_user, form.comment.data)
            except DomainError as exc:
                db.session.rollback()
                form.main.errors.append(exc.message)
            else:
                db.session.commit()
                flash(
                    _(
                        "Сообщение № %(number)s объединено с № %(main)s: ответ по нему получат "
                        "оба автора.",
                        number=appeal.number,
                        main=main.number,
                    ),
                    "success",
                )
                return redirect(url_for("appeals_backoffice.card", appeal_id=main.id))
    appeal = db.session.get(Appeal, appeal_id)
    return _render_card(appeal, organization, status=400, merge_form=form)


@bp.post("/<int:appeal_id>/unmerge")
def unmerge(appeal_id: int):
    """Undo a merge before the answer: the message is worked on by itself again."""
    appeal, _organization = _load(appeal_id)
    try:
        services.unmerge_appeal(appeal, current_user)
    except DomainError as exc:
        db.session.rollback()
        flash(exc.message, "error")
    else:
        db.session.commit()
        flash(
            _("Объединение отменено: сообщение № %(number)s снова в работе.", number=appeal.number),
            "success",
        )
    return redirect(url_for("appeals_backoffice.card", appeal_id=appeal_id))


# --- entering a message for a caller (оператор приёма) ----------------------------------------


@bp.route("/new", methods=["GET", "POST"])
def operator_new():
    organization = current_organization()
    require(current_user.has_role(Role.OPERATOR, organization.id), reason="not an operator")
    form = CallerForm()
    staged = _staged(form)
    if form.validate_on_submit():
        try:
            submission = services.submit_appeal(
                submitted_by=current_user,
                submission_key=form.submission_key.data,
                subcategory_id=form.subcategory_id.data,
                text=form.text.data,
                territory_id=form.territory_id.data,
                address=form.address.data,
                latitude=form.latitude.parsed,
                longitude=form.longitude.parsed,
                files=_files(form.attachments),
                staged=staged,
                channel=Channel.OPERATOR,
                caller=services.Caller(
                    name=form.caller_name.data or "",
                    phone=form.caller_phone.data,
                    email=form.caller_email.data,
                ),
            )
        except FieldError as exc:
            db.session.rollback()
            _apply_field_error(form, exc)
        else:
            db.session.commit()
            flash(
                _(
                    "Сообщение зарегистрировано под номером %(number)s. Сообщите его заявителю.",
                    number=submission.appeal.number,
                ),
                "success",
            )
            return redirect(url_for("appeals_backoffice.card", appeal_id=submission.appeal.id))
    if request.method == "POST":
        staged = _keep_files(staged, form)
    form.subcategory_id.choices = _topic_choices(None)
    form.territory_id.choices = _territory_choices(None, form.subcategory_id.data)
    # The map opens on the operator's own region (a national operator: no region to locate in).
    region = organization.territory.region() if organization.territory else None
    region = region if region is not None and region.level == TerritoryLevel.REGION else None
    return render_template(
        "appeals/backoffice/operator_new.html",
        form=form,
        organization=organization,
        staged=staged,
        map_region=region,
        map_centres=municipal_centres(region),
        map_home=home_view(organization.territory),
    ), (400 if form.errors else 200)


# --- curator ---------------------------------------------------------------------------------


@bp.get("/curator")
def curator():
    organization = current_organization()
    require(current_user.has_role(Role.CURATOR, organization.id), reason="not a curator")
    return render_template(
        "appeals/backoffice/curator.html",
        organization=organization,
        overview=curator_overview(organization),
        may_set_public_map=can_manage_public_map(current_user, organization),
    )
