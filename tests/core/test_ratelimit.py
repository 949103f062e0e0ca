"""Rate limits in Redis: one round trip per limit (participation.core.ratelimit), the same
decisions and the same headers as before."""

from __future__ import annotations

import pytest
from redis import Redis

pytestmark = pytest.mark.redis


def _calls(redis: Redis) -> dict[str, int]:
    stats = redis.info("commandstats")
    return {name.removeprefix("cmdstat_"): value["calls"] for name, value in stats.items()}


def _sent(before: dict[str, int], after: dict[str, int]) -> dict[str, int]:
    return {k: after[k] - before.get(k, 0) for k in after if after[k] != before.get(k, 0)}


def test_a_limited_page_costs_one_round_trip_and_keeps_its_headers(
    app_on_private_redis, private_redis, client
):
    redis = Redis.from_url(private_redis.url)
    client.get("/login")  # loads the script into Redis
    before = _calls(redis)
    response = client.get("/login")
    sent = _sent(before, _calls(redis))
    # One script call (its INCRBY and PTTL run inside Redis); nothing read back for the
    # headers (Flask-Limiter's own storage sends GET and TTL after it).
    assert sent["evalsha"] == 1
    assert "get" not in sent and "ttl" not in sent
    assert response.headers["X-RateLimit-Limit"] == "20"
    assert response.headers["X-RateLimit-Remaining"] == "18"
    assert 0 < int(response.headers["Retry-After"]) <= 60


def test_the_limit_still_refuses_with_retry_after(app_on_private_redis, client):
    answers = [client.get("/login") for _ in range(21)]
    assert [a.status_code for a in answers[:20]] == [302] * 20
    assert answers[20].status_code == 429
    assert answers[20].headers["X-RateLimit-Remaining"] == "0"
    assert 0 < int(answers[20].headers["Retry-After"]) <= 60
