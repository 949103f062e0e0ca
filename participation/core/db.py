"""Declarative base, naming convention, UTC timestamps and the after-commit session."""

from __future__ import annotations

import enum
import functools
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from flask_sqlalchemy.session import Session as FlaskSession
from sqlalchemy import event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, registry

from participation.core.sqltime import sqlite_local_day

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    """The current moment, timezone-aware, in UTC."""
    return datetime.now(UTC)


class UTCDateTime(sa.types.TypeDecorator):
    """A timestamp stored in UTC and always returned timezone-aware.

    PostgreSQL keeps `timestamptz`; SQLite keeps naive UTC text. Naive values are refused
    on the way in, so local wall-clock times can never slip into the database.
    """

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: sa.Dialect) -> Any:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: sa.Dialect) -> Any:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def str_enum(enum_cls: type[enum.StrEnum], name: str) -> sa.Enum:
    """A VARCHAR column with a CHECK constraint listing the enum's values."""
    return sa.Enum(
        enum_cls,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=max(len(m.value) for m in enum_cls),
        values_callable=lambda cls: [m.value for m in cls],
        validate_strings=True,
    )


@functools.cache
def insert_unless_present(
    target: Any, conflict: tuple[str, ...], returning: Any, dialect: str
) -> sa.Insert:
    """INSERT INTO `target` … ON CONFLICT (`conflict`) DO NOTHING [RETURNING `returning`] for
    `dialect` (the session's: `db.session.get_bind().dialect.name`), built once; the values
    are the execution's parameters. The unique constraint decides — no savepoint, no SELECT
    first — and no row comes back when one was there already."""
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = insert(target).on_conflict_do_nothing(index_elements=list(conflict))
    return statement if returning is None else statement.returning(returning)


class Base(DeclarativeBase):
    registry = registry(
        metadata=sa.MetaData(naming_convention=NAMING_CONVENTION),
        type_annotation_map={datetime: UTCDateTime()},
    )

    def __repr__(self) -> str:
        ident = sa.inspect(self).identity
        return f"<{type(self).__name__} {ident[0] if ident else 'new'}>"


class TimestampMixin:
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class AppSession(FlaskSession):
    """Flask-SQLAlchemy session that runs callbacks after a successful commit.

    Jobs and e-mails must never leave before the data they refer to is committed, and must
    not leave at all if it is rolled back. `after_commit(fn)` queues `fn`; `commit()` runs the
    queue once the commit has succeeded; `rollback()` and `close()` drop it.
    """

    def get_bind(self, mapper=None, clause=None, bind=None, **kwargs):  # type: ignore[override]
        # Tests bind the session to one outer connection (SQLAlchemy's "join into an
        # external transaction" recipe); Flask-SQLAlchemy would otherwise pick the engine.
        if bind is None and self.bind is not None:
            return self.bind
        return super().get_bind(mapper=mapper, clause=clause, bind=bind, **kwargs)

    def after_commit(self, callback: Callable[[], None]) -> None:
        self.info.setdefault("after_commit", []).append(callback)

    def commit(self) -> None:
        super().commit()
        callbacks = self.info.pop("after_commit", [])
        for callback in callbacks:
            callback()

    def rollback(self) -> None:
        self.info.pop("after_commit", None)
        super().rollback()

    def close(self) -> None:
        self.info.pop("after_commit", None)
        super().close()


def configure_sqlite(engine: Engine) -> None:
    """WAL, a busy timeout, foreign keys, and real transactions for SQLite.

    pysqlite's own transaction handling defers BEGIN and breaks SAVEPOINT; we turn it off and
    emit BEGIN IMMEDIATE ourselves, so that a writer waits for the lock (busy timeout) instead
    of failing with "database is locked" when it upgrades from reading to writing.
    """

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):  # pragma: no cover - exercised by every test
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()
        dbapi_connection.create_function("local_day", 2, sqlite_local_day, deterministic=True)

    @event.listens_for(engine, "begin")
    def _on_begin(connection):
        connection.exec_driver_sql("BEGIN IMMEDIATE")
