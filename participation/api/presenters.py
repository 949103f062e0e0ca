"""What the core endpoints answer: the category tree with fast-track flags, a key's card."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l

from participation.api.models import ApiKey
from participation.appeals.classifier import (
    categories_with_subcategories,
    fast_track_subcategory_ids,
    term_days,
)
from participation.core.errors import FieldError
from participation.core.territories import Territory
from participation.extensions import db


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
