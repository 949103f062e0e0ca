"""Background jobs: enqueue after commit (RQ, or in-process without Redis) and periodic sweeps."""

from __future__ import annotations

import logging
import os
import signal
import threading
import time
from collections.abc import Callable
from datetime import timedelta
from functools import cache
from typing import Any

from flask import Flask, current_app, has_app_context
from redis import Redis
from redis.exceptions import RedisError
from rq import Queue, Worker
from werkzeug.utils import import_string

from participation.extensions import db

log = logging.getLogger(__name__)

JobId = int | str
# RQ stops a job after this long; work "pending" for longer than STUCK_AFTER is lost
# (a worker killed, a job dropped with Redis) and the sweeps queue it again.
JOB_TIMEOUT = 600
STUCK_AFTER = timedelta(seconds=3 * JOB_TIMEOUT)
SWEEPS: list[Callable[[], Any]] = []


def enqueue_after_commit(path: str, *ids: JobId, queue: str = "default") -> None:
    """Run the job at `path` ("package.module:function") with `ids` once the current
    transaction has committed; never if it rolls back.

    Jobs are named by import path, as RQ does, so a service never imports its tasks module.
    With REDIS_URL set the job goes to RQ; otherwise it runs in this process right after the
    commit. Jobs receive ids, never ORM objects: a worker must load fresh rows itself. The
    jobs one transaction queues go to Redis together, in one round trip.
    """
    if ":" not in path:
        raise ValueError(f"job path must look like 'package.module:function', not {path!r}")
    if not all(isinstance(i, int | str) for i in ids):
        raise TypeError("jobs take ids (int or str), not objects")
    session = db.session()
    batch = next(
        (c for c in session.info.get("after_commit", ()) if isinstance(c, _JobBatch)), None
    )
    if batch is None:
        # Dropped with the other after-commit callbacks on rollback, so never sent then.
        batch = _JobBatch(current_app._get_current_object())
        session.after_commit(batch)
    batch.jobs.append((path, ids, queue))


Job = tuple[str, tuple[JobId, ...], str]  # (path, ids, queue)


class _JobBatch:
    """The jobs of one transaction, sent when it has committed."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        self.jobs: list[Job] = []

    def __call__(self) -> None:
        _dispatch(self.app, self.jobs)


def _dispatch(app: Flask, batch: list[Job]) -> None:
    if app.config["REDIS_URL"]:
        try:
            _send(redis_connection(app.config["REDIS_URL"]), batch)
        except RedisError as exc:
            # The data is committed: the request must not fail. Every job's work is
            # recorded in the database, and a sweep (`flask jobs sweep`) picks it up.
            names = ", ".join(f"{path}{ids!r}" for path, ids, _queue in batch)
            log.warning("jobs %s not queued (Redis: %s); the sweep will do them", names, exc)
        return
    for path, ids, _queue in batch:
        try:
            execute(path, *ids)
        except Exception:
            db.session.rollback()
            log.exception("in-process job %s%r failed", path, ids)
            if app.config["TESTING"]:
                raise


def _send(connection: Redis, batch: list[Job]) -> None:
    """RQ jobs, as Queue.enqueue makes them, all written in one MULTI/EXEC pipeline."""
    by_queue: dict[str, list] = {}
    for path, ids, queue in batch:
        by_queue.setdefault(queue, []).append(
            Queue.prepare_data(execute, (path, *ids), timeout=JOB_TIMEOUT)
        )
    pipe = connection.pipeline()
    for queue, datas in by_queue.items():
        _queue(connection, queue).enqueue_many(datas, pipeline=pipe)
    pipe.execute()


@cache
def _queue(connection: Redis, name: str) -> Queue:
    return Queue(name, connection=connection)


@cache
def redis_connection(url: str) -> Redis:
    """The web's connection: a Redis that is down or hangs fails a call in seconds."""
    return Redis.from_url(url, socket_connect_timeout=2, socket_timeout=5)


_worker_app: Flask | None = None


def execute(path: str, *ids: JobId) -> Any:
    """What RQ runs: import the job by its dotted path and call it inside an app context."""
    fn = import_string(path)
    if has_app_context():
        return fn(*ids)
    if _worker_app is None:
        raise RuntimeError("jobs run in `flask jobs worker`, which binds the app (run_worker)")
    with _worker_app.app_context():
        try:
            return fn(*ids)
        finally:
            db.session.remove()


def sweep(fn: Callable[[], Any]) -> Callable[[], Any]:
    """Register a periodic sweep. Sweeps read state from the database, so after downtime
    the next run catches up on everything that came due meanwhile."""
    SWEEPS.append(fn)
    return fn


