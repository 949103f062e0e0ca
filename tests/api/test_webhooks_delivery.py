"""Deliveries over real HTTP to a local receiver: Standard Webhooks signatures checked by the
published `standardwebhooks` library, retries with backoff, giving up after 24 h, resending."""

from __future__ import annotations

import base64
import hashlib
import hmac
import itertools
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
import time_machine
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

from participation.api.webhooks import services
from participation.api.webhooks.models import DeliveryStatus, EventType
from participation.appeals import services as appeals
from participation.core.outbox import OutboxMessage
from participation.extensions import db
from tests.api.conftest import deliveries, endpoint_for
from tests.appeals.conftest import submit


def _assign(w):
    """The real change behind appeal.assigned: the ЦУР confirms the city as the addressee."""
    appeal = submit(w)
    appeals.accept_appeal(appeal, w.moderator)
    appeals.confirm_addressee(appeal, w.cur_coordinator)
    return appeal


@pytest.fixture
def clock():
    with time_machine.travel(datetime.now(UTC), tick=False) as traveller:
        yield traveller


def test_a_delivery_is_signed_as_standard_webhooks_says(world, receiver, commit):
    w = world
    endpoint = endpoint_for(w.city_admin, receiver.url, actor=w.administrator)
    secret = endpoint.secret
    appeal = _assign(w)
    assert receiver.requests == []  # nothing leaves before the commit
    commit()

    [request] = receiver.requests
    headers = request.headers
    # The published library accepts it, and rejects anything altered.
    payload = Webhook(secret).verify(request.body, headers)
    assert payload["type"] == "appeal.assigned"
    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify(request.body.replace(b"assignment", b"closed"), headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(services.new_secret()).verify(request.body, headers)

    [delivery] = deliveries(endpoint)
    assert headers["webhook-id"] == delivery.event.public_id
    assert headers["webhook-id"].startswith("msg_") and "." not in headers["webhook-id"]
    assert headers["content-type"] == "application/json"
    assert abs(int(headers["webhook-timestamp"]) - datetime.now(UTC).timestamp()) < 60
    # The signature by hand: v1, + base64(HMAC-SHA256(secret bytes, "id.timestamp.body")).
    key = base64.b64decode(secret.removeprefix("whsec_"))
    signed = f"{headers['webhook-id']}.{headers['webhook-timestamp']}.".encode() + request.body
    expected = "v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    assert headers["webhook-signature"] == expected

    assert payload["data"]["appeal"]["id"] == appeal.id
    assert payload["data"]["appeal"]["state"] == "assignment"
    assert payload["timestamp"].endswith("Z")
    assert request.path == "/hooks/participation"
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == (
        DeliveryStatus.SUCCEEDED,
        1,
        200,
    )


def test_the_secret_looks_like_a_standard_webhooks_secret(world):
    endpoint = endpoint_for(world.city_admin, "https://sed.example.ru/h", actor=world.administrator)
    assert endpoint.secret.startswith("whsec_")
    raw = base64.b64decode(endpoint.secret.removeprefix("whsec_"))
    assert 24 <= len(raw) <= 64
    other = endpoint_for(world.city_admin, "https://sed.example.ru/g", actor=world.administrator)
    assert other.secret != endpoint.secret


def test_500_is_retried_with_backoff_then_delivered_with_the_same_id(
    world, receiver, commit, sweep, clock
):
    w = world
    endpoint = endpoint_for(w.city_admin, receiver.url, actor=w.administrator)
    receiver.verify_for(endpoint)
    receiver.answer(500, (503, {}, b"maintenance"))
    _assign(w)
    commit()
    started = datetime.now(UTC)

    [delivery] = deliveries(endpoint)
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == (
        DeliveryStatus.PENDING,
        1,
        500,
    )
    first_wait = delivery.next_attempt_at - started
    assert timedelta(seconds=5) <= first_wait <= timedelta(seconds=5.5)

    sweep()  # not yet due: nothing is sent
    assert len(receiver.requests) == 1

    clock.move_to(delivery.next_attempt_at)
    sweep()
    [delivery] = deliveries(endpoint)
    assert (delivery.attempts, delivery.last_status_code) == (2, 503)
    assert delivery.last_response == "maintenance"
    second_wait = delivery.next_attempt_at - delivery.last_attempt_at
    assert timedelta(minutes=5) <= second_wait <= timedelta(minutes=5.5)

    clock.move_to(delivery.next_attempt_at)
    sweep()
    [delivery] = deliveries(endpoint)
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == (
        DeliveryStatus.SUCCEEDED,
        3,
        200,
    )
    assert delivery.next_attempt_at is None

    ids = {r.headers["webhook-id"] for r in receiver.requests}
    stamps = [int(r.headers["webhook-timestamp"]) for r in receiver.requests]
    assert len(receiver.requests) == 3 and ids == {delivery.event.public_id}
    assert stamps == sorted(stamps) and len(set(stamps)) == 3  # each attempt has its own time
    assert len({r.body for r in receiver.requests}) == 1  # the same body every time
    assert len(receiver.payloads()) == 3  # each attempt verified on arrival

    sweep()  # delivered: never sent again
    assert len(receiver.requests) == 3


def test_gives_up_24_hours_after_the_event(world, receiver, commit, sweep, clock):
    w = world
    endpoint = endpoint_for(w.city_admin, receiver.url, actor=w.administrator)
    receiver.answer(*[500] * 50)
    _assign(w)
    commit()
    [delivery] = deliveries(endpoint)
    event_time = delivery.created_at
    attempt_times = [delivery.last_attempt_at]
    while delivery.status == DeliveryStatus.PENDING:
        clock.move_to(delivery.next_attempt_at)
        sweep()
        [delivery] = deliveries(endpoint)
        attempt_times.append(delivery.last_attempt_at)

    assert delivery.status == DeliveryStatus.FAILED
    assert delivery.last_status_code == 500
    # Immediately, 5 s, 5 min, 30 min, 2 h, 5 h, 10 h later… and the last one at the 24 h mark.
    assert delivery.attempts == len(receiver.requests) == 8
    waits = [b - a for a, b in itertools.pairwise(attempt_times)]
    assert waits[:5] == sorted(waits[:5])
    assert attempt_times[-1] - event_time == timedelta(hours=24)

    clock.move_to(datetime.now(UTC) + timedelta(days=1))
    sweep()
    assert len(receiver.requests) == 8


def test_resend_by_hand_keeps_the_event_id(world, receiver, commit, sweep, clock):
    w = world
    endpoint = endpoint_for(w.city_admin, receiver.url, actor=w.administrator)
    receiver.answer(*[500] * 8)
    _assign(w)
    commit()
    [delivery] = deliveries(endpoint)
    while delivery.status == DeliveryStatus.PENDING:
        clock.move_to(delivery.next_attempt_at)
        sweep()
        [delivery] = deliveries(endpoint)
    assert delivery.status == DeliveryStatus.FAILED

    clock.move_to(datetime.now(UTC) + timedelta(days=3))
    services.resend_delivery(delivery, w.administrator)
    commit()
    [delivery] = deliveries(endpoint)
    assert (delivery.status, delivery.attempts, delivery.resent_count) == (
        DeliveryStatus.SUCCEEDED,
        9,
        1,
    )
    last = receiver.requests[-1]
    assert last.headers["webhook-id"] == receiver.requests[0].headers["webhook-id"]
    Webhook(endpoint.secret).verify(last.body, last.headers)

    # A delivered event may be resent too (the receiver lost it): still the same id.
    services.resend_delivery(delivery, w.administrator)
    commit()
    assert receiver.requests[-1].headers["webhook-id"] == last.headers["webhook-id"]
    assert len(receiver.requests) == 10


def test_a_failed_resend_past_the_24_hours_is_one_attempt(world, receiver, commit, sweep, clock):
    w = world
    endpoint = endpoint_for(w.city_admin, receiver.url, actor=w.administrator)
    receiver.answer(*[500] * 20)
    _assign(w)
    commit()
    [delivery] = deliveries(endpoint)
    clock.move_to(datetime.now(UTC) + timedelta(days=2))
    services.resend_delivery(delivery, w.administrator)
    commit()
    [delivery] = deliveries(endpoint)
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.FAILED, 2)
    sweep()
    assert len(receiver.requests) == 2


