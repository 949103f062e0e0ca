"""Benchmark: analytics over 1 000 000 messages in PostgreSQL.

Run by hand:  .venv/bin/python bench/reports_dashboard.py [--messages 1000000] [--repeat 100]
              .venv/bin/python bench/reports_dashboard.py --reuse --pages-only   (pages again)

Builds its own database `bench_reports` through the migrations, loads the demo region and
generates the messages with the inbox bench's INSERT … SELECT generate_series, then adds the
ratings of the finished ones and the postponements, and prints:

1. the time of a full `reports rebuild` (the rollup from nothing);
2. for the last twelve months and each cut, the rollup's counters against the same counters
   recomputed with a GROUP BY over the base tables: **equal or not**, and both times;
3. p50 / p95 of each dashboard page through the application (Flask test client: routing,
   session, permission checks, SQL, template), against GET /healthz in the same run;
4. the rollup refresh after 10 000 new lifecycle events (10 000 answers rated at once).

Needs PostgreSQL at BENCH_PG (default postgresql://postgres@127.0.0.1:5432).
"""

from __future__ import annotations

import argparse
import logging
import statistics
import tempfile
import time
from datetime import timedelta

import _common
import appeals_inbox
import sqlalchemy as sa

DB_NAME = "bench_reports"
BASHKORTOSTAN = "80000000"  # the demo region's OKTMO (participation.demo.data.BASHKORTOSTAN)

RATINGS = """
INSERT INTO appeal_ratings (appeal_id, author_id, organization_id, score, via, created_at)
SELECT id, author_id, executor_organization_id,
       CASE WHEN state = 'escalated' THEN 1 + (id % 2) ELSE 3 + (id % 3) END,
       'cabinet', closed_at
FROM appeals WHERE state IN ('closed', 'escalated') AND id % 5 <> 0
  AND submission_key LIKE 'bench-%'
"""
POSTPONEMENTS = """
INSERT INTO appeal_events (appeal_id, action, actor_id, actor_role, organization_id, at,
                           from_state, to_state, comment, details)
SELECT id, 'postpone', NULL, 'executor', executor_organization_id,
       registered_at + interval '5 days', 'in_work', 'postponed', postponement_reason, '{}'
FROM appeals WHERE postponement_count > 0 AND submission_key LIKE 'bench-%'
"""


def _p(samples: list[float], q: int) -> float:
    return statistics.quantiles(samples, n=100, method="inclusive")[q - 1]


def _timed(fn, repeat: int = 1):
    samples, result = [], None
    for _ in range(repeat):
        started = time.perf_counter()
        result = fn()
        samples.append((time.perf_counter() - started) * 1000)
    return result, statistics.median(samples)


def _client(app, persona: str | None):
    from participation.core.users import User
    from participation.demo import data
    from participation.extensions import db

    client = app.test_client()
    if persona is None:
        return client
    with app.app_context():
        user = db.session.scalar(
            sa.select(User).where(User.esia_oid == data.PERSONAS[persona]["esia_oid"])
        )
        key = user.get_id()
    with client.session_transaction() as session:
        now = int(time.time())
        session.update({"_user_id": key, "_fresh": True, "login_at": now, "seen_at": now})
    return client


def _pages(app, repeat: int) -> None:
    cases = [
        ("baseline GET /healthz (SELECT 1)", None, "/healthz"),
        ("region, this month (ЦУР)", "cur-coordinator", "/reports/region"),
        ("region, the year (ЦУР)", "cur-coordinator", "/reports/region?grain=year"),
        ("hotspots, the quarter (ЦУР)", "cur-coordinator", "/reports/hotspots?grain=quarter"),
        ("organization dashboard (head of Уфа)", "ufa-head", "/reports/"),
        ("rating of municipalities (ЦУР)", "cur-coordinator", "/reports/rating/"),
        ("public statistics of the region (no login)", None, f"/statistics/{BASHKORTOSTAN}"),
    ]
    print(f"\n{'page':44} {'p50 ms':>8} {'p95 ms':>8} {'p50/base':>9}")
    base = None
    for label, persona, url in cases:
        client = _client(app, persona)
        response = client.get(url, follow_redirects=True)
        if response.status_code != 200:
            print(f"{label:44} HTTP {response.status_code} (not timed)")
            continue
        samples = []
        for _ in range(repeat):
            started = time.perf_counter()
            response = client.get(url, follow_redirects=True)
            samples.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200, (url, response.status_code)
        p50, p95 = statistics.median(samples), _p(samples, 95)
        base = base or p50
        print(f"{label:44} {p50:8.1f} {p95:8.1f} {p50 / base:9.1f}", flush=True)
    print("target: p95 ≤ 100 ms for every dashboard page")


