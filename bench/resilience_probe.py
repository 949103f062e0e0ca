"""Resilience probe: Redis stopped under load, a worker killed mid-job (issue #13, faults 1–3).

Run by hand:  .venv/bin/python bench/resilience_probe.py [--messages 200] [--down-after 67]
                  [--down-seconds 30] [--database bench_resilience_probe] [--redis-port 6390]

Not a benchmark and not a test: an end-to-end check of the whole stack as it runs in
production, with every figure printed. It needs PostgreSQL at BENCH_PG (the database given by
--database is dropped and created anew) and redis-server / redis-cli on PATH: it starts its
OWN Redis on --redis-port (never give it a Redis something else uses: it is shut down without
saving, twice) and leaves it running at the end.

  1. Migrations and the demo region (bench/appeals_submit.py does the same), then the app under
     gunicorn (bench/_common.py: GTHREAD_4, development settings with the rate limits ON and
     REDIS_URL on that Redis) and one RQ worker (`flask --app wsgi jobs worker`).
  2. A resident logs in over HTTP through the built-in ESIA emulator (as a browser would:
     /login, the emulator's form, the callback), then sends --messages messages, each from a
     fresh GET of the form (its CSRF token and submission key). After --down-after of them
     Redis is shut down (`redis-cli shutdown nosave`); the next third are sent spread over
     --down-seconds while it is down, with /login, /healthz and /readyz asked meanwhile; then
     Redis starts again and the rest are sent. Then one `flask jobs sweep --once`.
     Printed: the answers by phase (all must be 302), messages stored vs sent and duplicates,
     each message's notice to its author (outbox rows, sent, feed items: exactly one each),
     /login and /readyz while Redis was down and after.
  3. An official asks for the protocol of the demo's closed vote; the probe watches RQ's
     started-jobs registry and kill -9s the worker's whole process group (worker, the forked
     process building the PDF, the scheduler) as soon as the build has started. A new worker
     starts; the protocol is still pending; `flask jobs sweep --once` queues it again once it
     has been pending for longer than the stuck timeout (30 minutes: the probe moves its
     request time an hour back instead of waiting) and the new worker builds it.
Exits non-zero when any check fails.
"""

from __future__ import annotations

import argparse
import html
import http.client
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
import urllib.parse
from collections import Counter
from pathlib import Path

import _common
import sqlalchemy as sa

PERSONA = "resident-confirmed-ufa"
OFFICIAL_OID = "1000007"  # ufa-authorized
MARK = "проба устойчивости"
TEXT = "Яма на проезжей части у дома {n} по улице Ленина, машины объезжают её ({mark} №{n})."
INPUT = re.compile(r"<input\b[^>]*>")
ATTRIBUTE = re.compile(r'([\w-]+)="([^"]*)"')
SWEEP_LINE = re.compile(r"^([\w.]+): (.*)$", re.MULTILINE)  # what `jobs sweep --once` prints
WIDTH = 44
ENTRY = "resilience_probe:probe_app()"


def probe_app():
    """gunicorn entry point: the real application with the settings the probe passed down."""
    from participation import create_app

    return create_app(env=_settings())


def _settings() -> dict[str, str]:
    """The app's settings (for gunicorn, the worker, the sweep and the probe itself)."""
    env = os.environ
    return _common.app_env(
        env["PROBE_DATABASE"],
        env["BENCH_INSTANCE"],
        {**_common.DEVELOPMENT, "RATELIMIT_ENABLED": "1"},  # /login's limit lives in Redis
        REDIS_URL=env["PROBE_REDIS_URL"],
        PUBLIC_BASE_URL=env["PROBE_BASE_URL"],  # the ESIA emulator is reached there
    )


# ---------------------------------------------------------------------------------------------
# Redis of our own, the worker, the sweep


class RedisServer:
    """A redis-server on 127.0.0.1:`port` without persistence, which the probe stops."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.url = f"redis://127.0.0.1:{port}/0"

    def start(self) -> None:
        subprocess.run(
            ["redis-server", "--daemonize", "yes", "--bind", "127.0.0.1", "--port",
             str(self.port), "--save", "", "--appendonly", "no"],
            check=True, stdout=subprocess.DEVNULL,
        )  # fmt: skip
        if not _until(lambda: _common.redis_answers(self.url), 10):
            raise SystemExit(f"redis-server on port {self.port} did not start")

    def stop(self) -> None:
        subprocess.run(
            ["redis-cli", "-p", str(self.port), "shutdown", "nosave"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False,
        )  # fmt: skip
        if not _until(lambda: not _common.redis_answers(self.url), 10):
            raise SystemExit(f"Redis on port {self.port} did not stop")


def _until(condition, seconds: float, pause: float = 0.1) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(pause)
    return condition()


def _flask(*args: str, output=None, **popen) -> subprocess.Popen:
    """`flask --app wsgi ARGS` from the project root with the app's settings."""
    return subprocess.Popen(
        [sys.executable, "-m", "flask", "--app", "wsgi", *args],
        cwd=_common.ROOT,
        env={**os.environ, **_settings()},
        stdout=output,
        stderr=subprocess.STDOUT if output else None,
        **popen,
    )


