"""Jobs leave only after the commit, with ids, never on rollback."""

import pytest

from participation.core import jobs
from participation.extensions import db
from tests.core import jobs_fixture

REMEMBER = "tests.core.jobs_fixture:remember"


@pytest.fixture(autouse=True)
def _clear_calls():
    jobs_fixture.CALLS.clear()


def test_job_runs_after_commit(run_jobs):
    jobs.enqueue_after_commit(REMEMBER, 1, "a")
    assert jobs_fixture.CALLS == []
    db.session.commit()
    run_jobs()
    assert jobs_fixture.CALLS == [(1, "a")]


def test_job_is_dropped_on_rollback(run_jobs):
    jobs.enqueue_after_commit(REMEMBER, 2)
    db.session.rollback()
    db.session.commit()
    run_jobs()
    assert jobs_fixture.CALLS == []


def test_jobs_are_named_by_import_path():
    with pytest.raises(ValueError, match=r"package\.module:function"):
        jobs.enqueue_after_commit("tests.core.jobs_fixture.remember", 1)


def test_jobs_refuse_objects():
    with pytest.raises(TypeError, match="ids"):
        jobs.enqueue_after_commit(REMEMBER, object())


def test_sweeps_include_outbox_catch_up():
    names = [f"{fn.__module__}.{fn.__name__}" for fn in jobs.SWEEPS]
    assert "participation.core.outbox.relay_pending_outbox" in names
    assert set(jobs.run_sweeps()) == set(names)


def test_jobs_of_one_transaction_all_run_in_their_order(run_jobs):
    for n in (1, 2, 3):
        jobs.enqueue_after_commit(REMEMBER, n)
    jobs.enqueue_after_commit(REMEMBER, 4, queue="reports")
    db.session.commit()
    run_jobs()
    assert jobs_fixture.CALLS == [(1,), (2,), (3,), (4,)]


def test_a_rollback_drops_its_jobs_and_the_next_transaction_s_still_go(run_jobs):
    jobs.enqueue_after_commit(REMEMBER, 1)
    db.session.rollback()
    jobs.enqueue_after_commit(REMEMBER, 2)
    db.session.commit()
    jobs.enqueue_after_commit(REMEMBER, 3)
    db.session.commit()
    run_jobs()
    assert jobs_fixture.CALLS == [(2,), (3,)]


def test_the_jobs_of_one_transaction_go_to_redis_in_one_round_trip(app, monkeypatch):
    """Two queues, three jobs: one MULTI/EXEC pipeline, and RQ's worker finds them all."""
    if not app.config["REDIS_URL"]:
        pytest.skip("needs Redis (TEST_REDIS_URL)")
    from redis.client import Pipeline
    from rq import Queue

    sent = []
    execute = Pipeline.execute
    monkeypatch.setattr(
        Pipeline, "execute", lambda self, *a, **k: sent.append(1) or execute(self, *a, **k)
    )
    jobs.enqueue_after_commit(REMEMBER, 1)
    jobs.enqueue_after_commit(REMEMBER, 2, queue="reports")
    jobs.enqueue_after_commit(REMEMBER, 3)
    assert sent == []
    db.session.commit()
    assert sent == [1]
    conn = jobs.redis_connection(app.config["REDIS_URL"])
    queued = {
        name: [job.args for job in Queue(name, connection=conn).jobs]
        for name in ("default", "reports")
    }
    assert queued == {
        "default": [(REMEMBER, 1), (REMEMBER, 3)],
        "reports": [(REMEMBER, 2)],
    }


def test_jobs_lost_with_redis_leave_the_request_alone(app, monkeypatch, caplog):
    """Redis down at the commit: the data stays committed, the jobs are logged for the sweep."""
    if not app.config["REDIS_URL"]:
        pytest.skip("needs Redis (TEST_REDIS_URL)")
    from redis.client import Pipeline
    from redis.exceptions import ConnectionError as RedisConnectionError

    def down(self, *args, **kwargs):
        raise RedisConnectionError("down")

    monkeypatch.setattr(Pipeline, "execute", down)
    jobs.enqueue_after_commit(REMEMBER, 1)
    jobs.enqueue_after_commit(REMEMBER, 2)
    db.session.commit()
    assert "not queued" in caplog.text and "remember" in caplog.text
