"""Reference data kept per process (participation.core.cache): read once, dropped on change,
here at once and in other processes at their next generation check."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from participation.core import cache
from participation.core.territories import Territory, TerritoryLevel
from participation.extensions import db
from tests.helpers import count_statements


def _names(session) -> list[str]:
    return sorted(session.scalars(sa.select(Territory.name)))


@pytest.fixture
def names():
    cached = cache.Cached("test-territory-names", _names, watch=(Territory,))
    yield cached
    cache._REGISTRY.remove(cached)
    cache._WATCHED[Territory].discard("test-territory-names")


def _territory(name: str, oktmo: str) -> Territory:
    return Territory(
        name=name, oktmo=oktmo, level=TerritoryLevel.COUNTRY, timezone="Asia/Yekaterinburg"
    )


def test_read_once_then_served_from_memory(names):
    db.session.add(_territory("Башкортостан", "80000000"))
    db.session.flush()
    assert names.get(db.session) == ["Башкортостан"]
    with count_statements(db.engine) as sent:
        for _ in range(5):
            assert names.get(db.session) == ["Башкортостан"]
    assert sent == []


def test_a_change_here_is_seen_at_once(names):
    region = _territory("Башкортостан", "80000000")
    db.session.add(region)
    db.session.commit()
    assert names.get(db.session) == ["Башкортостан"]
    region.name = "Республика Башкортостан"
    db.session.commit()
    assert names.get(db.session) == ["Республика Башкортостан"]


def test_a_change_in_another_process_is_seen_after_the_check_interval(names, monkeypatch):
    region = _territory("Башкортостан", "80000000")
    db.session.add(region)
    db.session.commit()
    assert names.get(db.session) == ["Башкортостан"]
    # Another process renames it: its flush bumped the generation in the same transaction;
    # this process's hooks never ran.
    db.session.execute(
        sa.text("UPDATE territories SET name = 'Уфа-регион' WHERE id = :id"), {"id": region.id}
    )
    db.session.execute(cache._BUMP, {"name": "test-territory-names"})
    assert names.get(db.session) == ["Башкортостан"]  # within the interval: kept
    monkeypatch.setattr(cache, "CHECK_SECONDS", 0.0)
    assert names.get(db.session) == ["Уфа-регион"]


def test_a_rolled_back_change_is_not_kept(names):
    db.session.add(_territory("Башкортостан", "80000000"))
    db.session.commit()
    db.session.add(_territory("Татарстан", "92000000"))
    db.session.flush()
    assert names.get(db.session) == ["Башкортостан", "Татарстан"]  # this transaction sees it
    db.session.rollback()
    assert names.get(db.session) == ["Башкортостан"]


def _name_of(session, territory_id: int) -> str | None:
    return session.scalar(sa.select(Territory.name).where(Territory.id == territory_id))


@pytest.fixture
def name_of():
    cached = cache.KeyedCached("test-territory-name-of", _name_of, watch=(Territory,))
    yield cached
    cache._REGISTRY.remove(cached)
    cache._WATCHED[Territory].discard("test-territory-name-of")


def test_keyed_values_are_read_once_per_key(name_of):
    first, second = _territory("Башкортостан", "80000000"), _territory("Татарстан", "92000000")
    db.session.add_all([first, second])
    db.session.flush()
    assert name_of.get(db.session, first.id) == "Башкортостан"
    assert name_of.get(db.session, second.id) == "Татарстан"
    with count_statements(db.engine) as sent:
        assert name_of.get(db.session, first.id) == "Башкортостан"
        assert name_of.get(db.session, second.id) == "Татарстан"
    assert sent == []


def test_a_change_drops_every_key_at_once(name_of):
    first, second = _territory("Башкортостан", "80000000"), _territory("Татарстан", "92000000")
    db.session.add_all([first, second])
    db.session.commit()
    assert name_of.get(db.session, second.id) == "Татарстан"
    first.name = "Республика Башкортостан"  # another key's row: every key is read again
    second.name = "Республика Татарстан"
    db.session.commit()
    assert name_of.get(db.session, second.id) == "Республика Татарстан"


def test_a_generation_read_by_the_caller_is_trusted_over_the_interval(name_of):
    region = _territory("Башкортостан", "80000000")
    db.session.add(region)
    db.session.commit()
    generation = db.session.scalar(sa.select(cache.generation_of("test-territory-name-of")))
    assert name_of.get(db.session, region.id, generation) == "Башкортостан"
    # Another process renames it and bumps the generation; this process's hooks never ran.
    db.session.execute(
        sa.text("UPDATE territories SET name = 'Уфа-регион' WHERE id = :id"), {"id": region.id}
    )
    db.session.execute(cache._BUMP, {"name": "test-territory-name-of"})
    assert name_of.get(db.session, region.id) == "Башкортостан"  # within the interval: kept
    generation = db.session.scalar(sa.select(cache.generation_of("test-territory-name-of")))
    assert name_of.get(db.session, region.id, generation) == "Уфа-регион"  # the read decides


def test_a_bulk_change_is_announced_by_changed(name_of):
    region = _territory("Башкортостан", "80000000")
    db.session.add(region)
    db.session.commit()
    assert name_of.get(db.session, region.id) == "Башкортостан"
    db.session.execute(sa.update(Territory).where(Territory.id == region.id).values(name="Уфа"))
    cache.changed(db.session, Territory)
    db.session.commit()
    assert name_of.get(db.session, region.id) == "Уфа"
