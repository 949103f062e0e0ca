"""Benchmark: «Похожие сообщения рядом» (GET /api/v1/messages/nearby) and the public map's data
(GET /api/v1/geo/regions/<id>/map) over 1 000 000 messages.

Run by hand:  .venv/bin/python bench/geo_nearby.py [--repeat 300] [--reuse]
A small run (its own databases, generated in seconds), to see that it works:
              .venv/bin/python bench/geo_nearby.py --messages 20000 \
                  --source-db bench_appeals_small --db bench_geo_small

Its database `bench_geo` is a copy (CREATE DATABASE … TEMPLATE) of `bench_appeals`, the
1 000 000 messages of bench/appeals_inbox.py (run that first; with --messages N it generates its
own through the same generator when `bench_appeals` is missing). Those messages have no point:
the copy is migrated (0020: ix_appeals_point), its territories get the demo centres, and every
message a point uniformly within ±9 km of its municipality's centre (Уфа holds ~30 %: about
1 000 messages per km² there). --reuse times again on the `bench_geo` of a previous run.

Times through the application (Flask test client: routing, the API hooks, validation, SQL,
serialisation) against GET /healthz in the same run:
  - nearby, radius 150 m (the default), random points in Уфа       ← target p95 ≤ 20 ms
  - nearby, radius 2 000 m (the maximum), random points in Уфа
  - locate a point (GET /api/v1/geo/locate), random points in the region
  - the public map's points (GET /api/v1/geo/regions/<id>/map, the region's map turned on),
    a city-sized box (Уфа, ±9 km around random centres near its middle), the default cap
    (MAP_POINT_LIMIT, 300 points)                                   ← target p95 ≤ 20 ms
  - the inbox's map mode (GET /backoffice/map/inbox-points) of the organization holding the
    most messages, its coordinator logged in, folder «В работе», the same city boxes
and prints p50, p95 and their ratios to /healthz, then the PostgreSQL plans of one nearby
query and of one public map query.

Needs PostgreSQL at BENCH_PG (default postgresql://postgres@127.0.0.1:5432).
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from urllib.parse import urlencode

import _common
import sqlalchemy as sa

SOURCE = "bench_appeals"
DB_NAME = "bench_geo"
SPREAD_LAT = 0.081  # ±9 km
SPREAD_LON = 0.14  # ±9 km at 54.7° N

POINTS = """
UPDATE appeals AS a
   SET latitude = round((t.latitude + (random() * 2 - 1) * :dlat)::numeric, 6),
       longitude = round((t.longitude + (random() * 2 - 1) * :dlon)::numeric, 6)
  FROM territories AS t
 WHERE t.id = a.territory_id AND t.latitude IS NOT NULL
