"""Benchmark: the widget page as organizations' sites load it, on PostgreSQL behind gunicorn.

Run by hand:  .venv/bin/python bench/widgets_frame.py [--seconds 15] [--connections 32]
(needs `wrk`: apt-get install -y wrk.)

Builds its own database `bench_widgets` (dropped and recreated) through the migrations: a
city, its administration with an «Участвовать» widget, five open surveys and five open votes
for the city. Every request is what a visitor's browser does when a page with the snippet
opens: GET /widget/<code>?origin=<site> — the code check, the lists of surveys and votes,
the page, and the per-site view counter (one INSERT … ON CONFLICT DO UPDATE). All requests
come "from" one site, so every request updates the same counter row: the worst case.

The baselines, measured in the same run on the same gunicorn settings (bench/_common.py:
GTHREAD_8_KEEPALIVE): a bare Flask app answering GET /hello, and a naive Flask-SQLAlchemy app
inserting one row per POST (_common.naive_app: what a write costs at the least). Each gets a
2-second warm-up. The widget is timed at --connections (default 32) and at 4 connections.
Printed: requests per second and their ratios to both baselines, latency percentiles at each
load, errors (target 0), lost views (served pages minus the counter's growth, target 0 —
concurrent upserts must all count) and views counted twice (target 0); then the CPU time per
request (from /proc) of the gunicorn workers, and for the widget and the naive app also of the
PostgreSQL backends serving their databases (not Redis's), and the ratios of CPU per request,
which the machine's other load moves much less than the rates.
"""

from __future__ import annotations

import os
import tempfile
import time
from datetime import timedelta
from pathlib import Path

import _common
import sqlalchemy as sa

DB_NAME = "bench_widgets"
REDIS = os.environ.get("BENCH_REDIS", "redis://127.0.0.1:6379/8")
SITE = "https://school12.ufa.example.ru"
GUNICORN = _common.GTHREAD_8_KEEPALIVE
LOW = 4  # connections of the second timed run (its latency); the first has --connections


def _env() -> dict[str, str]:
    env = _common.app_env(
        DB_NAME, Path(tempfile.gettempdir()) / "bench-widgets", _common.PRODUCTION
    )
    if not os.environ.get("BENCH_NO_REDIS") and _common.redis_answers(REDIS):
        env["REDIS_URL"] = REDIS
    return env


def product_app():
    """What gunicorn serves: the real app."""
    from participation import create_app

    return create_app(env={**os.environ})


def _build(app) -> str:
    """Schema, a city with its administration, its widget, open surveys and votes: the code."""
    import flask_migrate

    from participation.core.db import utcnow
    from participation.core.users import Membership, Role, User
    from participation.extensions import db
    from participation.voting.models import Campaign, VotingObject
    from participation.widgets import services
    from participation.widgets.models import WidgetKind

    with app.app_context():
        flask_migrate.upgrade(directory=str(_common.ROOT / "migrations"))
        country, region, city, org = _common.ufa()
        admin = User(esia_oid="1000001", last_name="Администраторов", first_name="Иван")
        db.session.add_all([country, region, city, org, admin])
        db.session.flush()
        db.session.add(Membership(user_id=admin.id, organization_id=org.id,
                                  role=Role.ADMINISTRATOR))  # fmt: skip
        now = utcnow()
        for n in range(1, 6):
            survey = _common.anonymous_survey(
                org,
                admin,
                f"Опрос № {n} о жизни города",
                city.id,
                now - timedelta(days=1),
                now + timedelta(days=30 + n),
            )
            survey.published_at = now
            campaign = Campaign(
                organization=org,
                territory=city,
                title=f"Голосование № {n}: выбираем сквер",
                opens_at=now - timedelta(days=1),
                closes_at=now + timedelta(days=30 + n),
                published_at=now - timedelta(days=2),
            )
            campaign.objects = [VotingObject(number=1, title="Сквер"),
                                VotingObject(number=2, title="Парк")]  # fmt: skip
            db.session.add(campaign)
        services.save_settings(
            org, admin, kind=WidgetKind.PARTICIPATE, design="municipal", site_url=SITE
        )
        code = services.generate_code(org, admin)
        db.session.commit()
        db.session.execute(sa.text("ANALYZE"))
        db.session.commit()
    return code


