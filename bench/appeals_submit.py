"""Benchmark: message submission throughput vs a bare Flask hello, same gunicorn config.

Run by hand:  .venv/bin/python bench/appeals_submit.py [--requests 2000] [--threads 16]

Builds its own PostgreSQL database `bench_appeals_submit` through the migrations and loads the
demo region (operator, ЦУР, organizations, the classifier, routing rules), plus the residents
who will write. Session cookies and CSRF tokens are made with the app's own signer, as a browser
would hold them after logging in. Then, in one run and with one gunicorn configuration, it
measures:
  - a bare Flask app answering GET /hello,
  - the real app taking POST /appeals/new: eligibility, form checks, topic suggestion
    (pymorphy3), routing by rule, deadlines, the message row, its event, the audit entry and
    the resident's notice in the outbox (the relay job goes to Redis, as in production),
and prints both rates and their ratio. Every submission must end in the redirect to the new
message, and the database must hold exactly that many messages.

Needs PostgreSQL at BENCH_PG (default postgresql://postgres@127.0.0.1:5432) and Redis at
BENCH_REDIS (default redis://127.0.0.1:6379/2; that database is emptied afterwards).
"""

from __future__ import annotations

import argparse
import http.client
import os
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import uuid
from pathlib import Path

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

BASE = os.environ.get("BENCH_PG", "postgresql://postgres@127.0.0.1:5432")
REDIS = os.environ.get("BENCH_REDIS", "redis://127.0.0.1:6379/2")
DB_NAME = "bench_appeals_submit"
SECRET = "bench-secret-" + "x" * 40
GUNICORN = [
    "-w",
    "3",
    "-k",
    "gthread",
    "--threads",
    "4",
    "--backlog",
    "2048",
    "--log-level",
    "warning",
]
PORT = 5094
TEXTS = (
    "Огромная яма на проезжей части у дома {n}, машины объезжают по встречной полосе.",
    "На дороге у остановки выбоина, уже пробил колесо, прошу заделать (дом {n}).",
    "Провал асфальта на перекрёстке у дома {n}, опасно для водителей и пешеходов.",
    "Разбитая дорога вдоль улицы, ямы по всей длине, особенно у дома {n}.",
)


def _env() -> dict[str, str]:
    instance = os.environ.get("BENCH_INSTANCE") or tempfile.mkdtemp(prefix="bench-appeals-")
    return {
        "PARTICIPATION_ENV": "development",
        "SECRET_KEY": SECRET,
        "DATABASE_URL": f"{BASE}/{DB_NAME}",
        "REDIS_URL": REDIS,
        "STORAGE_DIR": f"{instance}/storage",
        "MAIL_DIR": f"{instance}/mail",
        "RATELIMIT_ENABLED": "0",
        "DEFAULT_TIMEZONE": "Asia/Yekaterinburg",
    }


def bench_app(warm: bool = False):
    """gunicorn entry point: the real application on the bench database."""
    import logging

    from participation import create_app

    app = create_app(env=_env())
    logging.disable(logging.WARNING)
    if not warm:
        return app
    with app.app_context():
        # Build the topic suggester's index and load pymorphy3 before the clock starts,
        # as a warmed-up production worker would have.
        from participation.appeals.suggest import suggest_topic

        suggest_topic("яма на дороге")
    return app


def hello_app():
    """gunicorn entry point: the baseline, a bare Flask app."""
    from flask import Flask

    app = Flask("hello")

    @app.get("/hello")
    def hello():
        return "hello"

    return app


def _prepare(people: int) -> tuple[int, int, list[int]]:
    """Fresh database with the demo region and `people` residents of Уфа; returns ids."""
    import flask_migrate

    from participation.appeals.classifier import Subcategory
    from participation.core.db import utcnow
    from participation.core.territories import Territory
    from participation.core.users import AccountLevel, Gender, User
    from participation.demo import data
    from participation.demo.seed import seed_demo
    from participation.extensions import db

    admin = sa.create_engine(
        BASE.replace("postgresql://", "postgresql+psycopg://", 1) + "/postgres",
        isolation_level="AUTOCOMMIT",
    )
    with admin.connect() as conn:
        conn.execute(sa.text(f"DROP DATABASE IF EXISTS {DB_NAME} WITH (FORCE)"))
        conn.execute(sa.text(f"CREATE DATABASE {DB_NAME}"))
    admin.dispose()
    app = bench_app()
    with app.app_context():
        flask_migrate.upgrade()
        seed_demo()
        db.session.commit()
        ufa = db.session.scalar(sa.select(Territory).where(Territory.oktmo == data.UFA))
        potholes = db.session.scalar(
            sa.select(Subcategory.id).where(Subcategory.code == "roads.potholes")
        )
        now = utcnow()
        db.session.execute(
            sa.insert(User),
            [
                {
                    "kind": "person",
                    "esia_oid": f"8{n:07d}",
                    "last_name": "Житель",
                    "first_name": f"№{n}",
                    "gender": Gender.MALE if n % 2 else Gender.FEMALE,
                    "account_level": AccountLevel.CONFIRMED,
                    "email": f"resident{n}@bench.example",
                    "registration_territory_id": ufa.id,
                    "is_active_account": True,
                    "session_version": 1,
                    "created_at": now,
                }
                for n in range(people)
            ],
        )
        db.session.commit()
        ids = list(db.session.scalars(sa.select(User.id).where(User.esia_oid.like("8%"))))
        return potholes, ufa.id, ids


