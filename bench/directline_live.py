"""Benchmark: the direct line's live JSON (polled by every viewer) and supports, vs a bare Flask
hello on the same gunicorn configuration.

Run by hand:  .venv/bin/python bench/directline_live.py [--requests 3000] [--threads 16]

Builds its own PostgreSQL database `bench_directline_live` through the migrations: a direct
line on air now with 150 answered questions and one on air, 40 published questions, and as many
residents as there will be supports. Then, in one run and one gunicorn configuration:
  - a bare Flask app answering GET /hello (the baseline),
  - GET /directline/<id>/live.json (what the live page polls every five seconds), both the
    full answer and the revalidation a browser sends once it holds the current version (304),
  - POST /directline/<id>/questions/<qid>/support, each by a different logged-in resident,
    spread over the 40 questions (the one-support-per-person rule is checked by the database),
and prints the rates and their ratios to the baseline. Every support must be counted once.

Needs PostgreSQL at BENCH_PG (default postgresql://postgres@127.0.0.1:5432).
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
from datetime import timedelta
from pathlib import Path

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

BASE = os.environ.get("BENCH_PG", "postgresql://postgres@127.0.0.1:5432")
DB_NAME = "bench_directline_live"
SECRET = "bench-secret-" + "x" * 40
# The same gunicorn configuration as the other web benchmarks (bench/polls_submit.py).
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
PORT = 5093


def _env() -> dict[str, str]:
    instance = os.environ.get("BENCH_INSTANCE") or tempfile.mkdtemp(prefix="bench-dl-")
    return {
        "PARTICIPATION_ENV": "development",
        "SECRET_KEY": SECRET,
        "DATABASE_URL": f"{BASE}/{DB_NAME}",
        "STORAGE_DIR": f"{instance}/storage",
        "MAIL_DIR": f"{instance}/mail",
        "RATELIMIT_ENABLED": "0",
        "DEFAULT_TIMEZONE": "Asia/Yekaterinburg",
    }


def bench_app():
    """gunicorn entry point: the real application on the bench database."""
    import logging

    from participation import create_app

    app = create_app(env=_env())
    logging.disable(logging.WARNING)
    return app


def hello_app():
    """gunicorn entry point: the baseline, a bare Flask app."""
    from flask import Flask

    app = Flask("hello")

    @app.get("/hello")
    def hello():
        return "hello"

    return app


def _prepare(people: int) -> tuple[int, list[int], list[int]]:
    """Fresh database, a live direct line with questions, `people` residents; returns ids."""
    import flask_migrate

    from participation.appeals.classifier import seed_classifier
    from participation.core.db import utcnow
    from participation.core.organizations import Organization, OrganizationKind
    from participation.core.territories import Territory, TerritoryLevel
    from participation.core.users import AccountLevel, Membership, Role, User
    from participation.directline import services
    from participation.directline.models import Question, QuestionState
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
        seed_classifier()
        tz = "Asia/Yekaterinburg"
        country = Territory(oktmo="00", name="Россия", level=TerritoryLevel.COUNTRY, timezone=tz)
        region = Territory(
            oktmo="80000000",
            name="Республика",
            level=TerritoryLevel.REGION,
            parent=country,
            timezone=tz,
        )
        city = Territory(
            oktmo="80701000",
            name="Город",
            level=TerritoryLevel.URBAN_OKRUG,
            parent=region,
            timezone=tz,
        )
        operator = Organization(name="Оператор", kind=OrganizationKind.OPERATOR, territory=country)
        host = Organization(name="Правительство", kind=OrganizationKind.REGIONAL, territory=region)
        moderator = User(last_name="Модератор", first_name="Эфира", esia_oid="1")
        db.session.add_all([country, region, city, operator, host, moderator])
        db.session.flush()
        db.session.add(Membership(user=moderator, organization=operator, role=Role.MODERATOR))
        now = utcnow()
        event = services.create_event(
            host,
            moderator,
            services.EventInput(
                title="Прямая линия",
                speaker="Глава Республики",
                description=None,
                questions_open_at=now - timedelta(days=3),
                questions_close_at=now + timedelta(hours=3),
                starts_at=now - timedelta(hours=1),
                ends_at=now + timedelta(hours=3),
                stream_url="https://tv.example/live",
                recording_url=None,
                categories=[key for key, _l, _c in services.PRESET_CATEGORIES],
                min_account_level=AccountLevel.STANDARD,
                territory_id=region.id,
            ),
        )
        db.session.execute(
            sa.insert(User),
            [
                {
                    "kind": "person",
                    "esia_oid": f"7{n:07d}",
                    "last_name": "Житель",
                    "first_name": f"№{n}",
                    "account_level": AccountLevel.CONFIRMED,
                    "registration_territory_id": city.id,
                    "is_active_account": True,
                    "session_version": 1,
                    "created_at": now,
                }
                for n in range(people + 1)
            ],
        )
        asker = db.session.scalar(sa.select(User).where(User.esia_oid == "70000000"))
        category_id = event.categories[0].id
        rows = []
        for n in range(191):
            state = (
                QuestionState.ANSWERED
                if n < 150
                else QuestionState.ON_AIR
                if n == 150
                else QuestionState.PUBLISHED
            )
            rows.append(
                {
                    "event_id": event.id,
                    "author_id": asker.id,
                    "submission_key": f"bench-question-{n:06d}",
                    "category_id": category_id,
                    "text": f"Вопрос жителя номер {n}: когда отремонтируют дорогу во дворе?",
                    "territory_id": city.id,
                    "state": state,
                    "answered_at": now - timedelta(minutes=200 - n)
                    if state == QuestionState.ANSWERED
                    else None,
                    "answer_text": (
                        "Отремонтируем летом." if state == QuestionState.ANSWERED else None
                    ),
                    "on_air_at": now if state == QuestionState.ON_AIR else None,
                    "created_at": now - timedelta(days=1),
                }
            )
        db.session.execute(sa.insert(Question), rows)
        db.session.commit()
        published = list(
            db.session.scalars(
                sa.select(Question.id)
                .where(Question.state == QuestionState.PUBLISHED)
                .order_by(Question.id)
            )
        )
        residents = list(
            db.session.scalars(
                sa.select(User.id)
                .where(User.esia_oid.like("7%"), User.id != asker.id)
                .order_by(User.id)
            )
        )
        return event.id, published, residents[:people]


def _cookies(user_ids: list[int]) -> list[tuple[str, str]]:
    """(Cookie header, CSRF token) per resident, as a browser holds them after logging in."""
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
    for user_id in user_ids:
        with app.test_request_context():
            now = int(time.time())
            session.update(
                {"_user_id": keys[user_id], "_fresh": True, "login_at": now, "seen_at": now}
            )
            token = generate_csrf()
            prepared.append((f"session={serializer.dumps(dict(session))}", token))
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
    for _ in range(150):
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
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--threads", type=int, default=16)
    args = parser.parse_args()
    os.environ["BENCH_INSTANCE"] = tempfile.mkdtemp(prefix="bench-dl-")
    import logging

    logging.disable(logging.WARNING)
    print(f"Preparing a live direct line and {args.requests:,} residents…", flush=True)
    event_id, published, residents = _prepare(args.requests)
    cookies = _cookies(residents)
    print(f"gunicorn {' '.join(GUNICORN)}; load: {args.threads} keep-alive client threads")

    hello = [("GET", "/hello", {}, "")] * args.requests
    server = _serve("directline_live:hello_app()")
    try:
        _load(hello[:200], args.threads)
        hello_rate, hello_status = _load(hello, args.threads)
    finally:
        server.terminate()
        server.wait()
    print(f"bare Flask GET /hello                 {hello_rate:8.0f} req/s  {hello_status}")

    live = [("GET", f"/directline/{event_id}/live.json", {}, "")] * args.requests
    supports = [
        (
            "POST",
            f"/directline/{event_id}/questions/{published[n % len(published)]}/support",
            {"Content-Type": "application/x-www-form-urlencoded", "Cookie": cookie},
            f"csrf_token={token}",
        )
        for n, (cookie, token) in enumerate(cookies)
    ]
    server = _serve("directline_live:bench_app()")
    try:
        _load(live[:200], args.threads)
        live_rate, live_status = _load(live, args.threads)
        conn = http.client.HTTPConnection("127.0.0.1", PORT, timeout=10)
        conn.request("GET", f"/directline/{event_id}/live.json")
        reply = conn.getresponse()
        reply.read()
        etag = reply.getheader("ETag")
        revalidate = [("GET", live[0][1], {"If-None-Match": etag}, "")] * args.requests
        revalidate_rate, revalidate_status = _load(revalidate, args.threads)
        support_rate, support_status = _load(supports, args.threads)
    finally:
        server.terminate()
        server.wait()
    print(f"GET live.json (150 answered + 1 on air) {live_rate:6.0f} req/s  {live_status}")
    print(f"GET live.json, If-None-Match → 304   {revalidate_rate:8.0f} req/s  {revalidate_status}")
    print(f"POST support (distinct residents)     {support_rate:8.0f} req/s  {support_status}")
    print(f"ratio live.json / hello               {live_rate / hello_rate:8.3f}")
    print(f"ratio live.json 304 / hello           {revalidate_rate / hello_rate:8.3f}")
    print(f"ratio support / hello                 {support_rate / hello_rate:8.3f}")

    app = bench_app()
    from participation.extensions import db

    with app.app_context():
        stored = db.session.scalar(sa.text("SELECT count(*) FROM directline_supports"))
    print(f"supports stored: {stored} (expected {args.requests})")
    if (
        live_status != {200: args.requests}
        or revalidate_status != {304: args.requests}
        or support_status != {302: args.requests}
    ):
        raise SystemExit("some requests failed")
    if stored != args.requests:
        raise SystemExit("supports were lost or double-counted")


if __name__ == "__main__":
    main()
