"""Multipart bodies on API blueprints: text fields and files read by one schema.

flask-smorest documents one request body per operation, and webargs reads form fields and files
from two locations. The "multipart" location reads both (a `CombinedMultiDict`), so one schema
describes the whole multipart/form-data body in the OpenAPI document, refuses unknown fields
like every other location (ApiParser), and answers 415 to any other content type.
"""

from __future__ import annotations

from typing import Any, ClassVar

import marshmallow as ma
from flask_babel import gettext as _
from werkzeug.datastructures import CombinedMultiDict

from participation.api.openapi import ApiBlueprint, ApiParser
from participation.api.problems import Problem

MULTIPART = "multipart/form-data"


class MultipartParser(ApiParser):
    """ApiParser with the "multipart" location (form fields and files together)."""

    __location_map__: ClassVar[dict[str, Any]] = {
        **ApiParser.__location_map__,
        "multipart": "load_multipart",
    }
    DEFAULT_UNKNOWN_BY_LOCATION: ClassVar[dict[str, str | None]] = {
        **ApiParser.DEFAULT_UNKNOWN_BY_LOCATION,
        "multipart": ma.RAISE,
    }

    def load_multipart(self, req: Any, schema: ma.Schema) -> Any:
        return self._makeproxy(CombinedMultiDict([req.form, req.files]), schema)

    def _load_location_data(self, *, schema: Any, req: Any, location: str) -> Any:
        if location == "multipart" and req.mimetype != MULTIPART:
            raise Problem(
                415,
                _("Ожидается Content-Type: %(types)s.", types=MULTIPART),
                headers={"Accept-Post": MULTIPART} if req.method == "POST" else None,
            )
        return super()._load_location_data(schema=schema, req=req, location=location)


class MultipartApiBlueprint(ApiBlueprint):
    """An ApiBlueprint whose views may take `@bp.arguments(Schema, location="multipart")`."""

    ARGUMENTS_PARSER = MultipartParser()
    DEFAULT_LOCATION_CONTENT_TYPE_MAPPING: ClassVar[dict[str, str]] = {
        **ApiBlueprint.DEFAULT_LOCATION_CONTENT_TYPE_MAPPING,
        "multipart": MULTIPART,
    }
