"""Benchmark: the widget page as organizations' sites load it, on PostgreSQL behind gunicorn.

Run by hand:  .venv/bin/python bench/widgets_frame.py [--seconds 15] [--connections 32]
(needs `wrk`: apt-get install -y wrk.)

Builds its own database `bench_widgets` (dropped and recreated) through the migrations: a
city, its administration with an «Участвовать» widget, five open surveys and five open votes
for the city. Every request is what a visitor's browser does when a page with the snippet
opens: GET /widget/<code>?origin=<site> — the code check, the lists of surveys and votes,
the page, and the per-site view counter (one INSERT … ON CONFLICT DO UPDATE). All requests
come "from" one site, so every request updates the same counter row: the worst case.

The baseline, measured in the same run on the same gunicorn settings (bench/_common.py:
GTHREAD_8_KEEPALIVE): a bare Flask app answering GET /hello. Each gets a 2-second warm-up.
Printed: requests per second of both and their ratio, latency percentiles, errors (target 0),
and lost views: served pages minus the counter's growth (target 0 — concurrent upserts must
all count); then the CPU time per request (from /proc) of the gunicorn workers, and for the
widget also of the PostgreSQL backends serving the bench database (not Redis's), and the ratio
of CPU per request hello / widget, which the machine's other load moves much less than the
rates.
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

    with _common.Gunicorn("widgets_frame:product_app()", GUNICORN, env) as product:
        product.wait("/healthz")
        url = f"http://127.0.0.1:{product.port}{path}"
        _common.wrk(url, 2, args.connections)  # warm-up
        time.sleep(1)  # the warm-up's last requests finish
        before = _views(app)
        widget_result, widget_cpu = _common.metered(
            product, lambda: _common.wrk(url, args.seconds, args.connections), DB_NAME
        )
        after = _views(app)

    print()
    _report("hello", hello_result)
    _report("widget", widget_result)
    ratio = _common.rate(widget_result) / _common.rate(hello_result)
    print(f"ratio widget/hello: {ratio:.3f}")
    _common.report_cpu(24, ("hello", hello_cpu), ("widget", widget_cpu))
    served = widget_result["requests"] - widget_result["non_ok"]
    counted = after - before
    # wrk stops with requests in flight: the server counts them, wrk does not (at most one
    # per connection), so counted - served lies in [0, connections] when nothing is lost.
    lost = max(0, served - counted)
    print(f"pages served {served}, views counted {counted} "
          f"(in flight at the end: {max(0, counted - served)}), "
          f"lost views {lost} (target 0)")  # fmt: skip


if __name__ == "__main__":
    main()
