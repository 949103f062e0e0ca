"""Forms: the ballot (and its confirmation), assisted voting, receipt check, campaign management."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField, FileRequired
from wtforms import (
    BooleanField,
    DateTimeLocalField,
    FloatField,
    IntegerField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import (
    DataRequired,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    Regexp,
)
from wtforms.widgets import CheckboxInput, ListWidget

from participation.core.forms import Form, strip
from participation.core.labels import ACCOUNT_LEVEL_LABELS
from participation.core.users import AccountLevel
from participation.voting.models import BallotRule, Campaign, CampaignKind, VotingObject
from participation.voting.reports import KIND_LABELS, RULE_LABELS

DATETIME_FORMAT = "%Y-%m-%dT%H:%M"


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class _BallotForm(Form):
    receipt_code = StringField(
        _l("Код, полученный при голосовании"),
        description=_l("Нужен, чтобы заменить ваш прежний выбор новым."),
        validators=[Optional(), Length(max=40, message=_l("Не длиннее %(max)d символов."))],
        filters=[strip],
    )


class _OneChoiceBallot(_BallotForm):
    # The service checks the choice and says why in Russian: no validate_choice here.
    choices = RadioField(_l("Ваш выбор"), coerce=int, validate_choice=False)


class _SeveralChoicesBallot(_BallotForm):
    choices = MultiCheckboxField(_l("Ваш выбор"), coerce=int, validate_choice=False)


def ballot_form(campaign: Campaign, objects: list[VotingObject], **kwargs: Any) -> Form:
    """The ballot for this campaign's rule: radio buttons (one) or checkboxes (several)."""
    single = campaign.ballot_rule == BallotRule.SINGLE
    form = (_OneChoiceBallot if single else _SeveralChoicesBallot)(**kwargs)
    form.choices.choices = [SelectChoice(o.id, f"№ {o.number}. {o.title}") for o in objects]
    return form


def chosen_ids(form: Form) -> list[int]:
    data = form.choices.data
    if data is None:
        return []
    return [data] if isinstance(data, int) else list(data)


class AssistForm(Form):
    esia_oid = StringField(
        _l("OID учётной записи Госуслуг жителя"),
        description=_l(
            "Житель называет OID или показывает его в приложении Госуслуг; сверьте ФИО и "
            "дату рождения с паспортом на следующем шаге."
        ),
        validators=[
            DataRequired(message=_l("Укажите OID жителя.")),
            Regexp(r"^\d{1,32}$", message=_l("OID состоит только из цифр.")),
        ],
        filters=[strip],
    )


class ConfirmIdentityForm(Form):
    identity_checked = BooleanField(
        _l("Я сверил ФИО и дату рождения с документом, удостоверяющим личность жителя"),
        validators=[DataRequired(message=_l("Подтвердите, что проверили документ жителя."))],
    )


class VerifyForm(Form):
    code = StringField(
        _l("Код голосования"),
        description=_l("16 букв и цифр, например K7QX-2MHD-VT9C-4PWA."),
        validators=[
            DataRequired(message=_l("Введите код, полученный при голосовании.")),
            Length(max=40, message=_l("Не длиннее %(max)d символов.")),
        ],
        filters=[strip],
    )


