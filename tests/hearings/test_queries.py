"""Hot pages run a fixed number of queries, however long the draft and however many remarks."""

from __future__ import annotations

from contextlib import contextmanager
from datetime import timedelta

import pytest
from sqlalchemy import event

from participation.extensions import db
from participation.hearings import services
from tests.hearings.conftest import OPENS_ON, local, paragraph, travel
from tests.helpers import login_as

IN_WINDOW = local(OPENS_ON + timedelta(days=2))


@contextmanager
def count_queries():
    statements: list[str] = []

    def _count(_conn, _cursor, statement, *_args):
        if not statement.lstrip().upper().startswith(("SAVEPOINT", "RELEASE", "ROLLBACK TO")):
            statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", _count)
    try:
        yield statements
    finally:
        event.remove(db.engine, "before_cursor_execute", _count)


def _long_draft(sections: int, per_section: int) -> str:
    lines = []
    for s in range(1, sections + 1):
        lines.append(f"Раздел {s}. Раздел номер {s}")
        lines += [f"{s}.{p}. Текст пункта {s}.{p}." for p in range(1, per_section + 1)]
    return "\n".join(lines)


def _with_remarks(make_hearing, world, sections, per_section, remarks):
    hearing = make_hearing(
        draft_text=_long_draft(sections, per_section), title=f"Проект {sections}"
    )
    users = [world.resident, world.resident2, world.outsider, world.legal_rep]
    for i in range(remarks):
        remark = services.submit_remark(
            hearing,
            users[i % len(users)],
            text=f"Замечание {i}",
            kind="remark",
            paragraph_id=paragraph(hearing, f"1.{i % per_section + 1}").id,
            client_token=None,
            now=IN_WINDOW,
        )
        services.moderate_remark(remark, world.organizer, publish=True, now=IN_WINDOW)
    return hearing


@pytest.mark.parametrize("page", ["show", "paragraph", "index"])
def test_hot_pages_do_not_grow_with_the_draft_or_the_remarks(client, make_hearing, world, page):
    small = _with_remarks(make_hearing, world, sections=1, per_section=3, remarks=1)
    large = _with_remarks(make_hearing, world, sections=8, per_section=12, remarks=12)
    counts = []
    with travel(IN_WINDOW):
        login_as(client, world.resident)
        for hearing in (small, large):
            url = {
                "show": f"/hearings/{hearing.id}",
                "paragraph": f"/hearings/{hearing.id}/paragraphs/{paragraph(hearing, '1.1').id}",
                "index": "/hearings/",
            }[page]
            client.get(url)  # warm up the session and caches
            with count_queries() as statements:
                assert client.get(url).status_code == 200
            counts.append(len(statements))
    assert counts[0] == counts[1], counts
    assert 0 < counts[1] <= 20, counts
