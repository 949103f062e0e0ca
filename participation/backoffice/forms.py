"""Forms of the staff cabinet: readiness confirmations and the organization switcher."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, HiddenField, SelectField

from participation.core.forms import Form


class ReadinessForm(Form):
    ready = BooleanField(_l("ЛКО готов к работе"))
    training = BooleanField(_l("Мною пройдено обучение"))
    next = HiddenField()


class SwitchOrganizationForm(Form):
    organization_id = SelectField(_l("Организация"), coerce=int, choices=[], validate_choice=False)


class ComponentReadinessForm(Form):
    """One component's confirmation; the checkbox wording comes from readiness.COMPONENTS."""

    component = HiddenField()
    organization_id = HiddenField()
    statement = BooleanField(_l("Я подтверждаю готовность"))
    next = HiddenField()
