"""The schema comes from migrations only: one head, and models and migrations agree."""

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask_migrate import Migrate

from participation.core import audit
from participation.extensions import db


def test_there_is_one_alembic_head(app):
    config = app.extensions["migrate"].migrate.get_config(app.extensions["migrate"].directory)
    assert len(ScriptDirectory.from_config(config).get_heads()) == 1


def test_models_and_migrations_agree(app, db_session):
    assert isinstance(app.extensions["migrate"].migrate, Migrate)
    context = MigrationContext.configure(db_session.connection(), opts={"compare_type": True})
    assert compare_metadata(context, db.metadata) == []


def test_audit_log_is_append_only_in_the_database(db_session):
    audit.record("test.event", object_type="thing", object_id=1)
    db_session.flush()
    with pytest.raises(sa.exc.DatabaseError, match="append-only"), db_session.begin_nested():
        db_session.execute(sa.text("UPDATE audit_log SET action = 'forged'"))
    with pytest.raises(sa.exc.DatabaseError, match="append-only"), db_session.begin_nested():
        db_session.execute(sa.text("DELETE FROM audit_log"))


def test_upgrading_a_sqlite_database_with_data_keeps_every_row(tmp_path):
    """`make run` upgrades the database it made last time: a migration that rebuilds a table
    others refer to (territories in 0020, messages in 0019) must neither fail nor cascade."""
    import flask_migrate

    from participation import create_app

    app = create_app(
        env={
            "PARTICIPATION_ENV": "testing",
            "SECRET_KEY": "test-secret-key-" + "x" * 32,
            "DATABASE_URL": f"sqlite:///{tmp_path / 'old.sqlite3'}",
        }
    )
    with app.app_context():
        flask_migrate.upgrade(revision="0018")
        with db.engine.begin() as conn:
            conn.exec_driver_sql(
                "INSERT INTO territories (id, oktmo, name, level, parent_id, timezone) VALUES "
                "(1, '00', 'Россия', 'country', NULL, 'Europe/Moscow'), "
                "(2, '80', 'Башкортостан', 'region', 1, 'Asia/Yekaterinburg')"
            )
        flask_migrate.upgrade()
        with db.engine.connect() as conn:
            assert conn.exec_driver_sql("SELECT count(*) FROM territories").scalar() == 2
            head = ScriptDirectory.from_config(
                app.extensions["migrate"].migrate.get_config(app.extensions["migrate"].directory)
            ).get_current_head()
            assert conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalar() == head
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        db.engine.dispose()
