"""marshmallow schemas of the organisation / СЭД endpoints: inbox, card, СЭД registration,
workflow actions, letters filed from the СЭД, the statistics download."""

from __future__ import annotations

import marshmallow as ma
from flask_babel import lazy_gettext as _l
from flask_smorest.fields import Upload

from participation.appeals.inbox import SORTS
from participation.appeals.models import AnswerStatus, Arrival, Channel
from participation.appeals.workflow import Action, AppealState, Bucket, ReturnedFrom, SedFolder

FOLDERS = [*(b.value for b in Bucket), *(f.value for f in SedFolder)]
PAGE_MAX = 100
ID = {"validate": ma.validate.Range(min=1, max=2**31 - 1, error=_l("Номер от 1."))}


def _values(enum_cls) -> list[str]:
    return [m.value for m in enum_cls]


# --- the inbox ---------------------------------------------------------------------------------


class InboxQuery(ma.Schema):
    folder = ma.fields.String(
        load_default=Bucket.NEW.value,
        validate=ma.validate.OneOf(FOLDERS),
        metadata={
            "description": (
                "Папка: new «Новые», in_work «В работе», answered «Подготовлен ответ», "
                "approval «На согласовании», returned «Возвращены», postponed «Отложенные», "
                "redirected «Перенаправленные», done «Отработанные»; sed_in_work и "
                "sed_answered — «Отправлено в СЭД»: в работе / получен ответ (зарегистрированные "
                "в СЭД этой организации; такое сообщение остаётся и в своей папке)."
            )
        },
    )
    due_before = ma.fields.Date(metadata={"description": "Срок ответа до этой даты (включительно)"})
    overdue = ma.fields.Boolean(
        load_default=False, metadata={"description": "Только с истекшим сроком ответа"}
    )
    auto = ma.fields.Boolean(
        load_default=False, metadata={"description": "Только делегированные автоправилами"}
    )
    channel = ma.fields.String(
        validate=ma.validate.OneOf(_values(Channel)),
        metadata={"description": "Источник поступления"},
    )
    stage = ma.fields.String(
        validate=ma.validate.OneOf(_values(Arrival)),
        metadata={"description": "Стадия поступления (from_sed — «Из СЭД»)"},
    )
    sed_registered = ma.fields.Boolean(
        metadata={
            "description": (
                "true — только зарегистрированные в СЭД этой организации, false — только ещё "
                "не зарегистрированные (так СЭД забирает новые: folder=new&sed_registered=false)"
            )
        }
    )
    q = ma.fields.String(
        validate=ma.validate.Length(max=200),
        metadata={"description": "Поиск по тексту или номеру сообщения"},
    )
    sort = ma.fields.String(
        load_default="received",
        validate=ma.validate.OneOf(SORTS),
        metadata={
            "description": (
                "received — по времени поступления, старые первыми (по умолчанию: новые "
                "сообщения всегда оказываются в конце, курсор их не пропустит); "
                "received_desc — новые первыми; due — по сроку ответа (срок может сдвинуться, "
                "например при переносе: такое сообщение займёт новое место в порядке)."
            )
        },
    )
    limit = ma.fields.Integer(
        load_default=50,
        validate=ma.validate.Range(min=1, max=PAGE_MAX),
        metadata={"description": "Сколько сообщений на странице (1–100)"},
    )
    cursor = ma.fields.String(
        validate=ma.validate.Length(min=1, max=500),
        metadata={
            "description": (
                "Непрозрачный курсор `next_cursor` предыдущей страницы. Действует только с "
                "теми же папкой, фильтрами и сортировкой."
            )
        },
    )


class RefOut(ma.Schema):
    id = ma.fields.Integer(required=True)
    name = ma.fields.String(required=True)


class TopicOut(ma.Schema):
    id = ma.fields.Integer(required=True)
    code = ma.fields.String(required=True)
    name = ma.fields.String(required=True)


class SedOut(ma.Schema):
    number = ma.fields.String(required=True, metadata={"description": "Номер в СЭД"})
    date = ma.fields.Date(required=True, metadata={"description": "Дата регистрации в СЭД"})
    organization = ma.fields.Nested(RefOut, required=True)
    registered_at = ma.fields.AwareDateTime(
        required=True, metadata={"description": "Когда платформе сообщили о регистрации"}
    )


class HandoffOut(ma.Schema):
    at = ma.fields.AwareDateTime(required=True)
    to_organization = ma.fields.Nested(RefOut, required=True)
    reason = ma.fields.String(required=True, allow_none=True)


