"""Where one dashboard page spends its time (by hand): each SQL statement's time, and the rest.

  .venv/bin/python bench/profile_page.py PERSONA URL [--repeat 20] [--cprofile]
Reads the database left by bench/reports_dashboard.py (bench_reports).
"""

from __future__ import annotations

import argparse
import cProfile
import logging
import pstats
import statistics
import tempfile
import time

import _common
import reports_dashboard
import sqlalchemy as sa


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("persona")
    parser.add_argument("url")
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--cprofile", action="store_true")
    args = parser.parse_args()
    from participation import create_app
    from participation.extensions import db

    logging.disable(logging.WARNING)
    env = _common.app_env(reports_dashboard.DB_NAME, tempfile.mkdtemp(), _common.DEVELOPMENT)
    app = create_app(env=env)
    persona = None if args.persona == "-" else args.persona
    client = reports_dashboard._client(app, persona)
    statements: dict[str, list[float]] = {}
    started_at: dict[int, float] = {}

    with app.app_context():
        engine = db.engine

    @sa.event.listens_for(engine, "before_cursor_execute")
    def _before(conn, cursor, statement, params, context, many):
        started_at[id(cursor)] = time.perf_counter()

    @sa.event.listens_for(engine, "after_cursor_execute")
    def _after(conn, cursor, statement, params, context, many):
        took = (time.perf_counter() - started_at.pop(id(cursor))) * 1000
        statements.setdefault(" ".join(statement.split())[:160], []).append(took)

    assert client.get(args.url).status_code == 200
    statements.clear()
    totals = []
    profiler = cProfile.Profile() if args.cprofile else None
    for _ in range(args.repeat):
        started = time.perf_counter()
        if profiler:
            profiler.enable()
        response = client.get(args.url)
        if profiler:
            profiler.disable()
        totals.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200
    sql = sum(sum(v) for v in statements.values()) / args.repeat
    print(f"page p50 {statistics.median(totals):.1f} ms; SQL {sql:.1f} ms per request")
    for text, times in sorted(statements.items(), key=lambda kv: -sum(kv[1])):
        print(f"{sum(times) / args.repeat:7.1f} ms  ×{len(times) / args.repeat:4.1f}  {text}")
    if profiler:
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(40)


if __name__ == "__main__":
    main()
