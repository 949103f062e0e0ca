"""Benchmark: the direct line's live JSON (polled by every viewer) and supports, vs a bare Flask
hello on the same gunicorn configuration.

Run by hand:  .venv/bin/python bench/directline_live.py [--requests 3000] [--threads 16]

Builds its own PostgreSQL database `bench_directline_live` through the migrations: a direct
line on air now with 150 answered questions and one on air, 40 published questions, and as many
residents as there will be supports (and 200 more for the warm-up). Then, in one run and one
gunicorn configuration (bench/_common.py: GTHREAD_4):
  - a bare Flask app answering GET /hello (the baseline),
  - GET /directline/<id>/live.json (what the live page polls every five seconds), both the
    full answer and the revalidation a browser sends once it holds the current version (304),
  - a naive Flask-SQLAlchemy app inserting one row per POST (_common.naive_app), the second
    baseline: what a write costs at the least,
  - POST /directline/<id>/questions/<qid>/support, each by a different logged-in resident,
    spread over the 40 questions (the one-support-per-person rule is checked by the database),
    from 32 connections (--requests of them), then from 4 (a quarter as many, at least 200),
each after a warm-up of 200 requests (the 304s follow the full answers), and prints the rates
and their ratios to the baselines, the supports' p50/p99 latency at 4 and at 32 connections;
then the CPU time per request (from /proc) of the gunicorn workers, and for the real app and
the naive one also of the PostgreSQL backends serving their databases, and the ratios of CPU
per request, which the machine's other load moves much less than the rates. Every timed
support must be counted once; then 100 of them are sent again and must add nothing
(duplicates, target 0).

Needs PostgreSQL at BENCH_PG (default postgresql://postgres@127.0.0.1:5432).
"""

from __future__ import annotations

import http.client
from datetime import timedelta

import _common
import sqlalchemy as sa

DB_NAME = "bench_directline_live"
# The same gunicorn configuration as the other web benchmarks (bench/polls_submit.py).
GUNICORN = _common.GTHREAD_4
LOW, HIGH = 4, 32  # client connections of the two timed support runs
REPLAYS = 100


bench_app = _common.app_factory(DB_NAME, "bench-dl-")  # gunicorn entry point


def _prepare(app, people: int) -> tuple[int, list[int], list[int]]:
    """A live direct line with questions and `people` residents in the (new) database; returns
    ids."""
    import flask_migrate

    from participation.appeals.classifier import seed_classifier
    from participation.core.db import utcnow
    from participation.core.organizations import Organization, OrganizationKind
    from participation.core.users import AccountLevel, Membership, Role, User
    from participation.directline import services
    from participation.directline.models import Question, QuestionState
    from participation.extensions import db

    with app.app_context():
        flask_migrate.upgrade()
        seed_classifier()
        country, region, (city,) = _common.territories(country_timezone="Asia/Yekaterinburg")
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
        asker_id, *residents = _common.add_residents(people + 1, "7", city.id)
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
                    "author_id": asker_id,
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
        return event.id, published, residents[:people]


def _supports(app) -> int:
    from participation.extensions import db

    with app.app_context():
        stored = db.session.scalar(sa.text("SELECT count(*) FROM directline_supports"))
        db.session.remove()
    return stored


def _latency(run: _common.Run) -> str:
    """p50 / p99 of a run's answered requests, in milliseconds."""
    ordered = sorted(run.latencies) or [0.0]

    def at(share: float) -> float:
        return ordered[min(len(ordered) - 1, int(share * len(ordered)))]

    return f"p50 {at(0.50):7.2f} ms  p99 {at(0.99):7.2f} ms"