def run_sweeps() -> dict[str, Any]:
    """Run every registered sweep once, each in its own transaction."""
    results: dict[str, Any] = {}
    for fn in SWEEPS:
        name = f"{fn.__module__}.{fn.__name__}"
        try:
            results[name] = fn()
            db.session.commit()
        except Exception:
            db.session.rollback()
            log.exception("sweep %s failed", name)
            results[name] = "error"
    return results


def sweep_forever(interval: float) -> None:  # pragma: no cover - a loop for operators
    while True:
        started = time.monotonic()
        run_sweeps()
        db.session.remove()
        time.sleep(max(1.0, interval - (time.monotonic() - started)))


WORKER_BACKOFF_MAX = 30.0


class _Worker(Worker):
    """RQ's worker, remembering that it was asked to stop (SIGTERM/SIGINT), idle or busy:
    RQ's own flag is set only when a job was running."""

    stop_asked = False
    stopped_before_start: threading.Event
    _in_loop = False

    def _install_signal_handlers(self) -> None:
        """A stop is honoured however early it comes (a deploy restarting a worker that is
        just starting). RQ installs its handlers after logging "Listening on", and they raise
        to break the wait for a job; raised before its loop's `try`, that would end the
        process with the forked scheduler still running (and the exit waiting for it). So
        until the loop runs a stop only sets the flag the loop reads first."""
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, self._on_stop_signal)
        if self.stopped_before_start.is_set():
            self.stop_asked = self._stop_requested = True

    def _on_stop_signal(self, signum: int, frame: Any) -> None:
        if self._in_loop:
            self.request_stop(signum, frame)
        else:
            self.stop_asked = self._stop_requested = True

    def check_for_suspension(self, burst: bool) -> None:
        self._in_loop = True  # the first call inside the loop's `try` (RQ 2–3)
        super().check_for_suspension(burst)

    def handle_warm_shutdown_request(self) -> None:
        self.stop_asked = True
        super().handle_warm_shutdown_request()

    def subscribe(self) -> None:
        """RQ's subscription to its command channel, its thread waking every second, not every
        60: on stopping, redis-py (8+) waits for that thread, which would hold a stop (and
        the restart after a lost Redis) for up to a minute."""
        self.log.info("Worker %s: subscribing to channel %s", self.name, self.pubsub_channel_name)
        self.pubsub = self.connection.pubsub()
        self.pubsub.subscribe(**{self.pubsub_channel_name: self.handle_payload})
        self.pubsub_thread = self.pubsub.run_in_thread(
            sleep_time=1, daemon=True, exception_handler=self._pubsub_exception_handler
        )


def run_worker(app: Flask, queues: list[str], burst: bool = False) -> None:
    """Run an RQ worker bound to this app; forked job processes inherit it.

    Redis unreachable at start or lost later: RQ's worker quits, so wait for Redis with a
    growing pause (1 s … WORKER_BACKOFF_MAX) and start a new one. Stops only when asked
    (SIGTERM/SIGINT) or, with `burst`, when the queues are empty.
    """
    global _worker_app
    _worker_app = app
    # No socket_timeout: the worker blocks on the queue for minutes by design.
    connection = Redis.from_url(
        app.config["REDIS_URL"], socket_connect_timeout=5, health_check_interval=30
    )
    stopped = threading.Event()
    worker_pid = os.getpid()

    def stop_before_start(signum: int, _frame: Any) -> None:
        if os.getpid() != worker_pid:
            # RQ's scheduler, forked while this was the handler and stopped by the worker
            # before it set its own: the default (end) instead of a flag nobody reads.
            signal.signal(signum, signal.SIG_DFL)
            os.kill(os.getpid(), signum)
            return
        stopped.set()

    pause = 1.0
    while True:
        # Ours while no RQ worker runs (waiting for Redis, starting up); RQ's once it works.
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, stop_before_start)
        if stopped.is_set():
            return
        try:
            connection.ping()
        except RedisError as exc:
            log.warning("Redis unreachable (%s); worker retries in %.0f s", exc, pause)
            stopped.wait(pause)
            pause = min(pause * 2, WORKER_BACKOFF_MAX)
            continue
        pause = 1.0
        worker = _Worker(queues, connection=connection)
        worker.stopped_before_start = stopped
        worker.max_connection_wait_time = WORKER_BACKOFF_MAX  # RQ's own retries while idle
        try:
            worker.work(burst=burst, with_scheduler=True)
        except RedisError as exc:  # lost while tearing down
            log.warning("worker lost Redis: %s", exc)
        if burst or worker.stop_asked:
            return
        log.warning("worker stopped (Redis lost?); starting again once Redis answers")
