"""Forms of the staff cabinet: readiness confirmations and the organization switcher."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, SelectField

try:
    from wtforms.fields.choices import SelectChoice
except ImportError:  # WTForms before 3.3 takes (value, label) tuples

    def SelectChoice(value, label):  # type: ignore[no-redef]
        return (value, label)


def choice(value, label):
    """One option of a SelectField, in the form this WTForms version expects."""
    return SelectChoice(value, label)


class ReadinessForm(FlaskForm):
    ready = BooleanField(_l("ЛКО готов к работе"))
    training = BooleanField(_l("Мною пройдено обучение"))
    next = HiddenField()


class SwitchOrganizationForm(FlaskForm):
    organization_id = SelectField(_l("Организация"), coerce=int, choices=[], validate_choice=False)
