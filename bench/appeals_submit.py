"""Benchmark: message submission throughput vs a bare Flask hello, same gunicorn config.

Run by hand:  .venv/bin/python bench/appeals_submit.py [--requests 2000] [--threads 16]

Builds its own PostgreSQL database `bench_appeals_submit` through the migrations and loads the
demo region (operator, ЦУР, organizations, the classifier, routing rules), plus the residents
who will write (and 200 more for the warm-up). Session cookies and CSRF tokens are made with
the app's own signer, as a browser would hold them after logging in. Then, in one run and with
one gunicorn configuration (bench/_common.py: GTHREAD_4), it measures, each after a warm-up of
200 requests:
  - a bare Flask app answering GET /hello,
  - the real app taking POST /appeals/new: eligibility, form checks, topic suggestion
    (pymorphy3), routing by rule, deadlines, the message row, its event, the audit entry and
    the resident's notice in the outbox (the relay job goes to Redis, as in production),
and prints both rates and their ratio; then the CPU time per request (from /proc) of the
gunicorn workers, and for the real app also of the PostgreSQL backends serving the bench
database, and the ratio of CPU per request hello / submit, which the machine's other load
moves much less than the rates. Every timed submission must end in the redirect to the new
message, and the timed run must store exactly that many messages.

Needs PostgreSQL at BENCH_PG (default postgresql://postgres@127.0.0.1:5432) and Redis at
BENCH_REDIS (default redis://127.0.0.1:6379/2; that database is emptied afterwards).
"""

from __future__ import annotations

import os
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


def main() -> None:
    from redis import Redis

    args = _common.setup(2000, "bench-appeals-", DB_NAME)
    warm = _common.WARM_UP
    print(
        f"Preparing the demo region and {args.requests:,} residents (+{warm} for the warm-up)…",
        flush=True,
    )
    app = bench_app()
    subcategory_id, territory_id, user_ids = _prepare(app, args.requests + warm)
    # The timed requests are the first residents' (as without the warm-up), the warm-up the rest.
    prepared = _requests(app, subcategory_id, territory_id, user_ids)
    submits, warm_up = prepared[: args.requests], prepared[args.requests :]

    hello = _common.hello_baseline(GUNICORN, args, 35)
    with _common.Gunicorn("appeals_submit:bench_app(True)", GUNICORN) as server:
        server.wait("/healthz")
        _common.load(server.port, warm_up, args.threads)
        before = _counts(app)[0]
        submit = _common.timed(server, submits, args.threads, DB_NAME)
    print(f"POST /appeals/new (submit)         {submit.rate:8.0f} req/s  {submit.statuses}")
    print(f"ratio submit / hello               {submit.rate / hello.rate:8.3f}   (target ≥ 0.25)")
    _common.report_cpu(35, ("hello", hello.cpu), ("submit", submit.cpu))

    stored, events, notices = _counts(app)
    stored -= before
    Redis.from_url(REDIS).flushdb()
    print(
        f"messages stored: {stored} (expected {args.requests}; {warm} more by the warm-up); "
        f"events: {events}; outbox: {notices}"
    )
    if submit.statuses != {302: args.requests} or stored != args.requests:
        raise SystemExit("some submissions did not go through")


if __name__ == "__main__":
    main()
