"""marshmallow schemas of the geography endpoints of /api/v1 (nearby, locate, public map)."""

from __future__ import annotations

import marshmallow as ma
from flask_babel import lazy_gettext as _l

from participation.geo.map_data import MAP_MAX_LIMIT, MAP_POINT_LIMIT, STATUS_GROUPS
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


BBOX_ERROR = _l(
    "Область карты (bbox) — четыре числа через запятую: юг, запад, север, восток "
    "(широта от −90 до 90, долгота от −180 до 180, юг не севернее севера, запад не "
    "восточнее востока)."
)
LIMIT_ERROR = _l("Число точек (limit) — целое от 1 до %(max)d.", max=MAP_MAX_LIMIT)


class MapQuery(ma.Schema):
    bbox = ma.fields.String(
        required=True,
        validate=ma.validate.Length(min=7, max=200, error=BBOX_ERROR),
        error_messages={"required": BBOX_ERROR, "invalid": BBOX_ERROR},
        metadata={
            "description": "Видимая область карты: юг,запад,север,восток (градусы WGS 84)",
            "example": "54.65,55.85,54.85,56.15",
        },
    )
    limit = ma.fields.Integer(
        strict=False,
        load_default=MAP_POINT_LIMIT,
        validate=ma.validate.Range(min=1, max=MAP_MAX_LIMIT, error=LIMIT_ERROR),
        error_messages={"invalid": LIMIT_ERROR},
        metadata={"description": f"Не больше точек (по умолчанию {MAP_POINT_LIMIT})"},
    )


class MapPointOut(ma.Schema):
    id = ma.fields.Integer(required=True, metadata={"description": "Номер сообщения"})
    lat = ma.fields.Float(required=True, metadata={"description": "Широта, округлена до 0,0001°"})
    lon = ma.fields.Float(required=True, metadata={"description": "Долгота, округлена до 0,0001°"})
    status = ma.fields.String(
        required=True,
        metadata={"description": "Группа статусов", "enum": list(STATUS_GROUPS)},
    )
    status_label = ma.fields.String(required=True)
    category = ma.fields.String(required=True)
    subcategory = ma.fields.String(required=True)
    text = ma.fields.String(
        required=True,
        allow_none=True,
        metadata={"description": "Текст (e-mail и телефоны скрыты), если регион публикует тексты"},
    )
    address = ma.fields.String(
        required=True,
        allow_none=True,
        metadata={"description": "Адрес проблемы, если регион публикует тексты"},
    )


class MapStatusOut(ma.Schema):
    code = ma.fields.String(required=True)
    label = ma.fields.String(required=True)


class PlainList(ma.fields.List):
    """A list of dicts the view already built from plain values: documented like a List of its
    inner schema, dumped as it is (marshmallow would spend ~5 ms on 500 nested points)."""

    def _serialize(self, value, attr, obj, **kwargs):
        return value


class MapOut(ma.Schema):
    region = ma.fields.Nested(MunicipalityOut, required=True)
    texts_published = ma.fields.Boolean(required=True)
    limit = ma.fields.Integer(required=True)
    capped = ma.fields.Boolean(
        required=True,
        metadata={"description": "В области больше точек, чем limit: показаны не все"},
    )
    statuses = ma.fields.List(ma.fields.Nested(MapStatusOut), required=True)
    points = PlainList(ma.fields.Nested(MapPointOut), required=True)
