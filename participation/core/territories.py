"""Territories: the OKTMO tree from the country down to settlements, each with a time zone."""

from __future__ import annotations

import enum
from datetime import datetime
from decimal import Decimal
from typing import NamedTuple
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from participation.core.cache import KeyedCached
from participation.core.db import Base, str_enum
from participation.extensions import db


class TerritoryLevel(enum.StrEnum):
    COUNTRY = "country"
    REGION = "region"
    MUNICIPAL_DISTRICT = "municipal_district"
    URBAN_OKRUG = "urban_okrug"
    SETTLEMENT = "settlement"


class Territory(Base):
    __tablename__ = "territories"

    id: Mapped[int] = mapped_column(primary_key=True)
    oktmo: Mapped[str] = mapped_column(sa.String(11), unique=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    level: Mapped[TerritoryLevel] = mapped_column(str_enum(TerritoryLevel, "level"))
    parent_id: Mapped[int | None] = mapped_column(sa.ForeignKey("territories.id"), index=True)
    timezone: Mapped[str] = mapped_column(sa.String(64))
    # Geometry (participation.geo): the administrative centre's point, WGS 84 degrees, and the
    # boundary imported from GeoJSON (`flask geo import-boundaries`), a GeoJSON geometry
    # (Polygon / MultiPolygon) as text; deferred, as it can be large. `boundary_updated_at`
    # changes with it: the per-process cache of parsed shapes is keyed by it.
    latitude: Mapped[Decimal | None] = mapped_column(sa.Numeric(9, 6))
    longitude: Mapped[Decimal | None] = mapped_column(sa.Numeric(9, 6))
    boundary_geojson: Mapped[str | None] = mapped_column(sa.Text, deferred=True)
    boundary_updated_at: Mapped[datetime | None]

    parent: Mapped[Territory | None] = relationship(remote_side=[id])

    __table_args__ = (
        sa.CheckConstraint("length(oktmo) IN (2, 8, 11)", name="oktmo_length"),
        sa.CheckConstraint(
            "(level = 'country') = (parent_id IS NULL)", name="only_country_is_root"
        ),
        sa.CheckConstraint("(latitude IS NULL) = (longitude IS NULL)", name="centre_both_or_none"),
        sa.CheckConstraint("latitude IS NULL OR latitude BETWEEN -90 AND 90", name="latitude"),
        sa.CheckConstraint("longitude IS NULL OR longitude BETWEEN -180 AND 180", name="longitude"),
        sa.CheckConstraint(
            "(boundary_geojson IS NULL) = (boundary_updated_at IS NULL)",
            name="boundary_stamped",
        ),
    )

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def ancestors(self) -> list[Territory]:
        """This territory's chain upwards, nearest first (itself excluded)."""
        chain, node = [], self.parent
        while node is not None:
            chain.append(node)
            node = node.parent
        return chain

    def region(self) -> Territory | None:
        """The субъект РФ this territory belongs to (itself if it is one)."""
        for node in [self, *self.ancestors()]:
            if node.level == TerritoryLevel.REGION:
                return node
        return None

    def is_within(self, other: Territory) -> bool:
        """True when this territory is `other` or lies inside it."""
        return self.id == other.id or any(a.id == other.id for a in self.ancestors())


def territory_by_oktmo(oktmo: str) -> Territory | None:
    """The territory with this OKTMO code, if any."""
    return db.session.scalar(sa.select(Territory).where(Territory.oktmo == oktmo))


class Link(NamedTuple):
    """One territory of a chain upwards, as plain values."""

    id: int
    level: TerritoryLevel
    timezone: str


def _chain(session, territory_id: int) -> tuple[Link, ...]:
    chain: list[Link] = []
    node = session.get(Territory, territory_id)
    while node is not None:
        chain.append(Link(node.id, node.level, node.timezone))
        node = node.parent
    return tuple(chain)


_CHAINS = KeyedCached("core.territory_chain", _chain, watch=(Territory,), max_keys=4096)


def territory_chain(territory_id: int) -> tuple[Link, ...]:
    """The territory and its ancestors, nearest first (empty if there is no such territory):
    kept per process, for checks on hot paths that would otherwise walk the tree by queries."""
    return _CHAINS.get(db.session, territory_id)
