"""Importing boundaries from GeoJSON: matching by OKTMO or name, the report, the CLI."""

from __future__ import annotations

import json

import pytest

from participation.core.territories import Territory
from participation.core.territories import TerritoryLevel as L
from participation.extensions import db
from participation.geo.services import import_boundaries, locate_point
from tests import factories as f
from tests.geo.conftest import UFA, offset
from tests.geo.test_locate import square


def test_matching_by_oktmo_and_name_and_the_reasons_of_failures(geo):
    twin_a = f.territory(L.SETTLEMENT, parent=geo.district, name="Ивановка")
    f.territory(L.SETTLEMENT, parent=geo.district, name="Ивановка")
    bowtie = {
        "type": "Polygon",
        "coordinates": [[[55, 54], [56, 55], [56, 54], [55, 55], [55, 54]]],
    }
    features = [
        {"type": "Feature", "properties": {"OKTMO": geo.city.oktmo}, "geometry": square(UFA, 5)},
        {"type": "Feature", "properties": {"name": "ГОРОД СОСЕДНИЙ"}, "geometry": bowtie},
        {"type": "Feature", "properties": {"name": "Ивановка"}, "geometry": square(UFA, 1)},
        {"type": "Feature", "properties": {"oktmo": "99999999"}, "geometry": square(UFA, 1)},
        {"type": "Feature", "properties": {"name": "Атлантида"}, "geometry": square(UFA, 1)},
        {"type": "Feature", "properties": {}, "geometry": square(UFA, 1)},
        {
            "type": "Feature",
            "properties": {"name:ru": "Бирский район (тест)"},
            "geometry": {"type": "Point", "coordinates": [55.5, 55.4]},
        },
        {
            "type": "Feature",
            "properties": {"ref:oktmo": geo.birsk.oktmo},
            "geometry": {"type": "Polygon", "coordinates": [[[5550000, 5540000], [1, 2], [3, 4]]]},
        },
        {"type": "Feature", "properties": {"oktmo": geo.city.oktmo}, "geometry": square(UFA, 9)},
    ]
    lines = import_boundaries(features)
    assert [line.territory for line in lines] == [geo.city, geo.town] + [None] * 7
    assert lines[1].repaired  # a self-crossing ring, made valid
    reasons = [line.reason for line in lines[2:]]
    assert "несколько территорий" in reasons[0]
    assert "нет территории с ОКТМО 99999999" in reasons[1]
    assert "нет территории с названием «Атлантида»" in reasons[2]
    assert "ни ОКТМО" in reasons[3]
    assert "не Polygon" in reasons[4]
    assert reasons[5]  # unreadable or out-of-range coordinates
    assert "уже получила границу" in reasons[6]
    assert twin_a.boundary_geojson is None


def test_a_territory_without_centre_gets_one_inside_its_boundary(geo):
    village = f.territory(L.SETTLEMENT, parent=geo.district, name="Новая деревня")
    import_boundaries(
        [
            {
                "type": "Feature",
                "properties": {"name": "Новая деревня"},
                "geometry": square(offset(UFA, north_m=50_000), 2),
            }
        ]
    )
    assert village.latitude is not None
    assert abs(float(village.latitude) - offset(UFA, north_m=50_000)[0]) < 0.02


def _run(app, *args):
    return app.test_cli_runner().invoke(args=["geo", "import-boundaries", *args])


@pytest.mark.committed
def test_cli_reports_and_saves(app, tmp_path):
    country = f.territory(L.COUNTRY)
    region = f.territory(L.REGION, parent=country, name="Область CLI")
    city = f.territory(L.URBAN_OKRUG, parent=region, name="город CLI")
    db.session.commit()
    path = tmp_path / "b.geojson"
    path.write_text(
        json.dumps(
            {
                "type": "FeatureCollection",
                "features": [
                    {
                        "type": "Feature",
                        "properties": {"oktmo": city.oktmo},
                        "geometry": square(UFA, 10),
                    },
                    {
                        "type": "Feature",
                        "properties": {"name": "Нигде"},
                        "geometry": square(UFA, 1),
                    },
                ],
            },
            ensure_ascii=False,
        ),
        encoding="utf-8",
    )
    dry = _run(app, str(path), "--dry-run")
    assert dry.exit_code == 0, dry.output
    assert "✓ #1" in dry.output and "✗ #2 Нигде: нет территории с названием «Нигде»" in dry.output
    db.session.expire_all()
    assert db.session.get(Territory, city.id).boundary_updated_at is None

    result = _run(app, str(path))
    assert result.exit_code == 0, result.output
    assert "сохранено: 1; не сопоставлено: 1" in result.output
    db.session.expire_all()
    assert db.session.get(Territory, city.id).boundary_geojson is not None
    assert locate_point(*offset(UFA, east_m=3000), region.id).territory.id == city.id


def test_cli_refuses_a_file_that_is_not_geojson(app, tmp_path):
    path = tmp_path / "bad.json"
    path.write_text("{not json", encoding="utf-8")
    result = _run(app, str(path))
    assert result.exit_code != 0 and "не читается как JSON" in result.output
    path.write_text('{"type": "Topology"}', encoding="utf-8")
    result = _run(app, str(path))
    assert result.exit_code != 0 and "FeatureCollection" in result.output
    empty = tmp_path / "empty.json"
    empty.write_text('{"type": "FeatureCollection", "features": []}', encoding="utf-8")
    assert _run(app, str(empty)).exit_code == 1
