"""Fields the resident API's schemas share: storable text and ids, coordinates, page cursors."""

from __future__ import annotations

import base64
import binascii
import json
from datetime import UTC, datetime
from typing import Any, ClassVar

import marshmallow as ma
from flask_babel import lazy_gettext as _l

from participation.appeals.forms import parse_coordinate
from participation.appeals.workflow import AppealState
from participation.core.limits import DB_INT_MAX, NUL_REFUSED

STATE_CODES = [s.value for s in AppealState]


def _no_nul(value: str) -> None:
    if "\x00" in value:
        raise ma.ValidationError(str(NUL_REFUSED))


class Text(ma.fields.String):
    """A string the database can store (no NUL byte)."""

    def __init__(self, **kwargs: Any) -> None:
        validators = kwargs.pop("validate", None)
        extra = validators if isinstance(validators, list | tuple) else [validators]
        super().__init__(validate=[_no_nul, *(v for v in extra if v)], **kwargs)


class DbId(ma.fields.Integer):
    """An id a key column can hold: 1 … 2**31 − 1 (form fields arrive as text)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(
            strict=False,
            validate=ma.validate.Range(
                min=1, max=DB_INT_MAX, error=_l("Номер от 1 до %(max)s.", max=DB_INT_MAX)
            ),
            **kwargs,
        )

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> int:
        if isinstance(value, bool | float):
            raise self.make_error("invalid")
        return super()._deserialize(value, attr, data, **kwargs)


class Coordinate(ma.fields.Field):
    """A coordinate as the web form takes it: «54.7388» or «54,7388» (the same messages)."""

    def __init__(self, **kwargs: Any) -> None:
        metadata = {"type": "string", "pattern": r"^-?\d{1,3}([.,]\d+)?$"}
        super().__init__(metadata={**metadata, **kwargs.pop("metadata", {})}, **kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        if not isinstance(value, str | int | float) or isinstance(value, bool):
            raise ma.ValidationError(str(_l("Введите число, например 54.7388.")))
        try:
            return parse_coordinate(str(value), attr or "")
        except ValueError as exc:
            raise ma.ValidationError(str(exc)) from None


def encode_cursor(moment: datetime, row_id: int) -> str:
    """An opaque page cursor: the sort key of the last row shown (newest first)."""
    raw = json.dumps([moment.isoformat(), row_id]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


class Cursor(ma.fields.String):
    """A cursor from `encode_cursor`, read back as (moment, id)."""

    default_error_messages: ClassVar[dict[str, Any]] = {
        "cursor": _l("Неверный курсор: возьмите next_cursor из предыдущего ответа."),
    }

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        text = super()._deserialize(value, attr, data, **kwargs)
        try:
            moment, row_id = json.loads(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))
            parsed = datetime.fromisoformat(moment)
            if parsed.tzinfo is None:
                raise ValueError("a cursor's moment is always aware")
            moment = parsed.astimezone(UTC)
        except (ValueError, TypeError, OverflowError, binascii.Error, UnicodeDecodeError):
            raise self.make_error("cursor") from None
        if isinstance(row_id, bool) or not isinstance(row_id, int) or not 0 < row_id <= DB_INT_MAX:
            raise self.make_error("cursor")
        return moment, row_id
