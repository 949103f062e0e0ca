"""Where a point lies: by boundary, else by the nearest centre; never outside the region."""

from __future__ import annotations

import json
import math

import pytest

from participation.core.errors import FieldError
from participation.geo.services import import_boundaries, locate_point
from tests.geo.conftest import BIRSK, KAZAN, STERLITAMAK, UFA, offset


def square(centre, half_km: float) -> dict:
    """A GeoJSON polygon: a square of 2 × half_km around the centre (lon, lat order)."""
    lat, lon = centre
    dlat = half_km / 111.195
    dlon = half_km / (111.195 * math.cos(math.radians(lat)))
    ring = [
        [lon - dlon, lat - dlat],
        [lon + dlon, lat - dlat],
        [lon + dlon, lat + dlat],
        [lon - dlon, lat + dlat],
        [lon - dlon, lat - dlat],
    ]
    return {"type": "Polygon", "coordinates": [ring]}


def feature(territory, geometry: dict) -> dict:
    return {"type": "Feature", "properties": {"oktmo": territory.oktmo}, "geometry": geometry}


def test_nearest_centre_picks_the_municipality(geo):
    found = locate_point(*offset(UFA, north_m=2000, east_m=1000), geo.region.id)
    assert found.territory == geo.city
    assert found.municipality == geo.city
    assert found.method == "nearest"
    assert 2000 < found.distance_m < 2500

    south = locate_point(*offset(STERLITAMAK, north_m=-5000), geo.region.id)
    assert south.territory == geo.town


def test_a_settlement_by_its_centre_only_close_to_it(geo):
    in_town = locate_point(*offset(BIRSK, east_m=800), geo.region.id)
    assert in_town.territory == geo.birsk
    assert in_town.municipality == geo.district

    countryside = locate_point(*offset(BIRSK, north_m=15_000), geo.region.id)
    assert countryside.territory == geo.district  # 15 km from the town: the district itself
    assert countryside.municipality == geo.district


def test_point_in_polygon_wins_over_the_nearest_centre(geo):
    # Тестовск's boundary reaches far south; a point in it next to Соседний's centre is Тестовск.
    lines = import_boundaries([feature(geo.city, square(UFA, 130))])
    assert lines[0].territory == geo.city
    # 9 km from Соседний's centre, 114 km from Тестовск's, but inside Тестовск's boundary.
    inside = locate_point(*offset(STERLITAMAK, north_m=9000), geo.region.id)
    assert (inside.territory, inside.method) == (geo.city, "boundary")
    # Beyond the boundary (133 km south of Уфа): the nearest centre again.
    near_town = locate_point(*offset(STERLITAMAK, north_m=-10_000), geo.region.id)
    assert (near_town.territory, near_town.method) == (geo.town, "nearest")


def test_settlement_boundary_inside_its_district(geo):
    import_boundaries(
        [feature(geo.district, square(BIRSK, 40)), feature(geo.birsk, square(BIRSK, 6))]
    )
    town = locate_point(*offset(BIRSK, north_m=5000), geo.region.id)  # 5 km: in the polygon
    assert (town.territory, town.municipality, town.method) == (geo.birsk, geo.district, "boundary")
    village = locate_point(*offset(BIRSK, north_m=20_000), geo.region.id)
    assert (village.territory, village.method) == (geo.district, "boundary")


def test_outside_the_region_is_refused_without_boundaries(geo):
    with pytest.raises(FieldError) as caught:
        locate_point(*KAZAN, geo.region.id)
    assert caught.value.field == "point"
    assert "за пределами региона «Республика Тест»" in str(caught.value.message)
    # Far in the steppe, 200 km from every centre of the region: refused too.
    with pytest.raises(FieldError):
        locate_point(*offset(STERLITAMAK, north_m=-200_000), geo.region.id)
    # The other region takes the same point.
    assert locate_point(*KAZAN, geo.other_region.id).territory == geo.kazan


def test_the_region_boundary_decides_when_imported(geo):
    import_boundaries([feature(geo.region, square(UFA, 400))])
    # 300 km from every centre, but inside the region's boundary: the nearest municipality.
    far = locate_point(*offset(UFA, east_m=-390_000), geo.region.id)
    assert far.municipality in (geo.city, geo.town, geo.district)
    # Close to a centre (Сосед's own) but outside the boundary: refused.
    import_boundaries([feature(geo.region, square(UFA, 30))])
    with pytest.raises(FieldError) as caught:
        locate_point(*STERLITAMAK, geo.region.id)
    assert caught.value.field == "point"


def test_a_new_boundary_replaces_the_cached_one(geo):
    import_boundaries([feature(geo.town, square(UFA, 5))])  # wrongly drawn around Уфа
    assert locate_point(*UFA, geo.region.id).territory == geo.town
    import_boundaries([feature(geo.town, square(STERLITAMAK, 5))])  # corrected
    assert locate_point(*UFA, geo.region.id).territory == geo.city


@pytest.mark.parametrize(
    ("lat", "lon", "field"),
    [
        (float("nan"), 55.9, "latitude"),
        (54.7, float("nan"), "longitude"),
        (float("inf"), 55.9, "latitude"),
        (90.0001, 55.9, "latitude"),
        (-91, 55.9, "latitude"),
        (54.7, 180.5, "longitude"),
        (54.7, -181, "longitude"),
        ("север", 55.9, "latitude"),
        (None, 55.9, "latitude"),
        (True, 55.9, "latitude"),
    ],
)
def test_bad_coordinates_are_refused(geo, lat, lon, field):
    with pytest.raises(FieldError) as caught:
        locate_point(lat, lon, geo.region.id)
    assert caught.value.field == field
    assert "градусов" in str(caught.value.message)


def test_the_region_must_be_a_region(geo):
    for wrong in (geo.city.id, 10**9):
        with pytest.raises(FieldError) as caught:
            locate_point(*UFA, wrong)
        assert caught.value.field == "region"


def test_boundaries_are_stored_as_geojson(geo):
    import_boundaries([feature(geo.city, square(UFA, 10))])
    stored = json.loads(geo.city.boundary_geojson)
    assert stored["type"] == "Polygon"
    assert geo.city.boundary_updated_at is not None