def test_a_redirect_is_a_failure_and_is_not_followed(world, receiver, commit):
    w = world
    endpoint = endpoint_for(w.city_admin, receiver.url, actor=w.administrator)
    receiver.answer((302, {"Location": receiver.url + "/elsewhere"}, b""))
    _assign(w)
    commit()
    [delivery] = deliveries(endpoint)
    assert (delivery.status, delivery.last_status_code) == (DeliveryStatus.PENDING, 302)
    assert [r.path for r in receiver.requests] == ["/hooks/participation"]


def test_410_gone_switches_the_endpoint_off_and_tells_the_administrator(world, receiver, commit):
    w = world
    endpoint = endpoint_for(w.city_admin, receiver.url, actor=w.administrator)
    receiver.answer(410)
    _assign(w)
    commit()
    [delivery] = deliveries(endpoint)
    db.session.refresh(endpoint)
    assert delivery.status == DeliveryStatus.FAILED
    assert not endpoint.is_active and "410" in endpoint.disabled_reason
    notices = db.session.scalars(
        sa.select(OutboxMessage).where(OutboxMessage.user_id == w.administrator.id)
    ).all()
    assert any("Вебхук отключён" in n.subject for n in notices)
    # Nothing more goes to a switched-off address.
    appeal = submit(w)
    appeals.accept_appeal(appeal, w.moderator)
    appeals.confirm_addressee(appeal, w.cur_coordinator)
    commit()
    assert len(receiver.requests) == 1 and len(deliveries(endpoint)) == 1


