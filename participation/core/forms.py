"""The base of every form: Flask-WTF, with WTForms' own messages loaded once per language,
and one rule for every field: no NUL bytes in text, no number the database cannot hold."""

from __future__ import annotations

from functools import cache

from babel import support
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from markupsafe import Markup, escape
from wtforms import widgets
from wtforms.fields.choices import SelectFieldBase
from wtforms.i18n import messages_path
from wtforms.validators import NumberRange, StopValidation

from participation.core.limits import NUL_REFUSED, fits_db_int


@cache
def _wtforms_translations(locale: str) -> support.Translations:
    return support.Translations.load(messages_path(), [locale], domain="wtforms")


def storable_input(form, field) -> None:
    """Refuses text with a NUL byte and numbers outside PostgreSQL's `integer` (a field with its
    own NumberRange keeps that range), before any other check of the field can query with them.
    """
    values = field.data if isinstance(field.data, list | tuple) else [field.data]
    for value in values:
        if isinstance(value, str) and "\x00" in value:
            raise StopValidation(NUL_REFUSED)
        if isinstance(value, int) and not isinstance(value, bool) and not fits_db_int(value):
            if any(isinstance(v, NumberRange) for v in field.validators):
                continue
            if isinstance(field, SelectFieldBase):
                raise StopValidation(_l("Выберите значение из списка."))
            raise StopValidation(_l("Слишком большое число."))


def strip(value):
    """A field filter: text without the spaces around it (other values as they are)."""
    return value.strip() if isinstance(value, str) else value


class _Select(widgets.Select):
    """WTForms' select with each plain option written in one step, the same markup: a
    dashboard's filter lists a couple of hundred topics and territories, and WTForms' general
    attribute writer made up a fifth of the page's time."""

    @classmethod
    def render_option(cls, choice, **kwargs):
        value = choice.value
        plain = isinstance(value, str | int) and not isinstance(value, bool)
        if kwargs or choice.render_kw or not plain:
            return super().render_option(choice, **kwargs)
        selected = "selected " if choice.selected else ""
        label = escape(choice.label or value)
        option = f'<option {selected}value="{escape(value)}">{label}</option>'
        return Markup(option)  # noqa: S704 - the value and the label went through escape()


class Form(FlaskForm):
    class Meta:
        # Flask-WTF reads the WTForms catalogue from disk on every request that builds a form.
        def get_translations(self, form):
            return _wtforms_translations(str(get_locale()))

        def bind_field(self, form, unbound_field, options):
            field = super().bind_field(form, unbound_field, options)
            field.validators = [storable_input, *field.validators]
            if type(field.widget) is widgets.Select:
                field.widget = _Select(multiple=field.widget.multiple)
            return field