class CampaignForm(Form):
    title = StringField(
        _l("Название голосования"),
        validators=[
            DataRequired(message=_l("Укажите название голосования.")),
            Length(max=300, message=_l("Не длиннее %(max)d символов.")),
        ],
        filters=[strip],
    )
    kind = SelectField(
        _l("Вид голосования"),
        choices=[SelectChoice(k.value, KIND_LABELS[k]) for k in CampaignKind],
        default=CampaignKind.LANDSCAPING.value,
    )
    territory_id = SelectField(
        _l("Территория (жители которой голосуют)"),
        coerce=int,
        validate_choice=False,
        validators=[InputRequired(message=_l("Выберите территорию."))],
    )
    rules_text = TextAreaField(
        _l("Правила и описание"),
        validators=[Length(max=20000, message=_l("Не длиннее %(max)d символов."))],
        filters=[strip],
    )
    opens_local = DateTimeLocalField(
        _l("Начало (местное время)"),
        format=DATETIME_FORMAT,
        validators=[InputRequired(message=_l("Укажите дату и время начала."))],
    )
    closes_local = DateTimeLocalField(
        _l("Окончание (местное время)"),
        format=DATETIME_FORMAT,
        validators=[InputRequired(message=_l("Укажите дату и время окончания."))],
    )
    ballot_rule = RadioField(
        _l("Как голосуют"),
        choices=[SelectChoice(r.value, RULE_LABELS[r]) for r in BallotRule],
        default=BallotRule.SINGLE.value,
    )
    max_choices = IntegerField(
        _l("Сколько объектов можно выбрать (для «нескольких»)"),
        validators=[
            Optional(),
            NumberRange(min=1, max=100, message=_l("От %(min)s до %(max)s.")),
        ],
    )
    budget_limit = IntegerField(
        _l("Бюджет, ₽ (для голосования по бюджету)"),
        validators=[
            Optional(),
            NumberRange(min=1, max=10**13, message=_l("Больше нуля и не больше %(max)s.")),
        ],
    )
    winners_count = IntegerField(
        _l("Число победителей"),
        default=1,
        validators=[
            InputRequired(message=_l("Укажите число победителей.")),
            NumberRange(min=1, max=1000, message=_l("От %(min)s до %(max)s.")),
        ],
    )
    per_district = BooleanField(_l("По районам: житель выбирает только объекты своего района"))
    turnout_target = IntegerField(
        _l("Целевая явка, человек"),
        validators=[
            Optional(),
            NumberRange(min=1, max=200_000_000, message=_l("От %(min)s до %(max)s.")),
        ],
    )
    show_turnout = BooleanField(_l("Показывать число проголосовавших во время голосования"))
    allow_revote = BooleanField(
        _l("Разрешить переголосовать (учитывается последний выбор; нужен код голосования)")
    )
    min_level = SelectField(
        _l("Учётная запись Госуслуг не ниже"),
        choices=[SelectChoice(a.value, ACCOUNT_LEVEL_LABELS[a]) for a in AccountLevel],
        default=AccountLevel.CONFIRMED.value,
    )
    min_age = IntegerField(
        _l("Минимальный возраст в день голосования"),
        default=14,
        validators=[
            Optional(),
            NumberRange(min=0, max=120, message=_l("От %(min)s до %(max)s лет.")),
        ],
    )


class ObjectForm(Form):
    title = StringField(
        _l("Название"),
        validators=[
            DataRequired(message=_l("Укажите название объекта.")),
            Length(max=300, message=_l("Не длиннее %(max)d символов.")),
        ],
        filters=[strip],
    )
    description = TextAreaField(
        _l("Описание"),
        validators=[Length(max=10000, message=_l("Не длиннее %(max)d символов."))],
        filters=[strip],
    )
    address = StringField(
        _l("Адрес"),
        validators=[Length(max=500, message=_l("Не длиннее %(max)d символов."))],
        filters=[strip],
    )
    latitude = FloatField(
        _l("Широта"),
        validators=[
            Optional(),
            NumberRange(min=-90, max=90, message=_l("От %(min)s до %(max)s.")),
        ],
    )
    longitude = FloatField(
        _l("Долгота"),
        validators=[
            Optional(),
            NumberRange(min=-180, max=180, message=_l("От %(min)s до %(max)s.")),
        ],
    )
    cost = IntegerField(
        _l("Оценочная стоимость, ₽"),
        validators=[
            Optional(),
            NumberRange(min=0, max=10**13, message=_l("От %(min)s до %(max)s.")),
        ],
    )
    district_id = SelectField(
        _l("Район"),
        coerce=lambda v: int(v) if v not in (None, "", "None") else None,
        validate_choice=False,
    )


class PhotoForm(Form):
    photo = FileField(
        _l("Фотография (JPEG, PNG или WEBP)"),
        validators=[FileRequired(message=_l("Выберите файл с фотографией."))],
    )


class CloseForm(Form):
    reason = TextAreaField(
        _l("Причина досрочного завершения"),
        validators=[
            DataRequired(message=_l("Укажите причину досрочного завершения.")),
            Length(max=2000, message=_l("Не длиннее %(max)d символов.")),
        ],
        filters=[strip],
    )


class ActionForm(Form):
    """Only the CSRF token: the action and its object are in the URL."""
