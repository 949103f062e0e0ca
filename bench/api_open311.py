"""Benchmark: Open311 GET requests over 1 000 000 messages in PostgreSQL.

Run by hand:  .venv/bin/python bench/api_open311.py [--messages 1000000] [--repeat 100]
              .venv/bin/python bench/api_open311.py --reuse [--database bench_appeals]

Builds the same database as bench/appeals_inbox.py (`bench_appeals`: the demo region and three
years of generated messages, set-based), or reuses one left by a previous run (of either bench).
Then it times through the application (Flask test client: routing, SQL, serialization), next to
GET /healthz measured in the same run as the baseline:
  - requests.json, the default window (the last 90 days), 1000 rows — the spec's default page;
  - requests.xml, the same page in XML;
  - requests.json with page_size=100, page 1 and page 10;
  - requests.json?status=open and ?service_code=<a topic> (the topic index, migration 0018);
  - requests.json?service_request_id=<20 numbers>;
  - services.json.
Each case prints p50 / p95 in milliseconds and p50 as a ratio to the baseline.

Needs PostgreSQL at BENCH_PG (default postgresql://postgres@127.0.0.1:5432).
"""

from __future__ import annotations

import argparse
import statistics
from datetime import timedelta

import appeals_inbox
import sqlalchemy as sa


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=100)
    parser.add_argument("--database", default=appeals_inbox.DB_NAME)
    parser.add_argument(
        "--reuse", action="store_true", help="time on the messages of a previous run"
    )
    args = parser.parse_args()

    from participation.extensions import db

    app = appeals_inbox.prepared_app(args.database, args.messages, args.reuse, "bench-open311-")
    with app.app_context():
        total = db.session.scalar(sa.text("SELECT count(*) FROM appeals"))
        latest = db.session.scalar(sa.text("SELECT max(registered_at) FROM appeals"))
        window = db.session.scalar(
            sa.text("SELECT count(*) FROM appeals WHERE registered_at > :t"),
            {"t": latest - timedelta(days=90)},
        )
        code = db.session.scalar(
            sa.text(
                "SELECT s.code FROM appeal_subcategories s JOIN appeals a "
                "ON a.subcategory_id = s.id GROUP BY s.code ORDER BY count(*) LIMIT 1"
            )
        )
        some = db.session.scalars(
            sa.text("SELECT id FROM appeals WHERE state <> 'rejected' ORDER BY id DESC LIMIT 20")
        ).all()
    print(f"  {total:,} messages, {window:,} in the 90 days up to the latest one")

    end = latest.strftime("%Y-%m-%dT%H:%M:%SZ")  # the generated history ends at `latest`
    base = f"/open311/v2/requests.json?end_date={end}"
    numbers = ",".join(str(n) for n in some)
    cases = [
        ("baseline GET /healthz", "/healthz"),
        ("requests.json, 1000 rows (default)", base),
        ("requests.xml, 1000 rows", base.replace(".json", ".xml")),
        ("requests.json, 100 rows, page 1", base + "&page_size=100"),
        ("requests.json, 100 rows, page 10", base + "&page_size=100&page=10"),
        ("requests.json?status=open", base + "&status=open"),
        ("requests.json?service_code (rarest)", base + f"&service_code={code}"),
        ("requests.json?service_request_id ×20", base + f"&service_request_id={numbers}"),
        ("services.json", "/open311/v2/services.json"),
    ]
    client = app.test_client()
    print(f"\n{'case':40} {'p50 ms':>8} {'p95 ms':>8} {'p50/base':>9}")
    baseline = None
    for label, url in cases:
        samples = appeals_inbox._time(client, url, args.repeat)
        p50, p95 = statistics.median(samples), appeals_inbox._p(samples, 95)
        baseline = baseline or p50
        print(f"{label:40} {p50:8.1f} {p95:8.1f} {p50 / baseline:9.1f}", flush=True)


if __name__ == "__main__":
    main()