class RqWorker:
    """`flask jobs worker` in a process group of its own (its forked jobs go with it)."""

    started = 0

    def __init__(self, folder: Path) -> None:
        RqWorker.started += 1
        self.log = folder / f"worker-{RqWorker.started}.log"
        self.proc = _flask("jobs", "worker", output=self.log.open("w"), start_new_session=True)

    def kill9(self) -> None:
        """kill -9 of the worker and everything it forked."""
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait()

    def listening(self, seconds: float = 60) -> bool:
        """Until the worker (started now) listens on its queues."""
        return _until(lambda: "Listening on" in self.log.read_text(), seconds)

    def stop(self) -> float | None:
        """SIGTERM to the worker alone (as systemd's KillMode=mixed); the seconds it took to
        exit, or None when it had to be killed after 30 s."""
        started = time.monotonic()
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.kill9()
                return None
        return time.monotonic() - started


def sweep_once(label: str, show: tuple[str, ...] = ()) -> dict[str, str]:
    """`flask jobs sweep --once`; prints the results named in `show` (all when empty)."""
    proc = _flask("jobs", "sweep", "--once", output=subprocess.PIPE, text=True)
    out, _ = proc.communicate(timeout=300)
    results = dict(SWEEP_LINE.findall(out))
    print(f"`flask jobs sweep --once` ({label}), exit {proc.returncode}:")
    for name, result in results.items():
        if not show or any(s in name for s in show):
            print(f"    {name}: {result}")
    return results


# ---------------------------------------------------------------------------------------------
# A browser, as far as the probe needs one


