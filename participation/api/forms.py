"""The cabinet's API-key forms: a new key (name, scopes, last valid day) and revocation."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import DateField, SelectMultipleField, StringField, widgets
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, ValidationError

from participation.api.models import ApiScope
from participation.core.forms import Form, strip

SCOPE_LABELS = {
    ApiScope.MESSAGES_READ: _l("Чтение сообщений организации (messages:read)"),
    ApiScope.MESSAGES_WRITE: _l(
        "Работа с сообщениями: назначение, статусы, ответы, подача сообщений со слов "
        "заявителя через Open311 (messages:write)"
    ),
    ApiScope.STATISTICS_READ: _l("Чтение статистики без персональных данных (statistics:read)"),
}


class MultiCheckboxField(SelectMultipleField):
    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()


class ApiKeyForm(Form):
    # The service checks every rule again (and says so next to the field); the form's own
    # checks only let a person see all the empty fields at once.
    name = StringField(
        _l("Название ключа"),
        description=_l("Для кого ключ, например «СЭД Дело» или «Мобильный обходчик»."),
        filters=[strip],
        validators=[DataRequired(message=_l("Укажите название ключа, например «СЭД Дело»."))],
    )
    scopes = MultiCheckboxField(
        _l("Области доступа"),
        choices=[SelectChoice(s.value, SCOPE_LABELS[s]) for s in ApiScope],
        validate_choice=False,
        description=_l(
            "Ключ действует как технический сотрудник организации: чтение — с ролью куратора, "
            "работа с сообщениями — с ролями координатора, исполнителя и оператора приёма "
            "(письма из СЭД, сообщения со слов заявителя через Open311)."
        ),
    )
    expires_on = DateField(
        _l("Действует по (включительно)"),
        description=_l("Не больше 3 лет. После этой даты ключ перестанет работать."),
    )

    def process(self, *args, **kwargs):
        super().process(*args, **kwargs)
        # DateField puts an English message on bad input; ours says it in Russian.
        self.expires_on.process_errors = []

    def validate_scopes(self, field):
        if not field.data:
            raise ValidationError(_l("Отметьте хотя бы одну область доступа."))

    def validate_expires_on(self, field):
        if field.raw_data and field.raw_data[0] and field.data is None:
            raise ValidationError(_l("Введите дату в формате ГГГГ-ММ-ДД."))


class RevokeForm(Form):
    """Only the CSRF token: the key is named in the URL."""
