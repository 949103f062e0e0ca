"""Benchmark: the heat map (GET /api/v1/open/statistics/regions/{id}/heatmap) at a city box.

Run by hand:  .venv/bin/python bench/geo_heatmap.py [--messages 1000000] [--repeat 200] [--reuse]

Its data are bench/geo_nearby.py's: the database `bench_geo`, 1 000 000 messages with points
within ±9 km of their municipality's centre (Уфа holds ~30 %), over about three years. At the
default size it reuses `bench_geo` when it exists (the heat map only reads) and otherwise builds
it as geo_nearby does (from `bench_appeals`, generated first when missing). With a smaller
--messages it builds its own pair, `bench_heatmap_src` → `bench_heatmap`, the same way, so a
quick run never touches the big one. --reuse times again on the database of a previous run.

Times through the application (Flask test client: routing, the API hooks, validation, SQL,
serialisation) against GET /healthz in the same run:
  - Уфа's box (±0.09° × ±0.15°), 1 km cells, a month / a year      (the dashboards' default)
  - Уфа's box, 250 m cells, a month
  - the whole region, 4 km cells, a year
and prints how many cells come back and the PostgreSQL plan of the year query at 1 km. These
whole-region months are read from the heat map's rollup (0024, participation.reports.
heat_rollup), filled here on first use (its time per month is printed: the sweep's cost); the
last lines time the year query in-process both ways, counted from the messages (as before the
rollup, and as a narrowed scope still is) and from the rollup.

Needs PostgreSQL at BENCH_PG (default postgresql://postgres@127.0.0.1:5432).
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
from datetime import date, timedelta
from urllib.parse import urlencode

import _common
import geo_nearby
import sqlalchemy as sa

FULL = 1_000_000
BOX_LAT, BOX_LON = 0.09, 0.15  # ±10 km × ±9.6 km around Уфа's centre


def _database(messages: int, reuse: bool) -> str:
    """The database to time on: bench_geo at full size, bench_heatmap for a smaller run."""
    if messages < FULL:
        # geo_nearby builds into the names it is given: a small pair of our own.
        geo_nearby.SOURCE, geo_nearby.DB_NAME = "bench_heatmap_src", "bench_heatmap"
    name = geo_nearby.DB_NAME
    if reuse or (messages >= FULL and geo_nearby._exists(name)):
        print(f"Database {name}: reusing a previous run", flush=True)
        return name
    if not geo_nearby._exists(geo_nearby.SOURCE):
        _generate_source(messages)
    geo_nearby._prepare(messages)
    return name


def _generate_source(messages: int) -> None:
    """The source database at the head revision (the demo's seed needs the territories'
    centres of 0020), with the inbox bench's generated messages."""
    import appeals_inbox
    import flask_migrate

    from participation.demo.seed import seed_demo
    from participation.extensions import db

    source = geo_nearby.SOURCE
    print(f"No {source}: generating {messages:,} messages into it first…", flush=True)
    _common.recreate_database(source)
    instance = tempfile.mkdtemp(prefix="bench-heatmap-")
    app = _common.quiet_app(_common.app_env(source, instance, _common.DEVELOPMENT))
    with app.app_context():
        flask_migrate.upgrade()
        seed_demo()
        db.session.commit()
    appeals_inbox._generate(app, messages, source)
    with app.app_context():
        db.engine.dispose()  # the copy (CREATE DATABASE … TEMPLATE) needs it unused


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=FULL)
    parser.add_argument("--repeat", type=int, default=200)
    parser.add_argument("--reuse", action="store_true", help="time again on the last database")
    args = parser.parse_args()
    name = _database(args.messages, args.reuse)

    from participation.appeals.models import Appeal
    from participation.core.territories import Territory
    from participation.demo import data
    from participation.extensions import db

    instance = tempfile.mkdtemp(prefix="bench-heatmap-")
    app = _common.quiet_app(_common.app_env(name, instance, _common.DEVELOPMENT))
    with app.app_context():
        total, pointed, newest = db.session.execute(
            sa.select(
                sa.func.count(), sa.func.count(Appeal.latitude), sa.func.max(Appeal.registered_at)
            )
        ).one()
        region = db.session.scalar(
            sa.select(Territory).where(Territory.oktmo == data.BASHKORTOSTAN)
        )
        ufa = db.session.scalar(sa.select(Territory).where(Territory.oktmo == data.UFA))
        centre = (float(ufa.latitude), float(ufa.longitude))
    print(f"  messages: {total:,}, with a point: {pointed:,}")
    _fill_rollup(app)
    # A full month and a full year just before the newest message (the data's "now").
    last = (newest.date().replace(day=1) - timedelta(days=1)) if newest else date.today()
    month = {"grain": "month", "day": last.isoformat()}
    year = {"grain": "year", "day": (last.replace(month=1, day=1) - timedelta(days=1)).isoformat()}
    box = ",".join(
        f"{x:.6f}"
        for x in (
            centre[1] - BOX_LON,
            centre[0] - BOX_LAT,
            centre[1] + BOX_LON,
            centre[0] + BOX_LAT,
        )
    )
    path = f"/api/v1/open/statistics/regions/{region.id}/heatmap?"
    cases = [
        ("baseline GET /healthz (SELECT 1)", "/healthz"),
        ("Уфа, 1 km cells, a month", path + urlencode({**month, "cell": 1000, "bbox": box})),
        ("Уфа, 1 km cells, a year", path + urlencode({**year, "cell": 1000, "bbox": box})),
        ("Уфа, 250 m cells, a month", path + urlencode({**month, "cell": 250, "bbox": box})),
        ("the region, 4 km cells, a year", path + urlencode({**year, "cell": 4000})),
    ]
    client = app.test_client()
    for label, url in cases[1:]:
        body = client.get(url).get_json()
        assert "cells" in body, (url, body)
        counted = sum(cell["count"] for cell in body["cells"])
        print(f"  {label}: {len(body['cells'])} cells, {counted:,} messages in them")
    print(f"\n{'case':36} {'p50 ms':>8} {'p95 ms':>8} {'p50/base':>9} {'p95/base':>9}")
    base50 = base95 = None
    for label, url in cases:
        samples = geo_nearby._time(client, [url], args.repeat)
        p50, p95 = statistics.median(samples), geo_nearby._p(samples, 95)
        base50, base95 = base50 or p50, base95 or p95
        print(
            f"{label:36} {p50:8.1f} {p95:8.1f} {p50 / base50:9.1f} {p95 / base95:9.1f}",
            flush=True,
        )
    _plan(app, region.id, year, box)
    _compare_paths(app, region.id, year, box, args.repeat)