class Browser:
    """One http.client connection with a cookie jar; redirects are not followed."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.cookies: dict[str, str] = {}
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)

    def request(self, method: str, path: str, fields: dict[str, str] | None = None):
        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())}
        body = None
        if fields is not None:
            body = urllib.parse.urlencode(fields)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        for attempt in (1, 2):  # a kept-alive connection the server closed: open a new one
            try:
                self.conn.request(method, path, body=body, headers=headers)
                response = self.conn.getresponse()
                text = response.read().decode("utf-8", "replace")
                break
            except OSError:
                self.conn.close()
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
                if attempt == 2:
                    return 0, {}, ""
        for header, value in response.getheaders():
            if header.lower() == "set-cookie":
                name, _, rest = value.partition("=")
                self.cookies[name] = rest.split(";", 1)[0]
        return response.status, {k.lower(): v for k, v in response.getheaders()}, text

    def get(self, path: str):
        return self.request("GET", path)

    def post(self, path: str, fields: dict[str, str]):
        return self.request("POST", path, fields)


def hidden_fields(page: str) -> dict[str, str]:
    """The hidden inputs of a page (CSRF token, submission key, the emulator's request)."""
    fields = {}
    for tag in INPUT.findall(page):
        attributes = dict(ATTRIBUTE.findall(tag))
        if attributes.get("type") == "hidden" and "name" in attributes:
            fields[attributes["name"]] = html.unescape(attributes.get("value", ""))
    return fields


def _local(url: str) -> str:
    parts = urllib.parse.urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def esia_login(browser: Browser, persona: str) -> None:
    """/login → the emulator's form → pick the persona → the callback → logged in."""
    status, headers, _ = browser.get("/login")
    assert status == 302, f"/login: {status}"
    status, _, page = browser.get(_local(headers["location"]))
    assert status == 200, f"the emulator's page: {status}"
    fields = hidden_fields(page)
    status, headers, _ = browser.post(
        "/esia/aas/oauth2/ac", {**fields, "persona": persona, "action": "login"}
    )
    assert status == 302, f"the emulator's form: {status}"
    status, headers, page = browser.get(_local(headers["location"]))
    assert status == 302, f"/login/callback: {status} {page[:300]}"


def submit(browser: Browser, n: int, subcategory_id: int, territory_id: int) -> int:
    """GET the form, POST one message from it; the POST's status (0: no answer)."""
    status, _, page = browser.get("/appeals/new")
    if status != 200:
        return -status  # the form itself did not come (counted apart)
    fields = hidden_fields(page)
    fields.update(
        text=TEXT.format(n=n, mark=MARK),
        subcategory_id=str(subcategory_id),
        territory_id=str(territory_id),
        address=f"г. Уфа, ул. Ленина, д. {n}",
        latitude="",
        longitude="",
    )
    return browser.post("/appeals/new", fields)[0]


def probe(browser: Browser, path: str) -> str:
    status, headers, body = browser.get(path)
    if status in (301, 302, 303):
        return f"{status} → {urllib.parse.urlsplit(headers['location']).path}"
    return f"{status} {body.strip()}" if path != "/login" else str(status)


# ---------------------------------------------------------------------------------------------
# The database


def prepare(app) -> tuple[int, int]:
    """Migrations and the demo region; returns (the potholes topic, Уфа)."""
    import flask_migrate

    from participation.appeals.classifier import Subcategory
    from participation.core.territories import Territory
    from participation.demo import data
    from participation.demo.seed import seed_demo
    from participation.extensions import db

    with app.app_context():
        flask_migrate.upgrade()
        seed_demo()
        db.session.commit()
        ufa = db.session.scalar(sa.select(Territory.id).where(Territory.oktmo == data.UFA))
        potholes = db.session.scalar(
            sa.select(Subcategory.id).where(Subcategory.code == "roads.potholes")
        )
        db.session.remove()
    return potholes, ufa


def message_figures(engine) -> dict[str, int]:
    """The probe's messages and each one's notice to its author (outbox, sent, feed items)."""
    query = sa.text(
        """
        SELECT a.id, a.text,
               count(o.id) AS rows, count(o.sent_at) AS sent, count(n.id) AS feed
        FROM appeals a
        LEFT JOIN outbox o ON o.dedup_key LIKE 'appeal' || :colon || a.id || :author
        LEFT JOIN notifications n ON n.outbox_id = o.id
        WHERE a.text LIKE :mark
        GROUP BY a.id, a.text
        """
    )
    with engine.connect() as conn:
        # the notice of the submission: appeal:<id>:e<event>:author:feed
        keys = {"colon": ":", "author": ":e%:author:feed", "mark": f"%({MARK} №%"}
        rows = conn.execute(query, keys).all()
    return {
        "stored": len(rows),
        "distinct": len({r.text for r in rows}),
        "once": sum(1 for r in rows if (r.rows, r.sent, r.feed) == (1, 1, 1)),
        "unsent": sum(1 for r in rows if r.sent == 0),
        "twice": sum(1 for r in rows if r.rows > 1 or r.feed > 1),
    }


def protocol_status(engine, protocol_id: int) -> str:
    with engine.connect() as conn:
        return conn.scalar(
            sa.text("SELECT status FROM voting_protocols WHERE id = :id"), {"id": protocol_id}
        )


# ---------------------------------------------------------------------------------------------
# The probe


class Checks:
    def __init__(self) -> None:
        self.failed: list[str] = []

    def __call__(self, ok: bool, what: str) -> None:
        print(f"  {'OK  ' if ok else 'FAIL'} {what}")
        if not ok:
            self.failed.append(what)


def redis_down_under_load(args, server, redis, engine, topic: int, ufa: int, check) -> None:
    browser = Browser(server.port)
    esia_login(browser, PERSONA)
    n_total = args.messages
    first = min(args.down_after, n_total)
    during = min((n_total - first + 1) // 2, n_total - first)
    phases: dict[str, Counter] = {}

    def send(phase: str, numbers: range, seconds: float = 0.0) -> None:
        """Submit `numbers`, spread evenly over `seconds` (0: one after another)."""
        answers = phases.setdefault(phase, Counter())
        start = time.monotonic()
        for k, n in enumerate(numbers):
            time.sleep(max(0.0, start + k * seconds / max(1, len(numbers)) - time.monotonic()))
            answers[submit(browser, n, topic, ufa)] += 1

    started = time.monotonic()
    send("Redis up", range(1, first + 1))
    redis.stop()
    down_at = time.monotonic()
    print(f"Redis shut down (nosave) after {first} messages, for {args.down_seconds} s")
    while_down = {
        "/login": probe(browser, "/login"),
        "/healthz": probe(browser, "/healthz"),
        "/readyz": probe(browser, "/readyz"),
    }
    browser.get("/")  # the pending login /login started is left alone
    send("Redis down", range(first + 1, first + during + 1), args.down_seconds - 2)
    while_down["/readyz, later"] = probe(browser, "/readyz")
    time.sleep(max(0.0, args.down_seconds - (time.monotonic() - down_at)))
    redis.start()
    print(f"Redis started again after {time.monotonic() - down_at:.1f} s")
    after = {"/readyz": probe(browser, "/readyz"), "/login": probe(browser, "/login")}
    browser.get("/")
    send("Redis back", range(first + during + 1, n_total + 1))
    seconds = time.monotonic() - started

    print(f"\n{n_total} messages sent in {seconds:.1f} s, each from a fresh GET of the form:")
    for phase, answers in phases.items():
        print(f"  {phase:<{WIDTH - 2}}{dict(sorted(answers.items()))}")
    for label, probes in (("while Redis was down", while_down), ("after", after)):
        for path, answer in probes.items():
            print(f"  {path + ' ' + label:<{WIDTH - 2}}{answer}")

    # The worker waits for Redis with a growing pause (≤ 30 s): let it drain the queue.
    from redis import Redis

    connection = Redis.from_url(redis.url)
    drained = _until(lambda: connection.llen("rq:queue:default") == 0, 90, 0.5)
    time.sleep(2)
    waiting = message_figures(engine)["unsent"]
    print(f"  {'notices unsent when the worker is done':<{WIDTH - 2}}{waiting}"
          "  (not queued, or queued and lost with Redis)")  # fmt: skip
    sweep_once("catch-up", show=("outbox",))
    figures = message_figures(engine)
    print(f"  {'messages stored / sent':<{WIDTH - 2}}{figures['stored']} / {n_total}")
    print(f"  {'duplicates (same text stored twice)':<{WIDTH - 2}}"
          f"{figures['stored'] - figures['distinct']}")  # fmt: skip
    print(f"  {'author notified exactly once':<{WIDTH - 2}}{figures['once']} of {n_total}"
          f"  (not delivered: {figures['unsent']}, twice: {figures['twice']})")  # fmt: skip

    print("\nChecks:")
    answers = sum(phases.values(), Counter())
    check(answers == Counter({302: n_total}), f"every submission answered 302 ({dict(answers)})")
    check(figures["stored"] == figures["distinct"] == n_total, "every message stored, once")
    check(figures["once"] == n_total, "every author notified exactly once")
    check(drained, "the worker drained the queue after Redis came back")
    check(while_down["/login"].startswith("302"), "/login works while Redis is down")
    check(while_down["/healthz"].startswith("200"), "/healthz alive while Redis is down")
    check(
        while_down["/readyz"].startswith("503") and '"redis":"fail"' in while_down["/readyz"],
        "/readyz says Redis is down (503)",
    )
    check(after["/readyz"].startswith("200"), "/readyz ready again once Redis is back")


def killed_worker(app, logs: Path, redis, engine, check) -> RqWorker:
    """Returns the worker left running."""
    from redis import Redis
    from rq.registry import StartedJobRegistry

    from participation.core.users import User
    from participation.extensions import db
    from participation.voting.demo import CLOSED_TITLE
    from participation.voting.models import Campaign
    from participation.voting.services import request_protocol

    connection = Redis.from_url(redis.url)
    started = StartedJobRegistry("reports", connection=connection)
    print("\nA worker killed while it builds a voting protocol:")
    protocol_id = None
    for attempt in range(1, 6):
        worker = RqWorker(logs)
        if not worker.listening():
            raise SystemExit(f"the worker did not start: see {worker.log}")
        jobs = set(connection.zrange(started.key, 0, -1))
        with app.app_context():
            official = db.session.scalar(sa.select(User).where(User.esia_oid == OFFICIAL_OID))
            campaign = db.session.scalar(sa.select(Campaign).where(Campaign.title == CLOSED_TITLE))
            protocol_id = request_protocol(campaign, official).id
            db.session.commit()
            db.session.remove()
        asked = time.monotonic()
        building = _until(lambda j=jobs: set(connection.zrange(started.key, 0, -1)) - j, 30, 0.001)
        seen = time.monotonic()
        worker.kill9()
        status = protocol_status(engine, protocol_id)
        print(f"  try {attempt}: protocol {protocol_id} asked for; its build started after "
              f"{seen - asked:.2f} s; kill -9 of the worker's process group; {status}")  # fmt: skip
        if building and status == "pending":
            break
        # The build was over before the kill (a small protocol is fast): ask for another.
    check(protocol_status(engine, protocol_id) == "pending", "killed mid-build: left pending")

    worker = RqWorker(logs)
    time.sleep(5)
    print(f"  a new worker runs; 5 s later the protocol is {protocol_status(engine, protocol_id)}")
    results = sweep_once("right away", show=("protocols",))
    check(
        results.get("participation.voting.tasks.requeue_stuck_protocols") == "0",
        "not queued again before the stuck timeout",
    )
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "UPDATE voting_protocols SET requested_at = requested_at - interval '1 hour'"
                " WHERE id = :id"
            ),
            {"id": protocol_id},
        )
    print("  its request time moved an hour back (the 30-minute stuck timeout, not waited for)")
    queued = time.monotonic()
    results = sweep_once("after the timeout", show=("protocols",))
    ready = _until(lambda: protocol_status(engine, protocol_id) == "ready", 120, 0.2)
    print(f"  protocol {protocol_id}: {protocol_status(engine, protocol_id)} "
          f"{time.monotonic() - queued:.1f} s after the sweep was started")  # fmt: skip
    check(
        results.get("participation.voting.tasks.requeue_stuck_protocols") == "1",
        "the sweep queued the stuck protocol again",
    )
    check(ready, "the killed worker's protocol is built after recovery")
    return worker


