"""What the benchmarks in bench/ share (they are run by hand, never by the tests).

Imported as `_common` both by the scripts (`.venv/bin/python bench/NAME.py`: bench/ is the first
entry of sys.path) and by the gunicorn workers they start (`--chdir bench`); importing it puts
the project root on sys.path, so `participation` imports too. Light at import time (the
standard library only): the gunicorn entry `_common:hello_app()` loads Flask and nothing more.

  - settings and databases: BASE ($BENCH_PG), SECRET, app_env() over DEVELOPMENT / TESTING /
    PRODUCTION, instance_dir(), redis_answers(), admin_engine(), recreate_database(); the
    start of a bench: setup() (--requests/--threads, for load()) or wrk_setup() (--seconds/
    --connections);
  - the server: hello_app() (the baseline), naive_app() (the second one: a naive
    Flask-SQLAlchemy app inserting one vote row; naive_setup(), wrk_naive_baseline(),
    naive_baseline()),
    GTHREAD_4 / GTHREAD_8_KEEPALIVE (the gunicorn configurations), Gunicorn (on a free port;
    wait() until it answers and its workers have booted);
  - the load: load() (keep-alive http.client threads over a list of jobs, or round and round
    for some seconds) giving a Run, form_post() (a job), timed() (load() with CpuMeter),
    hello_baseline() (the whole baseline of a setup() bench), WARM_UP; wrk() with WRK_SUMMARY,
    metered(), wrk_hello_baseline(), rate() for the wrk benches;
  - the app and its data: quiet_app(), app_factory() (a gunicorn entry point), territories(),
    ufa(), add_residents(), anonymous_survey(), login_cookies() (session cookies and CSRF
    tokens made with the app's own signer);
  - CPU time per request: CpuMeter (utime + stime from /proc of the gunicorn workers and of
    the PostgreSQL backends serving the bench database) giving Cpu, and report_cpu().
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

BASE = os.environ.get("BENCH_PG", "postgresql://postgres@127.0.0.1:5432")
SECRET = "bench-secret-" + "x" * 40
WARM_UP = 200  # requests sent before a timed run (hello and the real app alike)

DEVELOPMENT = {
    "PARTICIPATION_ENV": "development",
    "RATELIMIT_ENABLED": "0",
    "DEFAULT_TIMEZONE": "Asia/Yekaterinburg",
}
TESTING = {"PARTICIPATION_ENV": "testing", "RATELIMIT_ENABLED": "0"}
PRODUCTION = {  # rate limits on; ESIA needs its settings but is never called
    "PARTICIPATION_ENV": "production",
    "ESIA_BASE_URL": "https://esia.example",
    "ESIA_CLIENT_ID": "BENCH",
    "ESIA_KEY_PATH": __file__,
    "ESIA_CERT_PATH": __file__,
    "ESIA_PROVIDER_KEY_PATH": __file__,
    "SESSION_COOKIE_SECURE": "false",
}

# The gunicorn configurations: one for the benches that send a fixed list of requests from
# http.client threads, one for those driven by wrk.
GTHREAD_4 = ["-w", "3", "-k", "gthread", "--threads", "4", "--backlog", "2048",
             "--log-level", "warning"]  # fmt: skip
GTHREAD_8_KEEPALIVE = ["--workers", "3", "--worker-class", "gthread", "--threads", "8",
                       "--keep-alive", "30", "--backlog", "2048",
                       "--log-level", "warning"]  # fmt: skip


# ---------------------------------------------------------------------------------------------
# Settings and databases


def app_env(
    database: str, instance: str | Path, base: Mapping[str, str], **extra: str
) -> dict[str, str]:
    """create_app(env=…) settings: `base` (DEVELOPMENT, TESTING, PRODUCTION), the secret, the
    database (a name on BASE, or a whole URL), storage and mail under `instance`, and `extra`."""
    return {
        **base,
        "SECRET_KEY": SECRET,
        "DATABASE_URL": database if "://" in database else f"{BASE}/{database}",
        "STORAGE_DIR": f"{instance}/storage",
        "MAIL_DIR": f"{instance}/mail",
        **extra,
    }


def setup(
    requests: int,
    instance_prefix: str,
    database: str,
    more: Callable[[argparse.ArgumentParser], object] | None = None,
) -> argparse.Namespace:
    """The start of a bench driven by load(): its options (--requests, --threads, and those
    `more(parser)` adds), a new instance folder in $BENCH_INSTANCE (see instance_dir()), log
    records up to WARNING off, and `database` dropped and created empty."""
    import logging

    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=requests)
    parser.add_argument("--threads", type=int, default=16)
    if more is not None:
        more(parser)
    args = parser.parse_args()
    os.environ["BENCH_INSTANCE"] = tempfile.mkdtemp(prefix=instance_prefix)
    logging.disable(logging.WARNING)
    recreate_database(database)
    return args


def wrk_setup(doc: str) -> argparse.Namespace:
    """The options of a bench driven by wrk: --seconds of each timed run, --connections."""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=15)
    parser.add_argument("--connections", type=int, default=32)
    return parser.parse_args()


def instance_dir(prefix: str) -> str:
    """The instance folder (storage, mail): $BENCH_INSTANCE, which a bench's main() sets before
    it starts gunicorn so that the workers share it, or else a new temporary one."""
    return os.environ.get("BENCH_INSTANCE") or tempfile.mkdtemp(prefix=prefix)


def redis_answers(url: str) -> bool:
    try:
        from redis import Redis

        Redis.from_url(url).ping()
    except Exception:
        return False
    return True


def admin_engine(database: str = "postgres"):
    """An AUTOCOMMIT engine on `database` of BASE (for CREATE DATABASE, VACUUM and the like)."""
    import sqlalchemy as sa

    return sa.create_engine(
        BASE.replace("postgresql://", "postgresql+psycopg://", 1) + f"/{database}",
        isolation_level="AUTOCOMMIT",
    )


def recreate_database(name: str) -> None:
    """Drop `name` (closing its connections) and create it empty."""
    import sqlalchemy as sa

    engine = admin_engine()
    with engine.connect() as conn:
        conn.execute(sa.text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        conn.execute(sa.text(f"CREATE DATABASE {name}"))
    engine.dispose()


# ---------------------------------------------------------------------------------------------
# The baseline and the server


def hello_app():
    """gunicorn entry point (`_common:hello_app()`): the baseline, a bare Flask app."""
    from flask import Flask

    app = Flask("hello")

    @app.get("/hello")
    def hello():
        return "hello"

    return app


NAIVE_DB = "bench_naive"


def naive_app():
    """gunicorn entry point (`_common:naive_app()`): the second baseline, a naive
    Flask-SQLAlchemy app whose POST /vote inserts one vote row through the ORM and commits
    (no login, CSRF, limits or template): what a write costs at the least. Its database is
    NAIVE_DB on BASE (naive_setup() creates it)."""
    import sqlalchemy as sa
    from flask import Flask, request
    from flask_sqlalchemy import SQLAlchemy
    from sqlalchemy.orm import DeclarativeBase

    class Base(DeclarativeBase):
        pass

    app = Flask("naive")
    app.config["SQLALCHEMY_DATABASE_URI"] = (
        BASE.replace("postgresql://", "postgresql+psycopg://", 1) + f"/{NAIVE_DB}"
    )
    db = SQLAlchemy(app, model_class=Base)

    class Vote(db.Model):
        __tablename__ = "votes"
        id = sa.Column(sa.Integer, primary_key=True)
        object_id = sa.Column(sa.Integer)

    @app.post("/vote")
    def vote():
        db.session.add(Vote(object_id=int(request.form["object"])))
        db.session.commit()
        return "ok"

    return app


def naive_setup() -> None:
    """NAIVE_DB dropped and created with its one table."""
    recreate_database(NAIVE_DB)
    import sqlalchemy as sa

    engine = admin_engine(NAIVE_DB)
    with engine.connect() as conn:
        conn.execute(sa.text("CREATE TABLE votes (id serial PRIMARY KEY, object_id integer)"))
    engine.dispose()


def wrk_naive_baseline(
    options: Sequence[str], env: Mapping[str, str], seconds: int, connections: int
) -> tuple[dict, Cpu]:
    """naive_app() on gunicorn with `options`: POST /vote by wrk for 2 s of warm-up, then
    `seconds` timed and metered (its PostgreSQL backends included). Returns its figures."""
    naive_setup()
    script = (
        'wrk.method = "POST"\nwrk.body = "object=3"\n'
        'wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"\n' + WRK_SUMMARY
    )

    def run(port: int, seconds: int) -> dict:
        return wrk(f"http://127.0.0.1:{port}/vote", seconds, connections, script)

    with Gunicorn("_common:naive_app()", options, env) as server:
        server.wait("/vote")  # a 405 to GET: up
        run(server.port, 2)
        return metered(server, lambda: run(server.port, seconds), NAIVE_DB)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Gunicorn:
    """gunicorn serving `entry` (e.g. "appeals_submit:bench_app(True)", looked up in bench/)
    with `options` on `port` of 127.0.0.1 (default: a free one), its output to `output` (an
    open file; default: this terminal); a context manager that stops it."""

    def __init__(
        self,
        entry: str,
        options: Sequence[str],
        env: Mapping[str, str] | None = None,
        port: int | None = None,
        output=None,
    ) -> None:
        self.entry = entry
        self.workers = _option(options, "-w", "--workers", 1)
        self.port = port or free_port()
        self.proc = subprocess.Popen(
            [str(ROOT / ".venv/bin/gunicorn"), *options, "--bind", f"127.0.0.1:{self.port}",
             "--chdir", str(ROOT / "bench"), entry],
            env={**os.environ, **(env or {}), "PYTHONPATH": str(ROOT)},
            stdout=output, stderr=output,
        )  # fmt: skip

    def __enter__(self) -> Gunicorn:
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def wait(self, path: str, timeout: float = 60) -> None:
        """Until GET `path` answers, then until every worker has booted and gone idle (so that
        loading the app is neither timed nor counted as CPU of the requests)."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
                conn.request("GET", path)
                conn.getresponse().read()
                conn.close()
                break
            except OSError:
                if time.monotonic() > deadline or self.proc.poll() is not None:
                    self.proc.kill()
                    raise SystemExit(f"gunicorn {self.entry} did not start") from None
                time.sleep(0.1)
        spent = None
        while time.monotonic() < deadline:
            pids = self.worker_pids()
            now = sum(cpu_seconds(pid) or 0.0 for pid in pids)
            if len(pids) >= self.workers and spent is not None and now - spent < 0.02:
                return
            spent = now
            time.sleep(0.3)

    def worker_pids(self) -> list[int]:
        return children(self.proc.pid)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def _option(options: Sequence[str], short: str, long: str, default: int) -> int:
    for n, item in enumerate(options):
        if item in (short, long) and n + 1 < len(options):
            return int(options[n + 1])
        if item.startswith(long + "="):
            return int(item.split("=", 1)[1])
    return default


