"""What every part of the API answers with (refs, files, pages); the core endpoints' answers."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from participation.api.models import ApiKey
from participation.appeals.classifier import (
    categories_with_subcategories,
    fast_track_subcategory_ids,
    term_days,
)
from participation.core.errors import FieldError
from participation.core.files import Attachment
from participation.core.organizations import Organization
from participation.core.territories import Territory
from participation.extensions import db


def named(row: Any) -> dict[str, Any]:
    """`{id, name}` of a territory, topic or organization (its display name)."""
    name = row.display_name if isinstance(row, Organization) else row.name
    return {"id": row.id, "name": name}


def file_item(attachment: Attachment, url: str) -> dict[str, Any]:
    """A stored file as the API lists it; `url` downloads it with the same credentials."""
    return {
        "id": attachment.public_id,
        "name": attachment.original_name,
        "content_type": attachment.content_type,
        "size": attachment.size,
        "url": url,
    }


def rows_and_total(query: sa.Select, page: int, size: int) -> tuple[list[Any], int]:
    """Page `page` (from 1) of `query`'s rows, and the count of all its rows."""
    total = db.session.scalar(
        sa.select(sa.func.count()).select_from(query.order_by(None).subquery())
    )
    rows = list(db.session.scalars(query.limit(size).offset((page - 1) * size)).unique())
    return rows, total or 0


def vote_object(obj: Any) -> dict[str, Any]:
    """A voting object (a project on the ballot) without its district."""
    return {
        "id": obj.id,
        "number": obj.number,
        "title": obj.title,
        "description": obj.description,
        "address": obj.address,
        "latitude": obj.latitude,
        "longitude": obj.longitude,
        "cost": obj.cost,
    }


def category_tree(territory_id: int | None) -> dict[str, Any]:
    """Active categories and subcategories; fast-track as set for the territory's region."""
    region = None
    if territory_id is not None:
        territory = db.session.get(Territory, territory_id)
        if territory is None:
            raise FieldError("region", _l("Территория не найдена."))
        region = territory.region()
    fast = fast_track_subcategory_ids(region)
    days = {True: term_days(True), False: term_days(False)}
    return {
        "region_id": region.id if region is not None else None,
        "categories": [
            {
                "id": category.id,
                "code": category.code,
                "name": category.name,
                "subcategories": [
                    {
                        "id": sub.id,
                        "code": sub.code,
                        "name": sub.name,
                        "fast_track": sub.id in fast,
                        "answer_days": days[sub.id in fast],
                    }
                    for sub in subcategories
                ],
            }
            for category, subcategories in categories_with_subcategories()
        ],
    }


def key_card(key: ApiKey) -> dict[str, Any]:
    """The key, its organization and its technical member, as GET /me shows them."""
    organization = key.organization
    return {
        "key": {
            "id": key.id,
            "name": key.name,
            "prefix": key.prefix,
            "scopes": sorted(key.scopes.split()),
            "expires_at": key.expires_at,
            "last_used_at": key.last_used_at,
        },
        "organization": {
            "id": organization.id,
            "name": organization.display_name,
            "kind": organization.kind.value,
        },
        "member": {
            "id": key.user.id,
            "name": key.user.full_name,
            "roles": sorted(r.value for r in key.user.roles_in(organization.id)),
        },
    }
