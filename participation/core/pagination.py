"""Pagination in SQL: one COUNT and one LIMIT/OFFSET query per page."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from flask import request

from participation.extensions import db

PAGE_SIZES = (10, 50, 100)


@dataclass
class Page:
    items: list[Any]
    number: int
    size: int
    total: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.size))

    @property
    def has_prev(self) -> bool:
        return self.number > 1

    @property
    def has_next(self) -> bool:
        return self.number < self.pages


def _arg_int(name: str, default: int) -> int:
    raw = request.args.get(name, "")
    return int(raw) if raw.isdecimal() and int(raw) > 0 else default


def paginate(query: sa.Select, default_size: int = 10, sizes: tuple[int, ...] = PAGE_SIZES) -> Page:
    """Run `query` for the page named in ?page=&size= (sizes outside `sizes` fall back)."""
    size = _arg_int("size", default_size)
    if size not in sizes and size != default_size:
        size = default_size
    number = _arg_int("page", 1)
    total = db.session.scalar(
        sa.select(sa.func.count()).select_from(query.order_by(None).subquery())
    )
    number = min(number, max(1, -(-total // size)))
    items = list(db.session.scalars(query.limit(size).offset((number - 1) * size)))
    return Page(items=items, number=number, size=size, total=total or 0)
