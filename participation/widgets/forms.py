"""Forms and texts of the widget: the administrator's settings, the resident's message form."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

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

from participation.core.forms import Form
from participation.widgets.models import BannerDesign, WidgetKind

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


@dataclass(frozen=True)
class Banner:
    label: str  # for the administrator's list
    title: str
    message_text: str  # under the title in a «Сообщить о проблеме» widget
    participate_text: str  # under the title in an «Участвовать» widget


BANNERS = {
    BannerDesign.MUNICIPAL: Banner(
        _l("Органы власти и местного самоуправления"),
        _l("Ваш город — ваше мнение"),
        _l(
            "Яма на дороге, не вывезли мусор, не горит фонарь? "
            "Сообщите о проблеме — ответим в установленный срок."
        ),
        _l("Ваше мнение важно: участвуйте в опросах и голосованиях о жизни города и района."),
    ),
    BannerDesign.HEALTH: Banner(
        _l("Здравоохранение"),
        _l("Здоровье — общее дело"),
        _l(
            "Не получается записаться к врачу, долго ждали приёма, нет лекарства? "
            "Сообщите о проблеме в работе медицинской организации."
        ),
        _l("Помогите сделать медицинскую помощь удобнее: ответьте на вопросы и проголосуйте."),
    ),
    BannerDesign.EDUCATION: Banner(
        _l("Образование"),
        _l("Школа, которую мы делаем вместе"),
        _l(
            "Питание, ремонт, школьный автобус, безопасность? "
            "Расскажите о проблеме — школа и управление образования ответят."
        ),
        _l("Участвуйте в опросах и голосованиях об образовании в вашем городе и районе."),
    ),
    BannerDesign.PRESCHOOL: Banner(
        _l("Дошкольное образование"),
        _l("Детский сад: вместе о главном"),
        _l(
            "Очередь, питание, площадка, тепло в группах? "
            "Напишите о проблеме в работе детского сада."
        ),
        _l("Родители решают вместе: опросы и голосования о детских садах и площадках."),
    ),
}


def banner_text(banner: Banner, kind: WidgetKind) -> str:
    return banner.message_text if kind == WidgetKind.MESSAGE else banner.participate_text


def _strip(value: str | None) -> str | None:
    return value.strip() if isinstance(value, str) else value


class SettingsForm(Form):
    kind = RadioField(
        _l("Вид виджета"),
        choices=[SelectChoice(k.value, KIND_LABELS[k]) for k in WidgetKind],
        validators=[InputRequired(message=_l("Выберите вид виджета."))],
    )
    design = RadioField(
        _l("Оформление баннера"),
        choices=[SelectChoice(d.value, BANNERS[d].label) for d in BannerDesign],
        validators=[InputRequired(message=_l("Выберите оформление баннера."))],
    )
    site_url = StringField(
        _l("Сайт, на котором размещён виджет"),
        description=_l(
            "Главная страница вашего сайта, например https://school12.ufa.ru. "
            "Статистика покажет, на каких ещё сайтах открывали ваш виджет."
        ),
        validators=[Length(max=300, message=_l("Не длиннее %(max)d символов."))],
        filters=[_strip],
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
