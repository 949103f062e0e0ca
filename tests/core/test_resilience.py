"""Redis going down and coming back, jobs lost: the site keeps answering and queued work is
done by its job or by a sweep (issue #13, faults 1–3).

Each test runs its own redis-server (tests/redis_server.py) and really stops it.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from participation.core.db import utcnow
from participation.core.jobs import run_sweeps
from participation.extensions import db
from participation.voting.models import ProtocolFile, ProtocolStatus
from participation.voting.services import request_protocol
from participation.widgets import services as widgets
from participation.widgets.models import WidgetSiteDay
from tests import factories as f
from tests.redis_server import wait_for
from tests.voting.helpers import Town
from tests.voting.test_protocol import budget_vote

pytestmark = pytest.mark.redis
ROOT = Path(__file__).resolve().parents[2]


def test_login_works_with_redis_down_and_its_limit_still_applies(
    app_on_private_redis, private_redis, client
):
    assert client.get("/login").status_code == 302
    private_redis.stop()
    answers = [client.get("/login").status_code for _ in range(25)]
    # 20 a minute: counted in this process's memory while Redis is away
    assert answers[:20] == [302] * 20
    assert answers[-1] == 429


def test_readyz_names_redis_down_while_healthz_stays_alive(
    app_on_private_redis, private_redis, client
):
    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json == {
        "status": "ok",
        "checks": {"database": "ok", "storage": "ok", "redis": "ok"},
    }
    private_redis.stop()
    ready = client.get("/readyz")
    assert ready.status_code == 503
    assert ready.json == {
        "status": "fail",
        "checks": {"database": "ok", "storage": "ok", "redis": "fail"},
    }
    assert client.get("/healthz").status_code == 200
    private_redis.start()
    assert client.get("/readyz").status_code == 200


def test_readyz_names_a_storage_folder_that_takes_no_files(app, client, tmp_path, monkeypatch):
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("a file where the folder should be")
    monkeypatch.setitem(app.config, "STORAGE_DIR", str(blocked))
    ready = client.get("/readyz")
    assert ready.status_code == 503
    assert (ready.json["checks"]["database"], ready.json["checks"]["storage"]) == ("ok", "fail")


def test_widget_views_are_counted_with_redis_down(app_on_private_redis, private_redis):
    org = f.organization()
    private_redis.stop()
    widgets.record_view(org.id, "https://city.example")
    views = db.session.scalar(
        sa.select(WidgetSiteDay.views).where(WidgetSiteDay.organization_id == org.id)
    )
    assert views == 1  # written straight to the database


# --- the worker -----------------------------------------------------------------------------


# A worker whose protocol builds hang (to be killed mid-build): the process building one
# (RQ forks it into a session of its own) writes its pid into BUILDING_FLAG.
HANGING_BUILDS = """
import os, pathlib, time
import participation.voting.tasks as tasks
def hang(campaign):
    pathlib.Path(os.environ["BUILDING_FLAG"]).write_text(str(os.getpid()))
    time.sleep(600)