def main() -> None:
    args = _common.setup(3000, "bench-dl-", DB_NAME)
    warm = _common.WARM_UP
    low = max(200, args.requests // 4)  # supports at LOW connections (their latency)
    print(
        f"Preparing a live direct line and {args.requests + low:,} residents "
        f"(+{warm} for the warm-up)…",
        flush=True,
    )
    app = bench_app()
    event_id, published, residents = _prepare(app, args.requests + low + warm)
    cookies = _common.login_cookies(app, residents)

    hello = _common.hello_baseline(GUNICORN, args, 38)
    naive = _common.naive_baseline(GUNICORN, args, 38)

    live_path = f"/directline/{event_id}/live.json"
    live_jobs = [("GET", live_path, {}, "")] * args.requests
    supports = [
        _common.form_post(
            f"/directline/{event_id}/questions/{published[n % len(published)]}/support",
            cookie,
            f"csrf_token={token}",
        )
        for n, (cookie, token) in enumerate(cookies)
    ]
    # The timed supports are the first residents' (as without the warm-up), the warm-up the rest.
    supports, slow_supports, warm_supports = (
        supports[: args.requests],
        supports[args.requests : args.requests + low],
        supports[args.requests + low :],
    )
    # The same person supporting the same question again: counted once (the constraint).
    replays = supports[:REPLAYS]
    with _common.Gunicorn("directline_live:bench_app()", GUNICORN) as server:
        server.wait("/healthz")
        _common.load(server.port, live_jobs[:warm], args.threads)
        live = _common.timed(server, live_jobs, args.threads, DB_NAME)
        conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
        conn.request("GET", live_path)
        reply = conn.getresponse()
        reply.read()
        etag = reply.getheader("ETag")
        revalidate_jobs = [("GET", live_path, {"If-None-Match": etag}, "")] * args.requests
        revalidate = _common.timed(server, revalidate_jobs, args.threads, DB_NAME)
        _common.load(server.port, warm_supports, args.threads)
        before = _supports(app)
        support = _common.timed(server, supports, HIGH, DB_NAME)
        support_low = _common.timed(server, slow_supports, LOW, DB_NAME)
        timed_done = _supports(app)
        replayed = _common.load(server.port, replays, HIGH)
    print(f"GET live.json (150 answered + 1 on air) {live.rate:6.0f} req/s  {live.statuses}")
    print(
        f"GET live.json, If-None-Match → 304   {revalidate.rate:8.0f} req/s  {revalidate.statuses}"
    )
    print(f"POST support ({HIGH} connections)       {support.rate:8.0f} req/s  {support.statuses}")
    print(
        f"POST support ({LOW} connections)        {support_low.rate:8.0f} req/s  "
        f"{support_low.statuses}"
    )
    print(f"ratio live.json / hello               {live.rate / hello.rate:8.3f}")
    print(f"ratio live.json 304 / hello           {revalidate.rate / hello.rate:8.3f}")
    print(f"ratio support / hello                 {support.rate / hello.rate:8.3f}")
    print(f"ratio support / naive insert          {support.rate / naive.rate:8.3f}")
    print(f"support latency at {LOW} connections     {_latency(support_low)}")
    print(f"support latency at {HIGH} connections    {_latency(support)}")
    _common.report_cpu(
        38,
        ("hello", hello.cpu),
        ("live.json", live.cpu),
        ("live.json 304", revalidate.cpu),
        ("naive insert", naive.cpu),
        ("support", support.cpu),
    )
    print(
        f"{'CPU ratio naive insert / support':<38}{naive.cpu.total_ms / support.cpu.total_ms:8.3f}"
    )

    stored = timed_done - before
    duplicates = _supports(app) - timed_done
    expected = args.requests + low
    errors = sum(
        n for run in (support, support_low) for status, n in run.statuses.items() if status != 302
    )
    print(f"supports stored: {stored} (expected {expected}; {before} more by the warm-up)")
    print(
        f"support errors: {errors}; replays {replayed.statuses}, supports they added "
        f"(duplicates): {duplicates} (target 0)"
    )
    if (
        live.statuses != {200: args.requests}
        or revalidate.statuses != {304: args.requests}
        or support.statuses != {302: args.requests}
        or support_low.statuses != {302: low}
    ):
        raise SystemExit("some requests failed")
    if stored != expected or duplicates:
        raise SystemExit("supports were lost or double-counted")


if __name__ == "__main__":
    main()
