"""marshmallow schemas of the core endpoints (categories, the key's card) and shared pieces.

Request schemas of any API blueprint refuse unknown fields (ApiParser sets RAISE), so a
plain `ma.Schema` is enough; give Russian messages where the defaults would be vague.
"""

from __future__ import annotations

import marshmallow as ma
from flask_babel import lazy_gettext as _l

# --- pieces the API's parts share ----------------------------------------------------------------


class RefOut(ma.Schema):
    """A territory, topic, organization or person referred to by number and name."""

    id = ma.fields.Integer(required=True)
    name = ma.fields.String(required=True)


class FileOut(ma.Schema):
    id = ma.fields.String(required=True, metadata={"description": "Публичный номер файла"})
    name = ma.fields.String(required=True)
    content_type = ma.fields.String(required=True)
    size = ma.fields.Integer(required=True, metadata={"description": "Байт"})
    url = ma.fields.String(
        required=True, metadata={"description": "Скачать (с тем же ключом или токеном)"}
    )


class PageOut(ma.Schema):
    """The numbers of a numbered page (the list itself is the subclass's)."""

    page = ma.fields.Integer(required=True)
    size = ma.fields.Integer(required=True)
    total = ma.fields.Integer(required=True)


# --- core endpoints ------------------------------------------------------------------------------


class CategoriesQuery(ma.Schema):
    region = ma.fields.Integer(
        strict=False,
        validate=ma.validate.Range(min=1, max=2**31 - 1, error=_l("Номер территории от 1.")),
        metadata={
            "description": (
                "Территория (регион или муниципалитет): признак фаст-трека — с учётом "
                "настроек её региона. Без параметра — федеральные значения."
            )
        },
    )


class SubcategoryOut(ma.Schema):
    id = ma.fields.Integer(required=True)
    code = ma.fields.String(required=True)
    name = ma.fields.String(required=True)
    fast_track = ma.fields.Boolean(
        required=True, metadata={"description": "Фаст-трек: ответ за сокращённый срок"}
    )
    answer_days = ma.fields.Integer(required=True, metadata={"description": "Срок ответа, дней"})


class CategoryOut(ma.Schema):
    id = ma.fields.Integer(required=True)
    code = ma.fields.String(required=True)
    name = ma.fields.String(required=True)
    subcategories = ma.fields.List(ma.fields.Nested(SubcategoryOut), required=True)


class CategoryTreeOut(ma.Schema):
    region_id = ma.fields.Integer(
        required=True, allow_none=True, metadata={"description": "Регион, чьи настройки учтены"}
    )
    categories = ma.fields.List(ma.fields.Nested(CategoryOut), required=True)


class OrganizationOut(ma.Schema):
    id = ma.fields.Integer(required=True)
    name = ma.fields.String(required=True)
    kind = ma.fields.String(required=True)


class KeyOut(ma.Schema):
    id = ma.fields.Integer(required=True)
    name = ma.fields.String(required=True)
    prefix = ma.fields.String(required=True, metadata={"description": "Начало ключа, rvk_…"})
    scopes = ma.fields.List(ma.fields.String(), required=True)
    expires_at = ma.fields.AwareDateTime(required=True)
    last_used_at = ma.fields.AwareDateTime(required=True, allow_none=True)


class MemberOut(ma.Schema):
    id = ma.fields.Integer(required=True)
    name = ma.fields.String(required=True)
    roles = ma.fields.List(ma.fields.String(), required=True)


class KeyCardOut(ma.Schema):
    key = ma.fields.Nested(KeyOut, required=True)
    organization = ma.fields.Nested(OrganizationOut, required=True)
    member = ma.fields.Nested(
        MemberOut,
        required=True,
        metadata={"description": "Технический сотрудник, от имени которого действует ключ"},
    )