# ---------------------------------------------------------------------------------------------
# Load clients


@dataclass
class Run:
    """What load() measured: wall seconds, responses by status (0: socket errors, the request
    not answered), the answered requests' latencies in milliseconds; timed() adds the CPU."""

    seconds: float
    statuses: dict[int, int]
    latencies: list[float]
    cpu: Cpu | None = None

    @property
    def requests(self) -> int:
        """Requests answered."""
        return len(self.latencies)

    @property
    def rate(self) -> float:
        """Requests answered per second."""
        return self.requests / self.seconds


def load(
    port: int,
    jobs: Sequence[tuple[str, str, Mapping[str, str], str]],
    threads: int,
    seconds: float | None = None,
    timeout: float = 60,
) -> Run:
    """Send (method, path, headers, body) from `threads` keep-alive http.client connections:
    each job once, or, given `seconds`, the jobs round and round until that time is up. A socket
    error counts as status 0 and opens the connection again."""
    statuses: dict[int, int] = {}
    latencies: list[float] = []
    lock = threading.Lock()
    cursor = iter(range(len(jobs) if seconds is None else sys.maxsize))
    deadline = time.monotonic() + (seconds or 0)

    def worker() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
        local: dict[int, int] = {}
        mine: list[float] = []
        while seconds is None or time.monotonic() < deadline:
            with lock:
                index = next(cursor, None)
            if index is None:
                break
            method, path, headers, body = jobs[index % len(jobs)]
            started = time.perf_counter()
            try:
                conn.request(method, path, body=body or None, headers=dict(headers))
                response = conn.getresponse()
                response.read()
            except OSError:
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
                local[0] = local.get(0, 0) + 1
                continue
            mine.append((time.perf_counter() - started) * 1000)
            local[response.status] = local.get(response.status, 0) + 1
        conn.close()
        with lock:
            for status, count in local.items():
                statuses[status] = statuses.get(status, 0) + count
            latencies.extend(mine)

    pool = [threading.Thread(target=worker) for _ in range(threads)]
    started = time.perf_counter()
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    return Run(time.perf_counter() - started, statuses, latencies)


