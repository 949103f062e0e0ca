"""Forms and texts of the widget: the administrator's settings, the resident's message form."""

from __future__ import annotations

import uuid

from flask_babel import lazy_gettext as _l
from wtforms import (
    BooleanField,
    HiddenField,
    MultipleFileField,
    RadioField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length

from participation.core.forms import Form, strip
from participation.widgets import designs
from participation.widgets.models import WidgetKind

KIND_LABELS = {
    WidgetKind.MESSAGE: _l("Сообщить о проблеме"),
    WidgetKind.PARTICIPATE: _l("Участвовать"),
}
KIND_DESCRIPTIONS = {
    WidgetKind.MESSAGE: _l("Форма сообщения о проблеме с темами вашей организации."),
    WidgetKind.PARTICIPATE: _l(
        "Открытые опросы и голосования вашей организации и вашей территории."
    ),
}


class SettingsForm(Form):
    kind = RadioField(
        _l("Вид виджета"),
        choices=[SelectChoice(k.value, KIND_LABELS[k]) for k in WidgetKind],
        validators=[InputRequired(message=_l("Выберите вид виджета."))],
    )
    design = RadioField(
        _l("Оформление баннера"),
        choices=[
            SelectChoice(
                d.value.value,
                _l(
                    "Вариант %(n)d: %(scheme)s, %(layout)s",
                    n=d.number,
                    scheme=d.scheme.label,
                    layout=d.layout.label,
                ),
            )
            for d in sorted(designs.DESIGNS.values(), key=lambda d: d.number)
        ],
        validators=[InputRequired(message=_l("Выберите оформление баннера."))],
        validate_choice=False,  # the service refuses an unknown design, in Russian
    )
    text_choice = RadioField(
        _l("Текст баннера"),
        choices=[
            SelectChoice("", _l("Заголовок выбранного оформления")),
            *(SelectChoice(w.key, w.text) for w in designs.WORDINGS.values()),
            SelectChoice(designs.CUSTOM, _l("Свой текст")),
        ],
        default="",
        validate_choice=False,  # the service says which choice does not fit and why
    )
    custom_text = StringField(
        _l("Свой текст баннера"),
        description=_l(
            "Не длиннее %(max)d символов. Используется, если выбран «Свой текст».",
            max=designs.CUSTOM_TEXT_MAX,
        ),
        filters=[strip],
    )
    site_url = StringField(
        _l("Сайт, на котором размещён виджет"),
        description=_l(
            "Главная страница вашего сайта, например https://school12.ufa.ru. "
            "Статистика покажет, на каких ещё сайтах открывали ваш виджет."
        ),
        validators=[Length(max=300, message=_l("Не длиннее %(max)d символов."))],
        filters=[strip],
    )


class GenerateForm(Form):
    replace = BooleanField(
        _l("Я понимаю, что прежний код перестанет работать на всех сайтах"),
    )


class DisableForm(Form):
    """Only the CSRF token."""


def _int_or_none(value: object) -> int | None:
    if value in (None, ""):
        return None
    try:
        return int(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None


class WidgetForm(Form):
    """Widget forms: the CSRF token is the widget's own, checked before the view runs."""

    class Meta:
        csrf = False


class MessageForm(WidgetForm):
    subcategory_id = SelectField(
        _l("Тема сообщения"), coerce=_int_or_none, choices=[], validate_choice=False
    )
    text = TextAreaField(
        _l("Опишите проблему"),
        description=_l("Одно сообщение — одна проблема. Не указывайте данные других людей."),
    )
    territory_id = SelectField(
        _l("Муниципальное образование"), coerce=_int_or_none, choices=[], validate_choice=False
    )
    address = StringField(_l("Адрес проблемы"), description=_l("Улица, дом или ориентир."))
    attachments = MultipleFileField(
        _l("Фотографии или документы (необязательно)"),
        description=_l("JPEG, PNG, WEBP, HEIC или PDF."),
    )
    submission_key = HiddenField()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.submission_key.data:
            self.submission_key.data = uuid.uuid4().hex