def _equality(app) -> None:
    from participation.core.db import utcnow
    from participation.core.territories import Territory
    from participation.demo import data
    from participation.extensions import db
    from participation.reports import services as r

    with app.app_context():
        region = db.session.scalar(
            sa.select(Territory).where(Territory.oktmo == data.BASHKORTOSTAN)
        )
        today = utcnow().date()
        period = r.Period(today - timedelta(days=364), today)
        scope = r.Scope(region.id)
        print(
            f"\n{'last 12 months, cut':28} {'equal':>6} {'rollup ms':>10} "
            f"{'recount ms':>11} {'ratio':>7}"
        )
        for cut in (
            None,
            r.Cut.MUNICIPALITY,
            r.Cut.ORGANIZATION,
            r.Cut.SUBCATEGORY,
            r.Cut.CHANNEL,
            r.Cut.MONTH,
        ):
            kept, kept_ms = _timed(lambda cut=cut: r.rollup_counters(scope, period, cut), 3)
            fresh, fresh_ms = _timed(lambda cut=cut: r.recount(scope, period, cut), 1)
            total = sum(c["received"] for c in kept.values())
            print(
                f"{(cut or 'region total'):28} {kept == fresh!s:>6} {kept_ms:10.1f} "
                f"{fresh_ms:11.1f} {fresh_ms / kept_ms:7.0f}×   (received {total:,})",
                flush=True,
            )


def _refresh_after_events(app, events: int) -> None:
    """`events` heads approve answers at once (each an «approve» step, as the service writes
    it); the rollup is then brought up to date, and timed."""
    from participation.core.db import utcnow
    from participation.extensions import db
    from participation.reports.models import StaleAppeal
    from participation.reports.rollup import refresh_stale

    with app.app_context():
        ids = list(
            db.session.scalars(
                sa.text(
                    "SELECT id FROM appeals WHERE state = 'approval' "
                    "AND submission_key LIKE 'bench-%' ORDER BY id LIMIT :n"
                ),
                {"n": events},
            )
        )
        if not ids:
            print("\nno message waits for approval any more: run without --reuse")
            return
        now, params = utcnow(), {"ids": ids, "now": utcnow()}
        conn = db.session.connection()
        conn.execute(
            sa.text(
                "INSERT INTO appeal_events (appeal_id, action, actor_role, organization_id, at, "
                "from_state, to_state, details) SELECT id, 'approve', 'head', "
                "executor_organization_id, :now, 'approval', 'answered', '{}' FROM appeals "
                "WHERE id = ANY(:ids)"
            ),
            params,
        )
        conn.execute(
            sa.text(
                "UPDATE appeals SET state = 'answered', bucket = 'answered', answered_at = :now "
                "WHERE id = ANY(:ids)"
            ),
            params,
        )
        db.session.execute(sa.insert(StaleAppeal), [{"appeal_id": i, "at": now} for i in ids])
        db.session.commit()
        started = time.perf_counter()
        refreshed = refresh_stale(limit=len(ids) + 1)
        db.session.commit()
        took = time.perf_counter() - started
    print(
        f"\nrollup refresh after {len(ids):,} lifecycle events (answers approved): {took:.2f} s "
        f"({refreshed:,} messages marked stale)"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=100)
    parser.add_argument("--events", type=int, default=10_000)
    parser.add_argument("--reuse", action="store_true", help="time again on a previous run's data")
    parser.add_argument(
        "--pages-only",
        action="store_true",
        help="with --reuse: time the pages only (no recount, no refresh), e.g. for an older commit",
    )
    args = parser.parse_args()

    import flask_migrate

    from participation import create_app
    from participation.demo.seed import seed_demo
    from participation.extensions import db
    from participation.reports.rollup import rebuild

    logging.disable(logging.WARNING)
    instance = tempfile.mkdtemp(prefix="bench-reports-")
    env = _common.app_env(DB_NAME, instance, _common.DEVELOPMENT)
    if not args.reuse:
        print(f"Database {DB_NAME}: migrating, loading the demo region…", flush=True)
        _common.recreate_database(DB_NAME)
        app = create_app(env=env)
        with app.app_context():
            flask_migrate.upgrade()
            seed_demo()
            db.session.commit()
        print(f"Generating {args.messages:,} messages…", flush=True)
        appeals_inbox._generate(app, args.messages, DB_NAME)
        with app.app_context():
            db.session.execute(sa.text(RATINGS))
            db.session.execute(sa.text(POSTPONEMENTS))
            db.session.commit()
        engine = _common.admin_engine(DB_NAME)
        with engine.connect() as conn:
            conn.execute(sa.text("VACUUM ANALYZE"))
        engine.dispose()
        with app.app_context():
            started = time.perf_counter()
            written = rebuild()
            db.session.commit()
            print(
                f"full rebuild of the rollup: {time.perf_counter() - started:.1f} s, "
                f"{written:,} rows"
            )
    app = create_app(env=env)
    if args.pages_only:
        _pages(app, args.repeat)
        return
    _equality(app)
    _pages(app, args.repeat)
    _refresh_after_events(app, args.events)
    _equality(app)


if __name__ == "__main__":
    main()
