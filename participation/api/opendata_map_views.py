"""Open data for maps: the heat map of a region's messages, cells of a fixed grid.

Public like the rest of /api/v1/open/: counts only, no point finer than a cell, no cell with
fewer than five messages (it is not returned at all), nothing personal.
"""

from __future__ import annotations

from datetime import date

from flask import Response, stream_with_context
from flask_babel import gettext as _

from participation.api import opendata_csv as tables
from participation.api import opendata_presenters as p
from participation.api.openapi import ApiBlueprint
from participation.api.opendata_map_schemas import OpenHeatmapOut, OpenHeatmapQuery
from participation.api.problems import Problem
from participation.appeals.classifier import Category
from participation.core.errors import FieldError
from participation.core.exports import CSV_MIMETYPE, content_disposition, stream_csv
from participation.extensions import db
from participation.geo import cells as c
from participation.reports import rating as r
from participation.reports.heatmap import heat_cells
from participation.reports.services import Scope

bp = ApiBlueprint(
    "api_opendata_map",
    __name__,
    url_prefix="/api/v1/open",
    description=(
        "Открытые данные для карт, без ключа и токена: тепловая карта сообщений региона — "
        "число сообщений в ячейках постоянной сетки. Ячейки, где сообщений меньше пяти, не "
        "выдаются; точнее ячейки ничего не сообщается."
    ),
)


def _in_query(exc: FieldError) -> FieldError:
    """A service's FieldError named as the query parameter it came from."""
    return FieldError(f"query.{exc.field}", exc.message)


@bp.route("/statistics/regions/<int:region_id>/heatmap")
@bp.etag
@bp.arguments(OpenHeatmapQuery, location="query", as_kwargs=True)
@bp.response(200, OpenHeatmapOut)
@bp.alt_response(
    200,
    schema={"type": "string"},
    content_type=CSV_MIMETYPE,
    description=(
        "JSON, а с `?format=csv` — CSV ячеек (юг, запад, север, восток, сообщений): UTF-8 с "
        "BOM, разделитель «;», строки CRLF, заголовки по-русски, дробные числа с запятой."
    ),
    success=True,
)
@bp.alt_response(404, response="NOT_FOUND")
@bp.alt_response(422, response="UNPROCESSABLE_ENTITY")
def heatmap(
    region_id: int,
    format: str,
    grain: str,
    day: date | None = None,
    cell: int | None = None,
    bbox: str | None = None,
    category: int | None = None,
):
    """Тепловая карта сообщений региона

    Сколько сообщений поступило за период (месяц, квартал или год вокруг `day`; как
    «Поступило» в открытой статистике: без отклонённых модератором) в каждой ячейке постоянной
    сетки: квадраты со стороной 250 м, 1 км или 4 км. Ячейка — `south, west, north, east`
    в градусах и `count`. Ячейки, где сообщений меньше 5, не выдаются; сообщения без точки
    на карте не учитываются. С `bbox` — только ячейки области (она расширяется до целых
    ячеек, поэтому ответ не зависит от того, как сдвинута область).
    """
    region = p.public_region(region_id)
    if region is None:
        raise Problem(404, _("Региона с таким номером нет."))
    period = r.chosen_period(grain, day.isoformat() if day else None, r.region_today(region))
    if day is not None and day not in period:
        raise FieldError("query.day", _("Нет статистики за эту дату: выберите дату с 2000 года."))
    if category is not None and db.session.get(Category, category) is None:
        raise FieldError("query.category", _("Категории с таким номером нет."))
    box = None
    if bbox is not None:
        try:
            box = c.parse_box(bbox)
        except FieldError as exc:
            raise _in_query(exc) from None
    size = cell or (c.DEFAULT_CELL if box is not None else c.CELL_SIZES[-1])
    if box is None and size != c.CELL_SIZES[-1]:
        raise FieldError(
            "query.bbox",
            _(
                "Укажите область (bbox) для ячеек по %(size)s м: без неё — весь регион, "
                "только ячейки по %(whole)s м.",
                size=size,
                whole=c.CELL_SIZES[-1],
            ),
        )
    try:
        found = heat_cells(Scope(region_id=region.id, category_id=category), period, size, box)
    except FieldError as exc:
        raise _in_query(exc) from None
    whole = found.grid.snap(box) if box is not None else None
    data = {
        "region": p.place(region),
        "period": p.period_out(period),
        "grid": {"cell": size, "lat_step": found.grid.dlat, "lon_step": found.grid.dlon},
        "bbox": None
        if whole is None
        else [round(x, 6) for x in (whole.west, whole.south, whole.east, whole.north)],
        "min_count": c.MIN_COUNT,
        "cells": [
            {"south": x.south, "west": x.west, "north": x.north, "east": x.east, "count": x.count}
            for x in found.cells
        ],
    }
    if format != "csv":
        return data
    bp.set_etag(["csv", data])  # 304 here when the client has it
    response = Response(
        stream_with_context(stream_csv(tables.heatmap(data))), mimetype=CSV_MIMETYPE
    )
    response.headers["Content-Disposition"] = content_disposition(
        _(
            "Тепловая карта %(region)s %(period)s.csv",
            region=region.name,
            period=data["period"]["text"],
        ),
        f"heatmap-{region.oktmo}-{period.start.isoformat()}-{size}.csv",
    )
    return response