def form_post(
    path: str, cookie: str, fields: Mapping[str, str] | Sequence[tuple[str, str]] | str
) -> tuple[str, str, dict[str, str], str]:
    """A job for load(): POST `fields` (or a body encoded already) as a form with `cookie`."""
    body = fields if isinstance(fields, str) else urllib.parse.urlencode(fields)
    headers = {"Content-Type": "application/x-www-form-urlencoded", "Cookie": cookie}
    return "POST", path, headers, body


def timed(
    server: Gunicorn,
    jobs: Sequence[tuple[str, str, Mapping[str, str], str]],
    threads: int,
    database: str | None = None,
) -> Run:
    """load() the jobs on `server` (warmed up already), its CPU metered (CpuMeter)."""
    meter = CpuMeter(server, database)
    run = load(server.port, jobs, threads)
    run.cpu = meter.stop(run.requests)
    return run


def hello_baseline(options: Sequence[str], args: argparse.Namespace, width: int) -> Run:
    """The baseline of a setup() bench: prints gunicorn's `options` and the load, then runs
    hello_app() on them, WARM_UP and then args.requests GET /hello from args.threads keep-alive
    connections, the latter timed and metered; prints that rate (label `width` wide)."""
    print(
        f"gunicorn {' '.join(options)}; load: {args.threads} keep-alive client threads", flush=True
    )
    hello = [("GET", "/hello", {}, "")] * args.requests
    with Gunicorn("_common:hello_app()", options) as server:
        server.wait("/hello")
        load(server.port, hello[:WARM_UP], args.threads)
        run = timed(server, hello, args.threads)
    print(f"{'bare Flask GET /hello':<{width}}{run.rate:8.0f} req/s  {run.statuses}", flush=True)
    return run