tasks.protocol_pdf = hang
from flask.cli import main
main()
"""


def _start_worker(app, redis_url: str, log: Path, building_flag: Path | None = None):
    """`flask jobs worker` in its own process against the test database and `redis_url`."""
    env = {
        **os.environ,
        "PARTICIPATION_ENV": "testing",
        "SECRET_KEY": app.config["SECRET_KEY"],
        "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
        "REDIS_URL": redis_url,
        "STORAGE_DIR": app.config["STORAGE_DIR"],
        "MAIL_DIR": app.config["MAIL_DIR"],
        "DEFAULT_TIMEZONE": app.config["DEFAULT_TIMEZONE"],
        "BUILDING_FLAG": str(building_flag),
    }
    program = ["-c", HANGING_BUILDS] if building_flag else ["-m", "flask"]
    return subprocess.Popen(
        [sys.executable, *program, "--app", "wsgi", "jobs", "worker"],
        cwd=ROOT,
        env=env,
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
        start_new_session=True,  # its forked job and scheduler processes go with it
    )


def _stop_worker(worker: subprocess.Popen) -> None:
    if worker.poll() is None:
        os.killpg(worker.pid, signal.SIGKILL)
    worker.wait()


def _status(protocol_id: int) -> ProtocolStatus:
    status = db.session.scalar(sa.select(ProtocolFile.status).where(ProtocolFile.id == protocol_id))
    db.session.rollback()  # no transaction left open while the worker writes (SQLite)
    return status


def _misses(log: Path) -> int:
    """How often the worker has logged a missing Redis (our wait, or RQ's own)."""
    text = log.read_text()
    return text.count("Redis unreachable") + text.count("could not connect to Redis")


def _tried_redis(worker: subprocess.Popen, log: Path, before: int) -> bool:
    """The worker has met the missing Redis (or has exited)."""
    return worker.poll() is not None or _misses(log) > before


@pytest.mark.committed
def test_worker_outlives_redis_and_a_lost_protocol_job_is_queued_again(
    app, private_redis, monkeypatch, tmp_path
):
    monkeypatch.setitem(app.config, "REDIS_URL", private_redis.url)
    town = Town()
    first, second = budget_vote(town), budget_vote(town)
    db.session.commit()
    private_redis.stop()
    # Redis down when the protocol is asked for: saved, its job not queued.
    lost = request_protocol(first, town.official)
    db.session.commit()
    assert _status(lost.id) == ProtocolStatus.PENDING

    log = tmp_path / "worker.log"
    worker = _start_worker(app, private_redis.url, log)
    try:
        assert wait_for(lambda: _tried_redis(worker, log, 0))  # started with Redis down
        private_redis.start()
        # Later the sweep finds the protocol pending for too long and queues it again.
        db.session.execute(
            sa.update(ProtocolFile)
            .where(ProtocolFile.id == lost.id)
            .values(requested_at=utcnow() - timedelta(hours=1))
        )
        db.session.commit()
        assert run_sweeps()["participation.voting.tasks.requeue_stuck_protocols"] == 1
        assert wait_for(lambda: _status(lost.id) == ProtocolStatus.READY), log.read_text()

        # Redis goes away under a running worker and comes back: the worker carries on.
        misses = _misses(log)
        private_redis.stop()
        assert wait_for(lambda: _tried_redis(worker, log, misses))
        private_redis.start()
        protocol = request_protocol(second, town.official)
        db.session.commit()
        assert wait_for(lambda: _status(protocol.id) == ProtocolStatus.READY), log.read_text()
        assert worker.poll() is None
    finally:
        _stop_worker(worker)


@pytest.mark.committed
def test_a_protocol_whose_worker_was_killed_mid_build_is_built_after_the_sweep(
    app, private_redis, monkeypatch, tmp_path
):
    monkeypatch.setitem(app.config, "REDIS_URL", private_redis.url)
    town = Town()
    vote = budget_vote(town)
    db.session.commit()
    flag = tmp_path / "building"
    doomed = _start_worker(app, private_redis.url, tmp_path / "doomed.log", building_flag=flag)
    try:
        protocol = request_protocol(vote, town.official)
        db.session.commit()
        assert wait_for(lambda: flag.exists() and flag.read_text()), (
            tmp_path / "doomed.log"
        ).read_text()
    finally:  # kill -9: the worker and the process building the protocol
        if flag.exists() and flag.read_text():
            os.kill(int(flag.read_text()), signal.SIGKILL)
        _stop_worker(doomed)
    assert _status(protocol.id) == ProtocolStatus.PENDING
    db.session.execute(  # time passes
        sa.update(ProtocolFile)
        .where(ProtocolFile.id == protocol.id)
        .values(requested_at=utcnow() - timedelta(hours=1))
    )
    db.session.commit()
    log = tmp_path / "worker.log"
    worker = _start_worker(app, private_redis.url, log)
    try:
        assert run_sweeps()["participation.voting.tasks.requeue_stuck_protocols"] == 1
        assert wait_for(lambda: _status(protocol.id) == ProtocolStatus.READY), log.read_text()
    finally:
        _stop_worker(worker)


@pytest.mark.committed
@pytest.mark.parametrize("busy", [False, True], ids=["idle", "mid-job"])
def test_the_worker_stops_on_sigterm_idle_or_mid_job(app, private_redis, tmp_path, busy):
    """What a supervisor's stop sends (systemd, a deploy): the worker exits, after the job it
    is running; it does not take the signal for a lost Redis and start listening again.
    The signal is sent as soon as RQ says "Listening on", before RQ has its own handlers."""
    from redis import Redis
    from rq import Queue

    log = tmp_path / "worker.log"
    worker = _start_worker(app, private_redis.url, log)
    try:
        assert wait_for(lambda: "Listening on" in log.read_text(), step=0.01), log.read_text()
        if busy:
            queue = Queue("default", connection=Redis.from_url(private_redis.url))
            job = queue.enqueue("time.sleep", 2)
            # Running (not just taken off the queue: RQ marks it started a moment later).
            assert wait_for(lambda: job.get_status(refresh=True) == "started", step=0.05)
        worker.send_signal(signal.SIGTERM)  # to the worker itself, as systemd's KillMode=mixed
        assert wait_for(lambda: worker.poll() is not None, 20), log.read_text()
        assert worker.returncode == 0
        assert log.read_text().count("Listening on") == 1
        if busy:
            assert job.get_status(refresh=True) == "finished"
    finally:
        _stop_worker(worker)


@pytest.mark.committed
def test_the_worker_stops_on_sigterm_while_it_waits_for_redis(app, private_redis, tmp_path):
    log = tmp_path / "worker.log"
    private_redis.stop()
    worker = _start_worker(app, private_redis.url, log)
    try:
        assert wait_for(lambda: "Redis unreachable" in log.read_text(), 20), log.read_text()
        worker.send_signal(signal.SIGTERM)
        assert wait_for(lambda: worker.poll() is not None, 10), log.read_text()
        assert worker.returncode == 0
    finally:
        private_redis.start()
        _stop_worker(worker)
