"""Benchmark: casting ballots through the full product path on PostgreSQL behind gunicorn.

Run by hand:  .venv/bin/python bench/voting_cast.py [--seconds 15] [--connections 32]
(needs `wrk`: apt-get install -y wrk; without it a slower Python client is used.)

Builds its own database `bench_voting_cast` (dropped and recreated) through the migrations:
a municipality, its administration, an open single-choice landscaping vote with five spaces,
and 60 000 confirmed residents (INSERT … SELECT generate_series). Every resident gets a signed
session cookie and a CSRF token made offline with the app's own secret, so each request is
one real resident's POST /voting/<id>/cast: session and login, CSRF, eligibility (age,
registration, account level), the per-person and per-address rate limits (Redis DB 4 when
Redis answers), the register insert (ON CONFLICT), the ballot and its choice, the receipt page.

The baselines, measured in the same run on the same gunicorn settings (bench/_common.py:
GTHREAD_8_KEEPALIVE): a bare Flask app answering GET /hello, and a naive Flask-SQLAlchemy app
inserting one vote row per POST (_common.naive_app). Each gets a 2-second warm-up (the casts
by 3 000 residents kept out of the timed runs); the casts are timed at 4 connections and at
--connections. Printed: requests per second and latency percentiles of each run, the ratios
cast/hello and cast/naive; the CPU time per request (from /proc) of the gunicorn workers,
and for the casts and the naive app also of the PostgreSQL backends serving their database
(not Redis's), the ratios of CPU per request, which the machine's other load moves much less
than the rates, and the app CPU of a cast over the naive app's (target <= 2, aim 1); p50/p99
at both connection counts (target p99 <= 50 ms), errors (target 0), and duplicates: register
rows per person > 1, and ballots vs register rows vs choices (0).
"""

from __future__ import annotations

import os
import secrets
import shutil
import tempfile
import time
from datetime import timedelta
from pathlib import Path

import _common
import sqlalchemy as sa

DB_NAME = "bench_voting_cast"
REDIS = os.environ.get("BENCH_REDIS", "redis://127.0.0.1:6379/4")
RESIDENTS = 60_000
GUNICORN = _common.GTHREAD_8_KEEPALIVE
WRK_THREADS = 2


def _env() -> dict[str, str]:
    env = _common.app_env(
        DB_NAME, Path(tempfile.gettempdir()) / "bench-voting-cast", _common.PRODUCTION
    )
    if _common.redis_answers(REDIS):
        env["REDIS_URL"] = REDIS
    return env


def product_app():
    """What gunicorn serves: the real app, rate limits on, the per-address limit raised
    because every simulated resident comes from 127.0.0.1."""
    from participation import create_app

    return create_app(
        overrides={"VOTING_CAST_LIMIT_PER_IP": "10000000 per minute"}, env={**os.environ}
    )


def _build(app) -> tuple[int, list[int], list[int]]:
    """Schema, a municipality, an open vote, the residents: (campaign, objects, users)."""
    import flask_migrate

    from participation.core.db import utcnow
    from participation.extensions import db
    from participation.voting.models import Campaign, VotingObject

    with app.app_context():
        flask_migrate.upgrade(directory=str(_common.ROOT / "migrations"))
        country, region, city, org = _common.ufa()
        now = utcnow()
        campaign = Campaign(
            organization=org,
            territory=city,
            title="Выбираем общественное пространство",
            opens_at=now - timedelta(days=1),
            closes_at=now + timedelta(days=30),
            published_at=now - timedelta(days=2),
        )
        campaign.objects = [
            VotingObject(number=n, title=t)
            for n, t in enumerate(["Парк", "Сквер", "Набережная", "Бульвар", "Сад"], start=1)
        ]
        db.session.add_all([country, region, city, org, campaign])
        db.session.flush()
        db.session.execute(
            sa.text(
                "INSERT INTO users (kind, esia_oid, last_name, first_name, birth_date, "
                "account_level, registration_territory_id, is_active_account, session_version, "
                "created_at) SELECT 'person', (3000000 + g)::text, 'Житель', 'Номер ' || g, "
                "date '1950-01-01' + (g % 20000), 'confirmed', :city, true, 1, now() "
                "FROM generate_series(1, :n) g"
            ),
            {"city": city.id, "n": RESIDENTS},
        )
        db.session.commit()
        users = list(db.session.scalars(sa.text("SELECT id FROM users ORDER BY id")))
        result = campaign.id, [o.id for o in campaign.objects], users
        db.session.execute(sa.text("ANALYZE"))
        db.session.commit()
    return result