"""


def _names(source: str, target: str) -> None:
    global SOURCE, DB_NAME
    SOURCE, DB_NAME = source, target


def _exists(name: str) -> bool:
    engine = _common.admin_engine()
    with engine.connect() as conn:
        found = conn.scalar(sa.text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name})
    engine.dispose()
    return bool(found)


def _prepare(messages: int) -> None:
    import flask_migrate

    from participation.demo import data
    from participation.demo.seed import seed_demo
    from participation.extensions import db

    instance = tempfile.mkdtemp(prefix="bench-geo-")
    if not _exists(SOURCE):
        import appeals_inbox

        print(f"No {SOURCE}: generating {messages:,} messages into it first…", flush=True)
        _common.recreate_database(SOURCE)
        app = _common.quiet_app(_common.app_env(SOURCE, instance, _common.DEVELOPMENT))
        with app.app_context():
            # The whole schema: the demo seed writes the territories' centres (0020).
            flask_migrate.upgrade()
            seed_demo()
            db.session.commit()
        appeals_inbox._generate(app, messages, SOURCE)
        with app.app_context():
            db.engine.dispose()  # CREATE DATABASE … TEMPLATE needs the source left alone
    print(f"Database {DB_NAME}: a copy of {SOURCE}…", flush=True)
    started = time.perf_counter()
    engine = _common.admin_engine()
    with engine.connect() as conn:
        conn.execute(sa.text(f"DROP DATABASE IF EXISTS {DB_NAME} WITH (FORCE)"))
        conn.execute(sa.text(f"CREATE DATABASE {DB_NAME} TEMPLATE {SOURCE}"))
    engine.dispose()
    print(f"  copied in {time.perf_counter() - started:.1f} s", flush=True)
    app = _common.quiet_app(_common.app_env(DB_NAME, instance, _common.DEVELOPMENT))
    with app.app_context():
        flask_migrate.upgrade()
        conn = db.session.connection()
        for record in data.TERRITORIES:
            lat, lon = record["centre"]
            conn.execute(
                sa.text(
                    "UPDATE territories SET latitude = :lat, longitude = :lon WHERE oktmo = :o"
                ),
                {"lat": lat, "lon": lon, "o": record["oktmo"]},
            )
        started = time.perf_counter()
        conn.execute(sa.text("DROP INDEX ix_appeals_point"))
        conn.execute(sa.text("DROP INDEX IF EXISTS ix_appeals_inbox_point"))
        updated = conn.execute(sa.text(POINTS), {"dlat": SPREAD_LAT, "dlon": SPREAD_LON}).rowcount
        loaded = time.perf_counter() - started
        started = time.perf_counter()
        conn.execute(
            sa.text(
                "CREATE INDEX ix_appeals_point ON appeals (latitude, longitude) "
                "INCLUDE (subcategory_id, state, registered_at, id, merged_into_id) "
                "WHERE latitude IS NOT NULL"
            )
        )
        conn.execute(
            sa.text(
                "CREATE INDEX ix_appeals_inbox_point ON appeals "
                "(holder_organization_id, bucket, latitude, longitude) WHERE latitude IS NOT NULL"
            )
        )
        db.session.commit()
        indexed = time.perf_counter() - started
    engine = _common.admin_engine(DB_NAME)
    with engine.connect() as conn:
        conn.execute(sa.text("VACUUM ANALYZE appeals"))
    engine.dispose()
    print(
        f"  {updated:,} messages got a point in {loaded:.1f} s; index in {indexed:.1f} s",
        flush=True,
    )


def _time(client, urls: list[str], repeat: int) -> list[float]:
    for url in urls[:10]:  # warm-up
        response = client.get(url)
        assert response.status_code == 200, (url, response.status_code, response.get_data()[:300])
    samples = []
    for i in range(repeat):
        url = urls[i % len(urls)]
        started = time.perf_counter()
        response = client.get(url)
        samples.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, (url, response.status_code)
    return samples


def _p(samples: list[float], q: int) -> float:
    return statistics.quantiles(samples, n=100, method="inclusive")[q - 1]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=300)
    parser.add_argument("--reuse", action="store_true", help=f"time again on {DB_NAME}")
    parser.add_argument(
        "--source-db",
        default=SOURCE,
        help="the messages to copy (generated with --messages when missing)",
    )
    parser.add_argument("--db", default=DB_NAME, help="the database timed")
    args = parser.parse_args()
    _names(args.source_db, args.db)

    if args.reuse:
        print(f"Database {DB_NAME}: reusing a previous run", flush=True)
    else:
        _prepare(args.messages)

    import flask_migrate

    from participation.appeals.classifier import Subcategory
    from participation.appeals.models import Appeal
    from participation.appeals.workflow import OPEN_STATES
    from participation.core.territories import Territory
    from participation.core.users import Membership, Role
    from participation.demo import data
    from participation.extensions import db
    from participation.geo.map_data import MAP_POINT_LIMIT, set_public_map

    instance = tempfile.mkdtemp(prefix="bench-geo-")
    app = _common.quiet_app(_common.app_env(DB_NAME, instance, _common.DEVELOPMENT))
    rng = random.Random(16)
    with app.app_context():
        flask_migrate.upgrade()  # a reused database may predate the public map's settings
        total, pointed = db.session.execute(
            sa.select(sa.func.count(), sa.func.count(Appeal.latitude))
        ).one()
        region = db.session.scalar(
            sa.select(Territory).where(Territory.oktmo == data.BASHKORTOSTAN)
        )
        ufa = db.session.scalar(sa.select(Territory).where(Territory.oktmo == data.UFA))
        # The topic with the most open messages in Уфа: the heaviest realistic lookup.
        code = db.session.execute(
            sa.select(Subcategory.code, sa.func.count())
            .join(Appeal, Appeal.subcategory_id == Subcategory.id)
            .where(Appeal.territory_id == ufa.id, Appeal.state.in_(sorted(OPEN_STATES)))
            .group_by(Subcategory.code)
            .order_by(sa.func.count().desc())
            .limit(1)
        ).one()[0]
        centre = (float(ufa.latitude), float(ufa.longitude))
        set_public_map(region, enabled=True, publish_texts=False, actor_id=None)
        db.session.commit()
        region_id = region.id
        # The inbox map mode of the organization holding the most messages, as its coordinator.
        biggest = db.session.execute(
            sa.select(Appeal.holder_organization_id, sa.func.count())
            .group_by(Appeal.holder_organization_id)
            .order_by(sa.func.count().desc())
            .limit(1)
        ).one()
        coordinator = db.session.scalar(
            sa.select(Membership.user_id).where(
                Membership.organization_id == biggest[0], Membership.role == Role.COORDINATOR
            )
        )
        centres = [
            (float(t.latitude), float(t.longitude))
            for t in db.session.scalars(
                sa.select(Territory).where(Territory.parent_id == region.id)
            )
        ]
    print(f"  messages: {total:,}, with a point: {pointed:,}; topic {code}")

    def ufa_points(radius: int) -> list[str]:
        urls = []
        for _ in range(200):
            lat = centre[0] + rng.uniform(-0.07, 0.07)
            lon = centre[1] + rng.uniform(-0.12, 0.12)
            query = {"lat": f"{lat:.6f}", "lon": f"{lon:.6f}", "service_code": code}
            if radius != 150:
                query["radius"] = radius
            urls.append("/api/v1/messages/nearby?" + urlencode(query))
        return urls

    locate_urls = []
    for _ in range(200):
        lat, lon = rng.choice(centres)
        query = {
            "lat": f"{lat + rng.uniform(-0.1, 0.1):.6f}",
            "lon": f"{lon + rng.uniform(-0.15, 0.15):.6f}",
            "region": region.id,
        }
        locate_urls.append("/api/v1/geo/locate?" + urlencode(query))

    def city_boxes() -> list[str]:
        """Boxes of a city map on a screen (~18 × 18 km), centred near the middle of Уфа."""
        urls = []
        for _ in range(200):
            lat = centre[0] + rng.uniform(-0.02, 0.02)
            lon = centre[1] + rng.uniform(-0.035, 0.035)
            box = (lat - SPREAD_LAT, lon - SPREAD_LON, lat + SPREAD_LAT, lon + SPREAD_LON)
            bbox = ",".join(f"{x:.6f}" for x in box)
            urls.append(f"/api/v1/geo/regions/{region_id}/map?bbox={bbox}")
        return urls

    def inbox_boxes() -> list[str]:
        return [
            url.replace(f"/api/v1/geo/regions/{region_id}/map?", "/backoffice/map/inbox-points?")
            + "&bucket=in_work"
            for url in city_boxes()
        ]

    client = app.test_client()
    staff = app.test_client()  # its own cookie: the coordinator's session
    cookie = _common.login_cookies(app, [coordinator])[0][0]
    staff.set_cookie(*cookie.split("=", 1))
    sample = client.get(ufa_points(150)[0]).get_json()
    wide = client.get(ufa_points(2000)[0]).get_json()
    print(
        f"  a 150 m lookup finds {len(sample['messages'])} messages; "
        f"a 2 km one {len(wide['messages'])} (at most 20 returned)"
    )
    cases = [
        ("baseline GET /healthz (SELECT 1)", ["/healthz"]),
        ("nearby, radius 150 m, points in Уфа", ufa_points(150)),
        ("nearby, radius 2000 m, points in Уфа", ufa_points(2000)),
        ("locate a point in the region", locate_urls),
        (f"public map, city box (Уфа ±9 km), ≤ {MAP_POINT_LIMIT} points", city_boxes()),
    ]
    mapped = client.get(cases[-1][1][0]).get_json()
    print(
        f"  a city box of the public map gives {len(mapped['points'])} points"
        f" (capped: {mapped['capped']})"
    )
    print(f"\n{'case':48} {'p50 ms':>8} {'p95 ms':>8} {'p50/base':>9} {'p95/base':>9}")
    cases.append((f"inbox map, «В работе», holder of {biggest[1]:,}", inbox_boxes(), staff))
    base = None
    for label, urls, *who in cases:
        samples = _time(who[0] if who else client, urls, args.repeat)
        p50, p95 = statistics.median(samples), _p(samples, 95)
        base = base or (p50, p95)
        print(
            f"{label:48} {p50:8.1f} {p95:8.1f} {p50 / base[0]:9.1f} {p95 / base[1]:9.1f}",
            flush=True,
        )
    print(f"\ndata: {total:,} messages, {pointed:,} with a point")
    print("target: p95 ≤ 20 ms for nearby (radius 150 m) and for the public map's city box")
    _plan(app, centre, code)
    _map_plan(app, region_id, centre)


def _plan(app, centre: tuple[float, float], code: str) -> None:
    """The nearby query's plan and time as PostgreSQL reports them (EXPLAIN ANALYZE)."""
    from sqlalchemy import event

    from participation.appeals.classifier import Subcategory
    from participation.extensions import db
    from participation.geo.services import nearby_appeals

    statements: list[tuple[str, object]] = []
    with app.app_context():
        topic = db.session.scalar(sa.select(Subcategory.id).where(Subcategory.code == code))

        def capture(conn, cursor, statement, parameters, context, executemany):
            if "FROM appeals" in statement:
                statements.append((statement, parameters))

        event.listen(db.engine, "before_cursor_execute", capture)
        nearby_appeals(*centre, topic)
        event.remove(db.engine, "before_cursor_execute", capture)
        statement, parameters = statements[0]
        cursor = db.session.connection().connection.cursor()
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + statement, parameters)
        print("\nPostgreSQL plan of the nearby query (centre of Уфа, 150 m):")
        for (line,) in cursor.fetchall():
            print("  " + line)


