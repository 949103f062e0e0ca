"""Helpers of the open-data tests: problem bodies, CSV tables, the personal-data scan."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from contextlib import contextmanager

from tests.api.openapi_check import check_problem


def problem(response, status: int) -> dict:
    """The response is a problem+json of `status` (valid against the Problem schema)."""
    assert response.status_code == status, (response.status_code, response.get_data(as_text=True))
    from flask import current_app

    with current_app.app_context():
        return check_problem(response)


def csv_rows(response) -> list[list[str]]:
    """A CSV answer for Excel in Russian: UTF-8 with BOM, «;», CRLF — as a table."""
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    assert response.mimetype == "text/csv"
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    data = response.get_data()
    assert data.startswith(b"\xef\xbb\xbf"), data[:20]
    text = data.decode("utf-8-sig")
    assert "\r\n" in text
    return list(csv.reader(io.StringIO(text, newline=""), delimiter=";"))


def assert_no_personal_data(bodies: Iterable[str], *secrets: str) -> None:
    """None of the answers carries a name, e-mail, identifier or text of a person."""
    bodies = list(bodies)
    assert bodies and all(bodies)
    for secret in secrets:
        assert secret, "an empty secret proves nothing"
        for body in bodies:
            assert secret not in body, (secret, body[:500])


@contextmanager
def statements() -> Iterator[list[str]]:
    """The SQL statements run inside the block (to bound a page's queries)."""
    from sqlalchemy import event

    from participation.extensions import db

    seen: list[str] = []

    def before(conn, cursor, statement, parameters, context, executemany):
        seen.append(statement)

    event.listen(db.engine, "before_cursor_execute", before)
    try:
        yield seen
    finally:
        event.remove(db.engine, "before_cursor_execute", before)
