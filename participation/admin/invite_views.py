"""The invitee's pages: open the link from the letter, log in through ESIA, accept."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user

from participation.admin import invitations
from participation.admin.forms import ActionForm
from participation.admin.models import InvitationStatus
from participation.backoffice.gate import CURRENT_ORGANIZATION
from participation.extensions import db, limiter

bp = Blueprint("invitations", __name__, url_prefix="/invitations")


def _unusable(message: str, known: bool):
    # 404 for a link that never was (or was replaced), 410 for one that is over.
    return render_template("admin/invitation_unusable.html", message=message), (
        410 if known else 404
    )


@bp.get("/<token>")
@limiter.limit("30/minute")
def show(token: str):
    invitation = invitations.by_token(token)
    reason = invitations.refusal(invitation)
    if reason:
        return _unusable(reason, invitation is not None)
    if not current_user.is_authenticated:
        return render_template(
            "admin/invitation_show.html",
            invitation=invitation,
            login_url=url_for("auth.login", next=request.path),
        )
    return render_template(
        "admin/invitation_show.html",
        invitation=invitation,
        name_matches=invitations.name_matches(invitation, current_user),
        form=ActionForm(formdata=None),
    )


@bp.post("/<token>")
@limiter.limit("30/minute")
def accept(token: str):
    if not current_user.is_authenticated:
        return redirect(url_for("auth.login", next=request.path))
    try:
        invitation = invitations.accept(token, current_user._get_current_object())
    except invitations.InvitationUnusable as exc:
        db.session.rollback()
        return _unusable(exc.message, invitations.by_token(token) is not None)
    db.session.commit()
    if invitation.status == InvitationStatus.AWAITING_CONFIRMATION:
        return render_template("admin/invitation_waiting.html", invitation=invitation)
    session[CURRENT_ORGANIZATION] = invitation.organization_id
    flash(
        _(
            "Приглашение принято: вы сотрудник организации «%(name)s».",
            name=invitation.organization.display_name,
        ),
        "success",
    )
    return redirect(url_for("backoffice.index"))
