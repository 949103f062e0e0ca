"""Webhook tests: the message world of tests/appeals, a receiver over real HTTP, helpers."""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

import pytest
import sqlalchemy as sa
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

from participation.api.webhooks import services
from participation.api.webhooks.models import WebhookDelivery, WebhookEvent
from participation.extensions import db
from tests.appeals.conftest import world  # noqa: F401  (the fixture, shared)


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    # Checked on arrival, as a real receiver does (its clock then, not the test's later one).
    payload: dict | None = None
    refused: str | None = None

    @property
    def json(self) -> dict:
        return json.loads(self.body)


@dataclass
class Receiver:
    """A webhook receiver on 127.0.0.1: records every request, answers as told (default 200)."""

    url: str
    requests: list[Received] = field(default_factory=list)
    answers: deque = field(default_factory=deque)
    delay: float = 0.0
    secrets: dict[str, str] = field(default_factory=dict)  # path → secret to verify with

    def verify_for(self, endpoint) -> None:
        """Check the signature of what arrives at this endpoint's path (401 when wrong)."""
        self.secrets[urlsplit(endpoint.url).path] = endpoint.secret

    def payloads(self, path: str | None = None) -> list[dict]:
        """What arrived (at `path`), each verified on arrival by `standardwebhooks`."""
        got = [r for r in self.requests if path is None or r.path == path]
        assert all(r.payload is not None for r in got), [r.refused for r in got]
        return [r.payload for r in got]

    def answer(self, *statuses: int | tuple[int, dict[str, str], bytes]) -> None:
        """Queue the next answers: a status, or (status, headers, body)."""
        self.answers.extend(statuses)


@pytest.fixture
def receiver():
    state: Receiver | None = None

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length)
            received = Received(self.path, {k.lower(): v for k, v in self.headers.items()}, body)
            state.requests.append(received)
            secret = state.secrets.get(self.path)
            if secret is not None:
                try:
                    received.payload = Webhook(secret).verify(body, received.headers)
                except WebhookVerificationError as exc:
                    received.refused = str(exc)
                    self.send_response(401)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
            if state.delay:
                time.sleep(state.delay)
            answer = state.answers.popleft() if state.answers else 200
            status, headers, text = answer if isinstance(answer, tuple) else (answer, {}, b"ok")
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(text)))
            self.end_headers()
            self.wfile.write(text)

        def log_message(self, *args):  # keep the test output clean
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    state = Receiver(url=f"http://127.0.0.1:{server.server_port}/hooks/participation")
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def run_queued(app):
    """Run what was queued. Without Redis jobs already ran after the commit; with Redis they
    are taken off the queues and run here, as a worker would run them (RQ's own worker is not
    used: with the clock frozen by time-machine it waits a minute for its pub/sub thread)."""

    def _run() -> None:
        if not app.config["REDIS_URL"]:
            return
        from rq import Queue

        from participation.core.jobs import execute, redis_connection

        conn = redis_connection(app.config["REDIS_URL"])
        queues = [Queue(name, connection=conn) for name in app.config["RQ_QUEUES"]]
        while any(q.count for q in queues):
            for queue in queues:
                for job in queue.jobs:
                    queue.remove(job)
                    assert job.func is execute
                    execute(*job.args)

    return _run


@pytest.fixture
def commit(run_queued):
    """Commit as a request or job would; queued jobs (deliveries) then run (with Redis too)."""

    def _commit() -> None:
        db.session.commit()
        run_queued()

    return _commit


@pytest.fixture
def sweep(commit):
    """What `flask jobs sweep` does for webhooks: deadline events, then due retries."""
    from participation.api.webhooks.tasks import (
        announce_webhook_deadlines,
        retry_webhook_deliveries,
    )

    def _sweep() -> dict:
        result = {**announce_webhook_deadlines()}
        commit()
        result.update(retry_webhook_deliveries())
        commit()
        return result

    return _sweep


def endpoint_for(organization, url, *events, actor):
    """An endpoint of `organization` for `events` (all of them when none named)."""
    from participation.api.webhooks.models import EventType

    return services.create_endpoint(
        organization,
        actor,
        url=url,
        description=None,
        event_types=[e.value for e in (events or EventType)],
    )


def deliveries(endpoint=None) -> list[WebhookDelivery]:
    query = sa.select(WebhookDelivery).order_by(WebhookDelivery.id)
    if endpoint is not None:
        query = query.where(WebhookDelivery.endpoint_id == endpoint.id)
    return list(db.session.scalars(query.execution_options(populate_existing=True)))


def events(organization=None) -> list[WebhookEvent]:
    query = sa.select(WebhookEvent).order_by(WebhookEvent.id)
    if organization is not None:
        query = query.where(WebhookEvent.organization_id == organization.id)
    return list(db.session.scalars(query))
