"""Forms of hearings: creating a hearing, remarks, moderation, recommendations, the meeting."""

from __future__ import annotations

import uuid

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField
from wtforms import (
    BooleanField,
    DateField,
    HiddenField,
    RadioField,
    SelectField,
    StringField,
    TextAreaField,
    TimeField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import URL, AnyOf, DataRequired, InputRequired, Length, Optional

from participation.core.forms import Form
from participation.hearings.labels import (
    ATTENDANCE_LABELS,
    KIND_LABELS,
    LEVEL_LABELS,
    RECOMMENDATION_LABELS,
    REMARK_KIND_LABELS,
    REMARK_REJECTION_LABELS,
    REMARK_REJECTION_REASONS,
    SCOPE_LABELS,
)
from participation.hearings.models import ParticipantKind
from participation.hearings.services import MAX_CONCLUSION_CHARS, MAX_REASON_CHARS, MAX_REMARK_CHARS


def _required(message):
    return DataRequired(message=message)


def _one_of(choices: list[SelectChoice], message) -> list:
    """Validators for a choice: present and one of `choices`, with our own Russian message."""
    return [
        InputRequired(message=message),
        AnyOf([c.value for c in choices], message=message),
    ]


def _radio(label, choices: list[SelectChoice], message, **kw) -> RadioField:
    return RadioField(
        label, choices=choices, validate_choice=False, validators=_one_of(choices, message), **kw
    )


def _optional_int(value):
    try:
        return int(value) if value not in (None, "", "0") else None
    except (TypeError, ValueError):
        return -1  # not a number: the service answers «такого пункта нет»


LEVEL_CHOICES = [SelectChoice(level.value, label) for level, label in LEVEL_LABELS.items()]
SCOPE_CHOICES = [SelectChoice(scope.value, label) for scope, label in SCOPE_LABELS.items()]


class HearingForm(Form):
    kind = _radio(
        _l("Вид"),
        [SelectChoice(k.value, label) for k, label in KIND_LABELS.items()],
        _l("Выберите вид: публичные слушания или общественные обсуждения."),
    )
    title = StringField(
        _l("Наименование проекта"),
        validators=[
            _required(_l("Укажите наименование проекта.")),
            Length(max=500, message=_l("Не длиннее 500 знаков.")),
        ],
    )
    subject = TextAreaField(
        _l("Предмет обсуждения"),
        description=_l("Кратко: что регулирует проект и что в нём нового."),
        validators=[
            _required(_l("Опишите предмет обсуждения.")),
            Length(max=5000, message=_l("Не длиннее 5000 знаков.")),
        ],
    )
    territory_id = SelectField(
        _l("Территория проведения"),
        coerce=int,
        validate_choice=False,
        validators=[_required(_l("Выберите территорию."))],
    )
    initiator = StringField(
        _l("Кто предложил проект (инициатор)"),
        validators=[
            _required(_l("Укажите инициатора проекта.")),
            Length(max=300, message=_l("Не длиннее 300 знаков.")),
        ],
    )
    organizer_address = StringField(
        _l("Адрес организатора"),
        validators=[
            _required(_l("Укажите адрес организатора.")),
            Length(max=300, message=_l("Не длиннее 300 знаков.")),
        ],
    )
    draft_text = TextAreaField(
        _l("Текст проекта"),
        description=_l(
            "Вставьте текст целиком. Разделы начинайте со слов «Раздел», «Глава» или «Статья» "
            "(или со знака #), пункты — с номера: «1.1.», «2.3». Жители оставляют замечания "
            "к каждому пункту."
        ),
        validators=[
            _required(_l("Вставьте текст проекта.")),
            Length(max=500000, message=_l("Текст проекта слишком длинный.")),
        ],
    )
    draft_pdf = FileField(
        _l("Официальный текст проекта (PDF, необязательно)"),
        description=_l("Подписанная версия проекта; жители смогут её скачать."),
    )
    exposition_place = StringField(
        _l("Место экспозиции"),
        validators=[
            _required(_l("Укажите место проведения экспозиции.")),
            Length(max=500, message=_l("Не длиннее 500 знаков.")),
        ],
    )
    exposition_starts_on = DateField(
        _l("Экспозиция: первый день"),
        validators=[InputRequired(message=_l("Укажите дату открытия экспозиции."))],
    )
    exposition_ends_on = DateField(
        _l("Экспозиция: последний день"),
        validators=[InputRequired(message=_l("Укажите последний день экспозиции."))],
    )
    exposition_hours = StringField(
        _l("Часы работы экспозиции"),
        description=_l("Например: пн–пт с 9:00 до 18:00, перерыв с 13:00 до 14:00."),
        validators=[
            _required(_l("Укажите часы работы экспозиции.")),
            Length(max=300, message=_l("Не длиннее 300 знаков.")),
        ],
    )
    consultations = TextAreaField(
        _l("Консультации"),
        description=_l("Когда и где представители организатора консультируют посетителей."),
        validators=[
            _required(_l("Укажите, когда проводятся консультации.")),
            Length(max=5000, message=_l("Не длиннее 5000 знаков.")),
        ],
    )
    remarks_opens_on = DateField(
        _l("Приём предложений: первый день"),
        validators=[InputRequired(message=_l("Укажите первый день приёма предложений."))],
    )
    remarks_closes_on = DateField(
        _l("Приём предложений: последний день"),
        description=_l("Приём открывается и закрывается в полночь по местному времени территории."),
        validators=[InputRequired(message=_l("Укажите последний день приёма предложений."))],
    )
    submission_ways = TextAreaField(
        _l("Другие способы подать предложение (необязательно)"),
        description=_l(
            "Например: в письменной форме по адресу организатора, "
            "в книге учёта посетителей экспозиции."
        ),
        validators=[Optional(), Length(max=5000, message=_l("Не длиннее 5000 знаков."))],
    )
    meeting_date = DateField(_l("Дата собрания участников"), validators=[Optional()])
    meeting_time = TimeField(_l("Время начала собрания"), validators=[Optional()])
    meeting_place = StringField(
        _l("Место собрания"),
        validators=[Optional(), Length(max=500, message=_l("Не длиннее 500 знаков."))],
    )
    meeting_link = StringField(
        _l("Ссылка на онлайн-трансляцию собрания"),
        validators=[
            Optional(),
            URL(require_tld=False, message=_l("Укажите адрес, начинающийся с https://")),
            Length(max=500, message=_l("Не длиннее 500 знаков.")),
        ],
    )
    publication_sources = TextAreaField(
        _l("Где ещё опубликованы оповещение и проект (необязательно)"),
        description=_l("Официальный сайт, печатное издание, информационные стенды."),
        validators=[Optional(), Length(max=2000, message=_l("Не длиннее 2000 знаков."))],
    )
    min_account_level = SelectField(
        _l("Учётная запись участника"),
        choices=LEVEL_CHOICES,
        validate_choice=False,
        validators=_one_of(LEVEL_CHOICES, _l("Выберите уровень из списка.")),
    )
    participant_scope = SelectField(
        _l("Кто может оставлять предложения"),
        choices=SCOPE_CHOICES,
        validate_choice=False,
        validators=_one_of(SCOPE_CHOICES, _l("Выберите, кто может участвовать.")),
    )


class MaterialForm(Form):
    title = StringField(
        _l("Название материала"),
        validators=[
            _required(_l("Назовите материал.")),
            Length(max=300, message=_l("Не длиннее 300 знаков.")),
        ],
    )
    file = FileField(_l("Файл (PDF или изображение)"))


def new_client_token() -> str:
    return uuid.uuid4().hex


class RemarkForm(Form):
    paragraph_id = SelectField(
        _l("К какому пункту"),
        coerce=_optional_int,
        validate_choice=False,
    )
    kind = _radio(
        _l("Что вы оставляете"),
        [SelectChoice(k.value, label) for k, label in REMARK_KIND_LABELS.items()],
        _l("Выберите: предложение или замечание."),
        default="proposal",
    )
    text = TextAreaField(
        _l("Текст"),
        description=_l(
            "До %(max)d знаков. Не указывайте персональные данные других людей.",
            max=MAX_REMARK_CHARS,
        ),
    )
    client_token = HiddenField()


class ModerationForm(Form):
    decision = _radio(
        _l("Решение"),
        [SelectChoice("publish", _l("Опубликовать")), SelectChoice("reject", _l("Отклонить"))],
        _l("Выберите: опубликовать или отклонить."),
    )
    reason = SelectField(
        _l("Причина отклонения"),
        choices=[SelectChoice("", _l("— выберите, если отклоняете —"))]
        + [SelectChoice(r.value, REMARK_REJECTION_LABELS[r]) for r in REMARK_REJECTION_REASONS],
        validate_choice=False,
    )


class RecommendationForm(Form):
    decision = _radio(
        _l("Рекомендация организатора"),
        [SelectChoice(k.value, label) for k, label in RECOMMENDATION_LABELS.items()],
        _l("Выберите: учесть или не учитывать."),
    )
    reason = TextAreaField(
        _l("Обоснование"),
        description=_l("Почему предложение следует учесть или не учитывать; попадёт в заключение."),
        validators=[
            Length(
                max=MAX_REASON_CHARS, message=_l("Не длиннее %(max)d знаков.", max=MAX_REASON_CHARS)
            )
        ],
    )


class AttendeeForm(Form):
    kind = _radio(
        _l("Участник"),
        [
            SelectChoice(ParticipantKind.PERSON.value, _l("Физическое лицо")),
            SelectChoice(ParticipantKind.LEGAL_ENTITY.value, _l("Представитель юридического лица")),
        ],
        _l("Выберите вид участника."),
        default=ParticipantKind.PERSON.value,
    )
    attendance = _radio(
        _l("Как участвует"),
        [SelectChoice(k.value, label) for k, label in ATTENDANCE_LABELS.items()],
        _l("Выберите: очно или онлайн."),
        default="in_person",
    )
    last_name = StringField(
        _l("Фамилия"), validators=[_required(_l("Укажите фамилию.")), Length(max=100)]
    )
    first_name = StringField(_l("Имя"), validators=[_required(_l("Укажите имя.")), Length(max=100)])
    middle_name = StringField(_l("Отчество"), validators=[Optional(), Length(max=100)])
    birth_date = DateField(_l("Дата рождения"), validators=[Optional()])
    address = StringField(
        _l("Адрес места жительства (регистрации)"),
        validators=[_required(_l("Укажите адрес.")), Length(max=500)],
    )
    resident = BooleanField(_l("Постоянно проживает на территории проведения"))
    legal_entity_name = StringField(
        _l("Наименование юридического лица"), validators=[Optional(), Length(max=300)]
    )
    legal_entity_ogrn = StringField(_l("ОГРН"), validators=[Optional(), Length(max=15)])


class SpeechForm(Form):
    participant_id = SelectField(_l("Выступающий"), coerce=_optional_int, validate_choice=False)
    paragraph_id = SelectField(_l("К какому пункту"), coerce=_optional_int, validate_choice=False)
    kind = _radio(
        _l("Вид"),
        [SelectChoice(k.value, label) for k, label in REMARK_KIND_LABELS.items()],
        _l("Выберите: предложение или замечание."),
        default="proposal",
    )
    text = TextAreaField(_l("Содержание выступления"))


class ProtocolForm(Form):
    number = StringField(
        _l("Номер протокола"),
        validators=[
            _required(_l("Укажите номер протокола.")),
            Length(max=40, message=_l("Не длиннее 40 знаков.")),
        ],
    )


class ConclusionForm(Form):
    text = TextAreaField(
        _l("Выводы по результатам"),
        description=_l(
            "Аргументированные выводы организатора: одобрить проект, "
            "доработать с учётом предложений и т. п."
        ),
        validators=[
            _required(_l("Напишите выводы по результатам обсуждения.")),
            Length(
                max=MAX_CONCLUSION_CHARS,
                message=_l("Не длиннее %(max)d знаков.", max=MAX_CONCLUSION_CHARS),
            ),
        ],
    )


class FilterForm(Form):
    class Meta:
        csrf = False

    territory = SelectField(
        _l("Муниципальное образование"), coerce=_optional_int, validate_choice=False
    )
    stage = SelectField(_l("Этап"), validate_choice=False)
