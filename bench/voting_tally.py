"""Benchmark: counting a national landscaping vote — 14.1 million ballots, 1 500 municipalities.

Run by hand:  .venv/bin/python bench/voting_tally.py [--ballots 14100000] [--reuse]

Builds its own database `bench_voting` (dropped and recreated unless --reuse) through the
migrations: the country, 85 regions, 1 500 municipalities, one per-district single-choice
campaign with five public spaces in each municipality (7 500 objects), and the ballot box
loaded set-wise (INSERT … SELECT generate_series; indexes and constraints are dropped for the
load and rebuilt under their own names, then VACUUM ANALYZE). Municipalities differ in size
(a skewed spread, as real cities do) and so do the spaces' shares. The register is not filled:
counting reads only the box.

Then, in this process and against the same database, it measures:
  - the results of one municipality through the product code (`tally_campaign(campaign,
    district_id=…)`: one GROUP BY over that municipality's choices, with ranks and winners)
    against the raw SQL GROUP BY of the same choices — 200 municipalities, interleaved;
  - the national total (`tally_campaign(campaign)`: every municipality's results and winners)
    against the raw `SELECT object_id, count(*) … WHERE campaign_id = … GROUP BY object_id`
    over the whole box.
Printed: median and p95 times, and the product/raw ratios (targets: one municipality
<= 10 ms; ratio <= 1.2).

Needs PostgreSQL at BENCH_PG (default postgresql://postgres@127.0.0.1:5432).
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import tempfile
import time
from datetime import UTC, datetime

import _common
import sqlalchemy as sa

DB_NAME = "bench_voting"
REGIONS = 85
MUNICIPALITIES = 1500
SPACES = 5

# The box's indexes and constraints, as migration 0005 names them: dropped for the bulk load.
REBUILD = [
    "ALTER TABLE voting_ballots ADD CONSTRAINT pk_voting_ballots PRIMARY KEY (id)",
    "ALTER TABLE voting_ballots ADD CONSTRAINT uq_voting_ballots_receipt_hash "
    "UNIQUE (receipt_hash)",
    "CREATE INDEX ix_voting_ballots_campaign_district ON voting_ballots (campaign_id, district_id)",
    "ALTER TABLE voting_ballot_choices ADD CONSTRAINT pk_voting_ballot_choices "
    "PRIMARY KEY (ballot_id, object_id)",
    "CREATE INDEX ix_voting_ballot_choices_object_id ON voting_ballot_choices (object_id)",
    "ALTER TABLE voting_ballots ADD CONSTRAINT fk_voting_ballots_campaign_id_voting_campaigns "
    "FOREIGN KEY (campaign_id) REFERENCES voting_campaigns (id) ON DELETE CASCADE",
    "ALTER TABLE voting_ballots ADD CONSTRAINT fk_voting_ballots_district_id_territories "
    "FOREIGN KEY (district_id) REFERENCES territories (id)",
    "ALTER TABLE voting_ballot_choices ADD CONSTRAINT "
    "fk_voting_ballot_choices_ballot_id_voting_ballots FOREIGN KEY (ballot_id) "
    "REFERENCES voting_ballots (id) ON DELETE CASCADE",
    "ALTER TABLE voting_ballot_choices ADD CONSTRAINT "
    "fk_voting_ballot_choices_object_id_voting_objects FOREIGN KEY (object_id) "
    "REFERENCES voting_objects (id) ON DELETE CASCADE",
    "ALTER TABLE voting_ballot_choices ADD CONSTRAINT "
    "fk_voting_ballot_choices_campaign_id_voting_campaigns FOREIGN KEY (campaign_id) "
    "REFERENCES voting_campaigns (id) ON DELETE CASCADE",
]
DROP = [
    "ALTER TABLE voting_ballot_choices DROP CONSTRAINT "
    "fk_voting_ballot_choices_ballot_id_voting_ballots",
    "ALTER TABLE voting_ballot_choices DROP CONSTRAINT "
    "fk_voting_ballot_choices_object_id_voting_objects",
    "ALTER TABLE voting_ballot_choices DROP CONSTRAINT "
    "fk_voting_ballot_choices_campaign_id_voting_campaigns",
    "ALTER TABLE voting_ballot_choices DROP CONSTRAINT pk_voting_ballot_choices",
    "DROP INDEX ix_voting_ballot_choices_object_id",
    "ALTER TABLE voting_ballots DROP CONSTRAINT fk_voting_ballots_campaign_id_voting_campaigns",
    "ALTER TABLE voting_ballots DROP CONSTRAINT fk_voting_ballots_district_id_territories",
    "ALTER TABLE voting_ballots DROP CONSTRAINT pk_voting_ballots",
    "ALTER TABLE voting_ballots DROP CONSTRAINT uq_voting_ballots_receipt_hash",
    "DROP INDEX ix_voting_ballots_campaign_district",
]

# Ballot g goes to municipality 1 + floor(1500 * u^2) (u uniform in [0, 1): a few big cities,
# many small towns) and chooses space floor(5 * v^1.7) of it (uneven shares).
SPREAD = (
    "1 + floor({m} * power(((g * 2654435761) %% 1000003) / 1000003.0::float8, 2))::int",
    "floor({s} * power(((g * 40503) %% 65537) / 65537.0::float8, 1.7))::int",
)


def _app():
    from participation import create_app

    return create_app(
        env=_common.app_env(DB_NAME, tempfile.mkdtemp(prefix="bench-voting-"), _common.TESTING)
    )


def _step(label: str, started: float) -> float:
    now = time.perf_counter()
    print(f"  {label}: {now - started:.1f} s", flush=True)
    return now


def _build(ballots: int) -> None:
    import flask_migrate

    from participation.extensions import db

    _common.recreate_database(DB_NAME)
    app = _app()
    t = time.perf_counter()
    print(f"building {ballots:,} ballots in {MUNICIPALITIES} municipalities…", flush=True)
    with app.app_context():
        flask_migrate.upgrade(directory=str(_common.ROOT / "migrations"))
        raw = db.engine.raw_connection().driver_connection
        raw.autocommit = True
        cur = raw.cursor()
        run = cur.execute
        run("SET maintenance_work_mem = '1GB'")
        run("SET synchronous_commit = off")
        run("SET max_parallel_maintenance_workers = 2")
        run(
            "INSERT INTO territories (oktmo, name, level, parent_id, timezone) "
            "VALUES ('00', 'Российская Федерация', 'country', NULL, 'Europe/Moscow')"
        )
        run(
            "INSERT INTO territories (oktmo, name, level, parent_id, timezone) "
            "SELECT lpad(r::text, 2, '0') || '000000', 'Регион ' || r, 'region', "
            "(SELECT id FROM territories WHERE oktmo = '00'), 'Europe/Moscow' "
            "FROM generate_series(1, %s) r",
            (REGIONS,),
        )
        run(
            "INSERT INTO territories (oktmo, name, level, parent_id, timezone) "
            "SELECT lpad((1 + m %% %s)::text, 2, '0') || lpad(m::text, 4, '0') || '00', "
            "'Муниципалитет ' || m, 'urban_okrug', "
            "(SELECT id FROM territories WHERE oktmo = lpad((1 + m %% %s)::text, 2, '0') "
            "|| '000000'), 'Europe/Moscow' FROM generate_series(1, %s) m",
            (REGIONS, REGIONS, MUNICIPALITIES),
        )
        run(
            "INSERT INTO organizations (name, kind, territory_id, widget_code, created_at) "
            "VALUES ('Минстрой России', 'federal', (SELECT id FROM territories "
            "WHERE oktmo = '00'), 'bench-widget', now()) RETURNING id"
        )
        org_id = cur.fetchone()[0]
        run(
            "INSERT INTO voting_campaigns (organization_id, territory_id, kind, title, rules_text,"
            " ballot_rule, per_district, winners_count, show_turnout, allow_revote, min_level,"
            " min_age, opens_at, closes_at, published_at, created_at) VALUES (%s, (SELECT id FROM"
            " territories WHERE oktmo = '00'), 'landscaping', 'Всероссийское голосование за"
            " объекты благоустройства', '', 'single', true, 1, true, false, 'confirmed', 14,"
            " '2026-04-15', '2026-05-31', '2026-04-01', now()) RETURNING id",
            (org_id,),
        )
        campaign_id = cur.fetchone()[0]
        run(
            "INSERT INTO voting_objects (campaign_id, position, title, description, district_id) "
            "SELECT %s, k, 'Общественное пространство № ' || k || ', ' || t.name, '', t.id "
            "FROM territories t CROSS JOIN generate_series(1, %s) k "
            "WHERE t.level = 'urban_okrug' ORDER BY t.id, k",
            (campaign_id, SPACES),
        )
        t = _step("territories, campaign, 7 500 objects", t)
        for statement in DROP:
            run(statement)
        district = SPREAD[0].format(m=MUNICIPALITIES)
        space = SPREAD[1].format(s=SPACES)
        run(
            "INSERT INTO voting_ballots (id, campaign_id, district_id, receipt_hash, cast_on) "
            f"SELECT md5(g::text)::uuid, %s, d.ids[{district}], "
            "sha256(int8send(g)), date '2026-04-15' + (g %% 47)::int "
            "FROM generate_series(1::bigint, %s) g, (SELECT array_agg(id ORDER BY id) AS ids "
            "FROM territories WHERE level = 'urban_okrug') d",
            (campaign_id, ballots),
        )
        t = _step("ballots", t)
        run(
            "INSERT INTO voting_ballot_choices (ballot_id, object_id, campaign_id) "
            f"SELECT md5(g::text)::uuid, o.first + ({district} - 1) * {SPACES} + {space}, %s "
            "FROM generate_series(1::bigint, %s) g, "
            "(SELECT min(id) AS first FROM voting_objects WHERE campaign_id = %s) o",
            (campaign_id, ballots, campaign_id),
        )
        t = _step("choices", t)
        for statement in REBUILD:
            run(statement)
        t = _step("indexes and constraints", t)
        run("VACUUM ANALYZE voting_ballots")
        run("VACUUM ANALYZE voting_ballot_choices")
        run("ANALYZE")
        _step("vacuum analyze", t)
        raw.close()


def _time(fn) -> float:
    started = time.perf_counter()
    fn()
    return (time.perf_counter() - started) * 1000


def _stats(values: list[float]) -> str:
    ordered = sorted(values)
    p95 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))]
    return f"median {statistics.median(ordered):8.2f} ms  p95 {p95:8.2f} ms"


def _measure() -> None:
    from participation.extensions import db
    from participation.voting.models import Campaign
    from participation.voting.tally import tally_campaign

    app = _app()
    with app.app_context():
        campaign = db.session.scalar(sa.select(Campaign))
        total = db.session.scalar(sa.text("SELECT count(*) FROM voting_ballots"))
        districts = list(
            db.session.scalars(sa.text("SELECT DISTINCT district_id FROM voting_objects"))
        )
        sizes = db.session.execute(
            sa.text(
                "SELECT min(n), percentile_cont(0.5) WITHIN GROUP (ORDER BY n), max(n) FROM "
                "(SELECT count(*) n FROM voting_ballots GROUP BY district_id) s"
            )
        ).one()
        print(
            f"box: {total:,} ballots, {len(districts)} municipalities "
            f"(ballots per municipality: min {sizes[0]:,}, median {int(sizes[1]):,}, "
            f"max {sizes[2]:,})"
        )
        raw = db.engine.raw_connection()
        cur = raw.cursor()
        one_sql = (
            "SELECT c.object_id, count(*) FROM voting_ballot_choices c "
            "JOIN voting_objects o ON o.id = c.object_id "
            "WHERE o.campaign_id = %s AND o.district_id = %s GROUP BY c.object_id"
        )

        def raw_one(district_id: int) -> None:
            cur.execute(one_sql, (campaign.id, district_id))
            cur.fetchall()
            raw.commit()

        def product_one(district_id: int) -> None:
            tally_campaign(campaign, district_id=district_id)
            db.session.commit()

        rng = random.Random(7)
        sample = rng.sample(districts, 200)
        for d in sample[:20]:  # warm both paths
            raw_one(d)
            product_one(d)
        raw_times, product_times = [], []
        for d in sample:
            raw_times.append(_time(lambda d=d: raw_one(d)))
            product_times.append(_time(lambda d=d: product_one(d)))
        biggest = db.session.scalar(
            sa.text(
                "SELECT district_id FROM voting_ballots GROUP BY district_id "
                "ORDER BY count(*) DESC LIMIT 1"
            )
        )
        big_product = [_time(lambda: product_one(biggest)) for _ in range(10)]
        big_raw = [_time(lambda: raw_one(biggest)) for _ in range(10)]
        tally = tally_campaign(campaign, district_id=sample[0])
        print()
        print(f"one municipality, product  {_stats(product_times)}   (target <= 10 ms)")
        print(f"one municipality, raw SQL  {_stats(raw_times)}")
        print(
            "  ratio product/raw (medians): "
            f"{statistics.median(product_times) / statistics.median(raw_times):.2f}"
            "   (target <= 1.2)"
        )
        print(
            f"largest municipality ({max(sizes[2], 0):,} ballots): product "
            f"{statistics.median(big_product):.2f} ms, raw {statistics.median(big_raw):.2f} ms"
        )
        print(
            f"  e.g. {tally.groups[0].district.name}: {tally.ballots:,} ballots, winner "
            f"«{tally.winners[0].title}» with {tally.winners[0].votes:,}"
        )

        national_sql = (
            "SELECT object_id, count(*) FROM voting_ballot_choices "
            "WHERE campaign_id = %s GROUP BY object_id"
        )

        def raw_national() -> None:
            cur.execute(national_sql, (campaign.id,))
            cur.fetchall()
            raw.commit()

        result = {}

        def product_national() -> None:
            result["tally"] = tally_campaign(campaign)
            db.session.commit()

        raw_national()
        product_national()
        raw_nat, product_nat = [], []
        for _ in range(3):
            raw_nat.append(_time(raw_national))
            product_nat.append(_time(product_national))
        national = result["tally"]
        print()
        print(f"national total, product    {_stats(product_nat)}")
        print(f"national total, raw SQL    {_stats(raw_nat)}")
        print(
            "  ratio product/raw (medians): "
            f"{statistics.median(product_nat) / statistics.median(raw_nat):.2f}"
            "   (target <= 1.2)"
        )
        print(
            f"  {national.ballots:,} ballots counted, {len(national.groups)} municipalities, "
            f"{len(national.winners)} winners; equals the box: {national.ballots == total}"
        )
        cur.execute(
            "EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) "
            + one_sql.replace("%s", str(campaign.id), 1).replace("%s", str(sample[0]), 1)
        )
        print("\nplan of one municipality's GROUP BY:")
        for (line,) in cur.fetchall():
            print("   ", line)
        raw.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ballots", type=int, default=14_100_000)
    parser.add_argument("--reuse", action="store_true", help="keep the database built before")
    args = parser.parse_args()
    started = time.perf_counter()
    print(f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC, load average {os.getloadavg()[0]:.1f}")
    if not args.reuse:
        _build(args.ballots)
    _measure()
    print(f"\ntotal {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
