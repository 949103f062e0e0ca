"""Benchmark: survey results and breakdowns on 1 000 000 responses x 20 questions (PostgreSQL).

Run by hand:  .venv/bin/python bench/polls_results.py [--responses 1000000] [--reuse]
                  [--new 10000] [--database bench_polls]

Builds its own database `bench_polls` (dropped and recreated unless --reuse) through the
migrations, creates one survey with 20 questions of every kind through the services, and loads
the responses set-wise with INSERT … SELECT generate_series (no Python loop over rows). Then it
measures, in this process, the server time of:
  - compute_results (totals of all 20 questions),
  - compute_breakdown by age band, gender and municipality (each alone: one pass),
  - the totals and the three breakdowns together (one pass: what a first refresh counts),
  - the refresh job: the first one (no snapshot yet), then one after --new more responses
    (it counts only those), then one with nothing new,
  - the publisher's results page and breakdown pages through the Flask test client,
against a baseline measured in the same run: one bare GROUP BY over the same answers. A second
reference line, the same bare GROUP BY joined to the responses and grouped by age band, is
the floor of any breakdown (each answer looks up its respondent's group).

Needs PostgreSQL at BENCH_PG (default postgresql://postgres@127.0.0.1:5432).
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from datetime import timedelta

import _common
import sqlalchemy as sa

DB_NAME = "bench_polls"  # --database names another
SERIES = "generate_series(CAST(:first AS int), CAST(:last AS int))"
SALT = 2654435761  # Knuth's multiplicative hash: a cheap, deterministic spread per row


def _app(database: str):
    from participation import create_app

    return create_app(
        env=_common.app_env(database, tempfile.mkdtemp(prefix="bench-polls-"), _common.TESTING)
    )


def _build_survey():
    """Territories, a municipality, its official and a 20-question survey; returns ids."""
    from participation.core.db import utcnow
    from participation.core.organizations import Organization, OrganizationKind
    from participation.core.users import Membership, Role, User
    from participation.extensions import db
    from participation.polls import services
    from participation.polls.models import QuestionKind as K
    from participation.polls.services import QuestionData

    country, region, cities = _common.territories(cities=[f"Город {n}" for n in range(1, 11)])
    db.session.add_all([country, region, *cities])
    org = Organization(name="Правительство", kind=OrganizationKind.REGIONAL, territory=region)
    org.ready_confirmed_at = org.training_confirmed_at = utcnow()
    official = User(last_name="Бенчев", first_name="Бенч", esia_oid="1")
    db.session.add_all([org, official])
    db.session.flush()
    db.session.add(Membership(user=official, organization=org, role=Role.AUTHORIZED))
    now = utcnow()
    survey = _common.anonymous_survey(
        org,
        official,
        "Большой опрос",
        region.id,
        now - timedelta(days=30),
        now + timedelta(days=30),
        min_age=18,
    )
    section = survey.sections[0]
    four = ["Да", "Скорее да", "Скорее нет", "Нет"]
    five = ["Дороги", "Парки", "Свет", "Школы", "Больницы"]
    questions = [QuestionData(K.SINGLE, f"Один вариант {n}", options=four) for n in range(1, 9)]
    questions.append(QuestionData(K.SINGLE, "С «Другое»", options=four[:3], has_other=True))
    questions += [
        QuestionData(K.MULTIPLE, f"Несколько {n}", options=five, max_choices=2) for n in range(1, 4)
    ]
    questions += [
        QuestionData(K.SCALE, f"Шкала {n}", scale_max=m) for n, m in ((1, 5), (2, 5), (3, 10))
    ]
    questions.append(QuestionData(K.NUMBER, "Минут до работы", min_value=0, max_value=300))
    questions.append(QuestionData(K.DATE, "Дата переезда"))
    questions.append(
        QuestionData(
            K.MATRIX,
            "Оцените",
            options=["Хорошо", "Так себе", "Плохо"],
            rows=["Дворы", "Дороги", "Свет"],
        )
    )
    questions.append(QuestionData(K.RANKING, "Что важнее", options=five[:4]))
    questions.append(QuestionData(K.TEXT, "Предложение", max_length=500))
    assert len(questions) == 20
    for data in questions:
        services.add_question(section, data)
    survey.published_at = now
    db.session.commit()
    return survey.id, [c.id for c in cities], official.id


def _load_responses(survey_id: int, city_ids: list[int], n: int) -> float:
    """Insert n responses and their answers set-wise; returns seconds spent."""
    from participation.extensions import db

    started = time.perf_counter()
    conn = db.session.connection()
    conn.execute(sa.text("SET session_replication_role = replica"))  # no FK triggers while loading
    conn.execute(sa.text("SET maintenance_work_mem = '512MB'"))
    # A throw-away database: no WAL for the bulk load (answers first: it references responses).
    conn.execute(sa.text("ALTER TABLE survey_answers SET UNLOGGED"))
    conn.execute(sa.text("ALTER TABLE survey_responses SET UNLOGGED"))
    for index in (
        "ix_survey_answers_grouping",
        "ix_survey_answers_question_text_status",
        "ix_survey_answers_response_id",
        "ix_survey_responses_survey_id_id",
    ):
        conn.execute(sa.text(f"DROP INDEX IF EXISTS {index}"))
    _insert_rows(conn, survey_id, city_ids, 1, n)
    loaded = time.perf_counter() - started
    print(f"  rows loaded in {loaded:.0f} s; building indexes…", flush=True)
    conn.execute(
        sa.text(
            "CREATE INDEX ix_survey_answers_grouping "
            "ON survey_answers (question_id, option_id, row_id)"
        )
    )
    conn.execute(
        sa.text(
            "CREATE INDEX ix_survey_answers_question_text_status "
            "ON survey_answers (question_id, text_status)"
        )
    )
    conn.execute(
        sa.text("CREATE INDEX ix_survey_answers_response_id ON survey_answers (response_id)")
    )
    conn.execute(
        sa.text("CREATE INDEX ix_survey_responses_survey_id_id ON survey_responses (survey_id, id)")
    )
    conn.execute(sa.text("SET session_replication_role = origin"))
    conn.execute(
        sa.text("SELECT setval(pg_get_serial_sequence('survey_responses', 'id'), :n)"), {"n": n}
    )
    db.session.commit()
    _vacuum()
    return time.perf_counter() - started


def _vacuum() -> None:
    from participation.extensions import db

    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
        c.execute(sa.text("VACUUM ANALYZE survey_answers"))
        c.execute(sa.text("VACUUM ANALYZE survey_responses"))


def _add_responses(survey_id: int, city_ids: list[int], k: int) -> None:
    """k more responses after the highest id, as if submitted since the last refresh."""
    from participation.extensions import db

    conn = db.session.connection()
    first = (conn.execute(sa.text("SELECT max(id) FROM survey_responses")).scalar() or 0) + 1
    _insert_rows(conn, survey_id, city_ids, first, first + k - 1)
    conn.execute(
        sa.text("SELECT setval(pg_get_serial_sequence('survey_responses', 'id'), :n)"),
        {"n": first + k - 1},
    )
    db.session.commit()


def _insert_rows(conn, survey_id: int, city_ids: list[int], first: int, last: int) -> None:
    """Responses with ids first..last and their answers, set-wise."""
    from participation.polls.engine import load_questionnaire
    from participation.polls.models import QuestionKind as K

    qn = load_questionnaire(survey_id)
    span = {"first": first, "last": last}
    cities = "(ARRAY[" + ",".join(map(str, city_ids)) + "])"
    conn.execute(
        sa.text(
            f"""
            INSERT INTO survey_responses
                   (id, survey_id, submitted_at, age_band, gender, municipality_id)
            SELECT i, :sid, now() - ((i % 720) * interval '1 hour'),
                   (ARRAY['18_24','25_34','35_44','45_54','55_64','65_plus'])
                       [1 + (i::bigint * 7919) % 6],
                   CASE WHEN (i::bigint * 31) % 100 < 46 THEN 'M' ELSE 'F' END,
                   {cities}[1 + (i::bigint * 104729) % {len(city_ids)}]
            FROM {SERIES} AS i
            """
        ),
        {"sid": survey_id, **span},
    )

    def h(salt: int) -> str:  # a per-row, per-question pseudo-random non-negative integer
        return f"((i::bigint * {SALT} + {salt * 97531}) % 2147483647)"

    def insert(select_sql: str) -> None:
        conn.execute(
            sa.text(
                "INSERT INTO survey_answers (response_id, question_id, item_no, option_id, row_id,"
                " number_value, date_value, text_value, text_status) " + select_sql
            ),
            span,
        )

    for salt, q in enumerate(qn.questions, 1):
        ids = "(ARRAY[" + ",".join(str(o.id) for o in q.choices) + "])"
        k = len(q.choices)
        if q.kind == K.SINGLE:
            other = next((o.id for o in q.choices if o.is_other), None)
            text = (
                f"CASE WHEN {ids}[1 + {h(salt)} % {k}] = {other} THEN 'Своё' END"
                if other
                else "NULL"
            )
            status = (
                f"CASE WHEN {ids}[1 + {h(salt)} % {k}] = {other} THEN 'pending' END"
                if other
                else "NULL"
            )
            insert(
                f"SELECT i, {q.id}, 0, {ids}[1 + {h(salt)} % {k}], NULL, NULL, NULL, "
                f"{text}, {status} FROM {SERIES} AS i"
            )
        elif q.kind == K.MULTIPLE:
            insert(
                f"SELECT i, {q.id}, 0, {ids}[1 + {h(salt)} % {k}], NULL, NULL, NULL, NULL, NULL "
                f"FROM {SERIES} AS i"
            )
            insert(
                f"SELECT i, {q.id}, 1, {ids}[1 + ({h(salt)} + 1) % {k}], NULL, NULL, NULL, "
                f"NULL, NULL FROM {SERIES} AS i WHERE {h(salt + 50)} % 2 = 0"
            )
        elif q.kind == K.SCALE:
            insert(
                f"SELECT i, {q.id}, 0, NULL, NULL, 1 + {h(salt)} % {q.scale_max}, NULL, NULL, NULL "
                f"FROM {SERIES} AS i"
            )
        elif q.kind == K.NUMBER:
            insert(
                f"SELECT i, {q.id}, 0, NULL, NULL, {h(salt)} % 120, NULL, NULL, NULL "
                f"FROM {SERIES} AS i WHERE i % 5 <> 0"
            )
        elif q.kind == K.DATE:
            insert(
                f"SELECT i, {q.id}, 0, NULL, NULL, NULL, "
                f"date '2000-01-01' + ({h(salt)} % 9000)::int, NULL, NULL "
                f"FROM {SERIES} AS i WHERE i % 3 = 0"
            )
        elif q.kind == K.MATRIX:
            for r, row in enumerate(q.rows):
                insert(
                    f"SELECT i, {q.id}, {r}, {ids}[1 + {h(salt + r)} % {k}], {row.id}, NULL, NULL, "
                    f"NULL, NULL FROM {SERIES} AS i"
                )
        elif q.kind == K.RANKING:
            for j, option in enumerate(q.choices):
                insert(
                    f"SELECT i, {q.id}, {j}, {option.id}, NULL, 1 + ({j} + {h(salt)}) % {k}, NULL, "
                    f"NULL, NULL FROM {SERIES} AS i"
                )
        elif q.kind == K.TEXT:
            insert(
                f"SELECT i, {q.id}, 0, NULL, NULL, NULL, NULL, 'Предложение ' || i, "
                "CASE WHEN i % 2 = 0 THEN 'approved' ELSE 'pending' END "
                f"FROM {SERIES} AS i WHERE i % 50 = 0"
            )


def _report(label: str, seconds: float, base: float) -> None:
    print(f"{label:<46} {seconds * 1000:8.0f} ms  ({seconds / base:6.3f}x baseline)", flush=True)


def _timed(fn, runs: int) -> tuple[float, object]:
    times, result = [], None
    for _ in range(runs):
        started = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times), result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--responses", type=int, default=1_000_000)
    parser.add_argument("--reuse", action="store_true", help="keep an existing database")
    parser.add_argument("--database", default=DB_NAME, help="its name (dropped unless --reuse)")
    parser.add_argument("--runs", type=int, default=3, help="runs of each count or page (median)")
    parser.add_argument("--new", type=int, default=10_000, help="responses added before a refresh")
    args = parser.parse_args()

    import logging

    logging.disable(logging.INFO)
    if not args.reuse:
        _common.recreate_database(args.database)
    app = _app(args.database)
    from participation.extensions import db
    from participation.polls.engine import load_questionnaire
    from participation.polls.models import Survey, SurveyResultSnapshot
    from participation.polls.results import (
        Dimension,
        compute_breakdown,
        compute_results,
        compute_with_breakdowns,
    )
    from participation.polls.snapshots import refresh_results

    with app.app_context():
        if not args.reuse:
            import flask_migrate

            flask_migrate.upgrade()
            survey_id, city_ids, official_id = _build_survey()
            print(f"Loading {args.responses:,} responses x 20 questions…", flush=True)
            spent = _load_responses(survey_id, city_ids, args.responses)
            print(f"  data set ready in {spent:.0f} s", flush=True)
        survey = db.session.scalar(sa.select(Survey))
        survey_id = survey.id
        from participation.core.users import User

        official_id = db.session.scalar(sa.select(User.id).where(User.esia_oid == "1"))
        city_ids = sorted(
            db.session.scalars(
                sa.text("SELECT DISTINCT municipality_id FROM survey_responses LIMIT 100")
            )
        )
        # A reused database: the first refresh below is a first one again.
        db.session.execute(sa.delete(SurveyResultSnapshot))
        db.session.commit()
        answers = db.session.scalar(sa.text("SELECT count(*) FROM survey_answers"))
        responses = db.session.scalar(sa.text("SELECT count(*) FROM survey_responses"))
        print(f"Survey {survey_id}: {responses:,} responses, {answers:,} answer rows")
        question_ids = [
            r[0]
            for r in db.session.execute(
                sa.text("SELECT id FROM survey_questions WHERE survey_id = :s"), {"s": survey_id}
            )
        ]
        baseline_sql = sa.text(
            "SELECT question_id, option_id, row_id, count(*) FROM survey_answers "
            "WHERE question_id = ANY(:ids) AND option_id IS NOT NULL GROUP BY 1, 2, 3"
        )
        base, _ = _timed(
            lambda: db.session.execute(baseline_sql, {"ids": question_ids}).all(), args.runs
        )
        print(f"\nBaseline: one bare GROUP BY over the answers  {base * 1000:8.0f} ms")
        joined_sql = sa.text(
            "SELECT r.age_band, a.question_id, a.option_id, a.row_id, count(*) "
            "FROM survey_answers a JOIN survey_responses r ON r.id = a.response_id "
            "WHERE r.survey_id = :s GROUP BY 1, 2, 3, 4"
        )
        joined, _ = _timed(lambda: db.session.execute(joined_sql, {"s": survey_id}).all(), 1)
        _report("(reference: the same, joined, by age band)", joined, base)

        def fresh_survey():
            db.session.expire_all()
            return db.session.get(Survey, survey_id)

        totals, _ = _timed(lambda: compute_results(fresh_survey()), args.runs)
        _report("compute_results (20 questions)", totals, base)
        for dimension in Dimension:
            t, _ = _timed(
                lambda d=dimension: compute_breakdown(fresh_survey(), d),
                args.runs,
            )
            _report(f"compute_breakdown by {dimension.value}", t, base)

        def everything():
            survey = fresh_survey()
            return compute_with_breakdowns(survey, load_questionnaire(survey_id), list(Dimension))

        t, _ = _timed(everything, args.runs)
        _report("totals + 3 breakdowns in one pass", t, base)

        job, _ = _timed(lambda: refresh_results(survey_id), 1)
        _report("refresh_results job: the first", job, base)
        loaded_up_to = db.session.scalar(sa.text("SELECT max(id) FROM survey_responses"))
        _add_responses(survey_id, city_ids, args.new)
        job, _ = _timed(lambda: refresh_results(survey_id), 1)
        _report(f"refresh_results job: {args.new:,} new responses", job, base)
        job, _ = _timed(lambda: refresh_results(survey_id), args.runs)
        _report("refresh job: again (those not settled yet)", job, base)
        from participation.polls import snapshots

        snapshots.SETTLE_AFTER = timedelta(0)  # as SETTLE_AFTER later: they join the kept tally
        refresh_results(survey_id)
        job, _ = _timed(lambda: refresh_results(survey_id), args.runs)
        _report("refresh job: again (all settled, none new)", job, base)
        db.session.remove()
    _pages(app, survey_id, official_id, base, args.runs)
    with app.app_context():  # back to the data set as loaded, for the next --reuse
        db.session.execute(
            sa.text("DELETE FROM survey_answers WHERE response_id > :n"), {"n": loaded_up_to}
        )
        db.session.execute(
            sa.text("DELETE FROM survey_responses WHERE id > :n"), {"n": loaded_up_to}
        )
        db.session.execute(sa.delete(SurveyResultSnapshot))
        db.session.commit()
        _vacuum()


def _pages(app, survey_id: int, official_id: int, base: float, runs: int) -> None:
    from participation.extensions import db

    client = app.test_client()
    with client.session_transaction() as session:
        with app.app_context():
            session["_user_id"] = db.session.get(
                __import__("participation.core.users", fromlist=["User"]).User, official_id
            ).get_id()
        session["_fresh"] = True
    print("Pages (server time; past LIVE_LIMIT they read the snapshot the job made):")
    for label, url in (
        ("results page (totals, 20 charts)", f"/polls/manage/{survey_id}/results"),
        ("breakdown page by age", f"/polls/manage/{survey_id}/results?by=age"),
        ("breakdown page by municipality", f"/polls/manage/{survey_id}/results?by=municipality"),
    ):

        def get(url=url):
            response = client.get(url)
            assert response.status_code == 200, response.status_code
            return response

        t, _ = _timed(get, runs)
        _report(label, t, base)


if __name__ == "__main__":
    main()
