"""The person's notification preferences page (reached from the profile)."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from participation.core.preferences import email_choices
from participation.extensions import db
from participation.reminders.forms import PreferencesForm
from participation.reminders.services import PreferencesRefused, kinds_for, save_preferences

bp = Blueprint("reminders", __name__)


@bp.route("/my/notification-settings", methods=["GET", "POST"])
@login_required
def preferences():
    user = current_user._get_current_object()
    kinds = kinds_for(user)
    current = email_choices(user.id)
    form = PreferencesForm(data={k.value: current[k] for k in kinds})
    form.offer(kinds)
    refusal = None
    if request.method == "POST" and form.validate_on_submit():
        try:
            save_preferences(user, form.choices())
        except PreferencesRefused as exc:
            db.session.rollback()
            refusal = str(exc)
        else:
            db.session.commit()
            flash(_("Настройки уведомлений сохранены."), "success")
            return redirect(url_for("reminders.preferences"))
    status = 400 if request.method == "POST" else 200
    return render_template(
        "reminders/preferences.html", form=form, user=user, refusal=refusal
    ), status
