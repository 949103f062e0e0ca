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
