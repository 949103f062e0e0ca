"""Test helpers shared by features: log in without the ESIA flow, read a page's CSRF token,
count the SQL statements a request sends."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import event

from participation.auth.sessions import LOGIN_AT, SEEN_AT

_CSRF = re.compile(r'name="csrf_token"(?: type="hidden")? value="([^"]+)"')


def login_as(client, user) -> None:
    """Put `user` in the client's session as Flask-Login would after start_session()."""
    now = int(time.time())
    with client.session_transaction() as session:
        session["_user_id"] = user.get_id()
        session["_fresh"] = True
        session[LOGIN_AT] = now
        session[SEEN_AT] = now


def csrf_token(client, url: str) -> str:
    """GET `url` and return the CSRF token of its first form."""
    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    match = _CSRF.search(response.get_data(as_text=True))
    assert match, f"no csrf_token on {url}"
    return match.group(1)


@contextmanager
def count_statements(engine) -> Iterator[list[str]]:
    """The SQL statements sent through `engine` inside the block (savepoints of the tests'
    outer transaction excluded: production has none)."""
    sent: list[str] = []

    def record(_conn, _cursor, statement, *_args) -> None:
        if not statement.lstrip().upper().startswith(("SAVEPOINT", "RELEASE SAVEPOINT")):
            sent.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield sent
    finally:
        event.remove(engine, "before_cursor_execute", record)
