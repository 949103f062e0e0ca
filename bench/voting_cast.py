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

The baseline, measured in the same run on the same gunicorn settings: a bare Flask app
answering GET /hello. Printed: requests per second of both and their ratio (target >= 0.35),
latency percentiles at the given connections (target p99 <= 50 ms), errors (target 0), and
duplicates: register rows per person > 1, and ballots vs register rows vs receipts served (0).
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from datetime import timedelta
from pathlib import Path

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

BASE = os.environ.get("BENCH_PG", "postgresql://postgres@127.0.0.1:5432")
DB_NAME = "bench_voting_cast"
REDIS = os.environ.get("BENCH_REDIS", "redis://127.0.0.1:6379/4")
SECRET = "bench-voting-secret-" + "x" * 40
RESIDENTS = 60_000
GUNICORN = ["--workers", "3", "--worker-class", "gthread", "--threads", "8",
            "--keep-alive", "30", "--backlog", "2048", "--log-level", "warning"]  # fmt: skip


def _env() -> dict[str, str]:
    instance = Path(tempfile.gettempdir()) / "bench-voting-cast"
    env = {
        "PARTICIPATION_ENV": "production",
        "SECRET_KEY": SECRET,
        "DATABASE_URL": f"{BASE}/{DB_NAME}",
        "STORAGE_DIR": str(instance / "storage"),
        "MAIL_DIR": str(instance / "mail"),
        "ESIA_BASE_URL": "https://esia.example",
        "ESIA_CLIENT_ID": "BENCH",
        "ESIA_KEY_PATH": __file__,
        "ESIA_CERT_PATH": __file__,
        "ESIA_PROVIDER_KEY_PATH": __file__,
        "SESSION_COOKIE_SECURE": "false",
    }
    try:
        from redis import Redis

        Redis.from_url(REDIS).ping()
        env["REDIS_URL"] = REDIS
    except Exception:
        pass
    return env


def product_app():
    """What gunicorn serves: the real app, rate limits on, the per-address limit raised
    because every simulated resident comes from 127.0.0.1."""
    from participation import create_app

    return create_app(
        overrides={"VOTING_CAST_LIMIT_PER_IP": "10000000 per minute"}, env={**os.environ}
    )


def hello_app():
    """The baseline: a bare Flask app on the same gunicorn settings."""
    from flask import Flask

    app = Flask("hello")

    @app.get("/hello")
    def hello():
        return "hello"

    return app


def _admin_engine() -> sa.Engine:
    return sa.create_engine(
        BASE.replace("postgresql://", "postgresql+psycopg://", 1) + "/postgres",
        isolation_level="AUTOCOMMIT",
    )


def _build(app) -> tuple[int, list[int], list[int]]:
    """Schema, a municipality, an open vote, the residents: (campaign, objects, users)."""
    import flask_migrate

    from participation.core.db import utcnow
    from participation.core.organizations import Organization, OrganizationKind
    from participation.core.territories import Territory, TerritoryLevel
    from participation.extensions import db
    from participation.voting.models import Campaign, VotingObject

    with app.app_context():
        flask_migrate.upgrade(directory=str(ROOT / "migrations"))
        country = Territory(oktmo="00", name="Россия", level=TerritoryLevel.COUNTRY,
                            timezone="Europe/Moscow")  # fmt: skip
        region = Territory(oktmo="80000000", name="Республика Башкортостан",
                           level=TerritoryLevel.REGION, parent=country,
                           timezone="Asia/Yekaterinburg")  # fmt: skip
        city = Territory(oktmo="80701000", name="городской округ город Уфа",
                         level=TerritoryLevel.URBAN_OKRUG, parent=region,
                         timezone="Asia/Yekaterinburg")  # fmt: skip
        org = Organization(name="Администрация г. Уфы", kind=OrganizationKind.MUNICIPAL,
                           territory=city)  # fmt: skip
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
            VotingObject(position=n, title=t)
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


