"""Forms of the survey pages (checks here are for comfort; services enforce the rules)."""

from __future__ import annotations

import re

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField
from wtforms import (
    BooleanField,
    DateTimeLocalField,
    IntegerField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional
from wtforms.validators import ValidationError as WTFValidationError

from participation.core.forms import Form
from participation.core.moderation import REJECTION_LABELS, RejectionReason
from participation.core.users import AccountLevel
from participation.polls.models import QuestionKind
from participation.polls.results import KIND_LABELS

LEVEL_LABELS = {
    AccountLevel.SIMPLIFIED: _l("Любая (упрощённая и выше)"),
    AccountLevel.STANDARD: _l("Стандартная или подтверждённая"),
    AccountLevel.CONFIRMED: _l("Только подтверждённая"),
}


class WholeNumberField(IntegerField):
    """An integer field whose parse error is in Russian."""

    def process_formdata(self, valuelist):
        if not valuelist or not valuelist[0].strip():
            self.data = None
            return
        try:
            self.data = int(valuelist[0].strip())
        except ValueError:
            self.data = None
            raise ValueError(str(_l("Введите целое число, например 18."))) from None


class LocalDateTimeField(DateTimeLocalField):
    """A date and time typed in the publisher's time zone; the parse error is in Russian."""

    def process_formdata(self, valuelist):
        try:
            super().process_formdata(valuelist)
        except ValueError:
            raise ValueError(str(_l("Введите дату и время, например 01.09.2026 09:00."))) from None


class IdsField(SelectMultipleField):
    """Several ids from a list; a value that is not a number is refused in Russian."""

    def process_formdata(self, valuelist):
        try:
            super().process_formdata(valuelist)
        except ValueError:
            self.data = []
            raise ValueError(str(_l("Выберите значения из списка."))) from None


def _check_choice(field, message) -> None:
    """Choices are checked here (in Russian) rather than by WTForms (in English)."""
    allowed = {str(choice.value) for choice in field.choices}
    values = field.data if isinstance(field.data, list) else [field.data]
    if any(str(v) not in allowed for v in values if v not in (None, "")):
        raise WTFValidationError(message)


class ActionForm(Form):
    """A button that changes something (publish, close, copy…): only the CSRF token."""


class SurveyForm(Form):
    title = StringField(
        _l("Название опроса"),
        validators=[
            DataRequired(_l("Введите название опроса.")),
            Length(max=300, message=_l("Название длиннее 300 символов.")),
        ],
    )
    description = TextAreaField(
        _l("Описание для жителей"),
        validators=[Length(max=10000, message=_l("Описание длиннее 10000 символов."))],
    )
    mode = RadioField(
        _l("Режим"),
        choices=[
            SelectChoice(
                "anonymous",
                _l("Анонимный: никто, включая организатора, не увидит, кто как ответил"),
            ),
            SelectChoice("named", _l("Именной: организатор видит, кто как ответил")),
        ],
        default="anonymous",
        validators=[InputRequired(_l("Выберите режим опроса."))],
        validate_choice=False,
    )
    starts_at = LocalDateTimeField(
        _l("Начало"),
        format="%Y-%m-%dT%H:%M",
        validators=[InputRequired(_l("Укажите дату и время начала."))],
    )
    ends_at = LocalDateTimeField(
        _l("Окончание"),
        format="%Y-%m-%dT%H:%M",
        validators=[InputRequired(_l("Укажите дату и время окончания."))],
    )
    territory_ids = IdsField(_l("Территория опроса"), coerce=int, choices=[], validate_choice=False)
    min_level = SelectField(
        _l("Учётная запись Госуслуг"),
        choices=[SelectChoice(level.value, label) for level, label in LEVEL_LABELS.items()],
        default=AccountLevel.STANDARD.value,
        validate_choice=False,
    )
    min_age = WholeNumberField(
        _l("Возраст от"),
        validators=[Optional(), NumberRange(0, 120, _l("Возраст — число от 0 до 120."))],
    )
    max_age = WholeNumberField(
        _l("Возраст до (включительно)"),
        validators=[Optional(), NumberRange(0, 120, _l("Возраст — число от 0 до 120."))],
    )
    gender = SelectField(
        _l("Пол"),
        choices=[
            SelectChoice("", _l("Любой")),
            SelectChoice("M", _l("Только мужчины")),
            SelectChoice("F", _l("Только женщины")),
        ],
        default="",
        validate_choice=False,
    )
    allow_legal_entities = BooleanField(_l("Могут отвечать представители юридических лиц"))
    results_public = BooleanField(_l("Показать итоги жителям после завершения опроса"))

    def validate_territory_ids(self, field) -> None:
        if not field.data:
            raise WTFValidationError(_l("Выберите хотя бы одну территорию."))
        _check_choice(field, _l("Выберите территорию из списка."))

    def validate_min_level(self, field) -> None:
        _check_choice(field, _l("Выберите учётную запись из списка."))

    def validate_gender(self, field) -> None:
        _check_choice(field, _l("Выберите пол из списка."))

    def validate_mode(self, field) -> None:
        _check_choice(field, _l("Выберите режим опроса."))

    def validate_ends_at(self, field) -> None:
        if self.starts_at.data and field.data and field.data <= self.starts_at.data:
            raise WTFValidationError(_l("Окончание должно быть позже начала."))

    def validate_max_age(self, field) -> None:
        if (
            field.data is not None
            and self.min_age.data is not None
            and field.data < self.min_age.data
        ):
            raise WTFValidationError(_l("Верхняя граница возраста меньше нижней."))


class SectionForm(Form):
    title = StringField(
        _l("Название раздела"),
        validators=[Length(max=300, message=_l("Название длиннее 300 символов."))],
    )
    description = TextAreaField(
        _l("Пояснение к разделу"),
        validators=[Length(max=5000, message=_l("Пояснение длиннее 5000 символов."))],
    )


def _number(raw: str | None) -> float | None:
    raw = (raw or "").strip().replace(",", ".").replace(" ", "")
    if not raw:
        return None
    if not re.fullmatch(r"[-+]?\d{1,15}(\.\d{1,6})?", raw):
        raise WTFValidationError(_l("Введите число, например 10 или 2,5."))
    return float(raw)


class QuestionForm(Form):
    kind = SelectField(
        _l("Тип вопроса"),
        choices=[SelectChoice(k.value, label) for k, label in KIND_LABELS.items()],
        default=QuestionKind.SINGLE.value,
        validate_choice=False,
    )
    text = TextAreaField(
        _l("Текст вопроса"),
        validators=[
            DataRequired(_l("Введите текст вопроса.")),
            Length(max=1000, message=_l("Текст вопроса длиннее 1000 символов.")),
        ],
    )
    description = TextAreaField(
        _l("Пояснение к вопросу"),
        validators=[Length(max=5000, message=_l("Пояснение длиннее 5000 символов."))],
    )
    required = BooleanField(_l("Обязательный вопрос"))
    options = TextAreaField(
        _l("Варианты ответа — каждый с новой строки"),
        description=_l("Для выбора, ранжирования и столбцов таблицы (матрицы)."),
        validators=[Length(max=20000, message=_l("Слишком длинный список вариантов."))],
    )
    rows = TextAreaField(
        _l("Строки таблицы — каждая с новой строки"),
        description=_l("Только для таблицы (матрицы): в каждой строке выбирается один вариант."),
        validators=[Length(max=20000, message=_l("Слишком длинный список строк."))],
    )
    has_other = BooleanField(_l("Добавить вариант «Другое (укажите)»"))
    max_choices = WholeNumberField(
        _l("Сколько вариантов можно выбрать (для нескольких вариантов)"),
        validators=[Optional(), NumberRange(1, 100, _l("Введите число от 1 до 100."))],
    )
    max_length = WholeNumberField(
        _l("Наибольшая длина свободного ответа, символов"),
        validators=[Optional(), NumberRange(1, 10000, _l("Введите число от 1 до 10000."))],
    )
    min_value = StringField(_l("Наименьшее число (для числового ответа)"))
    max_value = StringField(_l("Наибольшее число (для числового ответа)"))
    scale_max = SelectField(
        _l("Шкала"),
        choices=[SelectChoice("5", _l("от 1 до 5")), SelectChoice("10", _l("от 1 до 10"))],
        default="5",
        validate_choice=False,
    )
    image = FileField(
        _l("Картинка к вопросу (JPEG, PNG, WEBP)"),
        description=_l("Необязательно. Опишите в пояснении, что на ней, для незрячих жителей."),
    )

    def validate_kind(self, field) -> None:
        _check_choice(field, _l("Выберите тип вопроса из списка."))

    def validate_scale_max(self, field) -> None:
        _check_choice(field, _l("Шкала бывает от 1 до 5 или от 1 до 10."))

    def validate_min_value(self, field) -> None:
        self.min_number = _number(field.data)

    def validate_max_value(self, field) -> None:
        self.max_number = _number(field.data)


class ConditionForm(Form):
    option_ids = IdsField(
        _l("Показывать вопрос, только если выбран один из вариантов"),
        coerce=int,
        choices=[],
        description=_l(
            "Выберите варианты одного из предыдущих вопросов; ничего — показывать всегда."
        ),
        validate_choice=False,
    )

    def validate_option_ids(self, field) -> None:
        _check_choice(field, _l("Выберите варианты из списка: только из вопросов выше этого."))


class ModerationForm(Form):
    decision = RadioField(
        _l("Решение"),
        choices=[
            SelectChoice("approve", _l("Опубликовать")),
            SelectChoice("reject", _l("Отклонить")),
        ],
        validators=[InputRequired(_l("Выберите решение."))],
        validate_choice=False,
    )

    def validate_decision(self, field) -> None:
        _check_choice(field, _l("Выберите решение."))

    reason = SelectField(
        _l("Причина отклонения"),
        choices=[SelectChoice("", "—")]
        + [SelectChoice(r.value, label) for r, label in REJECTION_LABELS.items()],
        default="",
        validate_choice=False,
    )

    def validate_reason(self, field) -> None:
        if self.decision.data == "reject" and not field.data:
            raise WTFValidationError(_l("Выберите причину отклонения."))
        if field.data and field.data not in {r.value for r in RejectionReason}:
            raise WTFValidationError(_l("Выберите причину из списка."))
