"""Benchmark: survey response submission throughput vs a bare Flask hello, same gunicorn config.

Run by hand:  .venv/bin/python bench/polls_submit.py [--requests 2000] [--threads 16]

Builds its own PostgreSQL database `bench_polls_submit` through the migrations, a published
survey of 10 questions (choices, a scale, a matrix, a ranking, free text) and as many residents
as there will be submissions, and 200 more for the warm-up (one response per person is the
rule, so every request is a new person). Session cookies and CSRF tokens are made with the
app's own signer, as a browser would hold them after logging in. Then, in one run and with one
gunicorn configuration (bench/_common.py: GTHREAD_4), it measures, each after a warm-up of 200
requests:
  - a bare Flask app answering GET /hello,
  - a naive Flask-SQLAlchemy app inserting one row per POST (_common.naive_app), what a write
    costs at the least,
  - the real app taking POST /polls/<id>/answer (the whole questionnaire in one section) from
    32 connections (--requests of them), then from 4 (a quarter as many, at least 200),
and prints the rates and their ratios to both baselines, p50/p99 latency at 4 and at 32
connections; then the CPU time per request (from /proc) of the gunicorn workers, and for the
real app and the naive one also of the PostgreSQL backends serving their databases, and the
ratios of CPU per request, which the machine's other load moves much less than the rates.
Every timed submission must end in the «thanks» redirect and store exactly one response and
one register row; then 100 of them are sent again (replays) and must add nothing
(duplicates, target 0). The --threads option is not used: the connections are 4 and 32.

Needs PostgreSQL at BENCH_PG (default postgresql://postgres@127.0.0.1:5432).
"""

from __future__ import annotations

from datetime import date, timedelta

import _common
import sqlalchemy as sa

DB_NAME = "bench_polls_submit"
GUNICORN = _common.GTHREAD_4
LOW, HIGH = 4, 32  # client connections of the two timed runs
REPLAYS = 100
WIDTH = 38


bench_app = _common.app_factory(DB_NAME, "bench-submit-")  # gunicorn entry point


