"""Benchmark: the staff inbox over 1 000 000 messages in PostgreSQL.

Run by hand:  .venv/bin/python bench/appeals_inbox.py [--messages 1000000] [--repeat 200]

Builds its own database `bench_appeals` through the migrations, loads the demo region, then
generates the messages with one set-based INSERT … SELECT generate_series (no ORM loop): three
years of history across the region's organizations, most of it finished, the open part spread
over the last 40 days so that some of it is overdue. Secondary indexes are dropped for the load
and rebuilt afterwards (with the Russian full-text GIN index), then the table is analysed.

Then it times, through the application (Flask test client, so the figures are the server's
time: routing, session, permission checks, SQL, template), the inbox of the Уфа
administration's coordinator:
  - В работе + overdue only, page 1 and page 50 (10 per page)     ← the target, p95 ≤ 50 ms
  - Новые, page 1; Отработанные (the biggest folder), page 1 and page 50;
  - a Russian full-text search in В работе,
and, as the baseline measured in the same run, GET /healthz (one SELECT 1) through the same
client. Each case prints p50 / p95 in milliseconds and p50 as a ratio to the baseline.

Needs PostgreSQL at BENCH_PG (default postgresql://postgres@127.0.0.1:5432).
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time

import _common
import sqlalchemy as sa

DB_NAME = "bench_appeals"

# Share of messages by addressee (organization slug → weight); the rest spread evenly.
WEIGHTS = {
    "ufa-admin": 30,
    "rb-minzdrav": 12,
    "ufa-uk-zhilservis": 10,
    "rb-mintrans": 8,
    "ufa-education": 6,
    "rb-mingkh": 6,
    "rb-cur": 4,
}
PHRASES = (
    "Огромная яма на проезжей части, машины объезжают по встречной полосе",
    "Во дворе не вывозят мусор уже неделю, контейнеры переполнены",
    "Не работает светофор на перекрёстке, пешеходам опасно переходить",
    "Двор не чистят от снега, к подъезду не пройти",
    "Протекает крыша над последним этажом после каждого дождя",
    "В поликлинике нет свободных талонов к терапевту на две недели",
    "Не горят фонари на улице, вечером темно и небезопасно",
    "Сломаны качели на детской площадке, торчат острые детали",
    "Нет горячей воды третий день без объявления",
    "Автобус по маршруту ходит раз в час вместо пятнадцати минут",
    "Стёрлась разметка на пешеходном переходе у школы",
    "На тротуаре провал асфальта, люди спотыкаются и падают",
)


GENERATE = """
WITH params AS (
    SELECT now() AS t0
), rows AS (
    SELECT g,
           random() AS r_state, random() AS r_age, random() AS r_ch,
           (g % cardinality(CAST(:subs AS int[]))) + 1 AS s_i,
           1 + floor(random() * cardinality(CAST(:orgs AS int[])))::int AS o_i,
           1 + floor(random() * cardinality(CAST(:places AS int[])))::int AS p_i,
           1 + floor(random() * cardinality(CAST(:residents AS int[])))::int AS a_i
    FROM generate_series(1, :n) AS g
), shaped AS (
    SELECT r.*,
           CASE WHEN r_state < 0.004 THEN 'moderation'
                WHEN r_state < 0.008 THEN 'coordination'
                WHEN r_state < 0.02 THEN 'assignment'
                WHEN r_state < 0.05 THEN 'in_work'
                WHEN r_state < 0.056 THEN 'in_work_returned'
                WHEN r_state < 0.066 THEN 'approval'
                WHEN r_state < 0.074 THEN 'postponed'
                WHEN r_state < 0.09 THEN 'answered'
                WHEN r_state < 0.95 THEN 'closed'
                WHEN r_state < 0.97 THEN 'escalated'
                ELSE 'rejected' END AS kind,
           (CAST(:fast AS boolean[]))[s_i] AS fast,
           (CAST(:orgs AS int[]))[o_i] AS org
    FROM rows r
), dated AS (
    SELECT s.*,
           CASE WHEN s.fast THEN 10 ELSE 30 END AS term,
           (SELECT t0 FROM params) - CASE
               WHEN kind IN ('closed', 'escalated', 'rejected')
                   THEN interval '40 days' + r_age * interval '1055 days'
               ELSE r_age * interval '40 days' END AS registered
    FROM shaped s
)
INSERT INTO appeals (
    submitted_by_id, submission_key, author_id, channel, widget_organization_id,
    subcategory_id, text, address, territory_id, region_id, applicant_region_id,
    executor_organization_id, holder_organization_id, executor_id, auto_routed, arrival,
    state, bucket, returned_from, fast_track, term_days, registered_at, answer_due_at,
    coordination_due_at, original_answer_due_at, postponed_until, postponement_reason,
    postponement_count, answered_at, closed_at, rework_count, cycle
)
SELECT
    (CAST(:residents AS int[]))[a_i], 'bench-' || g, (CAST(:residents AS int[]))[a_i],
    CASE WHEN r_ch < 0.6 THEN 'portal' WHEN r_ch < 0.8 THEN 'api' ELSE 'widget' END,
    CASE WHEN r_ch >= 0.8 THEN org END,
    (CAST(:subs AS int[]))[s_i],
    (CAST(:phrases AS text[]))[1 + g % cardinality(CAST(:phrases AS text[]))]
        || ', дом ' || (g % 200 + 1) || '.',
    'ул. Ленина, д. ' || (g % 200 + 1),
    (CAST(:places AS int[]))[p_i], :region, :region,
    org,
    CASE kind WHEN 'moderation' THEN :operator WHEN 'rejected' THEN :operator
              WHEN 'coordination' THEN :cur ELSE org END,
    CASE WHEN kind IN ('in_work', 'in_work_returned', 'approval', 'postponed', 'answered',
                       'closed', 'escalated') AND org = :executor_org THEN :executor END,
    r_ch < 0.7,
    CASE kind WHEN 'moderation' THEN 'new' ELSE 'after_moderation' END,
    CASE kind WHEN 'in_work_returned' THEN 'in_work' ELSE kind END,
    CASE kind WHEN 'moderation' THEN 'new' WHEN 'coordination' THEN 'new'
              WHEN 'assignment' THEN 'new' WHEN 'in_work' THEN 'in_work'
              WHEN 'in_work_returned' THEN 'returned' WHEN 'approval' THEN 'approval'
              WHEN 'postponed' THEN 'postponed' WHEN 'answered' THEN 'answered'
              ELSE 'done' END,
    CASE kind WHEN 'in_work_returned' THEN 'head' END,
    fast, term, registered,
    registered + term * interval '1 day'
        + CASE kind WHEN 'postponed' THEN interval '20 days' ELSE interval '0' END,
    registered + term * interval '12 hours',
    registered + term * interval '1 day',
    CASE kind WHEN 'postponed' THEN registered + term * interval '1 day' + interval '20 days' END,
    CASE kind WHEN 'postponed' THEN 'Работы запланированы подрядчиком' END,
    CASE kind WHEN 'postponed' THEN 1 ELSE 0 END,
    CASE WHEN kind IN ('answered', 'closed', 'escalated')
         THEN registered + r_age * term * interval '1 day' END,
    CASE WHEN kind IN ('closed', 'escalated', 'rejected')
         THEN registered + term * interval '1 day' END,
    0, 1
