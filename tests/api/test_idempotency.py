"""Idempotency-Key on every POST: a retry does the work once, a reused key with another body
is refused, failures are not remembered, and concurrent twins create one row."""

from __future__ import annotations

import threading
from collections import Counter
from datetime import timedelta

import pytest
import sqlalchemy as sa
import time_machine

from participation.api.idempotency import purge_idempotent_requests
from participation.api.models import IdempotentRequest
from participation.core.audit import AuditEntry
from participation.core.db import utcnow
from participation.extensions import db
from tests.api.conftest import bearer, issue
from tests.api.openapi_check import check_problem

NOTES = "/api/v1/probe/notes"


def notes() -> int:
    query = sa.select(sa.func.count()).select_from(AuditEntry)
    return db.session.scalar(query.where(AuditEntry.action == "probe.note"))


def post(client, token, key, url=NOTES, **kw):
    headers = {**bearer(token)}
    if key is not None:
        headers["Idempotency-Key"] = key
    return client.post(url, headers=headers, **kw)


def test_a_post_without_the_key_is_refused(client, org):
    _key, token = issue(org)
    body = check_problem(post(client, token, None, json={"text": "a"}))
    assert body["status"] == 400
    assert "Idempotency-Key" in body["detail"]
    assert notes() == 0


@pytest.mark.parametrize("bad", ["ключ", "x" * 256, "two words"], ids=["cyrillic", "long", "space"])
def test_a_malformed_key_is_refused(client, org, bad):
    _key, token = issue(org)
    response = client.post(
        NOTES,
        json={"text": "a"},
        headers={**bearer(token), "Idempotency-Key": bad.encode().decode("latin-1")},
    )
    assert check_problem(response)["status"] == 400
    assert notes() == 0


def test_a_retry_gets_the_stored_answer_and_creates_nothing(client, org):
    _key, token = issue(org)
    first = post(client, token, "order-1", json={"text": "заметка"})
    assert first.status_code == 201
    retry = post(client, token, "order-1", json={"text": "заметка"})
    assert retry.status_code == 201
    assert retry.get_data() == first.get_data()
    assert retry.headers["Location"] == first.headers["Location"]
    assert retry.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers
    assert notes() == 1


def test_the_same_key_with_another_body_is_refused(client, org):
    _key, token = issue(org)
    post(client, token, "order-2", json={"text": "первая"})
    body = check_problem(post(client, token, "order-2", json={"text": "вторая"}))
    assert body["status"] == 422
    assert body["type"].endswith("#problem-idempotency-key-reused")
    assert notes() == 1


def test_keys_belong_to_their_caller(client, org):
    _a, token_a = issue(org, name="А")
    _b, token_b = issue(org, name="Б")
    assert post(client, token_a, "same", json={"text": "x"}).status_code == 201
    second = post(client, token_b, "same", json={"text": "x"})
    assert second.status_code == 201 and "Idempotent-Replayed" not in second.headers
    assert notes() == 2


def test_a_failed_request_is_not_remembered(client, org):
    _key, token = issue(org)
    assert post(client, token, "order-3", json={"text": ""}).status_code == 422
    assert post(client, token, "order-3", json={"text": "исправлено"}).status_code == 201
    failing = post(client, token, "order-4", url="/api/v1/probe/fail", json={"how": "conflict"})
    assert failing.status_code == 409
    again = post(client, token, "order-4", url="/api/v1/probe/fail", json={"how": "conflict"})
    assert again.status_code == 409 and "Idempotent-Replayed" not in again.headers
    stored = db.session.scalars(sa.select(IdempotentRequest.key)).all()
    assert stored == ["order-3"]


def test_a_key_still_in_progress_is_409(client, org):
    key, token = issue(org)
    db.session.add(
        IdempotentRequest(principal=f"key:{key.id}", key="busy", fingerprint="0" * 64, status=None)
    )
    db.session.commit()
    response = post(client, token, "busy", json={"text": "a"})
    # A different fingerprint is reported first; the same one while running is a 409.
    assert check_problem(response)["status"] == 422
    row = db.session.scalar(sa.select(IdempotentRequest).where(IdempotentRequest.key == "busy"))
    db.session.execute(
        sa.update(IdempotentRequest)
        .where(IdempotentRequest.id == row.id)
        .values(fingerprint=_fingerprint_of(client, token, {"text": "a"}))
    )
    db.session.commit()
    busy = post(client, token, "busy", json={"text": "a"})
    assert check_problem(busy)["status"] == 409
    assert int(busy.headers["Retry-After"]) >= 1  # Flask-Limiter may raise it to its window
    assert notes() == 1  # only the twin that told us the fingerprint


def _fingerprint_of(client, token, body) -> str:
    """The fingerprint the app computes for this request (read back from a stored twin)."""
    post(client, token, "probe-fp", json=body)
    row = db.session.scalar(sa.select(IdempotentRequest).where(IdempotentRequest.key == "probe-fp"))
    return row.fingerprint


def test_an_endpoint_exempt_from_the_key(client):
    response = client.post("/api/v1/probe/exempt")
    assert response.status_code == 200


def test_old_answers_are_forgotten_and_purged(client, org, app):
    _key, token = issue(org)
    post(client, token, "old", json={"text": "a"})
    later = utcnow() + timedelta(hours=app.config["API_IDEMPOTENCY_HOURS"] + 1)
    with time_machine.travel(later, tick=False):
        again = post(client, token, "old", json={"text": "a"})
        assert again.status_code == 201 and "Idempotent-Replayed" not in again.headers
        assert notes() == 2
    with time_machine.travel(later + timedelta(hours=app.config["API_IDEMPOTENCY_HOURS"] + 1)):
        assert purge_idempotent_requests() == 1
    db.session.commit()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(IdempotentRequest)) == 0


@pytest.mark.postgres
@pytest.mark.committed
def test_concurrent_twins_create_one_row(app, client):
    """Six requests with one key at once (PostgreSQL waits on the unique index): one note."""
    from tests import factories as f
    from tests.api.conftest import Org

    db.session.remove()
    db.session.configure(bind=None, join_transaction_mode="conditional_savepoint")
    organization = f.organization()
    admin = f.staff(organization, f.Role.ADMINISTRATOR)
    db.session.commit()
    _key, token = issue(Org(organization, admin))
    db.session.remove()  # hold no transaction while the threads run
    barrier = threading.Barrier(6)
    results, errors = [], []

    def send():
        try:
            barrier.wait()
            response = post(client.application.test_client(), token, "twin", json={"text": "slow"})
            results.append((response.status_code, response.headers.get("Idempotent-Replayed")))
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=send) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, errors
    assert notes() == 1
    # One did the work; the twins waited for it and got its answer replayed (or, on a machine
    # so loaded that the first took over TWIN_WAIT_SECONDS to store it, a 409 to retry).
    counted = Counter(results)
    assert counted[(201, None)] == 1, results
    assert counted[(201, "true")] + counted[(409, None)] == 5, results
    [row] = db.session.scalars(sa.select(IdempotentRequest)).all()
    assert (row.key, row.status) == ("twin", 201)
