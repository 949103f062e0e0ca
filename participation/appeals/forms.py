"""Forms of the message pages; the services re-check everything and say what is wrong."""

from __future__ import annotations

import uuid
from decimal import Decimal, InvalidOperation

from flask_babel import lazy_gettext as _l
from wtforms import (
    DateField,
    HiddenField,
    MultipleFileField,
    RadioField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import ValidationError

from participation.core.forms import Form
from participation.core.limits import parse_id
from participation.core.moderation import REJECTION_LABELS, RejectionReason

SCORE_LABELS = [
    SelectChoice("5", _l("5 — отлично")),
    SelectChoice("4", _l("4 — хорошо")),
    SelectChoice("3", _l("3 — удовлетворительно")),
    SelectChoice("2", _l("2 — плохо")),
    SelectChoice("1", _l("1 — очень плохо")),
]


def parse_coordinate(raw: str | None, field: str) -> Decimal | None:
    """A coordinate typed by a person: dot or comma, empty for none; ValueError in Russian."""
    raw = (raw or "").strip().replace(",", ".")
    if not raw:
        return None
    try:
        value = Decimal(raw)
    except InvalidOperation:
        raise ValueError(_l("Введите число, например 54.7388.")) from None
    if not value.is_finite():
        raise ValueError(_l("Введите число, например 54.7388."))
    return value


def _int_or_none(value: object) -> int | None:
    if value in (None, ""):
        return None
    try:
        return int(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None


class SubmitForm(Form):
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
    latitude = StringField(_l("Широта точки на карте"))
    longitude = StringField(_l("Долгота точки на карте"))
    attachments = MultipleFileField(
        _l("Фотографии или документы"),
        description=_l("JPEG, PNG, WEBP, HEIC или PDF."),
    )
    submission_key = HiddenField()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.submission_key.data:
            self.submission_key.data = uuid.uuid4().hex

    def validate_latitude(self, field):
        try:
            field.parsed = parse_coordinate(field.data, "latitude")
        except ValueError as exc:
            raise ValidationError(str(exc)) from None

    def validate_longitude(self, field):
        try:
            field.parsed = parse_coordinate(field.data, "longitude")
        except ValueError as exc:
            raise ValidationError(str(exc)) from None


class CallerForm(SubmitForm):
    """The operator's form: the same, plus who is calling."""

    caller_name = StringField(_l("Фамилия, имя и отчество заявителя"))
    caller_phone = StringField(_l("Телефон заявителя"))
    caller_email = StringField(_l("Электронная почта заявителя"))


class RateForm(Form):
    score = RadioField(_l("Оценка ответа"), choices=SCORE_LABELS, validate_choice=False)
    comment = TextAreaField(_l("Комментарий (необязательно)"))


class ReworkForm(Form):
    comment = TextAreaField(_l("Что не так с ответом"))


# --- staff actions ---------------------------------------------------------------------------


class ActionForm(Form):
    """Every action form carries the state it was shown in: a stale form is refused."""

    class Meta:
        # Several prefixed forms share one page; CSRFProtect checks every POST app-wide.
        csrf = False

    state = HiddenField()
    comment = TextAreaField(_l("Комментарий (необязательно)"))


class TopicForm(ActionForm):
    subcategory_id = SelectField(
        _l("Новая подкатегория"), coerce=_int_or_none, choices=[], validate_choice=False
    )


class OrganizationForm(ActionForm):
    organization_id = SelectField(
        _l("Организация"), coerce=_int_or_none, choices=[], validate_choice=False
    )


class RejectForm(ActionForm):
    reason = SelectField(
        _l("Причина отклонения"),
        choices=[SelectChoice("", _l("— выберите причину —"))]
        + [SelectChoice(r.value, REJECTION_LABELS[r]) for r in RejectionReason],
        validate_choice=False,
    )


class RedirectForm(ActionForm):
    organization_id = SelectField(
        _l("Куда перенаправить"), coerce=_int_or_none, choices=[], validate_choice=False
    )
    reason = TextAreaField(_l("Причина перенаправления"))


class AssignForm(ActionForm):
    executor_id = SelectField(
        _l("Исполнитель"), coerce=_int_or_none, choices=[], validate_choice=False
    )


class DraftForm(ActionForm):
    text = TextAreaField(_l("Текст ответа"))
    attachments = MultipleFileField(
        _l("Фото, видео-кадры или документы"), description=_l("JPEG, PNG, WEBP, HEIC или PDF.")
    )


class PostponeForm(ActionForm):
    until = DateField(_l("Новая дата ответа"), validators=[])
    reason = TextAreaField(_l("Почему проблему не удаётся решить в срок"))

    def validate_until(self, field):
        if field.raw_data and field.raw_data[0] and field.data is None:
            raise ValidationError(_l("Введите дату в формате ДД.ММ.ГГГГ."))

    def process(self, *args, **kwargs):
        super().process(*args, **kwargs)
        # DateField puts an English message on bad input; ours says it in Russian.
        self.until.process_errors = []


class ReturnForm(ActionForm):
    comment = TextAreaField(_l("Замечания к проекту ответа"))


class MergeForm(Form):
    """Staff: this message repeats another one (its number)."""

    class Meta:
        csrf = False  # CSRFProtect checks every POST app-wide

    main = StringField(
        _l("Номер основного сообщения"),
        description=_l("Ответ по основному сообщению получат авторы обоих; оценят каждый сам."),
    )
    comment = TextAreaField(_l("Комментарий (необязательно)"))

    def validate_main(self, field: StringField) -> None:
        value = (field.data or "").strip().lstrip("№").strip()
        if not value:
            raise ValidationError(_l("Укажите номер основного сообщения."))
        if parse_id(value) is None:
            raise ValidationError(_l("Номер сообщения — целое число, например 1234."))
        field.data = value