def main() -> None:
    from redis import Redis

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=200)
    parser.add_argument("--down-after", type=int, default=None, help="default: a third")
    parser.add_argument("--down-seconds", type=float, default=30)
    parser.add_argument("--database", default="bench_resilience_probe")
    parser.add_argument("--redis-port", type=int, default=6390)
    args = parser.parse_args()
    if args.down_after is None:
        args.down_after = args.messages // 3
    if args.redis_port == 6379:
        raise SystemExit("the probe shuts its Redis down: give it one of its own (--redis-port)")

    instance = tempfile.mkdtemp(prefix="bench-resilience-")
    redis = RedisServer(args.redis_port)
    port = _common.free_port()
    os.environ.update(
        BENCH_INSTANCE=instance,
        PROBE_DATABASE=args.database,
        PROBE_REDIS_URL=redis.url,
        PROBE_BASE_URL=f"http://127.0.0.1:{port}",
    )
    if _common.redis_answers(redis.url):
        Redis.from_url(redis.url).flushall()
    else:
        redis.start()
    print(f"PostgreSQL {_common.BASE}/{args.database} (created anew), Redis {redis.url} (ours), "
          f"instance {instance}", flush=True)  # fmt: skip
    _common.recreate_database(args.database)
    app = probe_app()
    topic, ufa = prepare(app)
    engine = sa.create_engine(app.config["SQLALCHEMY_DATABASE_URI"])

    check = Checks()
    logs = Path(instance)
    web_log = Path(instance) / "gunicorn.log"
    worker = None
    with _common.Gunicorn(ENTRY, _common.GTHREAD_4, port=port, output=web_log.open("w")) as server:
        server.wait("/healthz")
        print(f"gunicorn {' '.join(_common.GTHREAD_4)} on port {port}; one RQ worker; logs: "
              f"{web_log}, {logs}/worker-N.log\n", flush=True)  # fmt: skip
        worker = RqWorker(logs)
        if not worker.listening():
            raise SystemExit(f"the worker did not start: see {worker.log}")
        # The demo's own notices were queued by the seed: out of the way before the clock starts.
        backlog = Redis.from_url(redis.url).llen("rq:queue:default")
        if not _until(lambda: Redis.from_url(redis.url).llen("rq:queue:default") == 0, 300, 0.5):
            raise SystemExit(f"the worker did not work through the seed's jobs: see {worker.log}")
        print(f"the worker did the {backlog} jobs the demo seed had queued\n", flush=True)
        try:
            redis_down_under_load(args, server, redis, engine, topic, ufa, check)
            stopped = worker.stop()
            worker = killed_worker(app, logs, redis, engine, check)
        finally:
            if worker is not None:
                last = worker.stop()
    print(
        f"\nSIGTERM to the worker: it exited in {stopped:.1f} s (idle), {last:.1f} s (at the end)"
        if stopped is not None and last is not None
        else "\nSIGTERM to the worker: not obeyed"
    )
    check(stopped is not None and last is not None, "the worker stops on SIGTERM")
    log = web_log.read_text()
    print(f"\ngunicorn log: {log.count('not queued (Redis')} jobs not queued (left to the sweep),"
          f" {log.count('Traceback')} tracebacks")  # fmt: skip
    check(log.count("Traceback") == 0, "no traceback in the web log")
    if check.failed:
        raise SystemExit(f"{len(check.failed)} check(s) failed")
    print("all checks passed")


if __name__ == "__main__":
    main()
