"""Benchmark: survey response submission throughput vs a bare Flask hello, same gunicorn config.

Run by hand:  .venv/bin/python bench/polls_submit.py [--requests 2000] [--threads 16]

Builds its own PostgreSQL database `bench_polls_submit` through the migrations, a published
survey of 10 questions (choices, a scale, a matrix, a ranking, free text) and as many residents
as there will be submissions (one response per person is the rule, so every request is a new
person). Session cookies and CSRF tokens are made with the app's own signer, as a browser would
hold them after logging in. Then, in one run and with one gunicorn configuration, it measures:
  - a bare Flask app answering GET /hello,
  - the real app taking POST /polls/<id>/answer (the whole questionnaire in one section),
and prints both rates and their ratio. Every submission must end in the «thanks» redirect,
and the database must hold exactly that many responses.

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
import urllib.parse
from datetime import date, timedelta
from pathlib import Path

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

BASE = os.environ.get("BENCH_PG", "postgresql://postgres@127.0.0.1:5432")
DB_NAME = "bench_polls_submit"
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
PORT = 5091


def _env() -> dict[str, str]:
    instance = os.environ.get("BENCH_INSTANCE") or tempfile.mkdtemp(prefix="bench-submit-")
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


def _prepare(people: int) -> tuple[int, list[int]]:
    """Fresh database, a 10-question survey and `people` residents; returns ids."""
    import flask_migrate

    from participation.core.db import utcnow
    from participation.core.organizations import Organization, OrganizationKind
    from participation.core.territories import Territory, TerritoryLevel
    from participation.core.users import AccountLevel, Gender, User
    from participation.extensions import db
    from participation.polls import services
    from participation.polls.models import QuestionKind as K
    from participation.polls.services import QuestionData, SurveySettings

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
        country = Territory(
            oktmo="00", name="Россия", level=TerritoryLevel.COUNTRY, timezone="Europe/Moscow"
        )
        region = Territory(
            oktmo="80000000",
            name="Республика",
            level=TerritoryLevel.REGION,
            parent=country,
            timezone="Asia/Yekaterinburg",
        )
        city = Territory(
            oktmo="80701000",
            name="Город",
            level=TerritoryLevel.URBAN_OKRUG,
            parent=region,
            timezone="Asia/Yekaterinburg",
        )
        org = Organization(name="Администрация", kind=OrganizationKind.MUNICIPAL, territory=city)
        author = User(last_name="Автор", first_name="Опроса", esia_oid="1")
        db.session.add_all([country, region, city, org, author])
        db.session.flush()
        now = utcnow()
        survey = services.create_survey(
            org,
            author,
            SurveySettings(
                title="Опрос",
                description="",
                anonymous=True,
                starts_at=now - timedelta(days=1),
                ends_at=now + timedelta(days=7),
                territory_ids=[city.id],
                min_age=18,
            ),
        )
        section = survey.sections[0]
        four = ["Да", "Скорее да", "Скорее нет", "Нет"]
        for data in (
            QuestionData(K.SINGLE, "Вопрос 1", options=four, required=True),
            QuestionData(K.SINGLE, "Вопрос 2", options=four, has_other=True),
            QuestionData(K.MULTIPLE, "Вопрос 3", options=four, max_choices=2),
            QuestionData(K.SCALE, "Вопрос 4", scale_max=10, required=True),
            QuestionData(K.SINGLE, "Вопрос 5", options=four),
            QuestionData(K.MATRIX, "Вопрос 6", options=four[:3], rows=["А", "Б", "В"]),
            QuestionData(K.RANKING, "Вопрос 7", options=four),
            QuestionData(K.NUMBER, "Вопрос 8", min_value=0, max_value=300),
            QuestionData(K.DATE, "Вопрос 9"),
            QuestionData(K.TEXT, "Вопрос 10", max_length=500),
        ):
            services.add_question(section, data)
        survey.published_at = now
        db.session.flush()
        db.session.execute(
            sa.insert(User),
            [
                {
                    "kind": "person",
                    "esia_oid": f"7{n:07d}",
                    "last_name": "Житель",
                    "first_name": f"№{n}",
                    "birth_date": date(1950 + n % 50, 1 + n % 12, 1),
                    "gender": Gender.MALE if n % 2 else Gender.FEMALE,
                    "account_level": AccountLevel.CONFIRMED,
                    "registration_territory_id": city.id,
                    "is_active_account": True,
                    "session_version": 1,
                    "created_at": now,
                }
                for n in range(people)
            ],
        )
        db.session.commit()
        ids = list(db.session.scalars(sa.select(User.id).where(User.esia_oid.like("7%"))))
        return survey.id, ids


def _requests(survey_id: int, user_ids: list[int]) -> list[tuple[str, str]]:
    """(Cookie header, urlencoded body) per resident: logged in, with a valid CSRF token."""
    from flask import session
    from flask_wtf.csrf import generate_csrf

    from participation.core.users import User
    from participation.extensions import db
    from participation.polls.engine import load_questionnaire

    app = bench_app()
    serializer = app.session_interface.get_signing_serializer(app)
    prepared = []
    with app.app_context():
        qn = load_questionnaire(survey_id)
        q = qn.questions
        keys = {
            u.id: u.get_id()
            for u in db.session.scalars(sa.select(User).where(User.id.in_(user_ids)))
        }
    for n, user_id in enumerate(user_ids):
        with app.test_request_context():
            now = int(time.time())
            session.update(
                {"_user_id": keys[user_id], "_fresh": True, "login_at": now, "seen_at": now}
            )
            token = generate_csrf()
            cookie = serializer.dumps(dict(session))
        fields = [
            ("csrf_token", token),
            ("section", "0"),
            ("action", "submit"),
            (f"q{q[0].id}", str(q[0].choices[n % 4].id)),
            (f"q{q[1].id}", str(q[1].choices[n % 5].id)),
            (f"q{q[1].id}_other", "Своё мнение"),
            (f"q{q[2].id}", str(q[2].choices[n % 4].id)),
            (f"q{q[2].id}", str(q[2].choices[(n + 1) % 4].id)),
            (f"q{q[3].id}", str(1 + n % 10)),
            (f"q{q[4].id}", str(q[4].choices[(n * 7) % 4].id)),
            *[
                (f"q{q[5].id}_r{row.id}", str(q[5].choices[(n + i) % 3].id))
                for i, row in enumerate(q[5].rows)
            ],
            *[(f"q{q[6].id}_o{o.id}", str(1 + (i + n) % 4)) for i, o in enumerate(q[6].choices)],
            (f"q{q[7].id}", str(n % 120)),
            (f"q{q[8].id}", "2015-06-01"),
            (f"q{q[9].id}", "Предложение жителя" if n % 5 == 0 else ""),
        ]
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
    for _ in range(100):
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
    os.environ["BENCH_INSTANCE"] = tempfile.mkdtemp(prefix="bench-submit-")

    import logging

    logging.disable(logging.WARNING)
    print(f"Preparing {args.requests:,} residents and a 10-question survey…", flush=True)
    survey_id, user_ids = _prepare(args.requests)
    prepared = _requests(survey_id, user_ids)
    print(
        f"gunicorn {' '.join(GUNICORN)}; load: {args.threads} keep-alive client threads", flush=True
    )

    hello = [("GET", "/hello", {}, "")] * args.requests
    server = _serve("polls_submit:hello_app()")
    try:
        _load(hello[:200], args.threads)  # warm-up
        hello_rate, hello_status = _load(hello, args.threads)
    finally:
        server.terminate()
        server.wait()
    print(f"bare Flask GET /hello              {hello_rate:8.0f} req/s  {hello_status}")

    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    submits = [
        ("POST", f"/polls/{survey_id}/answer", {**headers, "Cookie": cookie}, body)
        for cookie, body in prepared
    ]
    server = _serve("polls_submit:bench_app()")
    try:
        submit_rate, submit_status = _load(submits, args.threads)
    finally:
        server.terminate()
        server.wait()
    print(f"POST /polls/<id>/answer (submit)   {submit_rate:8.0f} req/s  {submit_status}")
    print(f"ratio submit / hello               {submit_rate / hello_rate:8.3f}")

    app = bench_app()
    from participation.extensions import db

    with app.app_context():
        stored = db.session.scalar(sa.text("SELECT count(*) FROM survey_responses"))
        register = db.session.scalar(sa.text("SELECT count(*) FROM survey_participants"))
    print(f"responses stored: {stored}, register rows: {register} (expected {args.requests})")
    if submit_status != {302: args.requests} or stored != args.requests:
        raise SystemExit("some submissions did not go through")


if __name__ == "__main__":
    main()
