"""Organization administration pages: staff list, adding staff, adding and removing roles,
invitations by e-mail; the organization's profile."""

from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from wtforms.fields.choices import SelectChoice

from participation.admin import invitations, leaving
from participation.admin.forms import (
    AddStaffForm,
    InvitationForm,
    ProfileForm,
    ReassignForm,
    RemoveRoleForm,
    RoleForm,
)
from participation.admin.permissions import (
    can_edit_profile,
    can_manage_membership,
    can_manage_staff,
)
from participation.admin.services import (
    add_role,
    add_staff,
    memberships_by_user,
    open_assigned,
    open_assigned_count,
    profile_form_data,
    remove_role,
    save_profile,
    staff_member,
    staff_query,
)
from participation.backoffice.gate import current_organization, staff_context, staff_gate
from participation.core.db import utcnow
from participation.core.errors import DomainError, FieldError
from participation.core.labels import role_label
from participation.core.pagination import paginate
from participation.core.permissions import require
from participation.core.users import Membership, User
from participation.extensions import db

bp = Blueprint("admin", __name__, url_prefix="/admin")
ASSIGNED_SHOWN = 20  # a leaving member's open messages listed by number
bp.before_request(staff_gate)
bp.context_processor(staff_context)


@bp.before_request
def _administrators_only():
    require(can_manage_staff(current_user, current_organization()), reason="not an administrator")


@bp.get("/")
def index():
    organization = current_organization()
    page = paginate(staff_query(organization), default_size=50)
    memberships = memberships_by_user(organization, [u.id for u in page.items])
    return render_template(
        "admin/staff_list.html",
        organization=organization,
        page=page,
        memberships=memberships,
        invitations=invitations.open_invitations(organization),
        now=utcnow(),
    )


@bp.route("/invitations/new", methods=["GET", "POST"])
def invitation_new():
    organization = current_organization()
    form = InvitationForm()
    if form.validate_on_submit():
        try:
            invitation = invitations.invite(
                organization,
                current_user,
                email=form.email.data,
                last_name=form.last_name.data,
                first_name=form.first_name.data,
                middle_name=form.middle_name.data,
                roles=form.chosen_roles,
            )
        except FieldError as exc:
            db.session.rollback()
            form[exc.field].errors.append(exc.message)
        else:
            db.session.commit()
            flash(
                _(
                    "Приглашение отправлено на адрес %(email)s. Ссылка действует %(days)d дн.",
                    email=invitation.email,
                    days=current_app.config["STAFF_INVITATION_DAYS"],
                ),
                "success",
            )
            return redirect(url_for("admin.index"))
    status = 400 if form.is_submitted() else 200
    page = render_template("admin/invitation_new.html", organization=organization, form=form)
    return page, status


def _invitation(invitation_id: int):
    organization = current_organization()
    invitation = invitations.invitation_of(organization, invitation_id)
    require(invitation is not None, reason="invitation of another organization")
    return invitation


def _invitation_action(invitation_id: int, action, done: str):
    invitation = _invitation(invitation_id)
    # The form is the CSRF token alone, and CSRFProtect checks it before any view runs.
    try:
        action(invitation, current_user)
    except DomainError as exc:
        db.session.rollback()
        flash(exc.message, "error")
    else:
        db.session.commit()
        flash(done % {"email": invitation.email}, "success")
    return redirect(url_for("admin.index"))


@bp.post("/invitations/<int:invitation_id>/resend")
def invitation_resend(invitation_id: int):
    return _invitation_action(
        invitation_id,
        invitations.resend,
        _(
            "Приглашение отправлено повторно на адрес %(email)s; "
            "прежняя ссылка больше не действует."
        ),
    )


@bp.post("/invitations/<int:invitation_id>/revoke")
def invitation_revoke(invitation_id: int):
    return _invitation_action(
        invitation_id, invitations.revoke, _("Приглашение для %(email)s отозвано.")
    )


@bp.post("/invitations/<int:invitation_id>/confirm")
def invitation_confirm(invitation_id: int):
    return _invitation_action(
        invitation_id,
        invitations.confirm,
        _("Приглашение для %(email)s подтверждено, роли выданы."),
    )


@bp.post("/invitations/<int:invitation_id>/decline")
def invitation_decline(invitation_id: int):
    return _invitation_action(
        invitation_id,
        invitations.decline,
        _("Приглашение для %(email)s отклонено, роли не выданы."),
    )


@bp.route("/staff/new", methods=["GET", "POST"])
def staff_new():
    organization = current_organization()
    form = AddStaffForm()
    if form.validate_on_submit():
        try:
            membership = add_staff(
                organization, form.identifier.data, form.chosen_role, current_user
            )
        except FieldError as exc:
            form[exc.field].errors.append(exc.message)
        else:
            db.session.commit()
            flash(
                _(
                    "%(name)s теперь сотрудник организации с ролью «%(role)s».",
                    name=membership.user.full_name,
                    role=role_label(membership.role),
                ),
                "success",
            )
            return redirect(url_for("admin.staff_detail", user_id=membership.user_id))
    return render_template("admin/staff_new.html", organization=organization, form=form)


@bp.get("/staff/<int:user_id>")
def staff_detail(user_id: int):
    organization = current_organization()
    member = staff_member(organization, user_id)
    require(member is not None, reason="staff member of another organization")
    return _render_member(organization, member, RoleForm(formdata=None))


