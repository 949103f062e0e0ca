"""What the database can hold: ids in URLs and query strings, and text without NUL bytes.

PostgreSQL refuses an `integer` parameter above 2**31 - 1 and any text containing NUL with an
error, which would be a 500; here such input is turned away before it reaches a query:
`<int:...>` in every rule only matches ids 1..2**31 - 1 (`<bigid:...>` for BIGINT keys), a
path segment with NUL matches no rule (404), a query string with NUL is a 400, and
`arg_id()` reads an id from the query string or a form the same way.
"""

from __future__ import annotations

from flask import Flask, abort, request
from flask_babel import lazy_gettext as _l
from werkzeug.routing import IntegerConverter, UnicodeConverter

DB_INT_MIN = -(2**31)
DB_INT_MAX = 2**31 - 1
DB_BIGINT_MAX = 2**63 - 1
NUL_REFUSED = _l("Текст содержит недопустимый символ.")


def fits_db_int(value: int) -> bool:
    """`value` fits PostgreSQL's `integer` column."""
    return DB_INT_MIN <= value <= DB_INT_MAX


class IdConverter(IntegerConverter):
    """Replaces Flask's `int`: an id 1..2**31 - 1; any other number matches no rule (404)."""

    def __init__(self, map, fixed_digits=0, min=1, max=DB_INT_MAX, signed=False):
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=max, signed=signed)


class BigIdConverter(IdConverter):
    """`<bigid:...>`, for BIGINT keys: an id 1..2**63 - 1."""

    def __init__(self, map, fixed_digits=0, min=1, max=DB_BIGINT_MAX, signed=False):
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=max, signed=signed)


class TextConverter(UnicodeConverter):
    """Replaces the default `string`: a path segment with a NUL byte matches no rule (404)."""

    def __init__(self, map, minlength=1, maxlength=None, length=None):
        super().__init__(map, minlength=minlength, maxlength=maxlength, length=length)
        self.regex = self.regex.replace("[^/]", r"[^/\x00]")


def parse_id(raw: str | None) -> int | None:
    """`raw` as an id a key column can hold (1..2**31 - 1), else None."""
    if not raw or not (raw.isascii() and raw.isdigit()):
        return None
    value = int(raw)
    return value if value <= DB_INT_MAX and value > 0 else None


def arg_id(name: str, source=None) -> int | None:
    """The id in the request's `name` parameter (query string unless `source` is given)."""
    return parse_id((request.args if source is None else source).get(name))


def _refuse_nul_in_query() -> None:
    if any("\x00" in key or "\x00" in value for key, value in request.args.items(multi=True)):
        abort(400)


def register_input_limits(app: Flask) -> None:
    """Bounded converters (before any blueprint adds its rules) and the query-string check."""
    app.url_map.converters.update(
        int=IdConverter, bigid=BigIdConverter, default=TextConverter, string=TextConverter
    )
    app.before_request(_refuse_nul_in_query)
