"""Fixtures of the geography tests: a region with real-world centres, messages with points."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from participation.appeals.workflow import AppealState
from participation.core.db import utcnow
from participation.core.territories import TerritoryLevel as L
from participation.extensions import db
from participation.geo.services import shapes
from tests import factories as f
from tests.api.conftest import client  # noqa: F401  (the validating client, shared)
from tests.appeals.conftest import submit, world  # noqa: F401  (the fixture, shared)

# Real approximate centres: the test region stands where Bashkortostan is.
UFA = (54.7348, 55.9579)
STERLITAMAK = (53.6305, 55.9316)
BIRSK = (55.4150, 55.5310)
KAZAN = (55.7963, 49.1088)


def d(x: float) -> Decimal:
    return Decimal(str(x))


def place(territory, point) -> None:
    territory.latitude, territory.longitude = d(point[0]), d(point[1])


@pytest.fixture(autouse=True)
def fresh_shapes():
    shapes.clear()
    yield
    shapes.clear()


@pytest.fixture
def geo(world):  # noqa: F811  (the shared fixture)
    """The `world` with centres: Тестовск at Уфа, Соседний at Стерлитамак, a district at Бирск
    with its town settlement, and a second region at Казань."""
    w = world
    place(w.region, UFA)
    place(w.city, UFA)
    place(w.town, STERLITAMAK)
    w.district = f.territory(L.MUNICIPAL_DISTRICT, parent=w.region, name="Бирский район (тест)")
    place(w.district, BIRSK)
    w.birsk = f.territory(L.SETTLEMENT, parent=w.district, name="город Бирск (тест)")
    place(w.birsk, BIRSK)
    w.other_region = f.territory(L.REGION, parent=w.country, name="Республика Соседняя")
    place(w.other_region, KAZAN)
    w.kazan = f.territory(L.URBAN_OKRUG, parent=w.other_region, name="город Казань (тест)")
    place(w.kazan, KAZAN)
    db.session.flush()
    return w


def offset(point, north_m: float = 0, east_m: float = 0):
    """The point moved by metres north and east (small distances)."""
    import math

    lat = point[0] + north_m / 111_195
    lon = point[1] + east_m / (111_195 * math.cos(math.radians(point[0])))
    return (round(lat, 6), round(lon, 6))


def message(w, point, *, subcategory=None, state=None, age_days: float = 1, author=None):
    """A message with a point, in `state`, registered `age_days` ago."""
    appeal = submit(
        w,
        author=author,
        subcategory_id=(subcategory or w.potholes).id,
        suggested_subcategory_id=(subcategory or w.potholes).id,
        latitude=d(point[0]),
        longitude=d(point[1]),
    )
    if state is not None:
        appeal.set_state(state)
    appeal.registered_at = utcnow() - timedelta(days=age_days)
    db.session.flush()
    return appeal


__all__ = ["AppealState"]
