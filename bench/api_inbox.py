"""Benchmark: the organisation inbox through the API over 1 000 000 messages in PostgreSQL.

Run by hand:  .venv/bin/python bench/api_inbox.py [--messages 1000000] [--repeat 200] [--deep 100]
              .venv/bin/python bench/api_inbox.py --reuse [--database bench_appeals]

Builds the database of bench/appeals_inbox.py (`bench_appeals`: the demo region and three years
of generated messages, set-based) or reuses one a previous run of either bench left (migrated to
the code's head first). The Уфа administration gets an API key with «Чтение сообщений»
(messages:read), made by participation.api.services.create_api_key as its administrator would
in the cabinet. Then it times through the application (Flask test client, so the figures are
the server's time: routing, key check, SQL, serialization, ETag), in one run:
  - GET /healthz (one SELECT 1), the baseline;
  - the staff inbox of the administration's coordinator (the HTML page, 10 rows): «В работе» +
    overdue and «Отработанные», page 1;
  - GET /api/v1/org/inbox: «В работе» + overdue, the first page of 10 rows (the staff page's
    rows) and of 50 (the default), and a page --deep pages in by cursor  ← target p95 ≤ 50 ms;
    «Новые» not yet registered in the СЭД (how a СЭД pulls), first page; «Отработанные» (the
    biggest folder), first page and a page --deep pages in by cursor;
  - Open311 GET requests.json, the default page (the last 90 days of the history, 1000 rows).
Each case prints p50 / p95 in milliseconds and p50 as a ratio to the baseline; then the
database's own time (EXPLAIN ANALYZE) of the API's first «В работе» + overdue page.

Needs PostgreSQL at BENCH_PG (default postgresql://postgres@127.0.0.1:5432).
"""

from __future__ import annotations

import argparse
import statistics
import urllib.parse
from datetime import date, timedelta

import appeals_inbox
import sqlalchemy as sa

INBOX = "/api/v1/org/inbox"


def _api_key(app) -> str:
    """A messages:read key of the Уфа administration, issued by its administrator."""
    import time

    from participation.api.models import ApiScope
    from participation.api.services import create_api_key
    from participation.core.organizations import Organization
    from participation.core.users import User
    from participation.demo import data
    from participation.extensions import db

    name = {o["slug"]: o["name"] for o in data.ORGANIZATIONS}["ufa-admin"]
    with app.app_context():
        organization = db.session.scalar(sa.select(Organization).where(Organization.name == name))
        administrator = db.session.scalar(
            sa.select(User).where(User.esia_oid == data.PERSONAS["ufa-administrator"]["esia_oid"])
        )
        issued = create_api_key(
            organization,
            f"Бенчмарк {int(time.time())}",  # a new name each run: --reuse keeps the old keys
            [ApiScope.MESSAGES_READ.value],
            date.today() + timedelta(days=30),
            administrator,
        )
        db.session.commit()
        return issued.token


def _deep_cursor(client, url: str, pages: int) -> tuple[str, int]:
    """The cursor of page `pages` of `url` (following next_cursor), or of the last page if the
    folder is shorter; returns (url of that page, its number)."""
    page_url, number = url, 1
    while number < pages:
        response = client.get(page_url)
        assert response.status_code == 200, (page_url, response.status_code)
        cursor = response.get_json()["next_cursor"]
        if cursor is None:
            break
        page_url = f"{url}&cursor={urllib.parse.quote(cursor)}"
        number += 1
    return page_url, number


def _open311_url(app) -> str:
    """Open311 requests.json, the default page, over the 90 days up to the latest message
    (the generated history ends when it was generated)."""
    from participation.extensions import db

    with app.app_context():
        latest = db.session.scalar(sa.text("SELECT max(registered_at) FROM appeals"))
    return f"/open311/v2/requests.json?end_date={latest.strftime('%Y-%m-%dT%H:%M:%SZ')}"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=200)
    parser.add_argument("--deep", type=int, default=100, help="the page reached by cursor")
    parser.add_argument("--database", default=appeals_inbox.DB_NAME)
    parser.add_argument(
        "--reuse", action="store_true", help="time on the messages of a previous run"
    )
    args = parser.parse_args()

    app = appeals_inbox.prepared_app(args.database, args.messages, args.reuse, "bench-api-inbox-")
    staff = appeals_inbox.staff_client(app, appeals_inbox.coordinator_key(app))
    api = app.test_client()
    api.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {_api_key(app)}"

    ui = "/backoffice/appeals/?bucket="
    overdue = f"{INBOX}?folder=in_work&overdue=true"
    done = f"{INBOX}?folder=done"
    overdue_deep, overdue_page = _deep_cursor(api, overdue, args.deep)
    done_deep, done_page = _deep_cursor(api, done, args.deep)
    cases = [
        ("baseline GET /healthz (SELECT 1)", staff, "/healthz"),
        ("UI В работе + overdue, page 1 (10)", staff, ui + "in_work&overdue=1"),
        ("UI Отработанные, page 1 (10)", staff, ui + "done"),
        ("API В работе + overdue, first 10", api, overdue + "&limit=10"),
        ("API В работе + overdue, first 50", api, overdue),
        (f"API В работе + overdue, page {overdue_page} (50)", api, overdue_deep),
        ("API Новые, not in the СЭД, first 50", api, f"{INBOX}?folder=new&sed_registered=false"),
        ("API Отработанные, first 50", api, done),
        (f"API Отработанные, page {done_page} (50)", api, done_deep),
        ("Open311 requests.json (1000 rows)", staff, _open311_url(app)),
    ]  # fmt: skip
    print(f"\n{'case':42} {'p50 ms':>8} {'p95 ms':>8} {'p50/base':>9}")
    base = None
    for label, client, url in cases:
        samples = appeals_inbox._time(client, url, args.repeat)
        p50, p95 = statistics.median(samples), appeals_inbox._p(samples, 95)
        base = base or p50
        print(f"{label:42} {p50:8.1f} {p95:8.1f} {p50 / base:9.1f}", flush=True)
    print("\ntarget: p95 ≤ 50 ms for the API inbox pages")
    appeals_inbox._database_time(app, api, overdue, args.repeat)


if __name__ == "__main__":
    main()
