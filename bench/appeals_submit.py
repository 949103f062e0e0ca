"""Benchmark: message submission against a bare Flask hello and a naive one-insert app.

Run by hand:  .venv/bin/python bench/appeals_submit.py [--requests 2000] [--threads 16]

Builds its own PostgreSQL database `bench_appeals_submit` through the migrations and loads the
demo region (operator, ЦУР, organizations, the classifier, routing rules), plus the residents
who will write (one per timed submission, and 200 more for the warm-up). Session cookies and
CSRF tokens are made with the app's own signer, as a browser would hold them after logging in.
Then, in one run and with one gunicorn configuration (bench/_common.py: GTHREAD_4), it
measures, each after a warm-up of 200 requests:
  - a bare Flask app answering GET /hello (--threads client threads),
  - a naive Flask-SQLAlchemy app inserting one row per POST (--threads; _common.naive_app),
  - the real app taking POST /appeals/new at 4, --threads and 32 client threads, --requests
    each: eligibility, form checks, topic suggestion (pymorphy3), routing by rule, deadlines,
    the message row, its event, the audit entry and the resident's notice in the outbox (the
    relay and the reports' refresh jobs go to Redis, as in production),
and prints for each submit run the rate, p50/p99 latency, errors (any answer but the redirect
to the new message, and unanswered requests) and the CPU time per request (from /proc) of the
gunicorn workers and of the PostgreSQL backends serving the bench database; then the
throughput ratios submit / hello and submit / naive at --threads, the CPU per request of all
three and the CPU ratios (which the machine's other load moves much less than the rates), and
the messages stored against the submissions answered (a difference is a duplicate or a loss).

Needs PostgreSQL at BENCH_PG (default postgresql://postgres@127.0.0.1:5432) and Redis at
BENCH_REDIS (default redis://127.0.0.1:6379/2; that database is emptied afterwards).
"""

from __future__ import annotations

import os
import statistics
import uuid

import _common
import sqlalchemy as sa

REDIS = os.environ.get("BENCH_REDIS", "redis://127.0.0.1:6379/2")
DB_NAME = "bench_appeals_submit"
GUNICORN = _common.GTHREAD_4
TEXTS = (
    "Огромная яма на проезжей части у дома {n}, машины объезжают по встречной полосе.",
    "На дороге у остановки выбоина, уже пробил колесо, прошу заделать (дом {n}).",
    "Провал асфальта на перекрёстке у дома {n}, опасно для водителей и пешеходов.",
    "Разбитая дорога вдоль улицы, ямы по всей длине, особенно у дома {n}.",
)


def bench_app(warm: bool = False):
    """gunicorn entry point: the real application on the bench database."""
    app = _app()
    if warm:
        warm_suggester(app)
    return app


def warm_suggester(app) -> None:
    """Build the topic suggester's index and load pymorphy3 before the clock starts, as a
    warmed-up production worker would have."""
    with app.app_context():
        from participation.appeals.suggest import suggest_topic

        suggest_topic("яма на дороге")


_app = _common.app_factory(DB_NAME, "bench-appeals-", REDIS_URL=REDIS)


def _prepare(app, people: int) -> tuple[int, int, list[int]]:
    """The demo region and `people` residents of Уфа in the (new) database; returns ids."""
    import flask_migrate

    from participation.appeals.classifier import Subcategory
    from participation.core.territories import Territory
    from participation.core.users import Gender
    from participation.demo import data
    from participation.demo.seed import seed_demo
    from participation.extensions import db

    with app.app_context():
        flask_migrate.upgrade()
        seed_demo()
        db.session.commit()
        ufa = db.session.scalar(sa.select(Territory).where(Territory.oktmo == data.UFA))
        potholes = db.session.scalar(
            sa.select(Subcategory.id).where(Subcategory.code == "roads.potholes")
        )
        ids = _common.add_residents(
            people,
            "8",
            ufa.id,
            lambda n: {
                "gender": Gender.MALE if n % 2 else Gender.FEMALE,
                "email": f"resident{n}@bench.example",
            },
        )
        db.session.commit()
        return potholes, ufa.id, ids


