"""Benchmark: the widget page as organizations' sites load it, on PostgreSQL behind gunicorn.

Run by hand:  .venv/bin/python bench/widgets_frame.py [--seconds 15] [--connections 32]
(needs `wrk`: apt-get install -y wrk.)

Builds its own database `bench_widgets` (dropped and recreated) through the migrations: a
city, its administration with an «Участвовать» widget, five open surveys and five open votes
for the city. Every request is what a visitor's browser does when a page with the snippet
opens: GET /widget/<code>?origin=<site> — the code check, the lists of surveys and votes,
the page, and the per-site view counter (one INSERT … ON CONFLICT DO UPDATE). All requests
come "from" one site, so every request updates the same counter row: the worst case.

The baseline, measured in the same run on the same gunicorn settings: a bare Flask app
answering GET /hello. Printed: requests per second of both and their ratio, latency
percentiles, errors (target 0), and lost views: served pages minus the counter's growth
(target 0 — concurrent upserts must all count).
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

BASE = os.environ.get("BENCH_PG", "postgresql://postgres@127.0.0.1:5432")
DB_NAME = "bench_widgets"
REDIS = os.environ.get("BENCH_REDIS", "redis://127.0.0.1:6379/8")
SECRET = "bench-widgets-secret-" + "x" * 40
SITE = "https://school12.ufa.example.ru"
GUNICORN = ["--workers", "3", "--worker-class", "gthread", "--threads", "8",
            "--keep-alive", "30", "--backlog", "2048", "--log-level", "warning"]  # fmt: skip
WRK_SCRIPT = r"""
function done(summary, latency, requests)
  io.write(string.format(
    'RESULT {"requests": %d, "seconds": %.3f, "p50": %.3f, "p90": %.3f, "p99": %.3f, ' ..
    '"max": %.3f, "non_ok": %d, "socket_errors": %d}\n',
    summary.requests, summary.duration / 1e6, latency:percentile(50) / 1e3,
    latency:percentile(90) / 1e3, latency:percentile(99) / 1e3, latency.max / 1e3,
    summary.errors.status,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
end
"""


def _env() -> dict[str, str]:
    instance = Path(tempfile.gettempdir()) / "bench-widgets"
    env = {
        "PARTICIPATION_ENV": "production",
        "SECRET_KEY": SECRET,
        "DATABASE_URL": f"{BASE}/{DB_NAME}",
        "STORAGE_DIR": str(instance / "storage"),
        "MAIL_DIR": str(instance / "mail"),
        "ESIA_BASE_URL": "https://esia.example",
        "ESIA_CLIENT_ID": "BENCH",
        "ESIA_KEY_PATH": __file__,
        "ESIA_CERT_PATH": __file__,
        "ESIA_PROVIDER_KEY_PATH": __file__,
        "SESSION_COOKIE_SECURE": "false",
    }
    if os.environ.get("BENCH_NO_REDIS"):
        return env
    try:
        from redis import Redis

        Redis.from_url(REDIS).ping()
        env["REDIS_URL"] = REDIS
    except Exception:
        pass
    return env


def product_app():
    """What gunicorn serves: the real app."""
    from participation import create_app

    return create_app(env={**os.environ})


def hello_app():
    """The baseline: a bare Flask app on the same gunicorn settings."""
    from flask import Flask

    app = Flask("hello")

    @app.get("/hello")
    def hello():
        return "hello"

    return app


def _build(app) -> str:
    """Schema, a city with its administration, its widget, open surveys and votes: the code."""
    import flask_migrate

    from participation.core.db import utcnow
    from participation.core.organizations import Organization, OrganizationKind
    from participation.core.territories import Territory, TerritoryLevel
    from participation.core.users import Membership, Role, User
    from participation.extensions import db
    from participation.polls import services as polls
    from participation.voting.models import Campaign, VotingObject
    from participation.widgets import services
    from participation.widgets.models import WidgetKind

    with app.app_context():
        flask_migrate.upgrade(directory=str(ROOT / "migrations"))
        country = Territory(oktmo="00", name="Россия", level=TerritoryLevel.COUNTRY,
                            timezone="Europe/Moscow")  # fmt: skip
        region = Territory(oktmo="80000000", name="Республика Башкортостан",
                           level=TerritoryLevel.REGION, parent=country,
                           timezone="Asia/Yekaterinburg")  # fmt: skip
        city = Territory(oktmo="80701000", name="городской округ город Уфа",
                         level=TerritoryLevel.URBAN_OKRUG, parent=region,
                         timezone="Asia/Yekaterinburg")  # fmt: skip
        org = Organization(name="Администрация г. Уфы", kind=OrganizationKind.MUNICIPAL,
                           territory=city)  # fmt: skip
        admin = User(esia_oid="1000001", last_name="Администраторов", first_name="Иван")
        db.session.add_all([country, region, city, org, admin])
        db.session.flush()
        db.session.add(Membership(user_id=admin.id, organization_id=org.id,
                                  role=Role.ADMINISTRATOR))  # fmt: skip
        now = utcnow()
        for n in range(1, 6):
            survey = polls.create_survey(
                org,
                admin,
                polls.SurveySettings(
                    title=f"Опрос № {n} о жизни города",
                    description="",
                    anonymous=True,
                    starts_at=now - timedelta(days=1),
                    ends_at=now + timedelta(days=30 + n),
                    territory_ids=[city.id],
                ),
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
            campaign.objects = [VotingObject(position=1, title="Сквер"),
                                VotingObject(position=2, title="Парк")]  # fmt: skip
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


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Gunicorn:
    def __init__(self, target: str, env: dict[str, str]) -> None:
        self.port = _free_port()
        self.proc = subprocess.Popen(
            [str(ROOT / ".venv/bin/gunicorn"), *GUNICORN, "-b", f"127.0.0.1:{self.port}",
             "--chdir", str(ROOT / "bench"), target],
            env={**os.environ, **env, "PYTHONPATH": str(ROOT)},
        )  # fmt: skip

    def wait(self, path: str) -> None:
        for _ in range(300):
            try:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
                conn.request("GET", path)
                conn.getresponse().read()
                return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("gunicorn did not start")

    def stop(self) -> None:
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(20)


def _wrk(url: str, seconds: int, connections: int) -> dict:
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as f:
        f.write(WRK_SCRIPT)
        script = f.name
    out = subprocess.run(
        ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--timeout", "10s",
         "-s", script, url],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    os.unlink(script)
    line = next(line for line in out.splitlines() if line.startswith("RESULT "))
    return json.loads(line[len("RESULT ") :])


def _report(name: str, r: dict) -> None:
    rps = r["requests"] / r["seconds"]
    print(f"{name:>7}: {rps:8.0f} req/s   p50 {r['p50']:6.2f} ms   p90 {r['p90']:6.2f} ms   "
          f"p99 {r['p99']:6.2f} ms   max {r['max']:7.2f} ms   "
          f"errors {r['non_ok'] + r['socket_errors']}")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=15)
    parser.add_argument("--connections", type=int, default=32)
    args = parser.parse_args()

    engine = sa.create_engine(
        BASE.replace("postgresql://", "postgresql+psycopg://", 1) + "/postgres",
        isolation_level="AUTOCOMMIT",
    )
    with engine.connect() as conn:
        conn.execute(sa.text(f"DROP DATABASE IF EXISTS {DB_NAME} WITH (FORCE)"))
        conn.execute(sa.text(f"CREATE DATABASE {DB_NAME}"))
    engine.dispose()

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

    hello = Gunicorn("widgets_frame:hello_app()", env)
    try:
        hello.wait("/hello")
        _wrk(f"http://127.0.0.1:{hello.port}/hello", 2, args.connections)  # warm-up
        hello_result = _wrk(f"http://127.0.0.1:{hello.port}/hello", args.seconds, args.connections)
    finally:
        hello.stop()

    product = Gunicorn("widgets_frame:product_app()", env)
    try:
        product.wait("/healthz")
        _wrk(f"http://127.0.0.1:{product.port}{path}", 2, args.connections)  # warm-up
        time.sleep(1)  # the warm-up's last requests finish
        before = _views(app)
        widget_result = _wrk(f"http://127.0.0.1:{product.port}{path}", args.seconds,
                             args.connections)  # fmt: skip
        after = _views(app)
    finally:
        product.stop()

    print()
    _report("hello", hello_result)
    _report("widget", widget_result)
    ratio = (widget_result["requests"] / widget_result["seconds"]) / (
        hello_result["requests"] / hello_result["seconds"]
    )
    print(f"ratio widget/hello: {ratio:.3f}")
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
