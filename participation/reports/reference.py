"""What the dashboards name and place on every page, read once per process (core.cache): the
topic tree and a region's municipalities. Staff change them rarely; a change drops them."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session

from participation.appeals.classifier import Category, Subcategory
from participation.core.cache import Cached, KeyedCached
from participation.core.territories import Territory, TerritoryLevel
from participation.extensions import db

MUNICIPAL_LEVELS = (TerritoryLevel.MUNICIPAL_DISTRICT, TerritoryLevel.URBAN_OKRUG)


@dataclass(frozen=True)
class Topics:
    categories: tuple[tuple[int, str], ...]  # in the classifier's order
    subcategories: tuple[tuple[int, str, int], ...]  # (id, name, category id), in order
    category_of: dict[int, int]
    category_name: dict[int, str]
    subcategory_name: dict[int, str]


def _load_topics(session: Session) -> Topics:
    categories = tuple(
        (i, name)
        for i, name in session.execute(
            sa.select(Category.id, Category.name).order_by(Category.position, Category.id)
        )
    )
    subcategories = tuple(
        (i, name, category)
        for i, name, category in session.execute(
            sa.select(Subcategory.id, Subcategory.name, Subcategory.category_id).order_by(
                Subcategory.category_id, Subcategory.position, Subcategory.id
            )
        )
    )
    return Topics(
        categories=categories,
        subcategories=subcategories,
        category_of={i: category for i, _name, category in subcategories},
        category_name=dict(categories),
        subcategory_name={i: name for i, name, _category in subcategories},
    )


_TOPICS = Cached("reports.topics", _load_topics, watch=(Category, Subcategory))


def topics() -> Topics:
    return _TOPICS.get(db.session)


def _load_municipalities(session: Session, region_id: int) -> tuple[tuple[int, str], ...]:
    return tuple(
        (i, name)
        for i, name in session.execute(
            sa.select(Territory.id, Territory.name)
            .where(Territory.parent_id == region_id, Territory.level.in_(MUNICIPAL_LEVELS))
            .order_by(Territory.name, Territory.id)
        )
    )


_MUNICIPALITIES = KeyedCached(
    "reports.municipalities", _load_municipalities, watch=(Territory,), max_keys=128
)


def municipalities(region_id: int) -> tuple[tuple[int, str], ...]:
    """The region's municipal districts and urban districts (id, name), by name."""
    return _MUNICIPALITIES.get(db.session, region_id)