def _views(app) -> int:
    """Views counted so far (those buffered in Redis are added first, as the sweep does)."""
    from participation.extensions import db
    from participation.widgets.services import flush_views

    with app.app_context():
        flush_views()
        db.session.commit()
        total = db.session.scalar(sa.text("SELECT coalesce(sum(views), 0) FROM widget_site_days"))
        db.session.remove()
    return int(total)


def _report(name: str, r: dict) -> None:
    rps = _common.rate(r)
    print(f"{name:>7}: {rps:8.0f} req/s   p50 {r['p50']:6.2f} ms   p90 {r['p90']:6.2f} ms   "
          f"p99 {r['p99']:6.2f} ms   max {r['max']:7.2f} ms   "
          f"errors {r['non_ok'] + r['socket_errors']}")  # fmt: skip


def main() -> None:
    args = _common.wrk_setup(__doc__)

    _common.recreate_database(DB_NAME)

    env = _env()
    os.environ.update(env)
    from participation import create_app

    app = create_app(env={**os.environ})
    code = _build(app)
    path = f"/widget/{code}?origin={SITE}"
    mode = "buffered in Redis" if "REDIS_URL" in env else "written at once (no Redis)"
    print(f"widget {code}: 5 open surveys, 5 open votes; views {mode}; "
          f"{args.connections} connections, {args.seconds} s each")  # fmt: skip
    if "REDIS_URL" in env:
        from redis import Redis

        redis = Redis.from_url(env["REDIS_URL"])
        for key in redis.scan_iter("widgets:views*"):
            redis.delete(key)

    hello_result, hello_cpu = _common.wrk_hello_baseline(GUNICORN, env, args)
    naive_result, naive_cpu = _common.wrk_naive_baseline(
        GUNICORN, env, args.seconds, args.connections
    )

    runs = {}
    with _common.Gunicorn("widgets_frame:product_app()", GUNICORN, env) as product:
        product.wait("/healthz")
        url = f"http://127.0.0.1:{product.port}{path}"
        _common.wrk(url, 2, args.connections)  # warm-up
        for connections in (LOW, args.connections):
            time.sleep(1)  # the previous run's last requests finish
            before = _views(app)
            result, cpu = _common.metered(
                product, lambda c=connections: _common.wrk(url, args.seconds, c), DB_NAME
            )
            time.sleep(1)
            runs[connections] = (result, cpu, _views(app) - before)

    print()
    _report("hello", hello_result)
    _report("naive", naive_result)
    for connections, (result, _cpu, _counted) in runs.items():
        _report(f"w/{connections}c", result)
    widget_result, widget_cpu, _counted = runs[args.connections]
    print(f"ratio widget/hello: {_common.rate(widget_result) / _common.rate(hello_result):.3f}")
    print(f"ratio widget/naive insert: "
          f"{_common.rate(widget_result) / _common.rate(naive_result):.3f}")  # fmt: skip
    _common.report_cpu(
        24, ("hello", hello_cpu), ("naive insert", naive_cpu), ("widget", widget_cpu)
    )
    print(f"{'CPU ratio naive / widget':<24}{naive_cpu.total_ms / widget_cpu.total_ms:8.3f}")
    for connections, (result, _cpu, counted) in runs.items():
        served = result["requests"] - result["non_ok"]
        # wrk stops with requests in flight: the server counts them, wrk does not (at most
        # one per connection), so counted - served lies in [0, connections] when nothing is
        # lost and nothing counted twice.
        lost = max(0, served - counted)
        duplicates = max(0, counted - served - connections)
        print(f"{connections} connections: pages served {served}, views counted {counted} "
              f"(in flight at the end: {max(0, counted - served)}), lost views {lost}, "
              f"views counted twice {duplicates} (targets 0)")  # fmt: skip


if __name__ == "__main__":
    main()
