"""A private redis-server that a test can really stop and start again (never the shared one).

`private_redis` starts `redis-server` on a free loopback port; `.stop()` kills it, `.start()`
brings it back on the same port (empty, as after a crash without persistence).
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import time

import pytest
from redis import Redis

from tests.browser import unavailable


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class RedisServer:
    def __init__(self, binary: str) -> None:
        self.binary = binary
        self.port = _free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        options = ["--port", str(self.port), "--bind", "127.0.0.1", "--save", ""]
        self.process = subprocess.Popen(
            [self.binary, *options, "--appendonly", "no"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        client = Redis.from_url(self.url, socket_connect_timeout=1)
        for _ in range(100):
            try:
                client.ping()
                return
            except Exception:
                time.sleep(0.05)
        raise RuntimeError(f"redis-server on port {self.port} did not start")

    def stop(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait()
            self.process = None


@pytest.fixture
def private_redis():
    binary = shutil.which("redis-server")
    if binary is None:
        unavailable("redis-server не найден: установите пакет redis-server")
    server = RedisServer(binary)
    server.start()
    try:
        yield server
    finally:
        server.stop()


def wait_for(predicate, seconds: float = 60, step: float = 0.2) -> bool:
    """Poll `predicate` until true or `seconds` pass (no timing is asserted, only the end)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(step)
    return bool(predicate())


@pytest.fixture
def app_on_private_redis(app, private_redis, monkeypatch):
    """The test app with jobs, rate limits and widget buffers in `private_redis`."""
    from limits.storage import MemoryStorage, storage_from_string
    from limits.strategies import STRATEGIES

    from participation.extensions import limiter

    monkeypatch.setitem(app.config, "REDIS_URL", private_redis.url)
    storage = storage_from_string(  # the storage production uses (participation.core.ratelimit)
        f"participation+{private_redis.url}", socket_connect_timeout=1, socket_timeout=1
    )
    strategy = STRATEGIES[app.config.get("RATELIMIT_STRATEGY", "fixed-window")]
    monkeypatch.setattr(limiter, "_storage", storage)
    monkeypatch.setattr(limiter, "_limiter", strategy(storage))
    monkeypatch.setattr(limiter, "_storage_dead", False)
    if limiter._fallback_limiter is not None:  # a fresh in-memory fallback for this test
        fallback = MemoryStorage()
        monkeypatch.setattr(limiter, "_fallback_storage", fallback)
        monkeypatch.setattr(limiter, "_fallback_limiter", strategy(fallback))
    return app