def naive_baseline(options: Sequence[str], args: argparse.Namespace, width: int) -> Run:
    """The second baseline of a setup() bench: naive_app() on gunicorn `options`, WARM_UP and
    then args.requests POST /vote from args.threads keep-alive connections, the latter timed
    and metered (its PostgreSQL backends included); prints that rate."""
    naive_setup()
    vote = [form_post("/vote", "", "object=3")] * args.requests
    with Gunicorn("_common:naive_app()", options) as server:
        server.wait("/vote")  # a 405 to GET: up
        load(server.port, vote[:WARM_UP], args.threads)
        run = timed(server, vote, args.threads, NAIVE_DB)
    print(f"{'naive one-insert POST /vote':<{width}}{run.rate:8.0f} req/s  {run.statuses}")
    return run


def wrk_hello_baseline(
    options: Sequence[str],
    env: Mapping[str, str],
    args: argparse.Namespace,
    client: Callable[[int, int], dict] | None = None,
) -> tuple[dict, Cpu]:
    """The baseline of a wrk_setup() bench: hello_app() on gunicorn with `options` and `env`,
    GET /hello for 2 s of warm-up, then for args.seconds timed and metered; by
    `client(port, seconds)` (default: wrk() with args.connections). Returns its figures."""

    def by_wrk(port: int, seconds: int) -> dict:
        return wrk(f"http://127.0.0.1:{port}/hello", seconds, args.connections)

    client = client or by_wrk
    with Gunicorn("_common:hello_app()", options, env) as server:
        server.wait("/hello")
        client(server.port, 2)  # warm-up
        return metered(server, lambda: client(server.port, args.seconds))


def metered(
    server: Gunicorn, client: Callable[[], dict], database: str | None = None
) -> tuple[dict, Cpu]:
    """client() — a wrk()-like run returning its figures, "requests" among them — on `server`
    (warmed up already), its CPU metered (CpuMeter)."""
    meter = CpuMeter(server, database)
    result = client()
    return result, meter.stop(result["requests"])


def rate(result: Mapping[str, float]) -> float:
    """Requests per second of a wrk() result."""
    return result["requests"] / result["seconds"]