class MessageOut(ma.Schema):
    """A message as a line of the inbox shows it."""

    id = ma.fields.Integer(required=True)
    number = ma.fields.String(required=True, metadata={"description": "Номер сообщения"})
    state = ma.fields.String(required=True, metadata={"enum": _values(AppealState)})
    state_label = ma.fields.String(required=True)
    bucket = ma.fields.String(
        required=True,
        metadata={"enum": _values(Bucket), "description": "Папка по ходу работы"},
    )
    category = ma.fields.Nested(TopicOut, required=True)
    subcategory = ma.fields.Nested(TopicOut, required=True)
    fast_track = ma.fields.Boolean(required=True)
    channel = ma.fields.String(required=True, metadata={"enum": _values(Channel)})
    arrival = ma.fields.String(required=True, metadata={"enum": _values(Arrival)})
    auto_routed = ma.fields.Boolean(required=True)
    returned_from = ma.fields.String(
        required=True, allow_none=True, metadata={"enum": [*_values(ReturnedFrom), None]}
    )
    text = ma.fields.String(required=True)
    address = ma.fields.String(required=True, allow_none=True)
    territory = ma.fields.Nested(RefOut, required=True)
    applicant_region = ma.fields.Nested(RefOut, required=True, allow_none=True)
    executor_organization = ma.fields.Nested(RefOut, required=True)
    registered_at = ma.fields.AwareDateTime(required=True)
    answer_due_at = ma.fields.AwareDateTime(required=True)
    coordination_due_at = ma.fields.AwareDateTime(
        required=True,
        allow_none=True,
        metadata={"description": "Срок координации, пока исполнитель не назначен"},
    )
    overdue = ma.fields.Boolean(required=True)
    sed = ma.fields.Nested(SedOut, required=True, allow_none=True)
    handoff = ma.fields.Nested(
        HandoffOut,
        required=True,
        allow_none=True,
        metadata={"description": "В папке «Перенаправленные»: куда и когда передано"},
    )


class InboxPageOut(ma.Schema):
    folder = ma.fields.String(required=True, metadata={"enum": FOLDERS})
    items = ma.fields.List(ma.fields.Nested(MessageOut), required=True)
    next_cursor = ma.fields.String(
        required=True,
        allow_none=True,
        metadata={"description": "Курсор следующей страницы; null — дальше сообщений нет"},
    )


class FolderOut(ma.Schema):
    folder = ma.fields.String(required=True, metadata={"enum": FOLDERS})
    title = ma.fields.String(required=True)
    count = ma.fields.Integer(required=True)
    capped = ma.fields.Boolean(
        required=True, metadata={"description": "Больше 10 000: показано 10 001"}
    )
    group = ma.fields.String(
        required=True,
        allow_none=True,
        metadata={"description": "Группа папок: «Отправлено в СЭД» для sed_*"},
    )


class FoldersOut(ma.Schema):
    folders = ma.fields.List(ma.fields.Nested(FolderOut), required=True)


class ExecutorsOut(ma.Schema):
    executors = ma.fields.List(ma.fields.Nested(RefOut), required=True)


# --- the card ----------------------------------------------------------------------------------


class FileOut(ma.Schema):
    id = ma.fields.String(required=True, metadata={"description": "Публичный номер файла"})
    name = ma.fields.String(required=True)
    content_type = ma.fields.String(required=True)
    size = ma.fields.Integer(required=True)
    url = ma.fields.String(required=True, metadata={"description": "Скачать с тем же ключом"})


class ApplicantOut(ma.Schema):
    name = ma.fields.String(required=True)
    phone = ma.fields.String(
        required=True, allow_none=True, metadata={"description": "Для писем оператора и СЭД"}
    )


class AnswerOut(ma.Schema):
    id = ma.fields.Integer(required=True)
    status = ma.fields.String(required=True, metadata={"enum": _values(AnswerStatus)})
    text = ma.fields.String(required=True)
    author = ma.fields.String(required=True)
    created_at = ma.fields.AwareDateTime(required=True)
    decided_at = ma.fields.AwareDateTime(required=True, allow_none=True)
    remarks = ma.fields.String(required=True, allow_none=True)
    files = ma.fields.List(ma.fields.Nested(FileOut), required=True)


class EventOut(ma.Schema):
    at = ma.fields.AwareDateTime(required=True)
    action = ma.fields.String(required=True)
    label = ma.fields.String(required=True)
    actor_role = ma.fields.String(required=True)
    actor = ma.fields.String(required=True, allow_none=True)
    organization = ma.fields.String(required=True, allow_none=True)
    from_state = ma.fields.String(required=True, allow_none=True)
    to_state = ma.fields.String(required=True)
    comment = ma.fields.String(required=True, allow_none=True)


class RatingOut(ma.Schema):
    score = ma.fields.Integer(required=True)
    comment = ma.fields.String(required=True, allow_none=True)


class ActionOut(ma.Schema):
    action = ma.fields.String(required=True, metadata={"enum": _values(Action)})
    label = ma.fields.String(required=True)
    path = ma.fields.String(required=True, metadata={"description": "POST сюда"})