FROM dated
"""


def _generate(app, count: int, database: str = DB_NAME) -> None:
    from participation.appeals.classifier import Subcategory
    from participation.core.organizations import Organization, OrganizationKind
    from participation.core.territories import Territory, TerritoryLevel
    from participation.core.users import User
    from participation.demo import data
    from participation.extensions import db

    with app.app_context():
        slug_by_name = {r["name"]: r["slug"] for r in data.ORGANIZATIONS}
        orgs = {
            slug_by_name[o.name]: o
            for o in db.session.scalars(sa.select(Organization))
            if o.name in slug_by_name
        }
        executors = [
            o.id
            for slug, o in orgs.items()
            if o.kind not in (OrganizationKind.OPERATOR, OrganizationKind.REGIONAL_CENTRE)
        ]
        weighted: list[int] = []
        for slug, weight in WEIGHTS.items():
            weighted += [orgs[slug].id] * weight
        weighted += executors * 1
        region = db.session.scalar(
            sa.select(Territory).where(Territory.oktmo == data.BASHKORTOSTAN)
        )
        places = list(
            db.session.scalars(
                sa.select(Territory.id).where(
                    Territory.parent_id == region.id,
                    Territory.level.in_(
                        (TerritoryLevel.URBAN_OKRUG, TerritoryLevel.MUNICIPAL_DISTRICT)
                    ),
                )
            )
        )
        subs = list(db.session.execute(sa.select(Subcategory.id, Subcategory.fast_track)))
        residents = list(
            db.session.scalars(sa.select(User.id).where(User.esia_oid.like("2%")).order_by(User.id))
        )
        executor = db.session.scalar(
            sa.select(User.id).where(User.esia_oid == data.PERSONAS["ufa-executor"]["esia_oid"])
        )
        conn = db.session.connection()
        indexes = conn.execute(
            sa.text(
                "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'appeals' "
                "AND indexname NOT IN (SELECT conname FROM pg_constraint)"
            )
        ).all()
        for name, _definition in indexes:
            conn.execute(sa.text(f"DROP INDEX {name}"))
        started = time.perf_counter()
        conn.execute(
            sa.text(GENERATE),
            {
                "n": count,
                "subs": [s.id for s in subs],
                "fast": [bool(s.fast_track) for s in subs],
                "orgs": weighted,
                "places": places,
                "residents": residents,
                "phrases": list(PHRASES),
                "region": region.id,
                "operator": orgs["operator"].id,
                "cur": orgs["rb-cur"].id,
                "executor_org": orgs["ufa-admin"].id,
                "executor": executor,
            },
        )
        loaded = time.perf_counter() - started
        started = time.perf_counter()
        for _name, definition in indexes:
            conn.execute(sa.text(definition))
        db.session.commit()
        indexed = time.perf_counter() - started
    engine = _common.admin_engine(database)
    with engine.connect() as conn:
        conn.execute(sa.text("VACUUM ANALYZE appeals"))
    engine.dispose()
    print(
        f"  inserted {count:,} messages in {loaded:.1f} s; "
        f"{len(indexes)} indexes rebuilt in {indexed:.1f} s",
        flush=True,
    )


def prepared_app(database: str, messages: int, reuse: bool, instance_prefix: str):
    """The application on `database`: with `reuse`, the messages of a previous run (migrated
    up to the code's head: new columns and indexes); else the database made anew — migrations,
    the demo region, `messages` generated messages (_generate)."""
    import logging

    import flask_migrate

    from participation import create_app
    from participation.demo.seed import seed_demo
    from participation.extensions import db

    logging.disable(logging.WARNING)
    instance = tempfile.mkdtemp(prefix=instance_prefix)
    env = _common.app_env(database, instance, _common.DEVELOPMENT)
    if reuse:
        print(f"Database {database}: reusing the messages of a previous run", flush=True)
        app = create_app(env=env)
        with app.app_context():
            flask_migrate.upgrade()
        return app
    print(f"Database {database}: migrating, loading the demo region…", flush=True)
    _common.recreate_database(database)
    app = create_app(env=env)
    with app.app_context():
        flask_migrate.upgrade()
        seed_demo()
        db.session.commit()
    print(f"Generating {messages:,} messages with INSERT … SELECT generate_series…", flush=True)
    _generate(app, messages, database)
    return app


def staff_client(app, user_key: str):
    """A Flask test client holding the session of a logged-in staff member (User.get_id())."""
    client = app.test_client()
    with client.session_transaction() as session:
        now = int(time.time())
        session.update({"_user_id": user_key, "_fresh": True, "login_at": now, "seen_at": now})
    return client


def coordinator_key(app) -> str:
    """The login key (User.get_id()) of the Уфа administration's coordinator (the demo's
    persona), after printing what that administration holds by folder."""
    from participation.core.users import User
    from participation.demo import data
    from participation.extensions import db

    with app.app_context():
        coordinator = db.session.scalar(
            sa.select(User).where(User.esia_oid == data.PERSONAS["ufa-coordinator"]["esia_oid"])
        )
        user_key = coordinator.get_id()
        held = db.session.execute(
            sa.text(
                "SELECT bucket, count(*) FROM appeals WHERE holder_organization_id = "
                "(SELECT organization_id FROM memberships WHERE user_id = :u LIMIT 1) "
                "GROUP BY bucket ORDER BY 2 DESC"
            ),
            {"u": coordinator.id},
        ).all()
        overdue = db.session.scalar(
            sa.text(
                "SELECT count(*) FROM appeals WHERE bucket = 'in_work' AND answer_due_at < now() "
                "AND holder_organization_id = (SELECT organization_id FROM memberships "
                "WHERE user_id = :u LIMIT 1)"
            ),
            {"u": coordinator.id},
        )
    print("  Администрация г. Уфы holds: " + ", ".join(f"{b} {n:,}" for b, n in held))
    print(f"  of which overdue in work: {overdue:,}")
    return user_key


def _time(client, url: str, repeat: int) -> list[float]:
    for _ in range(5):  # warm-up
        assert client.get(url).status_code == 200, url
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        response = client.get(url)
        samples.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, (url, response.status_code)
    return samples


def _p(samples: list[float], q: float) -> float:
    return statistics.quantiles(samples, n=100, method="inclusive")[int(q) - 1]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=200)
    parser.add_argument(
        "--reuse", action="store_true", help="time again on the database of a previous run"
    )
    args = parser.parse_args()

    app = prepared_app(DB_NAME, args.messages, args.reuse, "bench-inbox-")
    client = staff_client(app, coordinator_key(app))

    cases = [
        ("baseline GET /healthz (SELECT 1)", "/healthz"),
        ("В работе + overdue, page 1", "/backoffice/appeals/?bucket=in_work&overdue=1"),
        ("В работе + overdue, page 50", "/backoffice/appeals/?bucket=in_work&overdue=1&page=50"),
        ("Новые, page 1", "/backoffice/appeals/?bucket=new"),
        ("Отработанные, page 1", "/backoffice/appeals/?bucket=done"),
        ("Отработанные, page 50", "/backoffice/appeals/?bucket=done&page=50"),
        ("Отработанные, 100 per page", "/backoffice/appeals/?bucket=done&size=100"),
        ("В работе, search «яма»", "/backoffice/appeals/?bucket=in_work&q=%D1%8F%D0%BC%D0%B0"),
    ]
    print(f"\n{'case':44} {'p50 ms':>8} {'p95 ms':>8} {'p50/base':>9}")
    base = None
    for label, url in cases:
        samples = _time(client, url, args.repeat)
        p50, p95 = statistics.median(samples), _p(samples, 95)
        base = base or p50
        print(f"{label:44} {p50:8.1f} {p95:8.1f} {p50 / base:9.1f}", flush=True)
    print("\ntarget: p95 ≤ 50 ms for «В работе + overdue», pages 1 and 50")
    _database_time(app, client, cases[1][1], args.repeat)


def _database_time(app, client, url: str, repeat: int) -> None:
    """The same page's SQL, timed by PostgreSQL itself (EXPLAIN ANALYZE of each statement the
    page ran): what the database costs, apart from Python and the machine's other load."""
    from sqlalchemy import event

    from participation.extensions import db

    statements: list[tuple[str, object]] = []

    def capture(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().upper().startswith("SELECT") and "appeals" in statement:
            statements.append((statement, parameters))

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", capture)
    try:
        client.get(url)
    finally:
        event.remove(engine, "before_cursor_execute", capture)
    totals, planning = [], []
    with engine.connect() as conn:
        raw = conn.connection.driver_connection
        for _ in range(max(20, repeat // 5)):
            total = planned = 0.0
            for statement, parameters in statements:
                cur = raw.execute("EXPLAIN (ANALYZE, FORMAT JSON) " + statement, parameters)
                plan = cur.fetchone()[0][0]
                total += plan["Planning Time"] + plan["Execution Time"]
                planned += plan["Planning Time"]
            totals.append(total)
            planning.append(planned)
    print(
        f"database time of that page ({len(statements)} statements on appeals, "
        f"by EXPLAIN ANALYZE): p50 {statistics.median(totals):.1f} ms, "
        f"p95 {_p(totals, 95):.1f} ms, of which planning p50 {statistics.median(planning):.1f} ms"
    )


if __name__ == "__main__":
    main()
