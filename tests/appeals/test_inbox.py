"""The staff inbox: buckets and counts, filters, search, sort, page sizes, bounded queries."""

import re
from datetime import timedelta

import pytest
import time_machine
from sqlalchemy import event

from participation.appeals import services as s
from participation.appeals.inbox import Filters, load_inbox
from participation.appeals.models import Channel
from participation.appeals.workflow import Bucket
from participation.core.db import utcnow
from participation.core.moderation import RejectionReason
from participation.extensions import db
from tests.appeals.conftest import submit
from tests.appeals.test_lifecycle import to_answered, to_work
from tests.helpers import login_as


def numbers(html):
    return set(map(int, re.findall(r'href="/backoffice/appeals/(\d+)"', html)))


def counts(html):
    return {
        label: int(n.replace("\u00a0", "").replace(" ", "").rstrip("+"))
        for label, n in re.findall(
            r'aria-current="page"|>\s*([А-Яа-я ]+?) <span class="count">([\d +]+)</span>', html
        )
        if label
    }


@pytest.fixture
def spread(world):
    """Messages of the city administration in every folder."""
    w = world
    new = to_work(w, submit(w))
    new.executor_id = None
    new.set_state("assignment")
    work = to_work(w, submit(w, text="Яма у дома 9 по улице Мира, глубокая, опасная для машин."))
    approval = to_work(w, submit(w))
    s.submit_draft(approval, w.executor, "Черновик")
    returned = to_work(w, submit(w))
    s.submit_draft(returned, w.executor, "Черновик")
    s.return_draft(returned, w.head, "Переписать")
    answered = to_answered(w, submit(w))
    done = to_answered(w, submit(w))
    s.rate_appeal(done, w.resident, 5)
    rejected = submit(w)
    s.reject_appeal(rejected, w.moderator, RejectionReason.UNCLEAR)
    db.session.flush()
    return {
        "new": new,
        "work": work,
        "approval": approval,
        "returned": returned,
        "answered": answered,
        "done": done,
        "rejected": rejected,
    }


def test_buckets_hold_the_right_messages_with_counts(client, world, spread):
    login_as(client, world.coordinator)
    html = client.get("/backoffice/appeals/").get_data(as_text=True)
    got = counts(html)
    assert got["Новые"] == 1 and got["В работе"] == 1 and got["На согласовании"] == 1
    assert got["Возвращены"] == 1 and got["Подготовлен ответ"] == 1 and got["Отработанные"] == 1
    assert numbers(html) == {spread["new"].id}
    expected = {
        "in_work": spread["work"],
        "approval": spread["approval"],
        "returned": spread["returned"],
        "answered": spread["answered"],
        "done": spread["done"],
    }
    for bucket, appeal in expected.items():
        html = client.get(f"/backoffice/appeals/?bucket={bucket}").get_data(as_text=True)
        assert numbers(html) == {appeal.id}, bucket
    # The moderator and the ЦУР see what they passed on, the moderator also the rejection.
    login_as(client, world.moderator)
    html = client.get("/backoffice/appeals/?bucket=redirected").get_data(as_text=True)
    assert len(numbers(html)) == 6
    html = client.get("/backoffice/appeals/?bucket=done").get_data(as_text=True)
    assert numbers(html) == {spread["rejected"].id}


def test_default_bucket_follows_the_role(client, world, spread):
    login_as(client, world.head)
    html = client.get("/backoffice/appeals/").get_data(as_text=True)
    assert numbers(html) == {spread["approval"].id}
    login_as(client, world.executor)
    html = client.get("/backoffice/appeals/").get_data(as_text=True)
    assert numbers(html) == {spread["work"].id}


def test_overdue_and_due_before_filters(client, world, spread):
    login_as(client, world.executor)
    url = "/backoffice/appeals/?bucket=in_work&overdue=1"
    assert numbers(client.get(url).get_data(as_text=True)) == set()
    with time_machine.travel(utcnow() + timedelta(days=11)):
        login_as(client, world.executor)
        html = client.get(url).get_data(as_text=True)
        assert numbers(html) == {spread["work"].id}
        assert "просрочено на 1 день" in html
    login_as(client, world.executor)  # the session stamped in the future is not trusted
    due = spread["work"].answer_due_at.astimezone(world.city.tz).date()
    before = (due - timedelta(days=1)).isoformat()
    html = client.get(f"/backoffice/appeals/?bucket=in_work&due_before={before}").get_data(
        as_text=True
    )
    assert numbers(html) == set()
    html = client.get(f"/backoffice/appeals/?bucket=in_work&due_before={due.isoformat()}").get_data(
        as_text=True
    )
    assert numbers(html) == {spread["work"].id}