# wrk's summary as one JSON line (times in ms); "refused" is counted by scripts that need it.
WRK_SUMMARY = r"""
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


def wrk(
    url: str,
    seconds: int,
    connections: int,
    script: str = WRK_SUMMARY,
    script_args: Sequence[str] = (),
    threads: int = 2,
) -> dict:
    """Run wrk with a Lua `script` whose done() writes `RESULT {json}`; returns that dict."""
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as f:
        f.write(script)
        script_path = f.name
    command = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--timeout", "10s",
               "-s", script_path, url]  # fmt: skip
    if script_args:
        command += ["--", *script_args]
    try:
        out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    finally:
        os.unlink(script_path)
    line = next(line for line in out.splitlines() if line.startswith("RESULT "))
    return json.loads(line[len("RESULT ") :])


# ---------------------------------------------------------------------------------------------
# The application and its data


def quiet_app(env: Mapping[str, str]):
    """create_app(env=env), then log records up to WARNING switched off."""
    import logging

    from participation import create_app

    app = create_app(env=dict(env))
    logging.disable(logging.WARNING)
    return app


def app_factory(
    database: str, instance_prefix: str, base: Mapping[str, str] = DEVELOPMENT, **extra: str
):
    """A gunicorn entry point for a bench module (`bench_app = app_factory(…)`, served as
    "NAME:bench_app()"): the real application on `database` (quiet_app(), app_env())."""

    def bench_app():
        return quiet_app(app_env(database, instance_dir(instance_prefix), base, **extra))

    return bench_app


def add_residents(
    count: int, oid_prefix: str, territory_id: int, extra: Callable[[int], dict] | None = None
) -> list[int]:
    """Insert `count` confirmed residents registered in `territory_id` (esia_oid: the prefix,
    then n in 7 digits; more columns from `extra(n)`) in one INSERT, not committed; returns
    the ids of every user whose esia_oid has that prefix, in esia_oid order."""
    import sqlalchemy as sa

    from participation.core.db import utcnow
    from participation.core.users import AccountLevel, User
    from participation.extensions import db

    now = utcnow()
    rows = [
        {
            "kind": "person",
            "esia_oid": f"{oid_prefix}{n:07d}",
            "last_name": "Житель",
            "first_name": f"№{n}",
            "account_level": AccountLevel.CONFIRMED,
            "registration_territory_id": territory_id,
            "is_active_account": True,
            "session_version": 1,
            "created_at": now,
            **(extra(n) if extra else {}),
        }
        for n in range(count)
    ]
    db.session.execute(sa.insert(User), rows)
    query = sa.select(User.id).where(User.esia_oid.like(f"{oid_prefix}%")).order_by(User.esia_oid)
    return list(db.session.scalars(query))


def ufa() -> tuple:
    """(country, region, city, administration), not yet added to the session: Республика
    Башкортостан, городской округ город Уфа (territories()) and its administration."""
    from participation.core.organizations import Organization, OrganizationKind

    country, region, (city,) = territories("Республика Башкортостан", ["городской округ город Уфа"])
    org = Organization(name="Администрация г. Уфы", kind=OrganizationKind.MUNICIPAL, territory=city)
    return country, region, city, org


def territories(
    region: str = "Республика",
    cities: Sequence[str] = ("Город",),
    country_timezone: str = "Europe/Moscow",
) -> tuple:
    """(country, region, [cities]), not yet added to the session: Россия, the region (ОКТМО
    80000000) and its urban okrugs (80701000, 80702000, …), these two in Asia/Yekaterinburg."""
    from participation.core.territories import Territory, TerritoryLevel

    tz = "Asia/Yekaterinburg"
    country = Territory(
        oktmo="00", name="Россия", level=TerritoryLevel.COUNTRY, timezone=country_timezone
    )
    area = Territory(
        oktmo="80000000", name=region, level=TerritoryLevel.REGION, parent=country, timezone=tz
    )
    okrugs = [
        Territory(oktmo=f"807{n:02d}000", name=name, level=TerritoryLevel.URBAN_OKRUG,
                  parent=area, timezone=tz)
        for n, name in enumerate(cities, start=1)
    ]  # fmt: skip
    return country, area, okrugs


def anonymous_survey(org, author, title: str, territory_id: int, starts_at, ends_at, **settings):
    """An anonymous survey without a description, not yet published, through the product's
    service (polls.services.create_survey); `settings`: more SurveySettings."""
    from participation.polls import services

    survey_settings = services.SurveySettings(
        title=title,
        description="",
        anonymous=True,
        starts_at=starts_at,
        ends_at=ends_at,
        territory_ids=[territory_id],
        **settings,
    )
    return services.create_survey(org, author, survey_settings)


def login_cookies(app, user_ids: Sequence[int]) -> list[tuple[str, str]]:
    """(Cookie header, CSRF token) per user, in order, as a browser holds them after logging in:
    made with the app's own session signer and Flask-WTF."""
    import sqlalchemy as sa
    from flask import session
    from flask_wtf.csrf import generate_csrf

    from participation.core.users import User
    from participation.extensions import db

    serializer = app.session_interface.get_signing_serializer(app)
    with app.app_context():
        keys = {
            u.id: u.get_id()
            for u in db.session.scalars(sa.select(User).where(User.id.in_(user_ids)))
        }
    prepared = []
    for user_id in user_ids:
        with app.test_request_context():
            now = int(time.time())
            session.update(
                {"_user_id": keys[user_id], "_fresh": True, "login_at": now, "seen_at": now}
            )
            token = generate_csrf()
            prepared.append((f"session={serializer.dumps(dict(session))}", token))
    return prepared


