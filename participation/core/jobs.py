"""Background jobs: enqueue after commit (RQ, or in-process without Redis) and periodic sweeps."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from functools import cache
from typing import Any

from flask import Flask, current_app, has_app_context
from redis import Redis
from rq import Queue
from werkzeug.utils import import_string

from participation.extensions import db

log = logging.getLogger(__name__)

JobId = int | str
SWEEPS: list[Callable[[], Any]] = []


def enqueue_after_commit(path: str, *ids: JobId, queue: str = "default") -> None:
    """Run the job at `path` ("package.module:function") with `ids` once the current
    transaction has committed; never if it rolls back.

    Jobs are named by import path, as RQ does, so a service never imports its tasks module.
    With REDIS_URL set the job goes to RQ; otherwise it runs in this process right after the
    commit. Jobs receive ids, never ORM objects: a worker must load fresh rows itself.
    """
    if ":" not in path:
        raise ValueError(f"job path must look like 'package.module:function', not {path!r}")
    if not all(isinstance(i, int | str) for i in ids):
        raise TypeError("jobs take ids (int or str), not objects")
    app = current_app._get_current_object()
    db.session().after_commit(lambda: _dispatch(app, path, ids, queue))


def _dispatch(app: Flask, path: str, ids: tuple[JobId, ...], queue: str) -> None:
    if app.config["REDIS_URL"]:
        Queue(queue, connection=redis_connection(app.config["REDIS_URL"])).enqueue(
            execute, path, *ids, job_timeout=600
        )
        return
    try:
        execute(path, *ids)
    except Exception:
        db.session.rollback()
        log.exception("in-process job %s%r failed", path, ids)
        if app.config["TESTING"]:
            raise


@cache
def redis_connection(url: str) -> Redis:
    return Redis.from_url(url)


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


def run_worker(app: Flask, queues: list[str], burst: bool = False) -> None:  # pragma: no cover
    """Start an RQ worker bound to this app; forked job processes inherit it."""
    from rq import Worker

    global _worker_app
    _worker_app = app
    worker = Worker(queues, connection=redis_connection(app.config["REDIS_URL"]))
    worker.work(burst=burst, with_scheduler=True)