def _credentials(app, users: list[int], objects: list[int], campaign_id: int) -> list[str]:
    """One line per resident: the session cookie and the form body, tab-separated."""
    from itsdangerous import URLSafeTimedSerializer

    now = int(time.time())
    lines = []
    with app.test_request_context():
        cookies = app.session_interface.get_signing_serializer(app)
        csrf = URLSafeTimedSerializer(app.secret_key, salt="wtf-csrf-token")
        for n, user_id in enumerate(users):
            raw = secrets.token_hex(20)
            cookie = cookies.dumps(
                {
                    "_user_id": f"{user_id}:1",
                    "_fresh": True,
                    "login_at": now,
                    "seen_at": now,
                    "csrf_token": raw,
                }
            )
            body = f"csrf_token={csrf.dumps(raw)}&choices={objects[n % len(objects)]}"
            lines.append(f"session={cookie}\t{body}")
    return lines


WRK_SCRIPT = r"""
local lines, n, i = {}, 0, 0
local threads = {}
function setup(thread)
  thread:set("tid", #threads)
  table.insert(threads, thread)
end
function init(args)
  local file, nthreads = args[1], tonumber(args[2])
  local k = 0
  for line in io.lines(file) do
    if k % nthreads == tid then
      local tab = line:find("\t")
      n = n + 1
      lines[n] = {line:sub(1, tab - 1), line:sub(tab + 1)}
    end
    k = k + 1
  end
  ok, bad, conflict, other = 0, 0, 0, 0
end
function request()
  i = i + 1
  local item = lines[((i - 1) % n) + 1]
  return wrk.format("POST", nil, {["Cookie"] = item[1],
    ["Content-Type"] = "application/x-www-form-urlencoded"}, item[2])
end
function response(status, headers, body)
  if status == 200 then ok = ok + 1 elseif status == 302 then conflict = conflict + 1
  else bad = bad + 1 end
end
function done(summary, latency, requests)
  local t = {ok = 0, bad = 0, conflict = 0}
  for _, thread in ipairs(threads) do
    t.ok = t.ok + thread:get("ok"); t.bad = t.bad + thread:get("bad")
    t.conflict = t.conflict + thread:get("conflict")
  end
  io.write(string.format(
    'RESULT {"requests": %d, "seconds": %.3f, "p50": %.3f, "p90": %.3f, "p99": %.3f, ' ..
    '"max": %.3f, "ok": %d, "non_ok": %d, "refused": %d, "socket_errors": %d}\n',
    summary.requests, summary.duration / 1e6, latency:percentile(50) / 1e3,
    latency:percentile(90) / 1e3, latency:percentile(99) / 1e3, latency.max / 1e3,
    t.ok, t.bad, t.conflict,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
end
"""


def _python_client(
    port: int, path: str, lines: list[str] | None, seconds: int, connections: int
) -> dict:
    """Fallback when wrk is missing: keep-alive http.client threads (_common.load), the lines
    round and round for `seconds`; the figures as the wrk script gives them."""
    jobs = [("GET", path, {}, "")]
    if lines:
        jobs = [_common.form_post(path, *line.split("\t")) for line in lines]
    run = _common.load(port, jobs, connections, seconds=seconds, timeout=10)
    latencies = sorted(run.latencies)

    def pct(p: float) -> float:
        return latencies[min(len(latencies) - 1, int(len(latencies) * p))] if latencies else 0.0

    ok, refused, errors = (run.statuses.get(status, 0) for status in (200, 302, 0))
    return {
        "requests": run.requests,
        "seconds": run.seconds,
        "p50": pct(0.5),
        "p90": pct(0.9),
        "p99": pct(0.99),
        "max": latencies[-1] if latencies else 0.0,
        "ok": ok,
        "non_ok": run.requests - ok - refused,
        "refused": refused,
        "socket_errors": errors,
    }


def _load(port: int, path: str, lines, lines_file, seconds: int, connections: int) -> dict:
    url = f"http://127.0.0.1:{port}{path}"
    if shutil.which("wrk"):
        if lines_file:  # the script reads its share of the lines: it needs wrk's thread count
            script_args = [lines_file, str(WRK_THREADS)]
            return _common.wrk(url, seconds, connections, WRK_SCRIPT, script_args, WRK_THREADS)
        return _common.wrk(url, seconds, connections, threads=WRK_THREADS)
    return _python_client(port, path, lines, seconds, connections)


def _report(name: str, r: dict) -> None:
    rps = _common.rate(r)
    print(
        f"{name:<12} {rps:9.1f} req/s  p50 {r['p50']:6.2f} ms  p90 {r['p90']:6.2f} ms  "
        f"p99 {r['p99']:6.2f} ms  max {r['max']:7.2f} ms  ok {r['ok']}  refused {r['refused']}  "
        f"errors {r['non_ok'] + r['socket_errors']}"
    )


