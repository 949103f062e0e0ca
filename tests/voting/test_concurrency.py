"""200 identical ballots of one voter at once, over real HTTP: one ballot, 199 clean refusals."""

from __future__ import annotations

import http.client
import threading
from datetime import timedelta
from types import SimpleNamespace

import pytest
import sqlalchemy as sa
from werkzeug.serving import make_server

from participation.core.db import utcnow
from participation.extensions import db, limiter
from participation.voting.models import Ballot, BallotChoice, Campaign, RegisterEntry, VotingObject
from tests.helpers import csrf_token, login_as
from tests.voting.helpers import Town

REQUESTS = 200


class Server:
    """The app on a loopback port, one thread per request (werkzeug's threaded server)."""

    def __init__(self, app) -> None:
        self.server = make_server("127.0.0.1", 0, app, threaded=True)
        self.port = self.server.server_port
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> Server:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.thread.join(10)


def request(
    port: int, method: str, path: str, cookie: str, body: str = ""
) -> tuple[int, dict, str]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    try:
        headers = {"Cookie": cookie}
        if body:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        conn.request(method, path, body=body.encode(), headers=headers)
        response = conn.getresponse()
        return response.status, dict(response.getheaders()), response.read().decode()
    finally:
        conn.close()


@pytest.mark.committed
def test_200_concurrent_identical_ballots_give_one_ballot_and_clean_refusals(app, client):
    town = Town()
    now = utcnow()
    campaign = Campaign(
        organization=town.admin,
        territory=town.city,
        title="Одновременные голоса",
        opens_at=now - timedelta(days=1),
        closes_at=now + timedelta(days=1),
        published_at=now - timedelta(days=1),
    )
    campaign.objects = [
        VotingObject(number=1, title="Парк"),
        VotingObject(number=2, title="Сквер"),
    ]
    voter = town.resident(age=15)
    db.session.add(campaign)
    db.session.commit()
    campaign_id, choice = campaign.id, campaign.objects[1].id
    voter_key = SimpleNamespace(get_id=lambda key=voter.get_id(): key)
    # With SQLite every transaction holds the write lock (BEGIN IMMEDIATE): end ours first.
    db.session.remove()
    login_as(client, voter_key)
    token = csrf_token(client, f"/voting/{campaign_id}/ballot")
    cookie = f"session={client.get_cookie('session').value}"
    body = f"csrf_token={token}&choices={choice}"

    results: list[tuple[int, str]] = []
    errors: list[BaseException] = []
    start = threading.Barrier(REQUESTS)

    def vote(port: int) -> None:
        try:
            start.wait()
            status, headers, page = request(
                port, "POST", f"/voting/{campaign_id}/cast", cookie, body
            )
            if status == 302:  # a refusal: follow it with the session that carries the flash
                session = headers["Set-Cookie"].split(";", 1)[0]
                status, _h, page = request(port, "GET", headers["Location"], session)
                results.append((302, page))
            else:
                results.append((status, page))
        except BaseException as exc:
            errors.append(exc)

    limiter.enabled = False  # the per-person limit would turn most of them into 429
    try:
        with Server(app) as server:
            threads = [threading.Thread(target=vote, args=(server.port,)) for _ in range(REQUESTS)]
            for t in threads:
                t.start()
            for t in threads:
                t.join(180)
    finally:
        limiter.enabled = True

    assert not errors, errors[:3]
    assert len(results) == REQUESTS
    statuses = sorted(status for status, _page in results)
    assert statuses.count(200) == 1, statuses
    receipts = [page for status, page in results if status == 200]
    assert "Голос принят" in receipts[0]
    refusals = [page for status, page in results if status == 302]
    assert len(refusals) == REQUESTS - 1
    assert all("Вы уже проголосовали" in page for page in refusals)
    assert not any("database is locked" in page for _s, page in results)
    count = lambda model: db.session.scalar(sa.select(sa.func.count()).select_from(model))  # noqa: E731
    assert count(RegisterEntry) == 1
    assert count(Ballot) == 1
    assert count(BallotChoice) == 1
