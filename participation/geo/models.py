"""What a region decides about its public map of problems (off until its curator turns it on)."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from participation.core.db import Base, utcnow


class RegionMapSettings(Base):
    """One row per region once its curator has saved the form; no row means both are off."""

    __tablename__ = "geo_region_map_settings"

    id: Mapped[int] = mapped_column(primary_key=True)
    territory_id: Mapped[int] = mapped_column(sa.ForeignKey("territories.id"), unique=True)
    # The public page and its open data endpoint answer 404 while this is off.
    public_map: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    # The message's text and address on the public map (personal data masked) — off by default.
    publish_texts: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))

    def __repr__(self) -> str:
        return (
            f"<RegionMapSettings region={self.territory_id} map={self.public_map} "
            f"texts={self.publish_texts}>"
        )
