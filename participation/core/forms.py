"""The base of every form: Flask-WTF, with WTForms' own messages loaded once per language."""

from __future__ import annotations

from functools import cache

from babel import support
from flask_babel import get_locale
from flask_wtf import FlaskForm
from wtforms.i18n import messages_path


@cache
def _wtforms_translations(locale: str) -> support.Translations:
    return support.Translations.load(messages_path(), [locale], domain="wtforms")


class Form(FlaskForm):
    class Meta:
        # Flask-WTF reads the WTForms catalogue from disk on every request that builds a form.
        def get_translations(self, form):
            return _wtforms_translations(str(get_locale()))
