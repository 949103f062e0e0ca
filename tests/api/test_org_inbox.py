"""The organisation's inbox through the API: the staff inbox's folders, filters and rights, pages
by cursor (no repeats, no gaps while messages arrive and leave), the message card, and refusals
(a foreign message, a missing scope, an altered cursor)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from participation.appeals import services as s
from participation.appeals.inbox import Filters, load_inbox
from participation.appeals.workflow import Bucket
from participation.core.db import utcnow
from participation.extensions import db
from tests.api.sed_fixtures import headers, sed_world, to_assignment, world  # noqa: F401
from tests.appeals.conftest import submit

INBOX = "/api/v1/org/inbox"


def _walk(client, token, limit=3, between=None, **query):
    """Read the folder page by page; `between(page_no)` runs after each page (new arrivals…)."""
    seen, cursor, page_no = [], None, 0
    while True:
        args = {**query, "limit": limit, **({"cursor": cursor} if cursor else {})}
        response = client.get(INBOX, query_string=args, headers=headers(token))
        assert response.status_code == 200, response.get_json()
        body = response.get_json()
        assert len(body["items"]) <= limit
        seen.extend(item["id"] for item in body["items"])
        page_no += 1
        cursor = body["next_cursor"]
        if between is not None:
            between(page_no)
        if cursor is None:
            return seen


def test_new_folder_lists_what_the_coordinator_sees(client, sed):
    w = sed
    mine = [to_assignment(w) for _ in range(3)]
    at_moderation = submit(w)  # still with the platform's moderators: not the city's
    elsewhere = to_assignment(w, subcategory_id=w.benches.id, territory_id=w.town.id)
    db.session.commit()
    response = client.get(INBOX, headers=headers(w.token))
    assert response.status_code == 200
    body = response.get_json()
    assert body["folder"] == "new" and body["next_cursor"] is None
    ids = [item["id"] for item in body["items"]]
    assert ids == [a.id for a in mine]
    assert at_moderation.id not in ids and elsewhere.id not in ids
    first = body["items"][0]
    assert first["state"] == "assignment" and first["state_label"] == "Назначение исполнителя"
    assert first["subcategory"]["name"] == "Ямы и выбоины (тест)" and first["fast_track"]
    assert first["executor_organization"]["name"] == "Администрация г. Тестовска"
    assert first["arrival"] == "after_moderation" and first["sed"] is None
    assert first["coordination_due_at"] is not None


def test_cursor_pages_have_no_repeats_or_gaps_while_messages_arrive_and_leave(client, sed):
    w = sed
    before = [to_assignment(w) for _ in range(7)]
    db.session.commit()
    arrived, left = [], []

    def meanwhile(page_no):
        if page_no == 1:
            # One already read and one not yet read leave the folder (taken into work)…
            for appeal in (before[0], before[5]):
                s.assign_executor(appeal, w.coordinator, w.executor.id)
                left.append(appeal.id)
            # …and new ones arrive.
            arrived.extend(to_assignment(w).id for _ in range(2))
        if page_no == 2:
            arrived.append(to_assignment(w).id)
        db.session.commit()

    seen = _walk(client, w.token, limit=3, between=meanwhile)
    assert len(seen) == len(set(seen)), "a message came twice"
    expected = [a.id for a in before if a.id != before[5].id] + arrived
    assert seen == expected  # received order: the new ones at the end, none skipped
    # The folder now: what a fresh read shows, the same as the staff inbox.
    fresh = _walk(client, w.token, limit=4)
    staff = load_inbox(w.coordinator, w.city_admin, Filters(bucket=Bucket.NEW, sort="received"))
    assert fresh == [item.appeal.id for item in staff.page.items]
    assert set(fresh) == set(expected) - set(left)


@pytest.mark.parametrize("sort", ["due", "received_desc", "received"])
def test_every_sort_pages_in_the_staff_inbox_order(client, sed, sort):
    w = sed
    appeals = [to_assignment(w) for _ in range(5)]
    # Due dates not in registration order: the second message is the most urgent.
    appeals[1].answer_due_at = utcnow() + timedelta(days=1)
    appeals[1].coordination_due_at = utcnow() + timedelta(hours=12)
    appeals[3].answer_due_at = appeals[4].answer_due_at  # a tie, broken by the number
    db.session.commit()
    staff = load_inbox(w.coordinator, w.city_admin, Filters(bucket=Bucket.NEW, sort=sort, size=50))
    assert _walk(client, w.token, limit=2, sort=sort) == [i.appeal.id for i in staff.page.items]


def test_filters_are_the_staff_inbox_filters(client, sed):
    w = sed
    plain = to_assignment(w)
    found = to_assignment(w, text="Во дворе сломана скамейка и глубокая яма у подъезда № 7.")
    late = to_assignment(w)
    late.coordination_due_at = utcnow() - timedelta(days=2)
    late.answer_due_at = utcnow() - timedelta(days=1)
    db.session.commit()

    def ids(**query):
        response = client.get(INBOX, query_string=query, headers=headers(w.token))
        assert response.status_code == 200
        return [i["id"] for i in response.get_json()["items"]]

    assert ids(q="скамейка") == [found.id]
    assert ids(q=str(plain.id)) == [plain.id]
    assert ids(overdue="true") == [late.id]
    assert ids(channel="widget") == []
    assert ids(stage="after_moderation") == [plain.id, found.id, late.id]
    assert ids(stage="from_sed") == []
    s.register_in_sed(found, w.coordinator, w.city_admin, "15", utcnow().date())
    db.session.commit()
    assert ids(sed_registered="false") == [plain.id, late.id]
    assert ids(sed_registered="true") == [found.id]


def test_an_altered_cursor_or_one_of_another_query_is_refused(client, sed):
    w = sed
    for _ in range(3):
        to_assignment(w)
    db.session.commit()
    first = client.get(INBOX, query_string={"limit": 1}, headers=headers(w.token)).get_json()
    cursor = first["next_cursor"]
    assert cursor
    altered = cursor[:-2] + ("A" if cursor[-2] != "A" else "B") + cursor[-1]
    for query in (
        {"limit": 1, "cursor": altered},
        {"limit": 1, "cursor": cursor, "sort": "due"},  # another order
        {"limit": 1, "cursor": cursor, "folder": "in_work"},  # another folder
        {"limit": 1, "cursor": "не курсор"},
    ):
        response = client.get(INBOX, query_string=query, headers=headers(w.token))
        assert response.status_code == 422, query
        assert "query.cursor" in response.get_json()["errors"]
    # Another key of the same organization cannot continue this key's walk either.
    response = client.get(
        INBOX, query_string={"limit": 1, "cursor": cursor}, headers=headers(w.read_token)
    )
    assert response.status_code == 422


def test_bad_query_values_are_named(client, sed):
    w = sed
    response = client.get(
        INBOX,
        query_string={"folder": "trash", "limit": 1000, "due_before": "вчера", "extra": "1"},
        headers=headers(w.token),
    )
    assert response.status_code == 422
    errors = response.get_json()["errors"]
    assert set(errors) == {"query.folder", "query.limit", "query.due_before", "query.extra"}


def test_folders_with_counts_include_sent_to_sed(client, sed):
    w = sed
    waiting = [to_assignment(w) for _ in range(2)]
    s.assign_executor(waiting[1], w.coordinator, w.executor.id)
    s.register_in_sed(waiting[1], w.coordinator, w.city_admin, "01-15/77", utcnow().date())
    db.session.commit()
    response = client.get("/api/v1/org/inbox/folders", headers=headers(w.read_token))
    assert response.status_code == 200
    rows = {r["folder"]: r for r in response.get_json()["folders"]}
    assert rows["new"]["count"] == 1 and rows["new"]["title"] == "Новые"
    assert rows["in_work"]["count"] == 1
    assert rows["sed_in_work"] == {
        "folder": "sed_in_work",
        "title": "Отправлено в СЭД: в работе",
        "count": 1,
        "capped": False,
        "group": "Отправлено в СЭД",
    }
    assert rows["sed_answered"]["count"] == 0


def test_the_card_shows_what_the_staff_card_shows(client, sed):
    w = sed
    appeal = to_assignment(w)
    db.session.commit()
    response = client.get(f"/api/v1/org/messages/{appeal.id}", headers=headers(w.token))
    assert response.status_code == 200
    card = response.get_json()
    assert card["number"] == appeal.number and card["text"] == appeal.text
    assert card["applicant"] == {"name": w.resident.full_name, "phone": None}
    assert card["holder_organization"]["name"] == "Администрация г. Тестовска"
    assert [e["action"] for e in card["history"]] == ["submit", "accept", "confirm"]
    assert card["history"][1]["label"] == "Модератор принял сообщение"
    assert [a["action"] for a in card["actions"]] == ["assign", "redirect"]
    assert card["actions"][0]["path"] == f"/api/v1/org/messages/{appeal.id}/assign"
    # A read-only key is a curator: it sees the card, and may do nothing with it.
    read = client.get(f"/api/v1/org/messages/{appeal.id}", headers=headers(w.read_token))
    assert read.status_code == 200 and read.get_json()["actions"] == []
    # Reads carry an ETag; the same card again is a 304.
    again = client.get(
        f"/api/v1/org/messages/{appeal.id}",
        headers=headers(w.token, **{"If-None-Match": response.headers["ETag"]}),
    )
    assert again.status_code == 304


def test_a_foreign_or_unknown_message_is_404(client, sed):
    w = sed
    theirs = to_assignment(w, subcategory_id=w.benches.id, territory_id=w.town.id)
    db.session.commit()
    for appeal_id in (theirs.id, 2**31 - 1):
        response = client.get(f"/api/v1/org/messages/{appeal_id}", headers=headers(w.token))
        assert response.status_code == 404, appeal_id
        assert response.mimetype == "application/problem+json"
    # The town's own key does see its message.
    mine = client.get(f"/api/v1/org/messages/{theirs.id}", headers=headers(w.town_token))
    assert mine.status_code == 200


def test_a_key_without_the_scope_is_403(client, sed):
    w = sed
    appeal = to_assignment(w)
    db.session.commit()
    for url in (INBOX, "/api/v1/org/inbox/folders", f"/api/v1/org/messages/{appeal.id}"):
        response = client.get(url, headers=headers(w.stat_token))
        assert response.status_code == 403, url
        body = response.get_json()
        assert body["type"].endswith("#problem-insufficient-scope")
        assert "messages:read" in body["detail"]
    assert client.get(INBOX).status_code == 401


def test_an_inbox_page_runs_a_bounded_number_of_queries(client, sed):
    from sqlalchemy import event

    w = sed

    def queries_for_page() -> int:
        statements = []

        def count(conn, cursor, statement, *args):
            statements.append(statement)

        event.listen(db.engine, "before_cursor_execute", count)
        try:
            response = client.get(INBOX, query_string={"limit": 100}, headers=headers(w.token))
        finally:
            event.remove(db.engine, "before_cursor_execute", count)
        assert response.status_code == 200
        return len(statements)

    for _ in range(2):
        to_assignment(w)
    db.session.commit()
    queries_for_page()  # the key's first use of the minute stamps it (not counted below)
    few = queries_for_page()
    for i in range(20):
        appeal = to_assignment(w)
        if i % 3 == 0:  # registered lines show the СЭД organization too
            s.register_in_sed(appeal, w.coordinator, w.city_admin, f"q-{i}", utcnow().date())
    db.session.commit()
    many = queries_for_page()
    assert many == few, "the number of queries must not grow with the rows shown"
    assert many <= 10, many  # the key, its member, organization, territory, roles; the page
