"""The consent form (allow or deny an app) and the profile's «Отозвать» button."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import SubmitField

from participation.core.forms import Form


class ConsentForm(Form):
    """«Разрешить» or «Отказать»; the request's parameters stay in the form's action URL."""

    allow = SubmitField(_l("Разрешить"))
    deny = SubmitField(_l("Отказать"))


class RevokeAppSessionForm(Form):
    """Only the CSRF token: the app session is named in the URL."""