@bp.post("/staff/<int:user_id>/roles")
def staff_add_role(user_id: int):
    organization = current_organization()
    member = staff_member(organization, user_id)
    require(member is not None, reason="staff member of another organization")
    form = RoleForm()
    if form.validate_on_submit():
        try:
            add_role(organization, member, form.chosen_role, current_user)
        except FieldError as exc:
            form[exc.field].errors.append(exc.message)
        else:
            db.session.commit()
            flash(
                _(
                    "Роль «%(role)s» добавлена: %(name)s.",
                    role=role_label(form.chosen_role),
                    name=member.full_name,
                ),
                "success",
            )
            return redirect(url_for("admin.staff_detail", user_id=member.id))
    return _render_member(organization, member, form), 400


@bp.post("/memberships/<int:membership_id>/remove")
def membership_remove(membership_id: int):
    organization = current_organization()
    membership = db.session.get(Membership, membership_id)
    require(
        membership is not None and can_manage_membership(current_user, membership, organization),
        reason="membership of another organization",
    )
    # The form is the CSRF token alone, and CSRFProtect checks it before any view runs.
    member, role = membership.user, membership.role
    try:
        remove_role(membership, current_user)
    except DomainError as exc:
        flash(exc.message, "error")
        return redirect(url_for("admin.staff_detail", user_id=member.id))
    db.session.commit()
    flash(
        _("Роль «%(role)s» снята: %(name)s.", role=role_label(role), name=member.full_name),
        "success",
    )
    if not can_manage_staff(current_user, organization):
        return redirect(url_for("backoffice.index"))  # they took their own administrator role
    if staff_member(organization, member.id) is None:
        return redirect(url_for("admin.index"))
    return redirect(url_for("admin.staff_detail", user_id=member.id))


def _reassign_form(organization, member: User, formdata=None) -> ReassignForm:
    form = ReassignForm(formdata=formdata)
    form.successor_id.choices = [
        SelectChoice("", _("— выберите исполнителя —")),
        *(SelectChoice(u.id, u.full_name) for u in leaving.successors(organization, member)),
    ]
    return form


@bp.post("/staff/<int:user_id>/reassign")
def staff_reassign(user_id: int):
    organization = current_organization()
    member = staff_member(organization, user_id)
    require(member is not None, reason="staff member of another organization")
    form = _reassign_form(organization, member, formdata=request.form)
    if form.validate():
        try:
            moved = leaving.reassign_all(organization, member, form.successor_id.data, current_user)
        except FieldError as exc:
            db.session.rollback()
            form[exc.field].errors.append(exc.message)
        else:
            db.session.commit()
            flash(
                _("Передано сообщений: %(num)d. Теперь сотрудника можно удалить.", num=moved),
                "success",
            )
            return redirect(url_for("admin.staff_detail", user_id=member.id))
    return _render_member(organization, member, RoleForm(formdata=None), reassign_form=form), 400


@bp.post("/staff/<int:user_id>/remove")
def staff_remove(user_id: int):
    organization = current_organization()
    member = staff_member(organization, user_id)
    require(member is not None, reason="staff member of another organization")
    # The form is the CSRF token alone, and CSRFProtect checks it before any view runs.
    try:
        leaving.remove_member(organization, member, current_user)
    except DomainError as exc:
        db.session.rollback()
        flash(exc.message, "error")
        return redirect(url_for("admin.staff_detail", user_id=member.id))
    db.session.commit()
    flash(_("%(name)s больше не сотрудник организации.", name=member.full_name), "success")
    if not can_manage_staff(current_user, organization):
        return redirect(url_for("backoffice.index"))  # they removed themselves
    return redirect(url_for("admin.index"))


def _render_member(organization, member: User, form: RoleForm, reassign_form=None):
    memberships = memberships_by_user(organization, [member.id])[member.id]
    count = open_assigned_count(organization, member)
    assigned = open_assigned(organization, member, limit=ASSIGNED_SHOWN) if count else []
    return render_template(
        "admin/staff_detail.html",
        organization=organization,
        member=member,
        memberships=memberships,
        form=form,
        remove_form=RemoveRoleForm(formdata=None),
        assigned=assigned,
        assigned_count=count,
        reassign_form=(reassign_form or _reassign_form(organization, member)) if count else None,
    )


@bp.route("/profile", methods=["GET", "POST"])
def profile():
    organization = current_organization()
    require(can_edit_profile(current_user, organization), reason="not an administrator")
    if request.method == "GET":
        form = ProfileForm(formdata=None, data=profile_form_data(organization))
        return render_template("admin/profile.html", organization=organization, form=form)
    form = ProfileForm()
    if form.validate_on_submit():
        upload = form.uploaded_logo
        try:
            changed = save_profile(
                organization,
                current_user,
                form.profile,
                logo=upload.stream if upload else None,
                logo_name=upload.filename if upload else None,
                remove_logo=form.remove_logo.data and upload is None,
            )
        except FieldError as exc:
            db.session.rollback()  # nothing half-saved; a stored logo file is removed too
            form[exc.field].errors.append(exc.message)
        else:
            db.session.commit()
            if changed:
                flash(_("Профиль организации сохранён."), "success")
            else:
                flash(_("Изменений нет: профиль остался прежним."), "info")
            return redirect(url_for("admin.profile"))
    return render_template("admin/profile.html", organization=organization, form=form), 400