def _requests(
    app, subcategory_id: int, territory_id: int, user_ids: list[int]
) -> list[tuple[str, str, dict[str, str], str]]:
    """POST /appeals/new per resident: logged in, with a valid CSRF token."""
    prepared = []
    for n, (cookie, token) in enumerate(_common.login_cookies(app, user_ids)):
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
        prepared.append(_common.form_post("/appeals/new", cookie, fields))
    return prepared


def _counts(app) -> tuple[int, int, int]:
    """Messages (not the demo's), events and outbox rows in the database."""
    from participation.extensions import db

    with app.app_context():
        stored = db.session.scalar(
            sa.text("SELECT count(*) FROM appeals WHERE submission_key NOT LIKE 'demo-%'")
        )
        events = db.session.scalar(sa.text("SELECT count(*) FROM appeal_events"))
        notices = db.session.scalar(sa.text("SELECT count(*) FROM outbox"))
        db.session.remove()
    return stored, events, notices


def _percentile(samples: list[float], q: int) -> float:
    if len(samples) < 2:
        return samples[0] if samples else float("nan")
    return statistics.quantiles(samples, n=100, method="inclusive")[q - 1]


def main() -> None:
    from redis import Redis

    args = _common.setup(2000, "bench-appeals-", DB_NAME)
    warm = _common.WARM_UP
    thread_counts = sorted({4, args.threads, 32})
    people = args.requests * len(thread_counts)
    print(
        f"Preparing the demo region and {people:,} residents (+{warm} for the warm-up)…", flush=True
    )
    app = bench_app()
    subcategory_id, territory_id, user_ids = _prepare(app, people + warm)
    # Each timed run has residents of its own (the first ones), the warm-up the rest.
    prepared = _requests(app, subcategory_id, territory_id, user_ids)
    warm_up = prepared[people:]

    width = 36
    hello = _common.hello_baseline(GUNICORN, args, width)
    naive = _common.naive_baseline(GUNICORN, args, width)
    runs: dict[int, _common.Run] = {}
    with _common.Gunicorn("appeals_submit:bench_app(True)", GUNICORN) as server:
        server.wait("/healthz")
        _common.load(server.port, warm_up, args.threads)
        before = _counts(app)[0]
        for n, threads in enumerate(thread_counts):
            jobs = prepared[n * args.requests : (n + 1) * args.requests]
            runs[threads] = run = _common.timed(server, jobs, threads, DB_NAME)
            errors = sum(count for status, count in run.statuses.items() if status != 302)
            print(
                f"{f'POST /appeals/new, {threads} threads':<{width}}{run.rate:8.0f} req/s  "
                f"p50 {_percentile(run.latencies, 50):6.1f} ms  "
                f"p99 {_percentile(run.latencies, 99):6.1f} ms  errors {errors}  "
                f"{run.statuses}  CPU per request: {run.cpu}",
                flush=True,
            )
    submit = runs[args.threads]
    for name, baseline in (("hello", hello), ("naive", naive)):
        label = f"ratio submit / {name} ({args.threads} threads)"
        print(f"{label:<{width}}{submit.rate / baseline.rate:8.3f}")
    _common.report_cpu(width, ("hello", hello.cpu), ("naive", naive.cpu), ("submit", submit.cpu))
    naive_total, submit_total = naive.cpu.total_ms, submit.cpu.total_ms
    print(f"{'CPU ratio naive / submit':<{width}}{naive_total / submit_total:8.3f}")

    stored, events, notices = _counts(app)
    stored -= before
    answered = sum(run.statuses.get(302, 0) for run in runs.values())
    sent = args.requests * len(runs)
    Redis.from_url(REDIS).flushdb()
    print(
        f"messages stored: {stored}; submissions answered with the new message: {answered} "
        f"of {sent}; duplicates {max(0, stored - answered)}, lost {max(0, answered - stored)} "
        f"(the warm-up stored {warm} more); events: {events}; outbox: {notices}"
    )
    if answered != sent or stored != answered:
        raise SystemExit("some submissions did not go through, or went through twice")


if __name__ == "__main__":
    main()