def main() -> None:
    args = _common.wrk_setup(__doc__)

    env = _env()
    os.environ.update(env)
    _common.recreate_database(DB_NAME)
    if "REDIS_URL" in env:
        from redis import Redis

        Redis.from_url(REDIS).flushdb()

    from participation import create_app

    app = create_app(env=env)
    started = time.perf_counter()
    campaign_id, objects, users = _build(app)
    lines = _credentials(app, users, objects, campaign_id)
    print(
        f"setup: {len(users)} residents, credentials made in {time.perf_counter() - started:.1f} s"
    )
    print(f"gunicorn {' '.join(GUNICORN)}; {args.seconds} s each; "
          f"load client: {'wrk' if shutil.which('wrk') else 'python threads'}; "
          f"rate limits in {'Redis' if 'REDIS_URL' in env else 'memory'}")  # fmt: skip

    # Each resident casts once: the warm-up, the run at 4 and the run at `connections`
    # connections take disjoint slices of them.
    warm, low, high = lines[:3000], lines[3000:20000], lines[20000:]
    files = []
    for part in (warm, low, high):
        with tempfile.NamedTemporaryFile("w", delete=False) as f:
            f.write("\n".join(part))
            files.append(f.name)

    hello_result, hello_cpu = _common.wrk_hello_baseline(
        GUNICORN,
        env,
        args,
        lambda port, seconds: _load(port, "/hello", None, None, seconds, args.connections),
    )
    naive_result, naive_cpu = _common.wrk_naive_baseline(
        GUNICORN, env, args.seconds, args.connections
    )

    cast_path = f"/voting/{campaign_id}/cast"
    runs = {}
    with _common.Gunicorn("voting_cast:product_app()", GUNICORN, env) as product:
        product.wait("/healthz")
        _load(product.port, cast_path, warm, files[0], 2, args.connections)  # warm-up
        for connections, part, name in ((4, low, files[1]), (args.connections, high, files[2])):
            runs[connections] = _common.metered(
                product,
                lambda c=connections, p=part, n=name: _load(
                    product.port, cast_path, p, n, args.seconds, c
                ),
                DB_NAME,
            )
    cast_result, cast_cpu = runs[args.connections]

    print()
    _report("hello", hello_result)
    _report("naive", naive_result)
    for connections, (result, _cpu) in runs.items():
        _report(f"cast c={connections}", result)
    print(f"ratio cast/hello: {_common.rate(cast_result) / _common.rate(hello_result):.3f}  "
          f"cast/naive: {_common.rate(cast_result) / _common.rate(naive_result):.3f}  "
          f"(requests per second at {args.connections} connections)")  # fmt: skip
    _common.report_cpu(
        26,
        ("hello", hello_cpu),
        ("naive one-insert", naive_cpu),
        *((f"cast c={c}", cpu) for c, (_result, cpu) in runs.items()),
    )
    print(f"{'app CPU cast / naive':<26}{cast_cpu.app_ms / naive_cpu.app_ms:8.2f}"
          "  (target <= 2, aim 1)")  # fmt: skip
    print(f"load average during the run: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    for connections, (result, _cpu) in runs.items():
        print(f"cast at {connections:>2} connections: p50 {result['p50']:.2f} ms  "
              f"p99 {result['p99']:.2f} ms  (target p99 <= 50 ms)")  # fmt: skip

    with app.app_context():
        from participation.extensions import db

        register = db.session.scalar(sa.text("SELECT count(*) FROM voting_register"))
        ballots = db.session.scalar(sa.text("SELECT count(*) FROM voting_ballots"))
        choices = db.session.scalar(sa.text("SELECT count(*) FROM voting_ballot_choices"))
        twice = db.session.scalar(
            sa.text(
                "SELECT count(*) FROM (SELECT user_id FROM voting_register "
                "GROUP BY campaign_id, user_id HAVING count(*) > 1) d"
            )
        )
    served = sum(result["ok"] for result, _cpu in runs.values())
    errors = sum(result["non_ok"] + result["socket_errors"] for result, _cpu in runs.values())
    refused = sum(result["refused"] for result, _cpu in runs.values())
    print(
        f"register rows {register}, ballots {ballots}, choices {choices}; people registered "
        f"twice: {twice}; receipts served in the measured runs: {served}"
    )
    print(f"errors: {errors} (target 0); "
          f"duplicates: {twice + abs(register - ballots) + abs(ballots - choices)} (target 0); "
          f"refusals (a resident cast twice): {refused}")  # fmt: skip
    for name in files:
        os.unlink(name)


if __name__ == "__main__":
    main()
