"""marshmallow schemas of the resident API's messages, topic suggestions and notifications.

Input schemas check types and shapes only; the rules (lengths, topics, territories, files,
scores) are the services' own, with the same Russian messages as the web form.
"""

from __future__ import annotations

import marshmallow as ma
from flask_babel import lazy_gettext as _l

from participation.api.multipart import Upload
from participation.api.resident_fields import (
    STATE_CODES,
    Coordinate,
    Cursor,
    DbId,
    Text,
)
from participation.api.schemas import FileOut, RefOut


class PageQuery(ma.Schema):
    cursor = Cursor(
        metadata={"description": "Курсор следующей страницы (next_cursor предыдущего ответа)"}
    )
    limit = ma.fields.Integer(
        load_default=20,
        validate=ma.validate.Range(min=1, max=100, error=_l("От 1 до 100.")),
        metadata={"description": "Сколько записей на странице (1–100, по умолчанию 20)"},
    )


# --- messages: input ----------------------------------------------------------------------------


class SubmitAppealIn(ma.Schema):
    """The message form as multipart/form-data: the web form's fields and its photos."""

    subcategory_id = DbId(required=True, metadata={"description": "Тема (подкатегория)"})
    text = Text(required=True, metadata={"description": "Описание проблемы"})
    territory_id = DbId(
        required=True, metadata={"description": "Муниципальное образование проблемы"}
    )
    address = Text(metadata={"description": "Адрес проблемы (или точка на карте)"})
    latitude = Coordinate(metadata={"description": "Широта точки, например 54.7388"})
    longitude = Coordinate(metadata={"description": "Долгота точки, например 55.9721"})
    attachments = ma.fields.List(
        Upload(),
        metadata={"description": "Фотографии (JPEG, PNG, WEBP, HEIC) или PDF; можно несколько"},
    )


class SuggestIn(ma.Schema):
    text = Text(
        required=True,
        validate=ma.validate.Length(max=5000, error=_l("Не длиннее {max} символов.")),
        metadata={"description": "Текст сообщения, по которому подобрать тему"},
    )


class RatingIn(ma.Schema):
    score = ma.fields.Integer(
        required=True,
        strict=True,
        validate=ma.validate.Range(min=1, max=5, error=_l("Поставьте оценку от 1 до 5.")),
        metadata={"description": "Оценка ответа от 1 до 5; 1 или 2 — на рассмотрение выше"},
    )
    comment = Text(allow_none=True, metadata={"description": "Комментарий (необязательно)"})


class ReworkIn(ma.Schema):
    comment = Text(required=True, metadata={"description": "Что не так с ответом"})


class MarkReadIn(ma.Schema):
    up_to_id = DbId(
        metadata={
            "description": (
                "Отметить прочитанными уведомления с номером не больше этого "
                "(без поля — все); пришедшие позже останутся новыми"
            )
        }
    )


# --- messages: output ---------------------------------------------------------------------------


class CodeLabelOut(ma.Schema):
    code = ma.fields.String(required=True)
    label = ma.fields.String(required=True, metadata={"description": "По-русски"})


class StatusOut(CodeLabelOut):
    code = ma.fields.String(required=True, validate=ma.validate.OneOf(STATE_CODES))


class DeadlineOut(ma.Schema):
    answer_due_at = ma.fields.AwareDateTime(
        required=True, allow_none=True, metadata={"description": "Срок ответа (null: не ведётся)"}
    )
    term_days = ma.fields.Integer(required=True)
    fast_track = ma.fields.Boolean(required=True)
    overdue = ma.fields.Boolean(required=True)
    countdown = ma.fields.String(
        required=True,
        allow_none=True,
        metadata={"description": "«9 дней 3 часа 57 минут / до 26.06.2026», пока идёт работа"},
    )
    postponed_until = ma.fields.AwareDateTime(required=True, allow_none=True)
    postponement_reason = ma.fields.String(required=True, allow_none=True)


class HistoryItemOut(ma.Schema):
    at = ma.fields.AwareDateTime(required=True)
    action = ma.fields.String(required=True)
    label = ma.fields.String(required=True)
    details = ma.fields.String(required=True, allow_none=True)
    comment = ma.fields.String(required=True, allow_none=True)


class AnswerOut(ma.Schema):
    text = ma.fields.String(required=True)
    organization = ma.fields.Nested(RefOut, required=True)
    answered_at = ma.fields.AwareDateTime(required=True)
    files = ma.fields.List(ma.fields.Nested(FileOut), required=True)


