"""marshmallow schemas of the resident API's votes, ballots and surveys."""

from __future__ import annotations

import math
from typing import Any, ClassVar

import marshmallow as ma
from flask_babel import lazy_gettext as _l

from participation.api.resident_fields import DbId, Text
from participation.api.resident_schemas import CodeLabelOut
from participation.api.schemas import PageOut, RefOut

STATUSES = ("open", "upcoming", "closed")


class ListQuery(ma.Schema):
    page = ma.fields.Integer(
        load_default=1,
        validate=ma.validate.Range(min=1, max=10_000, error=_l("Номер страницы от 1.")),
    )
    size = ma.fields.Integer(
        load_default=20,
        validate=ma.validate.Range(min=1, max=100, error=_l("От 1 до 100.")),
        metadata={"description": "Сколько записей на странице (1–100)"},
    )


class CampaignQuery(ListQuery):
    status = ma.fields.String(
        validate=ma.validate.OneOf(STATUSES),
        metadata={"description": "open — идут, upcoming — скоро, closed — завершены; без — все"},
    )


class EligibilityOut(ma.Schema):
    allowed = ma.fields.Boolean(required=True, metadata={"description": "Можно участвовать"})
    code = ma.fields.String(
        required=True,
        allow_none=True,
        metadata={
            "description": (
                "Почему нельзя: closed, not_started, already_voted, answered, level, "
                "too_young, too_old, no_birth_date, no_registration, territory, legal_entity, "
                "gender, no_district"
            )
        },
    )
    reason = ma.fields.String(required=True, allow_none=True, metadata={"description": "По-русски"})
    rule = ma.fields.String(required=True, metadata={"description": "Кто может участвовать"})


# --- votes --------------------------------------------------------------------------------------


class CampaignSummaryOut(ma.Schema):
    id = ma.fields.Integer(required=True)
    title = ma.fields.String(required=True)
    kind = ma.fields.Nested(CodeLabelOut, required=True)
    status = ma.fields.Nested(CodeLabelOut, required=True)
    opens_at = ma.fields.AwareDateTime(required=True)
    closes_at = ma.fields.AwareDateTime(required=True)
    timezone = ma.fields.String(required=True)
    territory = ma.fields.Nested(RefOut, required=True)
    organization = ma.fields.Nested(RefOut, required=True)
    voted = ma.fields.Boolean(required=True, metadata={"description": "Я уже проголосовал"})
    eligibility = ma.fields.Nested(EligibilityOut, required=True)


class CampaignListOut(PageOut):
    items = ma.fields.List(ma.fields.Nested(CampaignSummaryOut), required=True)


class VotingObjectOut(ma.Schema):
    id = ma.fields.Integer(required=True)
    number = ma.fields.Integer(required=True)
    title = ma.fields.String(required=True)
    description = ma.fields.String(required=True)
    address = ma.fields.String(required=True, allow_none=True)
    latitude = ma.fields.Float(required=True, allow_none=True)
    longitude = ma.fields.Float(required=True, allow_none=True)
    cost = ma.fields.Integer(required=True, allow_none=True, metadata={"description": "Рублей"})


class CampaignOut(CampaignSummaryOut):
    rules_text = ma.fields.String(required=True)
    rule = ma.fields.String(required=True, metadata={"description": "Как заполнять бюллетень"})
    ballot_rule = ma.fields.Nested(CodeLabelOut, required=True)
    max_choices = ma.fields.Integer(required=True, allow_none=True)
    budget_limit = ma.fields.Integer(required=True, allow_none=True)
    allow_revote = ma.fields.Boolean(required=True)
    turnout = ma.fields.Integer(required=True, allow_none=True)
    district = ma.fields.Nested(RefOut, required=True, allow_none=True)
    objects = ma.fields.List(
        ma.fields.Nested(VotingObjectOut),
        required=True,
        metadata={"description": "Объекты моего бюллетеня"},
    )


class BallotIn(ma.Schema):
    object_ids = ma.fields.List(
        DbId(),
        required=True,
        validate=ma.validate.Length(max=1000, error=_l("Не больше {max} объектов.")),
        metadata={"description": "Выбранные объекты бюллетеня"},
    )
    receipt_code = Text(
        validate=ma.validate.Length(max=40),
        metadata={"description": "Код квитанции: переголосовать, если голосование это разрешает"},
    )


class ObjectRefOut(ma.Schema):
    id = ma.fields.Integer(required=True)
    number = ma.fields.Integer(required=True)
    title = ma.fields.String(required=True)


class MyBallotOut(ma.Schema):
    id = ma.fields.Integer(required=True, metadata={"description": "Отметка в реестре"})
    campaign = ma.fields.Nested(RefOut, required=True)
    voted_on = ma.fields.Date(required=True)
    channel = ma.fields.Nested(CodeLabelOut, required=True)
    can_revote = ma.fields.Boolean(required=True)


class MyBallotListOut(PageOut):
    items = ma.fields.List(ma.fields.Nested(MyBallotOut), required=True)


class ReceiptOut(ma.Schema):
    receipt_code = ma.fields.String(
        required=True,
        metadata={"description": "Код квитанции: показывается один раз, на сервере не хранится"},
    )
    note = ma.fields.String(required=True)
    objects = ma.fields.List(ma.fields.Nested(ObjectRefOut), required=True)
    ballot = ma.fields.Nested(MyBallotOut, required=True)


