"""/api/v1 geography: open messages near a point, the territory where a point lies, and a
region's public map of problems."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _

from participation.api.auth import rate_limit_key
from participation.api.openapi import ApiBlueprint
from participation.api.problems import Problem
from participation.appeals.classifier import Subcategory
from participation.core.errors import FieldError
from participation.extensions import db, limiter
from participation.geo.api_schemas import (
    LocateOut,
    LocateQuery,
    MapOut,
    MapQuery,
    NearbyOut,
    NearbyQuery,
    PointQuery,
    ReverseOut,
)
from participation.geo.geocoder import geocoder_enabled, reverse_geocode
from participation.geo.map_data import (
    STATUS_GROUPS,
    STATUS_LABELS,
    parse_bbox,
    public_map_points,
    public_map_region,
)
from participation.geo.services import (
    NEARBY_DAYS,
    locate_point,
    nearby_appeals,
    nearby_radius_of,
)

bp = ApiBlueprint(
    "api_geo",
    __name__,
    url_prefix="/api/v1",
    description=(
        "География, без ключа и токена: открытые сообщения рядом с точкой (ничего "
        "персонального: номер, тема, статус, расстояние, дата), территория, в которой точка, "
        "адрес точки (если настроен геокодер) и публичная карта проблем региона (если регион "
        "её включил)."
    ),
)

# The service's field names → the query parameters they came from.
_QUERY_FIELDS = {
    "latitude": "query.lat",
    "longitude": "query.lon",
    "radius": "query.radius",
    "region": "query.region",
    "subcategory": "query.service_code",
    "bbox": "query.bbox",
}


def _as_problem(call: Callable[[], Any]) -> Any:
    try:
        return call()
    except FieldError as exc:
        name = _QUERY_FIELDS.get(exc.field, exc.field)
        raise Problem(
            422, exc.message, kind="validation", errors={name: [str(exc.message)]}
        ) from None


@bp.route("/messages/nearby")
@bp.etag
@bp.arguments(NearbyQuery, location="query", as_kwargs=True)
@bp.response(200, NearbyOut)
@bp.alt_response(422, response="UNPROCESSABLE_ENTITY")
def nearby(lat: float, lon: float, radius: int | None, service_code: str):
    """Открытые сообщения рядом с точкой

    Сообщения в работе (от модерации до «отложено»; отклонённые, с ответом и закрытые — нет)
    той же подкатегории или другой подкатегории той же категории (`related: true`), за
    последние 30 дней, в радиусе `radius` метров (по умолчанию — радиус подкатегории из
    классификатора, а если он не задан — 150; не больше 2000), ближние первыми, не больше 20.
    Ничего персонального: ни автора, ни текста, ни точных координат.
    """
    topic = db.session.scalar(sa.select(Subcategory).where(Subcategory.code == service_code))
    if topic is None:
        message = _("Услуги (подкатегории) с кодом «%(code)s» нет.", code=service_code)
        raise Problem(422, message, kind="validation", errors={"query.service_code": [message]})
    if radius is None:
        radius = nearby_radius_of(topic)
    found = _as_problem(lambda: nearby_appeals(lat, lon, topic.id, radius_m=radius))
    return {
        "radius": radius,
        "days": NEARBY_DAYS,
        "service_code": service_code,
        "messages": [
            {
                "id": m.id,
                "number": m.number,
                "service_code": m.subcategory_code,
                "service_name": m.subcategory_name,
                "related": not m.same_subcategory,
                "state": m.state.value,
                "state_label": m.state_label,
                "distance": m.distance_m,
                "registered_on": m.registered_on,
            }
            for m in found
        ],
    }


@bp.route("/geo/locate")
@bp.etag
@bp.arguments(LocateQuery, location="query", as_kwargs=True)
@bp.response(200, LocateOut)
@bp.alt_response(422, response="UNPROCESSABLE_ENTITY")
def locate(lat: float, lon: float, region: int):
    """Территория, в которой находится точка

    Муниципалитет (или поселение) региона по импортированным границам, а без них — по
    ближайшему центру. Точка вне региона — ошибка 422 с причиной по-русски.
    """
    found = _as_problem(lambda: locate_point(lat, lon, region))
    municipality = found.municipality
    return {
        "territory": {
            "id": found.territory.id,
            "name": found.territory.name,
            "oktmo": found.territory.oktmo,
            "municipality": (
                None if municipality is None else {"id": municipality.id, "name": municipality.name}
            ),
        },
        "method": found.method,
    }


def _geocoder_rate_limit() -> str:
    return current_app.config["GEOCODER_RATE_LIMIT"]


@bp.route("/geo/reverse")
@limiter.limit(_geocoder_rate_limit, key_func=rate_limit_key)
@bp.arguments(PointQuery, location="query", as_kwargs=True)
@bp.response(200, ReverseOut)
@bp.alt_response(422, response="UNPROCESSABLE_ENTITY")
def reverse(lat: float, lon: float):
    """Адрес точки (обратное геокодирование)

    Форма сообщения подставляет его в поле «Адрес», если житель его ещё не заполнил. Работает,
    только когда платформа настроена на геокодер, совместимый с Nominatim (`GEOCODER_URL`);
    иначе, а также если геокодер не ответил или ничего не нашёл, `address` — null (не ошибка).
    Ответы кешируются по точке.
    """
    return {"address": reverse_geocode(lat, lon), "enabled": geocoder_enabled()}


@bp.route("/geo/regions/<int:region_id>/map")
@bp.etag
@bp.arguments(MapQuery, location="query", as_kwargs=True)
@bp.response(200, MapOut)
@bp.alt_response(404, response="NOT_FOUND")
@bp.alt_response(422, response="UNPROCESSABLE_ENTITY")
def region_map(region_id: int, bbox: str, limit: int):
    """Публичная карта проблем региона: точки в видимой области

    Сообщения региона с точкой после модерации (на модерации и отклонённые — нет) в области
    `bbox` (юг,запад,север,восток), не больше `limit` точек, распределённых по области;
    `capped: true` — в области точек больше, приблизьте карту. У точки — категория,
    подкатегория и группа статусов; ни автора, ни персональных данных; текст и адрес — только
    если регион публикует тексты (e-mail и телефоны в них скрыты). Координаты округлены до
    0,0001°. 404 — регион не включил публичную карту.
    """
    found = public_map_region(region_id)
    if found is None:
        raise Problem(
            404, _("Публичная карта проблем этого региона не включена или такого региона нет.")
        )
    region, settings = found
    box = _as_problem(lambda: parse_bbox(bbox))
    result = public_map_points(region, settings, box, limit)
    return {
        "region": {"id": region.id, "name": region.name},
        "texts_published": settings.publish_texts,
        "limit": result.limit,
        "capped": result.capped,
        "statuses": [{"code": g, "label": str(STATUS_LABELS[g])} for g in STATUS_GROUPS],
        "points": [
            {
                "id": p.id,
                "lat": p.lat,
                "lon": p.lon,
                "status": p.status,
                "status_label": p.status_label,
                "category": p.category,
                "subcategory": p.subcategory,
                "text": p.text,
                "address": p.address,
            }
            for p in result.points
        ],
    }
