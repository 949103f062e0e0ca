"""Shared fixtures of the API tests: the validating client, an organization with its administrator
and issued keys; OAuth apps and PKCE flows through the test client (the real-HTTP flow is in
test_oauth_http.py); the webhook receiver, queued jobs and the sweep."""

from __future__ import annotations

import json
import re
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
import sqlalchemy as sa
from authlib.common.security import generate_token
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

from participation.api import services as api_services
from participation.api.models import ApiKey, ApiScope
from participation.api.oauth.services import register_app
from participation.api.webhooks import services as webhook_services
from participation.api.webhooks.models import WebhookDelivery, WebhookEvent
from participation.core.users import Role, User
from participation.extensions import db
from tests import factories as f
from tests.api.openapi_check import ValidatingClient
from tests.appeals.conftest import world  # noqa: F401  (the fixture, shared)
from tests.helpers import login_as

REDIRECT = "http://127.0.0.1/callback"
APP_REDIRECT = "ru.participation.app:/oauth"
CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


@dataclass
class Pkce:
    verifier: str
    challenge: str


def new_pkce() -> Pkce:
    verifier = generate_token(64)
    return Pkce(verifier, create_s256_code_challenge(verifier))


@pytest.fixture
def oauth_app(db_session):
    return register_app("Решаем вместе — тест", [REDIRECT, APP_REDIRECT])


@pytest.fixture
def resident(db_session):
    return f.user(last_name="Иванова", first_name="Мария", middle_name="Петровна")


def authorize_query(oauth_app, pkce: Pkce | None = None, **overrides) -> str:
    """The query string an app sends to /oauth/authorize (None values are left out)."""
    params = {
        "response_type": "code",
        "client_id": oauth_app.client_id,
        "redirect_uri": REDIRECT,
        "scope": "appeals profile",
        "state": "state-123",
        "code_challenge": (pkce or new_pkce()).challenge,
        "code_challenge_method": "S256",
    }
    params.update(overrides)
    return urlencode({k: v for k, v in params.items() if v is not None})


def query_of(location: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


def consent(client, user, query: str, decision: str = "allow"):
    """Log `user` in, open the consent page and press a button; the response (a 302)."""
    login_as(client, user)
    page = client.get(f"/oauth/authorize?{query}")
    assert page.status_code == 200, page.get_data(as_text=True)
    token = CSRF.search(page.get_data(as_text=True)).group(1)
    return client.post(f"/oauth/authorize?{query}", data={"csrf_token": token, decision: "1"})


def get_code(client, user, oauth_app, pkce: Pkce, **overrides) -> str:
    response = consent(client, user, authorize_query(oauth_app, pkce, **overrides))
    assert response.status_code == 302, response.get_data(as_text=True)
    params = query_of(response.headers["Location"])
    assert params["state"] == overrides.get("state", "state-123")
    return params["code"]


def exchange(client, oauth_app, code: str, verifier: str, /, **overrides):
    """POST the code to /oauth/token from an app (a fresh client: no cookies)."""
    data = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": REDIRECT,
        "client_id": oauth_app.client_id,
        "code_verifier": verifier,
    }
    data.update(overrides)
    return client.post("/oauth/token", data={k: v for k, v in data.items() if v is not None})


def refresh(client, oauth_app, refresh_token: str, /, **overrides):
    data = {
        "grant_type": "refresh_token",
        "refresh_token": refresh_token,
        "client_id": oauth_app.client_id,
    }
    data.update(overrides)
    return client.post("/oauth/token", data={k: v for k, v in data.items() if v is not None})


def userinfo(client, access_token: str):
    return client.get("/oauth/userinfo", headers={"Authorization": f"Bearer {access_token}"})


@pytest.fixture
def tokens(app, oauth_app, resident):
    """A full authorisation of `oauth_app` by `resident`: the token response's JSON."""
    browser = app.test_client()
    pkce = new_pkce()
    code = get_code(browser, resident, oauth_app, pkce)
    response = exchange(app.test_client(), oauth_app, code, pkce.verifier)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


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

    return webhook_services.create_endpoint(
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


@pytest.fixture
def client(app):
    """Every /api/v1 response of the test is validated against the OpenAPI document."""
    return ValidatingClient(app, app.response_class, use_cookies=True)


@dataclass
class Org:
    organization: object
    admin: User


@pytest.fixture
def org(db_session) -> Org:
    organization = f.organization(name="Администрация города Уфы")
    admin = f.staff(organization, Role.ADMINISTRATOR, last_name="Админов")
    db.session.commit()
    return Org(organization, admin)


def issue(
    org: Org, *scopes: ApiScope, name: str = "СЭД Дело", days: int = 30
) -> tuple[ApiKey, str]:
    """A key of `org` with `scopes` (all of them by default), committed; returns key and token."""
    from datetime import timedelta

    issued = api_services.create_api_key(
        org.organization,
        name,
        [s.value for s in (scopes or tuple(ApiScope))],
        api_services.today() + timedelta(days=days),
        org.admin,
    )
    db.session.commit()
    return issued.key, issued.token


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
