"""Forms of direct lines; the services re-check every value and say in Russian what is wrong."""

from __future__ import annotations

import uuid

from flask_babel import lazy_gettext as _l
from wtforms import (
    DateTimeLocalField,
    HiddenField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
    widgets,
)
from wtforms.fields.choices import SelectChoice

from participation.core.forms import Form
from participation.core.labels import ACCOUNT_LEVEL_LABELS
from participation.core.moderation import REJECTION_LABELS


def int_or_none(value: object) -> int | None:
    if value in (None, ""):
        return None
    try:
        return int(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return -1  # not a number: the service answers «выберите из списка»


class LocalDateTimeField(DateTimeLocalField):
    """A wall-clock moment: the browser's picker, or «25.11.2026 18:00» typed by hand."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault(
            "format", ["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%d.%m.%Y %H:%M", "%Y-%m-%dT%H:%M:%S"]
        )
        kwargs.setdefault(
            "invalid_value_message",
            _l("Введите дату и время, например 25.11.2026 18:00."),
        )
        super().__init__(*args, **kwargs)

    def process_formdata(self, valuelist):
        if not valuelist or not " ".join(valuelist).strip():
            self.data = None  # empty: the service says which moment is missing
            return
        super().process_formdata([" ".join(valuelist).strip()])


class MultiCheckboxField(SelectMultipleField):
    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()


class EventForm(Form):
    host_id = SelectField(_l("Кто проводит"), coerce=int_or_none, choices=[], validate_choice=False)
    title = StringField(
        _l("Название"), description=_l("Например: «Прямая линия с Главой Республики»")
    )
    speaker = StringField(
        _l("Кто отвечает на вопросы"),
        description=_l("Должность и имя, как их знают жители."),
    )
    description = TextAreaField(_l("Описание (необязательно)"))
    questions_open_at = LocalDateTimeField(_l("Приём вопросов: начало"))
    questions_close_at = LocalDateTimeField(
        _l("Приём вопросов: окончание"),
        description=_l("Вопросы можно принимать и во время эфира, но не дольше его окончания."),
    )
    starts_at = LocalDateTimeField(_l("Начало эфира"))
    ends_at = LocalDateTimeField(_l("Окончание эфира"))
    stream_url = StringField(_l("Ссылка на трансляцию"))
    recording_url = StringField(
        _l("Ссылка на запись эфира (необязательно)"),
        description=_l("Добавьте после эфира, когда запись будет опубликована."),
    )
    categories = MultiCheckboxField(
        _l("Темы вопросов"),
        choices=[],
        validate_choice=False,
        description=_l(
            "Вопрос, на который не ответят в эфире, станет сообщением по подходящей теме."
        ),
    )
    min_account_level = RadioField(
        _l("Какая учётная запись Госуслуг нужна"),
        choices=[SelectChoice(level.value, label) for level, label in ACCOUNT_LEVEL_LABELS.items()],
        validate_choice=False,
    )
    territory_id = SelectField(
        _l("Чьи вопросы принимаются"), coerce=int_or_none, choices=[], validate_choice=False
    )


class QuestionForm(Form):
    category_id = RadioField(
        _l("Тема вопроса"), coerce=int_or_none, choices=[], validate_choice=False
    )
    text = TextAreaField(
        _l("Ваш вопрос"),
        description=_l("Коротко и по существу. Не указывайте данные других людей."),
    )
    territory_id = SelectField(
        _l("Муниципальное образование"),
        coerce=int_or_none,
        choices=[],
        validate_choice=False,
        description=_l("Где находится то, о чём вы спрашиваете."),
    )
    address = StringField(
        _l("Адрес (необязательно)"), description=_l("Улица, дом или ориентир, если это важно.")
    )
    submission_key = HiddenField()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.submission_key.data:
            self.submission_key.data = uuid.uuid4().hex


class PlainForm(Form):
    """A button: only the CSRF token."""


class ActionForm(Form):
    """A moderator's button; `state` is the state the moderator saw."""

    state = HiddenField()


class RejectForm(ActionForm):
    reason = RadioField(
        _l("Причина отклонения"),
        choices=[SelectChoice(reason.value, label) for reason, label in REJECTION_LABELS.items()],
        validate_choice=False,
    )


class MergeForm(ActionForm):
    target = StringField(
        _l("Номер вопроса, с которым объединить"),
        description=_l("Похожий опубликованный вопрос этой прямой линии."),
    )


class AnswerForm(ActionForm):
    answer_text = TextAreaField(_l("Кратко: что ответили"))
    answer_url = StringField(
        _l("Или ссылка на момент в записи эфира"),
        description=_l("Например, ссылка на запись с отметкой времени."),
    )


class MoveForm(Form):
    direction = HiddenField()