def test_channel_stage_and_auto_rule_filters(world, spread):
    w = world
    widget = submit(
        w,
        channel=Channel.WIDGET,
        widget_organization_id=w.school.id,
        subcategory_id=w.marking.id,
        suggested_subcategory_id=w.marking.id,
    )
    s.change_addressee(widget, w.moderator, w.city_admin.id)
    s.accept_appeal(widget, w.moderator)
    s.confirm_addressee(widget, w.cur_coordinator)
    base = {"bucket": Bucket.NEW}
    assert _ids(w, Filters(**base)) == {spread["new"].id, widget.id}
    assert _ids(w, Filters(**base, channel=Channel.WIDGET)) == {widget.id}
    assert _ids(w, Filters(**base, auto=True)) == {spread["new"].id}
    assert _ids(w, Filters(**base, stage="after_moderation")) == {spread["new"].id, widget.id}
    assert _ids(w, Filters(**base, stage="from_non_subordinate")) == set()
    inbox = load_inbox(w.coordinator, w.city_admin, Filters(**base))
    assert inbox.channel_counts == {Channel.PORTAL: 1, Channel.WIDGET: 1}


def _ids(w, filters):
    return {item.appeal.id for item in load_inbox(w.coordinator, w.city_admin, filters).page.items}


def test_search_in_russian_text_and_by_number(world, spread):
    w = world
    hits = _ids(w, Filters(bucket=Bucket.IN_WORK, q="Мира"))
    assert hits == {spread["work"].id}
    if db.session.get_bind().dialect.name == "postgresql":
        # Russian stemming: another word form finds it.
        assert _ids(w, Filters(bucket=Bucket.IN_WORK, q="опасной ямой")) == {spread["work"].id}
    assert _ids(w, Filters(bucket=Bucket.IN_WORK, q="Тверская")) == set()
    assert _ids(w, Filters(bucket=Bucket.IN_WORK, q=str(spread["work"].id))) == {spread["work"].id}
    assert _ids(w, Filters(bucket=Bucket.IN_WORK, q="100%_")) == set()
    # A number no key can hold is searched as text only (PostgreSQL would refuse it as an id).
    assert _ids(w, Filters(bucket=Bucket.IN_WORK, q=str(10**20))) == set()
    assert _ids(w, Filters(bucket=Bucket.IN_WORK, q="²")) == set()


def test_sort_and_page_sizes(client, world):
    w = world
    appeals = []
    for i in range(12):
        with time_machine.travel(utcnow() - timedelta(hours=12 - i)):
            appeals.append(submit(w, text=f"Яма номер {i} на дороге, прошу заделать срочно."))
    login_as(client, w.moderator)
    html = client.get("/backoffice/appeals/?bucket=new").get_data(as_text=True)
    shown = [
        int(n)
        for n in re.findall(r'<h3 class="appeal-title"><a href="/backoffice/appeals/(\d+)"', html)
    ]
    assert shown == [a.id for a in appeals[:10]]  # earliest due first, 10 per page
    assert "Страница 1 из 2" in html
    html = client.get("/backoffice/appeals/?bucket=new&sort=received_desc&size=50").get_data(
        as_text=True
    )
    shown = [
        int(n)
        for n in re.findall(r'<h3 class="appeal-title"><a href="/backoffice/appeals/(\d+)"', html)
    ]
    assert shown == [a.id for a in reversed(appeals)]
    html = client.get("/backoffice/appeals/?bucket=new&page=2").get_data(as_text=True)
    assert "Страница 2 из 2" in html and len(numbers(html)) == 2
    # Sizes outside 10/50/100 and junk fall back to the defaults.
    html = client.get(
        "/backoffice/appeals/?bucket=bogus&size=7&page=x&sort=evil&due_before=31.02"
    ).get_data(as_text=True)
    assert "Страница 1 из 2" in html


def test_inbox_page_runs_a_bounded_number_of_queries(client, world):
    w = world

    def queries_for_page():
        statements = []

        def count(conn, cursor, statement, *args):
            statements.append(statement)

        engine = db.engine
        event.listen(engine, "before_cursor_execute", count)
        try:
            response = client.get("/backoffice/appeals/?bucket=new&size=100")
        finally:
            event.remove(engine, "before_cursor_execute", count)
        assert response.status_code == 200
        return len(statements)

    login_as(client, w.moderator)
    for _ in range(2):
        submit(w)
    few = queries_for_page()
    for i in range(30):
        submit(
            w,
            subcategory_id=(w.potholes, w.marking, w.benches)[i % 3].id,
            territory_id=(w.city, w.town)[i % 2].id,
        )
    many = queries_for_page()
    assert many == few, "the number of queries must not grow with the rows shown"
    assert many <= 20, many


def test_counts_are_sql_groupings_not_row_loads(world, spread):
    inbox = load_inbox(world.coordinator, world.city_admin, Filters(bucket=Bucket.NEW))
    assert inbox.counts[Bucket.IN_WORK] == 1 and inbox.counts[Bucket.DONE] == 1
    assert inbox.page.total == 1
