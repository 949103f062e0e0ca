"""Test harness: schema from migrations, each test inside one rolled-back transaction.

SQLite by default; PostgreSQL and real Redis when TEST_DATABASE_URL / TEST_REDIS_URL are set.
A named service that does not answer stops the run: it is never skipped silently.
"""

from __future__ import annotations

import os
from pathlib import Path

import flask_migrate
import pytest
import sqlalchemy as sa
from babel.messages.frontend import CommandLineInterface
from flask.globals import _cv_app
from flask.testing import FlaskClient

from participation import create_app
from participation.core import cache
from participation.extensions import db, limiter

ROOT = Path(__file__).resolve().parent.parent
TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL")
TEST_REDIS_URL = os.environ.get("TEST_REDIS_URL")

pytest_plugins = [
    "tests.browser",  # the `browser` and `axe_source` fixtures
    "tests.redis_server",  # `private_redis`: a redis-server a test may stop
]


def _compile_translations() -> None:
    """Compile the catalogues if a .po is newer than its .mo (pytest run without make)."""
    for po in (ROOT / "participation" / "translations").glob("*/LC_MESSAGES/messages.po"):
        mo = po.with_suffix(".mo")
        if not mo.exists() or mo.stat().st_mtime < po.stat().st_mtime:
            CommandLineInterface().run(
                ["pybabel", "compile", "--use-fuzzy", "-d", str(mo.parents[2])]
            )
            return


def _check_services() -> None:
    if TEST_DATABASE_URL:
        try:
            engine = sa.create_engine(
                TEST_DATABASE_URL.replace("postgresql://", "postgresql+psycopg://", 1)
            )
            with engine.connect() as conn:
                conn.execute(sa.text("SELECT 1"))
            engine.dispose()
        except Exception as exc:
            pytest.exit(f"TEST_DATABASE_URL={TEST_DATABASE_URL} не отвечает: {exc}", returncode=3)
    if TEST_REDIS_URL:
        from redis import Redis

        try:
            Redis.from_url(TEST_REDIS_URL).ping()
        except Exception as exc:
            pytest.exit(f"TEST_REDIS_URL={TEST_REDIS_URL} не отвечает: {exc}", returncode=3)


class IsolatedClient(FlaskClient):
    """Each request gets its own app context (fresh `g`, fresh session), as in production,
    while still sharing the test's outer transaction through the bound connection."""

    def open(self, *args, **kwargs):
        token = _cv_app.set(None)
        try:
            return super().open(*args, **kwargs)
        finally:
            _cv_app.reset(token)


@pytest.fixture(scope="session")
def app(tmp_path_factory):
    _compile_translations()
    _check_services()
    instance = tmp_path_factory.mktemp("instance")
    env = {
        "PARTICIPATION_ENV": "testing",
        "SECRET_KEY": "test-secret-key-" + "x" * 32,
        "DATABASE_URL": TEST_DATABASE_URL or f"sqlite:///{instance / 'test.sqlite3'}",
        "MAIL_DIR": str(instance / "mail"),
        "STORAGE_DIR": str(instance / "storage"),
        "MAX_UPLOAD_MB": "1",
        "MAX_REQUEST_MB": "2",
        "DEFAULT_TIMEZONE": "Asia/Yekaterinburg",
    }
    if TEST_REDIS_URL:
        env["REDIS_URL"] = TEST_REDIS_URL
    # The API's protocol tests need POST endpoints of their own (tests/api/probe.py).
    application = create_app(env=env, overrides={"API_EXTRA_BLUEPRINTS": ("tests.api.probe:bp",)})
    application.test_client_class = IsolatedClient
    with application.app_context():
        if db.engine.dialect.name == "postgresql":
            with db.engine.begin() as conn:
                conn.execute(sa.text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
        flask_migrate.upgrade()
        db.session.remove()
    if TEST_REDIS_URL:
        from participation.core.jobs import redis_connection

        redis_connection(TEST_REDIS_URL).flushdb()
    return application


@pytest.fixture(autouse=True)
def db_session(app, request):
    """The test's session, joined into an outer transaction that is rolled back afterwards."""
    ctx = app.app_context()
    ctx.push()
    limiter.reset()
    cache.clear_all()  # nothing cached from another test's rolled-back data
    if request.node.get_closest_marker("committed"):
        yield db.session
        db.session.remove()
        _empty_all_tables()
        ctx.pop()
        return
    connection = db.engine.connect()
    outer = connection.begin()
    db.session.remove()
    db.session.configure(bind=connection, join_transaction_mode="create_savepoint")
    try:
        yield db.session
    finally:
        db.session.remove()
        db.session.configure(bind=None, join_transaction_mode="conditional_savepoint")
        outer.rollback()
        connection.close()
        ctx.pop()


def _empty_all_tables() -> None:
    """After a test that really committed (concurrency tests): delete every row."""
    tables = [t.name for t in reversed(db.metadata.sorted_tables)]
    with db.engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(sa.text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
            return
        conn.execute(sa.text("DROP TRIGGER IF EXISTS audit_log_no_delete"))
        for name in tables:
            conn.execute(sa.text(f"DELETE FROM {name}"))
        conn.execute(
            sa.text(
                "CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log "
                "BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END"
            )
        )


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def run_jobs(app):
    """Run what was queued. Without Redis jobs already ran after the commit; with Redis a
    worker in this process drains the queues (jobs then share the test's transaction)."""

    def _run() -> None:
        if not app.config["REDIS_URL"]:
            return
        from rq import Queue, SimpleWorker

        from participation.core.jobs import redis_connection

        conn = redis_connection(app.config["REDIS_URL"])
        queues = [Queue(name, connection=conn) for name in app.config["RQ_QUEUES"]]
        SimpleWorker(queues, connection=conn).work(burst=True)

    return _run


def pytest_configure(config):
    config.addinivalue_line("markers", "committed: the test commits for real (no rollback)")
