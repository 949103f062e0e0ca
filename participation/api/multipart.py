"""multipart/form-data bodies for the API: fields and files read as one body, files as Upload.

flask-smorest documents one request body per operation, and webargs reads fields ("form") and
files ("files") from separate locations. `MultipartApiBlueprint` adds one more location,
"multipart": the form's fields and its files together, validated by one schema (unknown names
refused, as everywhere in the API), documented as one multipart/form-data body. Another
content type is a 415. Files come as `Upload` fields (werkzeug FileStorage objects); their
content and size are checked by the service that stores them (core.files), not here.
"""

from __future__ import annotations

from typing import Any, ClassVar

import marshmallow as ma
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from webargs.multidictproxy import MultiDictProxy
from werkzeug.datastructures import CombinedMultiDict, FileStorage

from participation.api.openapi import ApiBlueprint, ApiParser
from participation.api.problems import Problem

MULTIPART = "multipart/form-data"


class Upload(ma.fields.Field):
    """One uploaded file of a multipart body (documented as a binary string)."""

    default_error_messages: ClassVar[dict[str, Any]] = {
        "invalid": _l("Ожидается файл (часть multipart/form-data с именем файла)."),
    }

    def __init__(self, **kwargs: Any) -> None:
        metadata = {"type": "string", "format": "binary", **kwargs.pop("metadata", {})}
        super().__init__(metadata=metadata, **kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> FileStorage:
        if not isinstance(value, FileStorage) or not value.filename:
            raise self.make_error("invalid")
        return value


class MultipartParser(ApiParser):
    """ApiParser with the "multipart" location (fields and files of one form body)."""

    __location_map__: ClassVar[dict[str, Any]] = {
        **ApiParser.__location_map__,
        "multipart": "load_multipart",
    }
    DEFAULT_UNKNOWN_BY_LOCATION: ClassVar[dict[str, str | None]] = {
        **ApiParser.DEFAULT_UNKNOWN_BY_LOCATION,
        "multipart": ma.RAISE,
    }

    def load_multipart(self, req: Any, schema: ma.Schema) -> MultiDictProxy:
        """The form's fields and files as one multi-dict (a name may repeat: file lists)."""
        if req.mimetype != MULTIPART:
            raise Problem(
                415,
                _("Ожидается Content-Type: %(types)s.", types=MULTIPART),
                headers={"Accept-Post": MULTIPART} if req.method == "POST" else None,
            )
        return MultiDictProxy(CombinedMultiDict([req.form, req.files]), schema)


class MultipartApiBlueprint(ApiBlueprint):
    """An API blueprint whose operations may take `location="multipart"` bodies."""

    ARGUMENTS_PARSER = MultipartParser()
    DEFAULT_LOCATION_CONTENT_TYPE_MAPPING: ClassVar[dict[str, str]] = {
        **ApiBlueprint.DEFAULT_LOCATION_CONTENT_TYPE_MAPPING,
        "multipart": MULTIPART,
    }