def _cpu(pid: int) -> float:
    """CPU seconds (user + system) a process has used, from /proc (0 if it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except OSError:
                continue
            if ppid == pid:
                found.append(int(entry.name))
    return found


def _backends(app) -> list[int]:
    """PostgreSQL server processes serving the bench database."""
    with app.app_context():
        from participation.extensions import db

        pids = list(
            db.session.scalars(
                sa.text(
                    "SELECT pid FROM pg_stat_activity WHERE datname = :db "
                    "AND pid <> pg_backend_pid()"
                ),
                {"db": DB_NAME},
            )
        )
        db.session.remove()
    return pids


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Gunicorn:
    def __init__(self, target: str, env: dict[str, str]) -> None:
        self.port = _free_port()
        self.proc = subprocess.Popen(
            [str(ROOT / ".venv/bin/gunicorn"), *GUNICORN, "-b", f"127.0.0.1:{self.port}",
             "--chdir", str(ROOT / "bench"), target],
            env={**os.environ, **env, "PYTHONPATH": str(ROOT)},
        )  # fmt: skip

    def wait(self, path: str) -> None:
        for _ in range(300):
            try:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
                conn.request("GET", path)
                conn.getresponse().read()
                return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("gunicorn did not start")

    def stop(self) -> None:
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(20)


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

HELLO_SCRIPT = r"""
function done(summary, latency, requests)
  io.write(string.format(
    'RESULT {"requests": %d, "seconds": %.3f, "p50": %.3f, "p90": %.3f, "p99": %.3f, ' ..
    '"max": %.3f, "ok": %d, "non_ok": %d, "refused": 0, "socket_errors": %d}\n',
    summary.requests, summary.duration / 1e6, latency:percentile(50) / 1e3,
    latency:percentile(90) / 1e3, latency:percentile(99) / 1e3, latency.max / 1e3,
    summary.requests - summary.errors.status, summary.errors.status,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
end
"""


def _wrk(url: str, script: str, seconds: int, connections: int, args: list[str]) -> dict:
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as f:
        f.write(script)
        script_path = f.name
    threads = 2
    out = subprocess.run(
        ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--timeout", "10s",
         "-s", script_path, url, "--", *args, str(threads)],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    line = next(line for line in out.splitlines() if line.startswith("RESULT "))
    return json.loads(line[len("RESULT ") :])


def _python_client(
    port: int, path: str, lines: list[str] | None, seconds: int, connections: int
) -> dict:
    """Fallback when wrk is missing: threads with keep-alive http.client connections."""
    latencies: list[float] = []
    counts = {"ok": 0, "non_ok": 0, "refused": 0, "socket_errors": 0}
    lock = threading.Lock()
    stop = time.monotonic() + seconds
    cursor = iter(range(10**9))

    def worker() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        mine: list[float] = []
        while time.monotonic() < stop:
            if lines:
                cookie, body = lines[next(cursor) % len(lines)].split("\t")
                headers = {"Cookie": cookie, "Content-Type": "application/x-www-form-urlencoded"}
                method = "POST"
            else:
                headers, body, method = {}, None, "GET"
            started = time.perf_counter()
            try:
                conn.request(method, path, body=body, headers=headers)
                response = conn.getresponse()
                response.read()
                status = response.status
            except OSError:
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
                with lock:
                    counts["socket_errors"] += 1
                continue
            mine.append((time.perf_counter() - started) * 1000)
            key = "ok" if status == 200 else "refused" if status == 302 else "non_ok"
            with lock:
                counts[key] += 1
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=worker) for _ in range(connections)]
    started = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.monotonic() - started
    latencies.sort()

    def pct(p: float) -> float:
        return latencies[min(len(latencies) - 1, int(len(latencies) * p))] if latencies else 0.0

    return {
        "requests": len(latencies),
        "seconds": elapsed,
        "p50": pct(0.5),
        "p90": pct(0.9),
        "p99": pct(0.99),
        "max": latencies[-1] if latencies else 0.0,
        **counts,
    }


def _load(port: int, path: str, lines, lines_file, seconds: int, connections: int) -> dict:
    url = f"http://127.0.0.1:{port}{path}"
    if shutil.which("wrk"):
        if lines_file:
            return _wrk(url, WRK_SCRIPT, seconds, connections, [lines_file])
        return _wrk(url, HELLO_SCRIPT, seconds, connections, [])
    return _python_client(port, path, lines, seconds, connections)


def _report(name: str, r: dict) -> None:
    rps = r["requests"] / r["seconds"]
    print(
        f"{name:<10} {rps:9.1f} req/s  p50 {r['p50']:6.2f} ms  p90 {r['p90']:6.2f} ms  "
        f"p99 {r['p99']:6.2f} ms  max {r['max']:7.2f} ms  ok {r['ok']}  refused {r['refused']}  "
        f"errors {r['non_ok'] + r['socket_errors']}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=15)
    parser.add_argument("--connections", type=int, default=32)
    args = parser.parse_args()

    env = _env()
    os.environ.update(env)
    engine = _admin_engine()
    with engine.connect() as conn:
        conn.execute(sa.text(f"DROP DATABASE IF EXISTS {DB_NAME} WITH (FORCE)"))
        conn.execute(sa.text(f"CREATE DATABASE {DB_NAME}"))
    engine.dispose()
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
    print(f"gunicorn {' '.join(GUNICORN)}; {args.connections} connections, {args.seconds} s each; "
          f"load client: {'wrk' if shutil.which('wrk') else 'python threads'}; "
          f"rate limits in {'Redis' if 'REDIS_URL' in env else 'memory'}")  # fmt: skip

    warm, measured = lines[:3000], lines[3000:]
    with tempfile.NamedTemporaryFile("w", delete=False) as f:
        f.write("\n".join(warm))
        warm_file = f.name
    with tempfile.NamedTemporaryFile("w", delete=False) as f:
        f.write("\n".join(measured))
        lines_file = f.name

    hello = Gunicorn("voting_cast:hello_app()", env)
    try:
        hello.wait("/hello")
        _load(hello.port, "/hello", None, None, 2, args.connections)  # warm-up
        workers = [hello.proc.pid, *_children(hello.proc.pid)]
        before = sum(_cpu(p) for p in workers)
        hello_result = _load(hello.port, "/hello", None, None, args.seconds, args.connections)
        hello_result["cpu"] = sum(_cpu(p) for p in workers) - before
    finally:
        hello.stop()

    product = Gunicorn("voting_cast:product_app()", env)
    cast_path = f"/voting/{campaign_id}/cast"
    try:
        product.wait("/healthz")
        _load(product.port, cast_path, warm, warm_file, 2, args.connections)  # warm-up
        workers = [product.proc.pid, *_children(product.proc.pid)]
        backends = _backends(app)
        before = sum(_cpu(p) for p in workers + backends)
        cast_result = _load(
            product.port, cast_path, measured, lines_file, args.seconds, args.connections
        )
        backends = sorted(set(backends) | set(_backends(app)))
        cast_result["cpu"] = sum(_cpu(p) for p in workers + backends) - before
    finally:
        product.stop()

    print()
    _report("hello", hello_result)
    _report("cast", cast_result)
    ratio = (cast_result["requests"] / cast_result["seconds"]) / (
        hello_result["requests"] / hello_result["seconds"]
    )
    print(f"ratio cast/hello: {ratio:.3f}  (target >= 0.35)")
    hello_cpu = 1000 * hello_result["cpu"] / max(1, hello_result["requests"])
    cast_cpu = 1000 * cast_result["cpu"] / max(1, cast_result["requests"])
    print(
        f"server CPU per request (gunicorn workers; for cast also its PostgreSQL backends): "
        f"hello {hello_cpu:.2f} ms, cast {cast_cpu:.2f} ms; "
        f"CPU-bound ratio {hello_cpu / cast_cpu:.3f}"
    )
    print(f"load average during the run: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    print(
        f"cast p99 at {args.connections} connections: {cast_result['p99']:.2f} ms"
        "  (target <= 50 ms)"
    )

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
    served = cast_result["ok"]
    print(
        f"register rows {register}, ballots {ballots}, choices {choices}; people registered "
        f"twice: {twice}; receipts served in the measured run: {served}"
    )
    print(f"errors: {cast_result['non_ok'] + cast_result['socket_errors']} (target 0); "
          f"duplicates: {twice + abs(register - ballots) + abs(ballots - choices)} (target 0); "
          f"refusals (a resident cast twice): {cast_result['refused']}")  # fmt: skip
    os.unlink(warm_file)
    os.unlink(lines_file)


if __name__ == "__main__":
    main()