def _map_plan(app, region_id: int, centre: tuple[float, float]) -> None:
    """The public map query's plan and time (EXPLAIN ANALYZE), a city box around the centre."""
    from sqlalchemy import event

    from participation.core.territories import Territory
    from participation.extensions import db
    from participation.geo.map_data import map_settings, parse_bbox, public_map_points

    statements: list[tuple[str, object]] = []
    with app.app_context():
        region = db.session.get(Territory, region_id)
        box = (centre[0] - SPREAD_LAT, centre[1] - SPREAD_LON)
        box += (centre[0] + SPREAD_LAT, centre[1] + SPREAD_LON)
        bbox = parse_bbox(",".join(f"{x:.6f}" for x in box))

        def capture(conn, cursor, statement, parameters, context, executemany):
            if "FROM appeals" in statement:
                statements.append((statement, parameters))

        event.listen(db.engine, "before_cursor_execute", capture)
        public_map_points(region, map_settings(region_id), bbox)
        event.remove(db.engine, "before_cursor_execute", capture)
        statement, parameters = statements[0]
        cursor = db.session.connection().connection.cursor()
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + statement, parameters)
        lines = [line for (line,) in cursor.fetchall()]
        print(f"\nPostgreSQL plan of the public map query (Уфа ±9 km; {len(lines)} lines):")
        for line in lines[:14] + (["  …"] if len(lines) > 20 else []) + lines[-6:]:
            print("  " + line)


if __name__ == "__main__":
    main()
