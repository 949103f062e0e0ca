"""marshmallow schemas of the geography endpoints of /api/v1 (nearby messages, locate a point)."""

from __future__ import annotations

import marshmallow as ma
from flask_babel import lazy_gettext as _l

from participation.geo.services import NEARBY_DAYS, NEARBY_MAX_RADIUS_M, NEARBY_RADIUS_M


def _degrees(limit: int, what: str, error) -> ma.fields.Float:
    return ma.fields.Float(
        required=True,
        allow_nan=False,
        validate=ma.validate.Range(min=-limit, max=limit, error=error),
        error_messages={"invalid": error, "special": error, "required": error},
        metadata={"description": f"{what}, градусы WGS 84", "minimum": -limit, "maximum": limit},
    )


LAT_ERROR = _l("Широта — число от −90 до 90 градусов.")
LON_ERROR = _l("Долгота — число от −180 до 180 градусов.")
RADIUS_ERROR = _l("Радиус — целое число метров от 1 до %(max)d.", max=NEARBY_MAX_RADIUS_M)


class PointQuery(ma.Schema):
    lat = _degrees(90, "Широта", LAT_ERROR)
    lon = _degrees(180, "Долгота", LON_ERROR)


class NearbyQuery(PointQuery):
    radius = ma.fields.Integer(
        strict=False,
        load_default=None,
        validate=ma.validate.Range(min=1, max=NEARBY_MAX_RADIUS_M, error=RADIUS_ERROR),
        error_messages={"invalid": RADIUS_ERROR},
        metadata={
            "description": (
                "Радиус поиска, метров, от 1 до 2000. Без него — радиус подкатегории, "
                f"заданный в классификаторе, а если он не задан — {NEARBY_RADIUS_M}"
            )
        },
    )
    service_code = ma.fields.String(
        required=True,
        validate=ma.validate.Length(min=1, max=64, error=_l("Укажите код услуги (подкатегории).")),
        error_messages={"required": _l("Укажите код услуги (подкатегории).")},
        metadata={"description": "Код услуги Open311 — код подкатегории сообщения"},
    )


class LocateQuery(PointQuery):
    region = ma.fields.Integer(
        required=True,
        strict=False,
        validate=ma.validate.Range(min=1, max=2**31 - 1, error=_l("Номер региона от 1.")),
        error_messages={"required": _l("Укажите регион."), "invalid": _l("Номер региона от 1.")},
        metadata={"description": "Регион (номер территории уровня субъекта РФ)"},
    )


class NearbyMessageOut(ma.Schema):
    id = ma.fields.Integer(required=True)
    number = ma.fields.String(required=True, metadata={"description": "Номер сообщения"})
    service_code = ma.fields.String(required=True)
    service_name = ma.fields.String(required=True)
    related = ma.fields.Boolean(
        required=True,
        metadata={"description": "Другая подкатегория той же категории (не та же самая)"},
    )
    state = ma.fields.String(required=True)
    state_label = ma.fields.String(required=True, metadata={"description": "Статус для жителя"})
    distance = ma.fields.Integer(required=True, metadata={"description": "Расстояние, метров"})
    registered_on = ma.fields.Date(required=True, metadata={"description": "Дата регистрации"})


class NearbyOut(ma.Schema):
    radius = ma.fields.Integer(
        required=True, metadata={"description": "Радиус, по которому искали, метров"}
    )
    days = ma.fields.Integer(
        required=True, metadata={"description": f"Глубина поиска, дней ({NEARBY_DAYS})"}
    )
    service_code = ma.fields.String(required=True)
    messages = ma.fields.List(ma.fields.Nested(NearbyMessageOut), required=True)


class MunicipalityOut(ma.Schema):
    id = ma.fields.Integer(required=True)
    name = ma.fields.String(required=True)


class LocatedTerritoryOut(ma.Schema):
    id = ma.fields.Integer(required=True)
    name = ma.fields.String(required=True)
    oktmo = ma.fields.String(required=True)
    municipality = ma.fields.Nested(
        MunicipalityOut,
        required=True,
        allow_none=True,
        metadata={"description": "Муниципальное образование (городской округ или район)"},
    )


class LocateOut(ma.Schema):
    territory = ma.fields.Nested(LocatedTerritoryOut, required=True)
    method = ma.fields.String(
        required=True,
        metadata={
            "description": "boundary — по границе территории, nearest — по ближайшему центру"
        },
    )


class ReverseOut(ma.Schema):
    address = ma.fields.String(
        required=True,
        allow_none=True,
        metadata={
            "description": (
                "Адрес точки по данным геокодера, или null: геокодер не настроен, по точке "
                "ничего не нашлось или он не ответил"
            )
        },
    )
    enabled = ma.fields.Boolean(
        required=True, metadata={"description": "Настроен ли геокодер (GEOCODER_URL)"}
    )