def _prepare(app, people: int) -> tuple[int, list[int]]:
    """A 10-question survey and `people` residents in the (new) database; returns ids."""
    import flask_migrate

    from participation.core.db import utcnow
    from participation.core.organizations import Organization, OrganizationKind
    from participation.core.users import Gender, User
    from participation.extensions import db
    from participation.polls import services
    from participation.polls.models import QuestionKind as K
    from participation.polls.services import QuestionData

    with app.app_context():
        flask_migrate.upgrade()
        country, region, (city,) = _common.territories()
        org = Organization(name="Администрация", kind=OrganizationKind.MUNICIPAL, territory=city)
        author = User(last_name="Автор", first_name="Опроса", esia_oid="1")
        db.session.add_all([country, region, city, org, author])
        db.session.flush()
        now = utcnow()
        survey = _common.anonymous_survey(
            org,
            author,
            "Опрос",
            city.id,
            now - timedelta(days=1),
            now + timedelta(days=7),
            min_age=18,
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
        ids = _common.add_residents(
            people,
            "7",
            city.id,
            lambda n: {
                "birth_date": date(1950 + n % 50, 1 + n % 12, 1),
                "gender": Gender.MALE if n % 2 else Gender.FEMALE,
            },
        )
        db.session.commit()
        return survey.id, ids


def _requests(app, survey_id: int, user_ids: list[int]) -> list[tuple[str, str, dict, str]]:
    """POST /polls/<id>/answer per resident: logged in, with a valid CSRF token."""
    from participation.polls.engine import load_questionnaire

    with app.app_context():
        qn = load_questionnaire(survey_id)
        q = qn.questions
    prepared = []
    for n, (cookie, token) in enumerate(_common.login_cookies(app, user_ids)):
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
        prepared.append(_common.form_post(f"/polls/{survey_id}/answer", cookie, fields))
    return prepared


def _counts(app) -> tuple[int, int]:
    """Responses and rows of the participants' register in the database."""
    from participation.extensions import db

    with app.app_context():
        stored = db.session.scalar(sa.text("SELECT count(*) FROM survey_responses"))
        register = db.session.scalar(sa.text("SELECT count(*) FROM survey_participants"))
        db.session.remove()
    return stored, register


def _latency(run: _common.Run) -> str:
    """p50 / p99 of a run's answered requests, in milliseconds."""
    ordered = sorted(run.latencies) or [0.0]

    def at(share: float) -> float:
        return ordered[min(len(ordered) - 1, int(share * len(ordered)))]

    return f"p50 {at(0.50):7.2f} ms  p99 {at(0.99):7.2f} ms"


def main() -> None:
    args = _common.setup(2000, "bench-submit-", DB_NAME)
    warm = _common.WARM_UP
    low = max(200, args.requests // 4)  # the run at LOW connections (its latency)
    print(
        f"Preparing {args.requests + low:,} residents (+{warm} for the warm-up) "
        "and a 10-question survey…",
        flush=True,
    )
    app = bench_app()
    survey_id, user_ids = _prepare(app, args.requests + low + warm)
    # The timed requests are the first residents' (as without the warm-up), the warm-up the rest.
    prepared = _requests(app, survey_id, user_ids)
    submits, slow = prepared[: args.requests], prepared[args.requests : args.requests + low]
    warm_up = prepared[args.requests + low :]
    # Replays of submissions already made (a double click, a resent form): refused, no row.
    replays = submits[:REPLAYS]

    hello = _common.hello_baseline(GUNICORN, args, WIDTH)
    naive = _common.naive_baseline(GUNICORN, args, WIDTH)
    with _common.Gunicorn("polls_submit:bench_app()", GUNICORN) as server:
        server.wait("/healthz")
        _common.load(server.port, warm_up, HIGH)
        before = _counts(app)
        submit = _common.timed(server, submits, HIGH, DB_NAME)
        submit_low = _common.timed(server, slow, LOW, DB_NAME)
        timed_done = _counts(app)
        replayed = _common.load(server.port, replays, HIGH)
    after = _counts(app)
    print(
        f"{f'POST answer ({HIGH} connections)':<{WIDTH}}{submit.rate:8.0f} req/s  {submit.statuses}"
    )
    print(f"{f'POST answer ({LOW} connections)':<{WIDTH}}{submit_low.rate:8.0f} req/s  "
          f"{submit_low.statuses}")  # fmt: skip
    print(f"{'ratio submit / hello':<{WIDTH}}{submit.rate / hello.rate:8.3f}")
    print(f"{'ratio submit / naive insert':<{WIDTH}}{submit.rate / naive.rate:8.3f}")
    print(f"{f'latency at {LOW} connections':<{WIDTH}}{_latency(submit_low)}")
    print(f"{f'latency at {HIGH} connections':<{WIDTH}}{_latency(submit)}")
    _common.report_cpu(
        WIDTH, ("hello", hello.cpu), ("naive insert", naive.cpu), ("submit", submit.cpu)
    )
    print(f"{'CPU ratio naive insert / submit':<{WIDTH}}"
          f"{naive.cpu.total_ms / submit.cpu.total_ms:8.3f}")  # fmt: skip

    expected = args.requests + low
    stored, register = timed_done[0] - before[0], timed_done[1] - before[1]
    duplicates = (after[0] - timed_done[0]) + (after[1] - timed_done[1])
    errors = sum(
        n for run in (submit, submit_low) for status, n in run.statuses.items() if status != 302
    )
    print(f"responses stored: {stored}, register rows: {register} (expected {expected}; "
          f"{before[0]} more by the warm-up)")  # fmt: skip
    print(f"errors: {errors}; replays {replayed.statuses}, rows they added (duplicates): "
          f"{duplicates} (target 0)")  # fmt: skip
    if errors or stored != expected or register != expected or duplicates:
        raise SystemExit("some submissions did not go through, or a replay was stored")


if __name__ == "__main__":
    main()
