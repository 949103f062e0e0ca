"""/api/v1 core endpoints (the category tree, the key's own card) and the documentation page."""

from __future__ import annotations

from flask import Blueprint, render_template, url_for

from participation.api.auth import key_principal, require_key
from participation.api.openapi import ApiBlueprint
from participation.api.presenters import category_tree, key_card
from participation.api.problems import problem_types
from participation.api.schemas import CategoriesQuery, CategoryTreeOut, KeyCardOut

bp = ApiBlueprint(
    "api_core",
    __name__,
    url_prefix="/api/v1",
    description="Справочники и сведения о ключе",
)

# The human documentation (HTML, not part of the OpenAPI document itself).
docs_bp = Blueprint("api_docs", __name__, url_prefix="/api/v1")


@bp.route("/categories")
@bp.etag
@bp.arguments(CategoriesQuery, location="query", as_kwargs=True)
@bp.response(200, CategoryTreeOut)
def categories(region: int | None = None):
    """Категории и подкатегории сообщений с признаком фаст-трека

    Открытый справочник (без ключа). С параметром `region` признак фаст-трека и срок ответа
    учитывают настройки региона этой территории. Поддерживает ETag / If-None-Match.
    """
    return category_tree(region)


@bp.route("/me")
@require_key()
@bp.etag
@bp.response(200, KeyCardOut)
def me():
    """Ключ, которым выполнен запрос: организация, области доступа, технический сотрудник"""
    return key_card(key_principal().key)


@docs_bp.get("/docs")
def docs():
    return render_template(
        "api/docs.html",
        spec_url=url_for("api-docs.openapi_json"),
        problems=problem_types(),
    )
