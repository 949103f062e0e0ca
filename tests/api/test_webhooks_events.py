"""Every event type comes from the real change (the appeals services, the deadline sweep) and
reaches the right organization once, with ids, state and deadlines and nothing personal."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import pytest
import time_machine

from participation.api.webhooks.models import EventType
from participation.appeals import services as appeals
from participation.appeals.workflow import AppealState
from tests.api.conftest import deliveries, endpoint_for, events
from tests.appeals.conftest import submit

T = EventType


def _to_answered(w, appeal):
    appeals.accept_appeal(appeal, w.moderator)
    appeals.confirm_addressee(appeal, w.cur_coordinator)
    appeals.assign_executor(appeal, w.coordinator, w.executor.id)
    appeals.submit_draft(appeal, w.executor, "Яму заделали 12 мая, фото прилагаем.")
    appeals.approve_answer(appeal, w.head)
    return appeal


def _received(receiver, endpoint):
    """What arrived at the endpoint, each verified on arrival with the published library."""
    return receiver.payloads(urlsplit(endpoint.url).path)


def _types(payloads):
    return [p["type"] for p in payloads]


def _hook(organization, url, receiver, *types, actor):
    endpoint = endpoint_for(organization, url, *types, actor=actor)
    receiver.verify_for(endpoint)
    return endpoint


@pytest.fixture
def city_hook(world, receiver):
    return _hook(world.city_admin, receiver.url, receiver, actor=world.administrator)


def test_assigned_when_the_message_reaches_the_organization(world, receiver, city_hook, commit):
    w = world
    appeal = submit(w)
    appeals.accept_appeal(appeal, w.moderator)
    commit()
    assert receiver.requests == []  # still at the regional centre
    appeals.confirm_addressee(appeal, w.cur_coordinator)
    commit()
    [payload] = _received(receiver, city_hook)
    assert payload["type"] == "appeal.assigned"
    data = payload["data"]
    assert data["appeal"]["id"] == appeal.id and data["appeal"]["number"] == appeal.number
    assert data["appeal"]["state"] == "assignment"
    assert data["appeal"]["organization_id"] == w.city_admin.id
    assert data["appeal"]["answer_due_at"] == appeal.answer_due_at.isoformat().replace(
        "+00:00", "Z"
    )
    assert data["appeal"]["url"].endswith(f"/backoffice/appeals/{appeal.id}")
    assert data["arrival"] == "after_moderation"
    # Nothing personal: no name, e-mail, text or address of the resident.
    body = receiver.requests[0].body.decode()
    for personal in (w.resident.last_name, w.resident.email, "Ленина", "яма"):
        assert personal.lower() not in body.lower()


def test_assigned_to_the_organization_a_message_is_redirected_to(world, receiver, commit):
    w = world
    town_hook = _hook(
        w.town_admin, receiver.url, receiver, T.APPEAL_ASSIGNED, actor=w.administrator
    )
    appeal = submit(w)
    appeals.accept_appeal(appeal, w.moderator)
    appeals.confirm_addressee(appeal, w.cur_coordinator)
    appeals.redirect_appeal(appeal, w.coordinator, w.town_admin.id, "Это их улица")
    commit()
    [payload] = _received(receiver, town_hook)
    assert payload["data"]["appeal"]["organization_id"] == w.town_admin.id
    assert payload["data"]["arrival"] == "from_non_subordinate"


def test_rated_when_the_author_rates_the_answer(world, receiver, city_hook, commit):
    w = world
    appeal = _to_answered(w, submit(w))
    commit()
    appeals.rate_appeal(appeal, w.resident, 4, "Спасибо")
    commit()
    payloads = _received(receiver, city_hook)
    assert _types(payloads) == ["appeal.assigned", "appeal.rated"]
    rated = payloads[-1]["data"]
    assert rated["rating"] == {"score": 4} and rated["appeal"]["state"] == "closed"
    assert "Спасибо" not in receiver.requests[-1].body.decode()


def test_escalated_reaches_both_organizations(world, receiver, city_hook, commit):
    w = world
    gov_hook = _hook(w.government, receiver.url + "/gov", receiver, actor=w.administrator)
    appeal = _to_answered(w, submit(w))
    commit()
    appeals.rate_appeal(appeal, w.resident, 1, "Ничего не сделано")
    commit()
    city_payloads = _received(receiver, city_hook)
    gov_payloads = _received(receiver, gov_hook)
    assert _types(city_payloads) == ["appeal.assigned", "appeal.rated", "appeal.escalated"]
    # The higher organization: a new message in its inbox, and the escalation itself.
    assert sorted(_types(gov_payloads)) == ["appeal.assigned", "appeal.escalated"]
    escalation = city_payloads[-1]["data"]
    assert escalation["appeal"]["id"] == appeal.id
    assert escalation["appeal"]["state"] == AppealState.ESCALATED.value
    review_id = escalation["review"]["id"]
    assert escalation["review"]["organization_id"] == w.government.id
    assigned = next(p for p in gov_payloads if p["type"] == "appeal.assigned")
    assert assigned["data"]["appeal"]["id"] == review_id
    assert assigned["data"]["arrival"] == "from_lower"


def test_answer_returned_when_the_author_sends_it_back(world, receiver, city_hook, commit):
    w = world
    appeal = _to_answered(w, submit(w))
    commit()
    appeals.return_for_rework(appeal, w.resident, "Яма на месте")
    commit()
    payloads = _received(receiver, city_hook)
    assert _types(payloads) == ["appeal.assigned", "appeal.answer_returned"]
    returned = payloads[-1]["data"]
    assert returned["appeal"]["state"] == "in_work" and returned["rework_count"] == 1
    assert "Яма на месте" not in receiver.requests[-1].body.decode()


def test_due_soon_and_overdue_once_each_however_often_the_sweep_runs(
    world, receiver, city_hook, commit, sweep
):
    w = world
    appeal = submit(w)
    appeals.accept_appeal(appeal, w.moderator)
    appeals.confirm_addressee(appeal, w.cur_coordinator)
    commit()
    due = appeal.answer_due_at
    with time_machine.travel(due - timedelta(days=2), tick=False) as clock:
        sweep()
        assert _types(_received(receiver, city_hook)) == ["appeal.assigned"]

        clock.move_to(due - timedelta(hours=23))
        sweep()
        sweep()
        payloads = _received(receiver, city_hook)
        assert _types(payloads) == ["appeal.assigned", "appeal.due_soon"]
        assert payloads[-1]["data"]["appeal"]["answer_due_at"].startswith(
            due.astimezone(UTC).strftime("%Y-%m-%dT%H:%M")
        )

        clock.move_to(due + timedelta(minutes=1))
        sweep()
        sweep()
        clock.move_to(due + timedelta(days=3))
        sweep()
        payloads = _received(receiver, city_hook)
        assert _types(payloads) == ["appeal.assigned", "appeal.due_soon", "appeal.overdue"]
        assert len(deliveries(city_hook)) == 3


def test_overdue_without_a_due_soon_when_the_sweep_was_down(
    world, receiver, city_hook, commit, sweep
):
    w = world
    appeal = submit(w)
    appeals.accept_appeal(appeal, w.moderator)
    appeals.confirm_addressee(appeal, w.cur_coordinator)
    commit()
    with time_machine.travel(appeal.answer_due_at + timedelta(hours=5), tick=False):
        sweep()
    assert _types(_received(receiver, city_hook)) == ["appeal.assigned", "appeal.overdue"]


def test_a_postponed_deadline_is_announced_again(world, receiver, city_hook, commit, sweep):
    w = world
    appeal = submit(w)
    appeals.accept_appeal(appeal, w.moderator)
    appeals.confirm_addressee(appeal, w.cur_coordinator)
    appeals.assign_executor(appeal, w.coordinator, w.executor.id)
    commit()
    first_due = appeal.answer_due_at
    with time_machine.travel(first_due - timedelta(hours=2), tick=False):
        sweep()
        appeals.postpone_appeal(
            appeal, w.executor, (first_due + timedelta(days=10)).date(), "Нужен подрядчик"
        )
        commit()
    with time_machine.travel(appeal.answer_due_at - timedelta(hours=3), tick=False):
        sweep()
        sweep()
    soon = [p for p in _received(receiver, city_hook) if p["type"] == "appeal.due_soon"]
    assert len(soon) == 2
    assert soon[0]["data"]["appeal"]["answer_due_at"] != soon[1]["data"]["appeal"]["answer_due_at"]


def test_old_overdue_messages_are_not_news_to_a_new_endpoint(world, receiver, commit, sweep):
    w = world
    appeal = submit(w)
    appeals.accept_appeal(appeal, w.moderator)
    appeals.confirm_addressee(appeal, w.cur_coordinator)
    commit()
    with time_machine.travel(appeal.answer_due_at + timedelta(days=1), tick=False):
        endpoint_for(w.city_admin, receiver.url, actor=w.administrator)
        commit()
        sweep()
    assert receiver.requests == []


def test_closed_messages_get_no_deadline_events(world, receiver, city_hook, commit, sweep):
    w = world
    appeal = _to_answered(w, submit(w))
    appeals.rate_appeal(appeal, w.resident, 5)
    commit()
    with time_machine.travel(appeal.answer_due_at + timedelta(days=1), tick=False):
        sweep()
    assert _types(_received(receiver, city_hook)) == ["appeal.assigned", "appeal.rated"]


def test_another_organization_hears_nothing(world, receiver, commit):
    w = world
    endpoint_for(w.town_admin, receiver.url, actor=w.administrator)
    appeal = _to_answered(w, submit(w))
    appeals.rate_appeal(appeal, w.resident, 5)
    commit()
    assert receiver.requests == [] and events() == []


def test_no_endpoint_writes_nothing(world, commit):
    w = world
    appeal = _to_answered(w, submit(w))
    appeals.rate_appeal(appeal, w.resident, 5)
    commit()
    assert events() == [] and deliveries() == []


def test_the_same_step_is_never_two_events(world, receiver, city_hook, commit):
    """The unique (organization, key) holds even if a receiver were called twice."""
    from participation.api.webhooks import services

    w = world
    appeal = submit(w)
    appeals.accept_appeal(appeal, w.moderator)
    event = appeals.confirm_addressee(appeal, w.cur_coordinator)
    again = services.emit(
        w.city_admin.id,
        T.APPEAL_ASSIGNED,
        f"appeal.assigned:appeal:{appeal.id}:e{event.id}",
        {"appeal": services.appeal_data(appeal)},
    )
    commit()
    assert again is None and len(events(w.city_admin)) == 1 and len(receiver.requests) == 1


def test_event_time_is_the_change_time(world, receiver, city_hook, commit):
    w = world
    moment = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
    with time_machine.travel(moment, tick=False):
        appeal = submit(w)
        appeals.accept_appeal(appeal, w.moderator)
        appeals.confirm_addressee(appeal, w.cur_coordinator)
        commit()
        [payload] = _received(receiver, city_hook)
    assert payload["timestamp"] == "2026-03-02T09:30:00Z"


def test_the_sweeps_run_with_the_platforms_sweep_and_by_hand(app, world, receiver, city_hook):
    from participation.core.jobs import SWEEPS

    names = {f"{s.__module__}.{s.__name__}" for s in SWEEPS}
    assert {
        "participation.api.webhooks.tasks.announce_webhook_deadlines",
        "participation.api.webhooks.tasks.retry_webhook_deliveries",
    } <= names
    result = app.test_cli_runner().invoke(args=["webhooks", "sweep"])
    assert result.exit_code == 0 and "Событий о сроках: 0" in result.output