# --- surveys ------------------------------------------------------------------------------------


class SurveyQuery(ListQuery):
    pass


class SurveySummaryOut(ma.Schema):
    id = ma.fields.Integer(required=True)
    title = ma.fields.String(required=True)
    description = ma.fields.String(required=True)
    organization = ma.fields.Nested(RefOut, required=True)
    status = ma.fields.Nested(CodeLabelOut, required=True)
    starts_at = ma.fields.AwareDateTime(required=True)
    ends_at = ma.fields.AwareDateTime(required=True)
    anonymous = ma.fields.Boolean(required=True)
    answered = ma.fields.Boolean(required=True)
    eligibility = ma.fields.Nested(EligibilityOut, required=True)


class SurveyListOut(PageOut):
    items = ma.fields.List(ma.fields.Nested(SurveySummaryOut), required=True)


class OptionOut(ma.Schema):
    id = ma.fields.Integer(required=True)
    text = ma.fields.String(required=True)
    is_other = ma.fields.Boolean(required=True)


class ConditionOut(ma.Schema):
    question_id = ma.fields.Integer(required=True)
    option_ids = ma.fields.List(ma.fields.Integer(), required=True)


class QuestionOut(ma.Schema):
    id = ma.fields.Integer(required=True)
    number = ma.fields.Integer(required=True)
    kind = ma.fields.String(
        required=True,
        validate=ma.validate.OneOf(
            ["single", "multiple", "text", "number", "date", "scale", "matrix", "ranking"]
        ),
    )
    text = ma.fields.String(required=True)
    description = ma.fields.String(required=True, allow_none=True)
    required = ma.fields.Boolean(required=True)
    max_choices = ma.fields.Integer(required=True, allow_none=True)
    max_length = ma.fields.Integer(required=True, allow_none=True)
    min_value = ma.fields.Float(required=True, allow_none=True)
    max_value = ma.fields.Float(required=True, allow_none=True)
    scale_max = ma.fields.Integer(required=True, allow_none=True)
    options = ma.fields.List(ma.fields.Nested(OptionOut), required=True)
    rows = ma.fields.List(ma.fields.Nested(OptionOut), required=True)
    condition = ma.fields.Nested(
        ConditionOut,
        required=True,
        allow_none=True,
        metadata={"description": "Показывать, если в вопросе question_id выбран один из вариантов"},
    )


class SectionOut(ma.Schema):
    title = ma.fields.String(required=True)
    description = ma.fields.String(required=True, allow_none=True)
    questions = ma.fields.List(ma.fields.Nested(QuestionOut), required=True)


class SurveyOut(SurveySummaryOut):
    audience = ma.fields.String(required=True)
    sections = ma.fields.List(ma.fields.Nested(SectionOut), required=True)


class Number(ma.fields.Field):
    """A JSON number kept as given (an integer stays an integer: a scale answer is one)."""

    default_error_messages: ClassVar[dict[str, Any]] = {"invalid": _l("Ожидается число.")}

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(metadata={"type": "number", **kwargs.pop("metadata", {})}, **kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self.make_error("invalid")
        if isinstance(value, float) and not math.isfinite(value):
            raise self.make_error("invalid")
        if abs(value) >= 10**15:  # as the form reads numbers: up to 15 digits
            raise self.make_error("invalid")
        return value


class SurveyAnswerIn(ma.Schema):
    """One answer, in the shape its question's kind takes (see the operation's description)."""

    class Meta:
        unknown = ma.RAISE

    o = ma.fields.List(
        ma.fields.Integer(strict=True), metadata={"description": "single/multiple: варианты"}
    )
    other = Text(metadata={"description": "Текст к варианту «Другое»"})
    t = Text(metadata={"description": "text: ответ"})
    n = Number(metadata={"description": "number, scale: число"})
    d = Text(metadata={"description": "date: ГГГГ-ММ-ДД"})
    m = ma.fields.Dict(
        keys=ma.fields.String(),
        values=ma.fields.Integer(strict=True),
        metadata={"description": "matrix: строка → вариант"},
    )
    r = ma.fields.Dict(
        keys=ma.fields.String(),
        values=ma.fields.Integer(strict=True),
        metadata={"description": "ranking: вариант → место"},
    )


class AnswersField(ma.fields.Dict):
    """Question id → answer; errors named "<id>.<part>" (not marshmallow's "<id>.value.…")."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        try:
            return super()._deserialize(value, attr, data, **kwargs)
        except ma.ValidationError as exc:
            messages = exc.messages
            if not isinstance(messages, dict):
                raise
            flat: dict[Any, Any] = {}
            for key, parts in messages.items():
                if isinstance(parts, dict) and set(parts) <= {"key", "value"}:
                    parts = parts.get("key") or parts["value"]  # a bad key: its value is moot
                flat[key] = parts
            raise ma.ValidationError(flat) from None


class ResponseIn(ma.Schema):
    answers = AnswersField(
        keys=ma.fields.String(
            validate=ma.validate.Regexp(r"^[1-9]\d{0,9}$", error=_l("Ключ — номер вопроса."))
        ),
        values=ma.fields.Nested(SurveyAnswerIn),
        required=True,
        metadata={"description": "Номер вопроса → ответ"},
    )


class ResponseOut(ma.Schema):
    survey_id = ma.fields.Integer(required=True)
    answered_on = ma.fields.Date(required=True)
    message = ma.fields.String(required=True)
