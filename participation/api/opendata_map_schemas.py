"""marshmallow schemas of the open heat map (/api/v1/open/statistics/regions/{id}/heatmap)."""

from __future__ import annotations

import marshmallow as ma
from flask_babel import lazy_gettext as _l

from participation.api.opendata_schemas import (
    MAX_ID,
    OpenPeriodOut,
    OpenPeriodQuery,
    OpenPlaceOut,
)
from participation.geo.cells import CELL_SIZES, MAX_SPAN_CELLS, MIN_COUNT

CELL_ERROR = _l("Размер ячейки — 250, 1000 или 4000 метров.")


class OpenHeatmapQuery(OpenPeriodQuery):
    cell = ma.fields.Integer(
        strict=False,
        validate=ma.validate.OneOf(CELL_SIZES, error=CELL_ERROR),
        error_messages={"invalid": CELL_ERROR},
        metadata={
            "description": (
                "Сторона ячейки, метров: 250, 1000 или 4000. По умолчанию 1000 с `bbox` и 4000 "
                "без него (без `bbox` — весь регион, только ячейки по 4000 м)."
            ),
            "enum": list(CELL_SIZES),
        },
    )
    bbox = ma.fields.String(
        validate=ma.validate.Length(max=200),
        metadata={
            "description": (
                "Область: `запад,юг,восток,север` в градусах WGS 84 (как `toBBoxString()` "
                "в Leaflet). Расширяется до целых ячеек; не больше "
                f"{MAX_SPAN_CELLS} ячеек по каждой стороне."
            ),
            "example": "55.85,54.65,56.10,54.83",
        },
    )
    category = ma.fields.Integer(
        strict=False,
        validate=ma.validate.Range(min=1, max=MAX_ID, error=_l("Номер категории от 1.")),
        metadata={"description": "Только сообщения этой категории (её номер)"},
    )


class OpenCellOut(ma.Schema):
    south = ma.fields.Float(required=True)
    west = ma.fields.Float(required=True)
    north = ma.fields.Float(required=True)
    east = ma.fields.Float(required=True)
    count = ma.fields.Integer(
        required=True,
        metadata={"description": f"Сообщений в ячейке, не меньше {MIN_COUNT}", "minimum": 5},
    )


class OpenGridOut(ma.Schema):
    cell = ma.fields.Integer(required=True, metadata={"description": "Сторона ячейки, метров"})
    lat_step = ma.fields.Float(required=True, metadata={"description": "Высота ячейки, градусов"})
    lon_step = ma.fields.Float(required=True, metadata={"description": "Ширина ячейки, градусов"})


class OpenHeatmapOut(ma.Schema):
    region = ma.fields.Nested(OpenPlaceOut, required=True)
    period = ma.fields.Nested(OpenPeriodOut, required=True)
    grid = ma.fields.Nested(OpenGridOut, required=True)
    bbox = ma.fields.List(
        ma.fields.Float(),
        required=True,
        allow_none=True,
        metadata={"description": "Область, расширенная до целых ячеек (запад, юг, восток, север)"},
    )
    min_count = ma.fields.Integer(
        required=True,
        metadata={"description": "Ячейки, где сообщений меньше, не выдаются вовсе"},
    )
    cells = ma.fields.List(ma.fields.Nested(OpenCellOut), required=True)