def _fill_rollup(app) -> None:
    """The database at the head revision with the heat map's rollup filled (0024), timed."""
    import time

    import flask_migrate

    from participation.appeals.models import Appeal
    from participation.extensions import db
    from participation.reports.heat_rollup import recount_heat
    from participation.reports.models import HeatCellRollup

    with app.app_context():
        flask_migrate.upgrade()
        if db.session.scalar(sa.select(sa.func.count()).select_from(HeatCellRollup)):
            return
        first = db.session.scalar(sa.select(sa.func.min(Appeal.registered_at)))
        months, month = [], first.date().replace(day=1)
        while month <= date.today():
            months.append(month)
            month = (month + timedelta(days=32)).replace(day=1)
        started = time.perf_counter()
        recount_heat(months)
        db.session.commit()
        rows = db.session.scalar(sa.select(sa.func.count()).select_from(HeatCellRollup))
        took = time.perf_counter() - started
        print(
            f"  heat rollup: {rows:,} rows for {len(months)} months in {took:.1f} s "
            f"({took / len(months) * 1000:.0f} ms a month)",
            flush=True,
        )


def _compare_paths(app, region_id: int, year: dict, box: str, repeat: int) -> None:
    """The same year at 1 km, in-process: from the rollup (a whole region's months) and
    counted from the messages (the path a narrowed scope takes): the figure before and after."""
    import time

    from participation.core.territories import Territory
    from participation.extensions import db
    from participation.geo import cells as c
    from participation.reports import rating as r
    from participation.reports.heatmap import heat_cells, scope_where
    from participation.reports.services import Scope

    with app.app_context():
        region = db.session.get(Territory, region_id)
        period = r.chosen_period("year", year["day"], date.today())
        area = c.parse_box(box)
        grid = c.Grid.of(1000, float(region.latitude))
        scope = Scope(region_id=region_id)
        where = scope_where(scope, period, region.timezone)
        print(f"\nin-process, Уфа, 1 km cells, a year ({repeat} runs each):")
        for label, call in (
            ("counted from the messages (before)", lambda: c.count_cells(where, grid, area)),
            ("from the rollup (after)", lambda: heat_cells(scope, period, 1000, area)),
        ):
            samples = []
            for _ in range(repeat):
                started = time.perf_counter()
                call()
                samples.append((time.perf_counter() - started) * 1000)
            print(
                f"  {label:36} p50 {statistics.median(samples):7.1f} ms  "
                f"p95 {geo_nearby._p(samples, 95):7.1f} ms"
            )


def _plan(app, region_id: int, year: dict, box: str) -> None:
    """The year query's plan and time as PostgreSQL reports them (EXPLAIN ANALYZE)."""
    from sqlalchemy import event

    from participation.extensions import db
    from participation.geo import cells as c
    from participation.reports import rating as r
    from participation.reports.heatmap import heat_cells
    from participation.reports.services import Scope

    statements: list[tuple[str, object]] = []
    with app.app_context():

        def capture(conn, cursor, statement, parameters, context, executemany):
            if "FROM report_heat_cells" in statement:
                statements.append((statement, parameters))

        period = r.chosen_period("year", year["day"], date.today())
        event.listen(db.engine, "before_cursor_execute", capture)
        heat_cells(Scope(region_id=region_id), period, 1000, c.parse_box(box))
        event.remove(db.engine, "before_cursor_execute", capture)
        statement, parameters = statements[-1]
        cursor = db.session.connection().connection.cursor()
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + statement, parameters)
        print("\nPostgreSQL plan of the heat-map query (Уфа's box, 1 km cells, a year, rollup):")
        for (line,) in cursor.fetchall():
            print("  " + line)


if __name__ == "__main__":
    main()