# ---------------------------------------------------------------------------------------------
# CPU time per request


def cpu_seconds(pid: int) -> float | None:
    """CPU seconds (user + system, all threads) a process has used; None if it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def children(pid: int) -> list[int]:
    """The child processes of `pid`."""
    try:
        return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        pass  # a kernel without CONFIG_PROC_CHILDREN: look for the parent in every process
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError):
                continue
            if ppid == pid:
                found.append(int(entry.name))
    return found


@dataclass(frozen=True)
class Cpu:
    """CPU seconds spent on `requests` requests by the gunicorn workers and (when measured) by
    the PostgreSQL backends serving the bench database."""

    requests: int
    app: float
    postgres: float | None = None

    def _ms(self, seconds: float) -> float:
        return 1000 * seconds / max(1, self.requests)

    @property
    def app_ms(self) -> float:
        """Milliseconds of the workers' CPU per request."""
        return self._ms(self.app)

    @property
    def total_ms(self) -> float:
        """Milliseconds of CPU per request, workers and PostgreSQL together."""
        return self._ms(self.app + (self.postgres or 0.0))

    def __str__(self) -> str:
        text = f"app workers {self._ms(self.app):.2f} ms"
        if self.postgres is not None:
            text += f" + PostgreSQL {self._ms(self.postgres):.2f} ms"
        return text


class CpuMeter:
    """Snapshots (when made and at stop()) the CPU time of `server`'s workers and, given
    `database`, of the PostgreSQL backends serving it (their pids read through a connection of
    its own to the `postgres` database). A process absent from the first snapshot counts from
    zero; one gone by the second is left out. Start it after the warm-up, stop it right after
    the timed load, before the server stops."""

    def __init__(self, server: Gunicorn, database: str | None = None) -> None:
        self.server = server
        self.database = database
        self._conn = None
        if database:
            import psycopg

            self._conn = psycopg.connect(f"{BASE}/postgres", autocommit=True)
        self.before = self._snapshot()

    def _snapshot(self) -> dict[tuple[str, int], float]:
        pids = [("app", pid) for pid in self.server.worker_pids()]
        if self._conn is not None:
            rows = self._conn.execute(
                "SELECT pid FROM pg_stat_activity WHERE datname = %s", (self.database,)
            )
            pids += [("postgres", pid) for (pid,) in rows]
        taken = {key: cpu_seconds(key[1]) for key in pids}
        return {key: seconds for key, seconds in taken.items() if seconds is not None}

    def stop(self, requests: int) -> Cpu:
        after = self._snapshot()
        if self._conn is not None:
            self._conn.close()
        spent = {"app": 0.0, "postgres": 0.0}
        for key, seconds in after.items():
            spent[key[0]] += seconds - self.before.get(key, 0.0)
        return Cpu(requests, spent["app"], spent["postgres"] if self.database else None)


def report_cpu(width: int, baseline: tuple[str, Cpu], *cases: tuple[str, Cpu]) -> None:
    """Print CPU per request of the baseline and of each case, then for each case the ratio of
    total CPU per request baseline / case: the throughput ratio's form that the machine's other
    load moves much less (CPU spent per request, not requests per second of wall time)."""
    name, base = baseline
    for label, cpu in (baseline, *cases):
        print(f"{f'CPU per request, {label}':<{width}} {cpu}")
    for label, cpu in cases:
        ratio = base.total_ms / cpu.total_ms if cpu.total_ms else float("nan")
        print(f"{f'CPU ratio {name} / {label}':<{width}}{ratio:8.3f}")
