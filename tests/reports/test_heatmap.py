"""The analytics heat map: known points → known counts per cell, cells under 5 suppressed,
the period, organization, municipality and category filters, and the dashboards' layer."""

from __future__ import annotations

import json
import math
import re
from datetime import UTC, date, datetime, timedelta
from html import unescape

import pytest
import sqlalchemy as sa

from participation.appeals.models import Appeal
from participation.appeals.workflow import AppealState
from participation.core.errors import FieldError
from participation.extensions import db
from participation.geo import cells as c
from participation.reports.heat_rollup import recount_heat
from participation.reports.heatmap import heat_cells, scope_where
from participation.reports.services import Period, Scope
from tests.geo.conftest import UFA, geo, message  # noqa: F401  (the fixture)
from tests.helpers import login_as

MARCH = Period(date(2026, 3, 1), date(2026, 3, 31))
IN_MARCH = datetime(2026, 3, 10, 6, 0, tzinfo=UTC)
GRID = c.Grid.of(1000, UFA[0])
HOME = (math.floor(UFA[0] / GRID.dlat), math.floor(UFA[1] / GRID.dlon))


def centre_of(i: int, j: int, grid: c.Grid = GRID, north: float = 0.5, east: float = 0.5):
    """A point inside cell (i, j) of the grid (by default its centre)."""
    return (round((i + north) * grid.dlat, 6), round((j + east) * grid.dlon, 6))


def put(w, point, n: int, *, when: datetime = IN_MARCH, territory=None, **kw) -> list:
    made = []
    for _ in range(n):
        appeal = message(w, point, **kw)
        if territory is not None:  # moved there (nobody on the platform serves it)
            appeal.territory_id, appeal.region_id = territory.id, territory.parent_id
        appeal.registered_at = when
        made.append(appeal)
    db.session.flush()
    return made


@pytest.fixture
def heat(geo):  # noqa: F811
    """In March: 7 messages spread inside the home cell, 5 in the cell north-east of it, 4 in
    the cell east (suppressed); a rejected one and one without a point in the home cell; 6 in
    the home cell in April; 5 of another region's messages nearby."""
    w = geo
    i, j = HOME
    for k, (north, east) in enumerate([(0.1, 0.1), (0.9, 0.9), (0.5, 0.2), (0.3, 0.7)]):
        put(w, centre_of(i, j, north=north, east=east), 2 if k < 3 else 1)
    put(w, centre_of(i + 1, j + 1), 5, subcategory=w.benches)
    put(w, centre_of(i, j + 1), 4)
    put(w, centre_of(i, j), 1, state=AppealState.REJECTED)
    no_point = put(w, centre_of(i, j), 1)[0]
    no_point.latitude = no_point.longitude = None
    put(w, centre_of(i, j), 6, when=datetime(2026, 4, 2, 6, 0, tzinfo=UTC))
    db.session.flush()
    recount_heat([MARCH.start, date(2026, 4, 1)])  # what a whole region's months are read from
    return w


def counts(heat_map) -> dict[tuple[int, int], int]:
    """Cells keyed by their grid indices (from their centres)."""
    grid = heat_map.grid
    return {
        (
            math.floor((x.south + x.north) / 2 / grid.dlat),
            math.floor((x.west + x.east) / 2 / grid.dlon),
        ): x.count
        for x in heat_map.cells
    }


def test_known_points_give_known_counts_and_small_cells_are_suppressed(heat):
    found = heat_cells(Scope(region_id=heat.region.id), MARCH, 1000)
    i, j = HOME
    assert counts(found) == {(i, j): 7, (i + 1, j + 1): 5}  # (i, j + 1) has 4: not returned
    assert found.cells[0].count == 7 and found.peak == 7  # the busiest first
    home = found.cells[0]
    assert home.south == pytest.approx(i * GRID.dlat, abs=1e-6)
    assert home.north - home.south == pytest.approx(1000 / 111_195, rel=1e-3)
    # About square on the ground at the region's latitude.
    width_m = (home.east - home.west) * 111_195 * math.cos(math.radians(UFA[0]))
    assert 950 < width_m < 1050
    assert [level for level, *_ in found.legend] == [4, 5] and found.level(home) == 5


def test_bigger_cells_gather_more_and_smaller_ones_suppress_more(heat):
    scope = Scope(region_id=heat.region.id)
    four_km = heat_cells(scope, MARCH, 4000)
    assert sum(x.count for x in four_km.cells) == 16  # 7 + 5 + 4 in one or two big cells
    small = heat_cells(scope, MARCH, 250)
    assert all(x.count >= 5 for x in small.cells)
    assert sum(x.count for x in small.cells) == 5  # only the five stacked on one point