def test_retry_after_is_honoured(world, receiver, commit, clock):
    w = world
    endpoint = endpoint_for(w.city_admin, receiver.url, actor=w.administrator)
    receiver.answer((429, {"Retry-After": "600"}, b"slow down"))
    _assign(w)
    commit()
    [delivery] = deliveries(endpoint)
    assert delivery.next_attempt_at - delivery.last_attempt_at == timedelta(seconds=600)


def test_a_slow_receiver_times_out_and_is_retried(world, receiver, commit, app, monkeypatch):
    w = world
    monkeypatch.setitem(app.config, "WEBHOOKS_TIMEOUT_SECONDS", 1)
    endpoint = endpoint_for(w.city_admin, receiver.url, actor=w.administrator)
    receiver.delay = 2
    _assign(w)
    commit()
    [delivery] = deliveries(endpoint)
    assert delivery.status == DeliveryStatus.PENDING and delivery.attempts == 1
    assert delivery.last_status_code is None and "Нет ответа" in delivery.last_error


def test_an_unreachable_receiver_is_recorded_and_retried(world, commit):
    w = world
    endpoint = endpoint_for(w.city_admin, "http://127.0.0.1:9/nothing", actor=w.administrator)
    _assign(w)
    commit()
    [delivery] = deliveries(endpoint)
    assert delivery.status == DeliveryStatus.PENDING and delivery.attempts == 1
    assert "соединения" in delivery.last_error


def test_after_a_rotation_both_secrets_sign_for_a_day(world, receiver, commit, clock):
    w = world
    endpoint = endpoint_for(w.city_admin, receiver.url, actor=w.administrator)
    old = endpoint.secret
    new = services.rotate_secret(endpoint, w.administrator)
    assert new != old and new.startswith("whsec_")
    _assign(w)
    commit()
    request = receiver.requests[-1]
    assert len(request.headers["webhook-signature"].split(" ")) == 2
    Webhook(old).verify(request.body, request.headers)
    Webhook(new).verify(request.body, request.headers)

    clock.move_to(datetime.now(UTC) + timedelta(hours=25))
    _assign(w)
    commit()
    request = receiver.requests[-1]
    Webhook(new).verify(request.body, request.headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(old).verify(request.body, request.headers)


def test_a_rolled_back_change_sends_nothing(world, receiver, commit):
    w = world
    endpoint_for(w.city_admin, receiver.url, actor=w.administrator)
    commit()
    _assign(w)
    db.session.rollback()
    commit()
    assert receiver.requests == [] and deliveries() == []


def test_each_endpoint_gets_its_own_delivery_and_signature(world, receiver, commit):
    w = world
    first = endpoint_for(w.city_admin, receiver.url, actor=w.administrator)
    second = endpoint_for(w.city_admin, receiver.url + "/second", actor=w.administrator)
    _assign(w)
    commit()
    by_path = {r.path: r for r in receiver.requests}
    assert set(by_path) == {"/hooks/participation", "/hooks/participation/second"}
    Webhook(first.secret).verify(
        by_path["/hooks/participation"].body, by_path["/hooks/participation"].headers
    )
    Webhook(second.secret).verify(
        by_path["/hooks/participation/second"].body, by_path["/hooks/participation/second"].headers
    )
    # One event, so one id for both (a receiver behind both can still de-duplicate).
    assert len({r.headers["webhook-id"] for r in receiver.requests}) == 1


def test_only_chosen_events_are_sent(world, receiver, commit):
    w = world
    endpoint_for(w.city_admin, receiver.url, EventType.APPEAL_RATED, actor=w.administrator)
    _assign(w)
    commit()
    assert receiver.requests == [] and deliveries() == []


def test_a_delivery_in_flight_is_not_sent_twice_and_a_lost_claim_expires(
    world, receiver, commit, clock
):
    from participation.api.webhooks.tasks import deliver

    w = world
    endpoint = endpoint_for(w.city_admin, receiver.url, actor=w.administrator)
    receiver.answer(500)
    _assign(w)
    commit()
    [delivery] = deliveries(endpoint)
    clock.move_to(delivery.next_attempt_at)
    # A worker takes it and is killed mid-request: its claim stays behind.
    assert services.claim_delivery(delivery.id, datetime.now(UTC)) is not None
    commit()
    assert deliver(delivery.id) == "skipped"
    assert services.claim_delivery(delivery.id, datetime.now(UTC)) is None
    assert len(receiver.requests) == 1
    clock.move_to(datetime.now(UTC) + services.IN_FLIGHT_LEASE + timedelta(seconds=1))
    assert deliver(delivery.id) == "succeeded"
    assert len(receiver.requests) == 2
