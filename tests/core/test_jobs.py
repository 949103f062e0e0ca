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