class RatingOut(ma.Schema):
    score = ma.fields.Integer(required=True)
    comment = ma.fields.String(required=True, allow_none=True)
    created_at = ma.fields.AwareDateTime(required=True)


class ReviewOut(ma.Schema):
    id = ma.fields.Integer(required=True)
    number = ma.fields.String(required=True)
    organization = ma.fields.Nested(RefOut, required=True)


class ActionsOut(ma.Schema):
    can_rate = ma.fields.Boolean(required=True)
    can_return_for_rework = ma.fields.Boolean(required=True)


class AppealSummaryOut(ma.Schema):
    id = ma.fields.Integer(required=True)
    number = ma.fields.String(required=True)
    status = ma.fields.Nested(StatusOut, required=True)
    category = ma.fields.Nested(RefOut, required=True)
    subcategory = ma.fields.Nested(RefOut, required=True)
    fast_track = ma.fields.Boolean(required=True)
    channel = ma.fields.Nested(CodeLabelOut, required=True)
    excerpt = ma.fields.String(required=True, metadata={"description": "Начало текста"})
    registered_at = ma.fields.AwareDateTime(required=True)
    answer_due_at = ma.fields.AwareDateTime(
        required=True, allow_none=True, metadata={"description": "Срок ответа, пока идёт работа"}
    )
    timezone = ma.fields.String(
        required=True, metadata={"description": "Часовой пояс организации-исполнителя"}
    )


class AppealCardOut(AppealSummaryOut):
    text = ma.fields.String(required=True)
    address = ma.fields.String(required=True, allow_none=True)
    latitude = ma.fields.Float(required=True, allow_none=True)
    longitude = ma.fields.Float(required=True, allow_none=True)
    territory = ma.fields.Nested(RefOut, required=True)
    organization = ma.fields.Nested(RefOut, required=True, metadata={"description": "Кто отвечает"})
    deadline = ma.fields.Nested(DeadlineOut, required=True)
    files = ma.fields.List(ma.fields.Nested(FileOut), required=True)
    answer = ma.fields.Nested(AnswerOut, required=True, allow_none=True)
    rating = ma.fields.Nested(RatingOut, required=True, allow_none=True)
    review = ma.fields.Nested(
        ReviewOut,
        required=True,
        allow_none=True,
        metadata={"description": "Повторное рассмотрение в вышестоящей организации"},
    )
    review_of_id = ma.fields.Integer(required=True, allow_none=True)
    actions = ma.fields.Nested(ActionsOut, required=True)
    history = ma.fields.List(ma.fields.Nested(HistoryItemOut), required=True)


class AppealListOut(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(AppealSummaryOut), required=True)
    next_cursor = ma.fields.String(required=True, allow_none=True)


class SuggestionOut(ma.Schema):
    subcategory_id = ma.fields.Integer(required=True)
    subcategory = ma.fields.String(required=True)
    category_id = ma.fields.Integer(required=True)
    category = ma.fields.String(required=True)
    fast_track = ma.fields.Boolean(required=True)
    confidence = ma.fields.Float(required=True, metadata={"description": "Уверенность, 0…1"})
    matched_terms = ma.fields.List(ma.fields.String(), required=True)


class SuggestionsOut(ma.Schema):
    selected = ma.fields.Integer(
        required=True,
        allow_none=True,
        metadata={"description": "Тема, которую форма выбрала бы сама (null — не уверены)"},
    )
    suggestions = ma.fields.List(ma.fields.Nested(SuggestionOut), required=True)


class NotificationOut(ma.Schema):
    id = ma.fields.Integer(required=True)
    title = ma.fields.String(required=True)
    body = ma.fields.String(required=True)
    link = ma.fields.String(required=True, allow_none=True)
    appeal_id = ma.fields.Integer(
        required=True, allow_none=True, metadata={"description": "Сообщение, о котором оно"}
    )
    created_at = ma.fields.AwareDateTime(required=True)
    read = ma.fields.Boolean(required=True)


class NotificationListOut(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(NotificationOut), required=True)
    next_cursor = ma.fields.String(required=True, allow_none=True)
    unread_count = ma.fields.Integer(required=True)


class MarkReadOut(ma.Schema):
    marked = ma.fields.Integer(required=True)
    unread_count = ma.fields.Integer(required=True)