def test_period_filter(heat):
    april = heat_cells(Scope(region_id=heat.region.id), Period(date(2026, 4, 1), date(2026, 4, 30)))
    assert counts(april) == {HOME: 6}
    spring = heat_cells(
        Scope(region_id=heat.region.id), Period(date(2026, 3, 1), date(2026, 4, 30))
    )
    assert counts(spring)[HOME] == 13


def test_organization_municipality_and_category_filters(heat):
    w = heat
    i, j = HOME
    scope = Scope(region_id=w.region.id)
    # The organization: only messages it executes.
    federal = scope.narrowed(organization_ids=frozenset({w.federal.id}))
    assert heat_cells(federal, MARCH).cells == []
    for appeal in put(w, centre_of(i - 3, j - 3), 5):
        appeal.executor_organization_id = w.federal.id
    db.session.flush()
    assert counts(heat_cells(federal, MARCH)) == {(i - 3, j - 3): 5}
    # The municipality: messages of another one are not counted.
    assert counts(heat_cells(scope.narrowed(municipality_id=w.town.id), MARCH)) == {}
    assert counts(heat_cells(scope.narrowed(municipality_id=w.city.id), MARCH))[HOME] == 7
    # The category: the benches (yards) are only the north-east cell.
    yards = heat_cells(scope.narrowed(category_id=w.yards.id), MARCH)
    assert counts(yards) == {(i + 1, j + 1): 5}


def test_another_regions_messages_are_not_counted(heat):
    w = heat
    put(w, centre_of(*HOME), 5, territory=w.kazan)
    recount_heat([MARCH.start])
    assert counts(heat_cells(Scope(region_id=w.region.id), MARCH))[HOME] == 7
    assert heat_cells(Scope(region_id=w.other_region.id), MARCH).cells[0].count == 5


def test_a_box_is_widened_to_whole_cells(heat):
    i, j = HOME
    # A box cutting through the home cell still gets the whole cell (7), never a part of it.
    south, west = centre_of(i, j, north=0.6, east=0.6)
    north, east = centre_of(i + 1, j + 1, north=0.2, east=0.2)
    box = c.Box(south=south, west=west, north=north, east=east)
    found = heat_cells(Scope(region_id=heat.region.id), MARCH, 1000, box)
    assert counts(found) == {(i, j): 7, (i + 1, j + 1): 5}
    far = c.Box(south=UFA[0] + 1, west=UFA[1] + 1, north=UFA[0] + 1.05, east=UFA[1] + 1.05)
    assert heat_cells(Scope(region_id=heat.region.id), MARCH, 1000, far).cells == []


@pytest.mark.parametrize("size", [0, 500, "1000", True, None])
def test_a_bad_cell_size_is_refused(heat, size):
    with pytest.raises(FieldError) as refused:
        heat_cells(Scope(region_id=heat.region.id), MARCH, size)
    assert "Размер ячейки" in str(refused.value.message)


@pytest.mark.parametrize(
    "text", ["", "1,2,3", "a,b,c,d", "56,54,55,55", "55,54,56,91", "nan,54,56,55", "55,54,inf,55"]
)
def test_a_bad_box_is_refused(text):
    with pytest.raises(FieldError) as refused:
        c.parse_box(text)
    assert refused.value.field == "bbox"


def test_a_box_too_large_for_small_cells_is_refused():
    grid = c.Grid.of(250, 55)
    with pytest.raises(FieldError) as refused:
        c.check_span(grid, c.Box(south=50, west=50, north=60, east=60))
    assert "слишком велика" in str(refused.value.message)
    c.check_span(c.Grid.of(4000, 55), c.Box(south=54, west=55, north=56, east=57))


# --- the dashboards' layer ---------------------------------------------------------------------


def _cells_on(page: str) -> list[dict]:
    found = re.search(r'data-cells="([^"]*)"', page)
    assert found, "the map has no heat-map layer"
    return json.loads(unescape(found.group(1)))


def test_region_dashboard_draws_the_cells_and_lists_the_busiest(client, heat):
    w = heat
    login_as(client, w.cur_coordinator)
    # Not built until a cell size is chosen (the figures do not wait for the map).
    page = client.get("/reports/region?grain=month&day=2026-03-15").get_data(as_text=True)
    assert "Выберите размер ячейки" in page and "data-cells" not in page
    assert "cell=1000" in page
    page = client.get("/reports/region?grain=month&day=2026-03-15&cell=1000").get_data(as_text=True)
    cells = _cells_on(page)
    assert sorted(x["count"] for x in cells) == [5, 7]
    assert {"south", "west", "north", "east", "count", "level"} == set(cells[0])
    assert "Карта сообщений" in page and "менее 5" in page
    table = page[page.index('id="heat-busiest"') :]
    assert re.search(r"<td>7</td>", table) and "город Тестовск" in table
    # Bigger cells by a link that keeps the filter.
    bigger = client.get("/reports/region?grain=month&day=2026-03-15&cell=4000")
    assert sum(x["count"] for x in _cells_on(bigger.get_data(as_text=True))) == 16
    assert '<input type="hidden" name="cell" value="4000">' in bigger.get_data(as_text=True)
    bad = client.get("/reports/region?grain=month&day=2026-03-15&cell=7")
    assert bad.status_code == 200
    assert "Размер ячейки" in bad.get_data(as_text=True)