class MessageCardOut(MessageOut):
    """The message as the staff card shows it, plus what this key may do with it now."""

    applicant = ma.fields.Nested(ApplicantOut, required=True)
    latitude = ma.fields.Float(required=True, allow_none=True)
    longitude = ma.fields.Float(required=True, allow_none=True)
    holder_organization = ma.fields.Nested(RefOut, required=True)
    executor = ma.fields.Nested(RefOut, required=True, allow_none=True)
    postponed_until = ma.fields.AwareDateTime(required=True, allow_none=True)
    postponement_reason = ma.fields.String(required=True, allow_none=True)
    answered_at = ma.fields.AwareDateTime(required=True, allow_none=True)
    closed_at = ma.fields.AwareDateTime(required=True, allow_none=True)
    files = ma.fields.List(ma.fields.Nested(FileOut), required=True)
    answers = ma.fields.List(ma.fields.Nested(AnswerOut), required=True)
    rating = ma.fields.Nested(RatingOut, required=True, allow_none=True)
    history = ma.fields.List(ma.fields.Nested(EventOut), required=True)
    actions = ma.fields.List(
        ma.fields.Nested(ActionOut),
        required=True,
        metadata={"description": "Действия, доступные этому ключу сейчас"},
    )


# --- writes ------------------------------------------------------------------------------------


class SedRegistrationIn(ma.Schema):
    number = ma.fields.String(
        required=True, metadata={"description": "Регистрационный номер в СЭД (до 64 символов)"}
    )
    date = ma.fields.Date(required=True, metadata={"description": "Дата регистрации в СЭД"})


class _Expected(ma.Schema):
    state = ma.fields.String(
        validate=ma.validate.OneOf(_values(AppealState)),
        metadata={
            "description": (
                "Состояние, в котором клиент видел сообщение: если оно уже другое — 409, "
                "ничего не меняется"
            )
        },
    )


class AssignIn(_Expected):
    executor_id = ma.fields.Integer(
        **ID,
        metadata={
            "description": (
                "Исполнитель из GET /org/executors; без него сообщение берёт в работу "
                "технический сотрудник ключа"
            )
        },
    )
    comment = ma.fields.String(validate=ma.validate.Length(max=2000))


class ReassignIn(_Expected):
    executor_id = ma.fields.Integer(required=True, **ID)
    comment = ma.fields.String(validate=ma.validate.Length(max=2000))


class PostponeIn(_Expected):
    until = ma.fields.Date(required=True, metadata={"description": "Новая дата ответа"})
    reason = ma.fields.String(
        required=True,
        validate=ma.validate.Length(max=2000),
        metadata={"description": "Почему не удаётся решить в срок (увидит заявитель)"},
    )


class ResumeIn(_Expected):
    comment = ma.fields.String(validate=ma.validate.Length(max=2000))


class RedirectIn(_Expected):
    organization_id = ma.fields.Integer(required=True, **ID)
    reason = ma.fields.String(required=True, validate=ma.validate.Length(max=2000))


class AnswerIn(_Expected):
    text = ma.fields.String(required=True, metadata={"description": "Текст ответа заявителю"})
    files = ma.fields.List(
        Upload(),
        metadata={"description": "Фото (JPEG, PNG, WEBP, HEIC) или PDF, до 5 файлов"},
    )


class FileLetterIn(ma.Schema):
    """A letter registered in the organization's СЭД first, filed on the operator channel."""

    sed_number = ma.fields.String(required=True, metadata={"description": "Номер в СЭД"})
    sed_date = ma.fields.Date(required=True, metadata={"description": "Дата регистрации в СЭД"})
    applicant_name = ma.fields.String(
        required=True, metadata={"description": "ФИО заявителя, как в письме"}
    )
    applicant_phone = ma.fields.String(metadata={"description": "Телефон (или e-mail)"})
    applicant_email = ma.fields.String(
        metadata={"description": "E-mail: туда придёт ответ со ссылкой для оценки"}
    )
    subcategory_id = ma.fields.Integer(required=True, **ID)
    territory_id = ma.fields.Integer(required=True, **ID)
    text = ma.fields.String(required=True)
    address = ma.fields.String()
    latitude = ma.fields.Decimal(places=6, allow_nan=False)
    longitude = ma.fields.Decimal(places=6, allow_nan=False)
    files = ma.fields.List(Upload(), metadata={"description": "Скан письма, фото: до 5 файлов"})


# --- statistics --------------------------------------------------------------------------------


class StatisticsQuery(ma.Schema):
    start = ma.fields.Date(metadata={"description": "С даты (по умолчанию — с 1-го числа месяца)"})
    end = ma.fields.Date(metadata={"description": "По дату (по умолчанию — сегодня)"})
    region = ma.fields.Integer(
        **ID,
        metadata={"description": "Регион — только для федеральных организаций (без региона)"},
    )
