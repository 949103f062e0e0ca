"""Reference data kept per process: read from the database once, dropped when it changes.

Hot paths (a message's submission, a ballot, a survey's answer) read data that staff change
rarely: the topic tree, routing rules, a survey's questions. A `Cached` value is built by its
loader from the database and kept in the process until one of the models it watches changes:

  - in the process that makes the change, at once (the flush that writes the change drops it);
  - in every other process at its next check of the name's generation, at most
    CHECK_SECONDS later: the same flush bumps the generation in `cache_generations` in the
    change's own transaction, and a reader compares it with the one it loaded under (one
    primary-key read per name and process per interval).

A loader returns plain values (tuples, dataclasses, dicts), never ORM objects: the value is
shared by the process's threads and outlives the session that read it.

`Kept` holds values that can no longer change once stored (a vote's objects after its first
ballot): no generation to check, only a bound on how many are kept.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Generic, TypeVar

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.orm import Mapped, Session, mapped_column

from participation.core.db import Base

T = TypeVar("T")
K = TypeVar("K")
CHECK_SECONDS = 1.0

_GENERATION = sa.text("SELECT generation FROM cache_generations WHERE name = :name")
_BUMP = sa.text(
    "INSERT INTO cache_generations (name, generation) VALUES (:name, 1) "
    "ON CONFLICT (name) DO UPDATE SET generation = cache_generations.generation + 1"
)


class CacheGeneration(Base):
    """How many times the data behind a cached name has changed."""

    __tablename__ = "cache_generations"

    name: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    generation: Mapped[int] = mapped_column(sa.BigInteger)


class Cached(Generic[T]):
    """A value `loader(session)` computes, kept until a model in `watch` changes."""

    def __init__(self, name: str, loader: Callable[[Session], T], watch: tuple[type, ...]):
        self.name = name
        self.loader = loader
        self._lock = threading.Lock()
        self._value: tuple[int, T] | None = None  # (generation, value)
        self._checked_at = 0.0
        _REGISTRY.append(self)
        for model in watch:
            _WATCHED.setdefault(model, set()).add(name)

    def get(self, session: Session) -> T:
        """The value, loaded (or reloaded after a change) through `session` when needed."""
        now = time.monotonic()
        held = self._value
        if held is not None and now - self._checked_at < CHECK_SECONDS:
            return held[1]
        generation = session.connection().execute(_GENERATION, {"name": self.name}).scalar() or 0
        if held is not None and held[0] == generation:
            self._checked_at = now
            return held[1]
        value = self.loader(session)
        with self._lock:
            self._value, self._checked_at = (generation, value), now
        return value

    def clear(self) -> None:
        with self._lock:
            self._value = None


class KeyedCached(Generic[K, T]):
    """Values `loader(session, key)` computes one key at a time (a survey's questions, an
    event's settings), all dropped together when a model in `watch` changes.

    A caller that has just read the name's generation itself, in a statement it needed anyway
    (see `generation_of`), passes it: the value is then exactly as current as that read, with
    no check of its own. A loader that reads the generation along with its data (`loads_generation`)
    returns (value, generation or None): a value read anew then costs no separate read.
    """

    def __init__(
        self,
        name: str,
        loader: Callable[[Session, K], T],
        watch: tuple[type, ...],
        max_keys: int = 512,
        loads_generation: bool = False,
    ):
        self.name = name
        self.loader = loader
        self.loads_generation = loads_generation
        self.max_keys = max_keys
        self._lock = threading.Lock()
        self._generation: int | None = None
        self._values: dict[K, T] = {}
        self._checked_at = 0.0
        _REGISTRY.append(self)
        for model in watch:
            _WATCHED.setdefault(model, set()).add(name)

    def get(self, session: Session, key: K, generation: int | None = None) -> T:
        """The value for `key`, loaded (or reloaded after a change) through `session`."""
        now = time.monotonic()
        if generation is None:
            if self._generation is not None and now - self._checked_at < CHECK_SECONDS:
                generation = self._generation
            elif self.loads_generation:
                value, generation = self.loader(session, key)
                if generation is None:  # nothing found to read it along with
                    generation = (
                        session.connection().execute(_GENERATION, {"name": self.name}).scalar() or 0
                    )
                self._store(key, value, generation, now)
                return value
            else:
                generation = (
                    session.connection().execute(_GENERATION, {"name": self.name}).scalar() or 0
                )
        values = self._values
        if generation == self._generation:
            self._checked_at = now
            if key in values:
                return values[key]
        value = self.loader(session, key)
        if self.loads_generation:
            value = value[0]
        self._store(key, value, generation, now)
        return value

    def _store(self, key: K, value: T, generation: int, now: float) -> None:
        with self._lock:
            if generation != self._generation or len(self._values) >= self.max_keys:
                self._values = {}
            self._values[key] = value
            self._generation, self._checked_at = generation, now

    def clear(self) -> None:
        with self._lock:
            self._generation, self._values = None, {}

    def forget(self, key: K) -> None:
        """Drop one key's value (it no longer holds, e.g. by the clock): read again next time."""
        with self._lock:
            self._values.pop(key, None)


def generation_of(name: str) -> sa.ScalarSelect:
    """The name's generation as a column to read along with a statement a request sends anyway."""
    return sa.func.coalesce(
        sa.select(CacheGeneration.generation).where(CacheGeneration.name == name).scalar_subquery(),
        0,
    )


def changed(session: Session, model: type) -> None:
    """Tell the caches watching `model` that a bulk statement (no ORM object) changed it."""
    _bump(session, {n for w, names in _WATCHED.items() if issubclass(model, w) for n in names})


class Kept(Generic[K, T]):
    """Values by key that never change once stored, kept per process (the oldest `size`
    are dropped first). Store only after the commit that makes the value final."""

    def __init__(self, size: int = 1024):
        self.size = size
        self._values: dict[K, T] = {}
        self._lock = threading.Lock()
        _REGISTRY.append(self)

    def get(self, key: K) -> T | None:
        return self._values.get(key)

    def put(self, key: K, value: T) -> None:
        with self._lock:
            self._values[key] = value
            while len(self._values) > self.size:
                del self._values[next(iter(self._values))]

    def clear(self) -> None:
        with self._lock:
            self._values.clear()


_REGISTRY: list[Cached | KeyedCached | Kept] = []
_WATCHED: dict[type, set[str]] = {}


def clear_all() -> None:
    """Drop every cached value of this process (tests, after their rollback)."""
    for cached in _REGISTRY:
        cached.clear()


def _clear(names: set[str]) -> None:
    for cached in _REGISTRY:
        if isinstance(cached, (Cached, KeyedCached)) and cached.name in names:
            cached.clear()


def _changed_names(session: Session) -> set[str]:
    names: set[str] = set()
    for obj in (*session.new, *session.dirty, *session.deleted):
        for model, watched in _WATCHED.items():
            if isinstance(obj, model):
                names |= watched
    return names


def _bump(session: Session, names: set[str]) -> None:
    """Bump the names' generations in the session's transaction; drop them here at once."""
    if not names:
        return
    for name in sorted(names):  # one order everywhere: two editors never deadlock
        session.connection().execute(_BUMP, {"name": name})
    session.info.setdefault("cache_bumped", set()).update(names)
    _clear(names)


def _after_flush(session: Session, _context) -> None:
    _bump(session, _changed_names(session))


def _after_end(session: Session, *_args) -> None:
    # A value reloaded between the flush and the end of its transaction saw the change
    # uncommitted: committed or rolled back, it is read again.
    names = session.info.pop("cache_bumped", None)
    if names:
        _clear(names)


def watch_changes(session_class: type[Session]) -> None:
    """Install the hooks that bump generations on change (the factory calls it once)."""
    if not event.contains(session_class, "after_flush", _after_flush):
        event.listen(session_class, "after_flush", _after_flush)
        event.listen(session_class, "after_commit", _after_end)
        event.listen(session_class, "after_soft_rollback", _after_end)