def test_organization_dashboard_shows_only_its_messages(client, heat):
    w = heat
    i, j = HOME
    for appeal in put(w, centre_of(i - 3, j - 3), 6):
        appeal.executor_organization_id = w.town_admin.id
    db.session.flush()
    login_as(client, w.town_head)
    page = client.get("/reports/?grain=month&day=2026-03-15&cell=1000").get_data(as_text=True)
    # Its own: these six and the five benches routed to it; not the city's seven potholes.
    assert [x["count"] for x in _cells_on(page)] == [6, 5]


def test_no_cells_says_so(client, geo):  # noqa: F811
    login_as(client, geo.cur_coordinator)
    page = client.get("/reports/hotspots?grain=month&day=2026-03-15&cell=1000").get_data(
        as_text=True
    )
    assert _cells_on(page) == []
    assert "Нет ячеек" in page


def test_the_demo_history_has_points_and_its_heat_map_has_cells(db_session):
    from participation.appeals.models import Appeal
    from participation.core.territories import territory_by_oktmo
    from participation.demo import data
    from participation.demo.seed import seed_demo
    from participation.reports.demo import KEY_PREFIX, seed_history

    seed_demo()
    seed_history(date(2026, 3, 15), per_year=600)
    ours = Appeal.submission_key.like(f"{KEY_PREFIX}%")
    total, pointed = db.session.execute(
        sa.select(sa.func.count(), sa.func.count(Appeal.latitude)).where(ours)
    ).one()
    assert total and pointed == total
    region = territory_by_oktmo(data.BASHKORTOSTAN)
    year = Period(date(2025, 3, 1), date(2026, 2, 28))
    found = heat_cells(Scope(region_id=region.id), year, 1000)
    assert found.cells and all(x.count >= 5 for x in found.cells)
    assert sum(x.count for x in found.cells) <= total


def test_duplicates_following_a_message_are_counted_once(heat):
    """Two of the north-east cell's five become duplicates of a third: the cell holds 3 messages
    now, under 5, and is no longer shown."""
    from participation.appeals.models import MergeKind

    scope = Scope(region_id=heat.region.id)
    before = counts(heat_cells(scope, MARCH, 1000))
    i, j = HOME
    assert before[(i + 1, j + 1)] == 5
    cell = db.session.scalars(
        sa.select(Appeal).where(Appeal.subcategory_id == heat.benches.id).order_by(Appeal.id)
    ).all()
    for duplicate in cell[1:3]:
        duplicate.merged_into_id, duplicate.merge_kind = cell[0].id, MergeKind.MERGED
        duplicate.set_state(AppealState.MERGED)
    db.session.flush()
    recount_heat([MARCH.start])
    after = counts(heat_cells(scope, MARCH, 1000))
    assert (i + 1, j + 1) not in after and after[(i, j)] == before[(i, j)]


@pytest.mark.parametrize("size", c.CELL_SIZES)
@pytest.mark.parametrize("boxed", [False, True], ids=["region", "box"])
def test_the_rollup_gives_what_counting_the_messages_gives(heat, size, boxed):
    """A whole region's months come from the rollup; they equal the live count."""
    region = heat.region
    box = c.Box(south=UFA[0] - 0.05, west=UFA[1] - 0.1, north=UFA[0] + 0.05, east=UFA[1] + 0.1)
    box = box if boxed else None
    grid = c.Grid.of(size, float(region.latitude))
    spring = Period(date(2026, 3, 1), date(2026, 4, 30))
    live = c.count_cells(
        scope_where(Scope(region_id=region.id), spring, region.timezone), grid, box
    )
    rolled = heat_cells(Scope(region_id=region.id), spring, size, box).cells
    assert rolled == live and (size == 250 or rolled)


def test_the_sweep_keeps_the_recent_months_rollup_current(geo):  # noqa: F811
    """Messages of this month reach the whole region's heat map at the next sweep."""
    from participation.core.db import utcnow
    from participation.core.jobs import run_sweeps

    w = geo
    now = utcnow()
    this_month = Period(now.date().replace(day=1), now.date())
    this_month = Period(
        this_month.start, (this_month.start + timedelta(days=32)).replace(day=1) - timedelta(days=1)
    )
    put(w, centre_of(*HOME), 6, when=now)
    scope = Scope(region_id=w.region.id)
    assert heat_cells(scope, this_month).cells == []  # not counted until the sweep
    assert run_sweeps()["participation.reports.tasks.sweep_heat_map"] is None
    assert counts(heat_cells(scope, this_month)) == {HOME: 6}