def _requests(subcategory_id: int, territory_id: int, user_ids: list[int]) -> list[tuple[str, str]]:
    """(Cookie header, urlencoded body) per submission: logged in, with a valid CSRF token."""
    from flask import session
    from flask_wtf.csrf import generate_csrf

    from participation.core.users import User
    from participation.extensions import db

    app = bench_app()
    serializer = app.session_interface.get_signing_serializer(app)
    with app.app_context():
        keys = {
            u.id: u.get_id()
            for u in db.session.scalars(sa.select(User).where(User.id.in_(user_ids)))
        }
    prepared = []
    for n, user_id in enumerate(user_ids):
        with app.test_request_context():
            now = int(time.time())
            session.update(
                {"_user_id": keys[user_id], "_fresh": True, "login_at": now, "seen_at": now}
            )
            token = generate_csrf()
            cookie = serializer.dumps(dict(session))
        fields = {
            "csrf_token": token,
            "submission_key": uuid.uuid4().hex,
            "text": TEXTS[n % len(TEXTS)].format(n=n + 1),
            "subcategory_id": str(subcategory_id),
            "territory_id": str(territory_id),
            "address": f"г. Уфа, ул. Ленина, д. {n % 150 + 1}",
            "latitude": "",
            "longitude": "",
        }
        prepared.append((f"session={cookie}", urllib.parse.urlencode(fields)))
    return prepared


def _serve(entry: str) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    process = subprocess.Popen(
        [
            str(ROOT / ".venv/bin/gunicorn"),
            *GUNICORN,
            "--bind",
            f"127.0.0.1:{PORT}",
            "--chdir",
            str(ROOT / "bench"),
            entry,
        ],
        env=env,
    )
    for _ in range(300):
        try:
            conn = http.client.HTTPConnection("127.0.0.1", PORT, timeout=2)
            conn.request("GET", "/hello" if "hello" in entry else "/healthz")
            conn.getresponse().read()
            return process
        except OSError:
            time.sleep(0.2)
    process.kill()
    raise SystemExit(f"gunicorn {entry} did not start")


def _load(
    jobs: list[tuple[str, str, dict[str, str], str]], threads: int
) -> tuple[float, dict[int, int]]:
    """Send (method, path, headers, body) from `threads` keep-alive connections; returns
    (requests per second, count by status)."""
    statuses: dict[int, int] = {}
    lock = threading.Lock()
    cursor = iter(range(len(jobs)))

    def worker() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", PORT, timeout=60)
        local: dict[int, int] = {}
        while True:
            with lock:
                index = next(cursor, None)
            if index is None:
                break
            method, path, headers, body = jobs[index]
            conn.request(method, path, body=body or None, headers=headers)
            response = conn.getresponse()
            response.read()
            local[response.status] = local.get(response.status, 0) + 1
        conn.close()
        with lock:
            for status, count in local.items():
                statuses[status] = statuses.get(status, 0) + count

    pool = [threading.Thread(target=worker) for _ in range(threads)]
    started = time.perf_counter()
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    return len(jobs) / (time.perf_counter() - started), statuses


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--threads", type=int, default=16)
    args = parser.parse_args()
    os.environ["BENCH_INSTANCE"] = tempfile.mkdtemp(prefix="bench-appeals-")

    import logging

    from redis import Redis

    logging.disable(logging.WARNING)
    print(f"Preparing the demo region and {args.requests:,} residents…", flush=True)
    subcategory_id, territory_id, user_ids = _prepare(args.requests)
    prepared = _requests(subcategory_id, territory_id, user_ids)
    print(
        f"gunicorn {' '.join(GUNICORN)}; load: {args.threads} keep-alive client threads", flush=True
    )

    hello = [("GET", "/hello", {}, "")] * args.requests
    server = _serve("appeals_submit:hello_app()")
    try:
        _load(hello[:200], args.threads)  # warm-up
        hello_rate, hello_status = _load(hello, args.threads)
    finally:
        server.terminate()
        server.wait()
    print(f"bare Flask GET /hello              {hello_rate:8.0f} req/s  {hello_status}")

    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    submits = [
        ("POST", "/appeals/new", {**headers, "Cookie": cookie}, body) for cookie, body in prepared
    ]
    server = _serve("appeals_submit:bench_app(True)")
    try:
        submit_rate, submit_status = _load(submits, args.threads)
    finally:
        server.terminate()
        server.wait()
    print(f"POST /appeals/new (submit)         {submit_rate:8.0f} req/s  {submit_status}")
    print(f"ratio submit / hello               {submit_rate / hello_rate:8.3f}   (target ≥ 0.25)")

    app = bench_app()
    from participation.extensions import db

    with app.app_context():
        stored = db.session.scalar(
            sa.text("SELECT count(*) FROM appeals WHERE submission_key NOT LIKE 'demo-%'")
        )
        events = db.session.scalar(sa.text("SELECT count(*) FROM appeal_events"))
        notices = db.session.scalar(sa.text("SELECT count(*) FROM outbox"))
    Redis.from_url(REDIS).flushdb()
    print(
        f"messages stored: {stored} (expected {args.requests}); events: {events}; outbox: {notices}"
    )
    if submit_status != {302: args.requests} or stored != args.requests:
        raise SystemExit("some submissions did not go through")


if __name__ == "__main__":
    main()
