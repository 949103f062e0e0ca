"""Flask-Limiter's Redis storage, one round trip per limit instead of three.

Flask-Limiter counts a request with one script call per limit (INCRBY, EXPIRE on a new
window), then reads the window of the limit it reports back (GET, then TTL) to write the
RateLimit-* and Retry-After headers: three round trips for a page with one limit, four for a
ballot with two. Here the counting script also returns the window's time to live, and the
header's read that follows in the same thread is answered from it. Decisions are unchanged:
they are made on the count the increment returns, as before. The scheme `participation+redis`
(config: RATELIMIT_STORAGE_URI) selects it; the URI after the prefix is Redis's.
"""

from __future__ import annotations

import threading
import time

from limits.storage import RedisStorage

# The count after the increment and the window's milliseconds to live, set on a new window.
_INCR_EXPIRE_TTL = """
local current = redis.call("incrby", KEYS[1], ARGV[2])
if tonumber(current) == tonumber(ARGV[2]) then
    redis.call("expire", KEYS[1], ARGV[1])
end
return {current, redis.call("pttl", KEYS[1])}
"""
# A count read back later than this after its increment goes to Redis again.
_FRESH_SECONDS = 1.0


class OneTripRedisStorage(RedisStorage):
    """RedisStorage whose increment also tells the window's end to the next read of it."""

    STORAGE_SCHEME = ["participation+redis"]  # noqa: RUF012  (limits reads a list)

    def __init__(self, uri: str, **options) -> None:
        self._last = threading.local()
        super().__init__(uri.removeprefix("participation+"), **options)

    def initialize_storage(self, uri: str) -> None:
        super().initialize_storage(uri)
        self.lua_incr_expire_ttl = self.get_connection().register_script(_INCR_EXPIRE_TTL)

    def _held(self) -> dict[str, tuple[int, float, float]]:
        """This thread's counts: key -> (count, window's end, when counted)."""
        held = getattr(self._last, "held", None)
        if held is None:
            held = self._last.held = {}
        return held

    def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        current, ttl_ms = self.lua_incr_expire_ttl([self.prefixed_key(key)], [expiry, amount])
        now = time.time()
        held = self._held()
        for stale in [k for k, v in held.items() if now - v[2] > _FRESH_SECONDS]:
            del held[stale]
        held[key] = (int(current), now + max(int(ttl_ms), 0) / 1000, now)
        return int(current)

    def _fresh(self, key: str) -> tuple[int, float, float] | None:
        entry = self._held().get(key)
        return entry if entry and time.time() - entry[2] <= _FRESH_SECONDS else None

    def get(self, key: str) -> int:
        entry = self._fresh(key)
        return entry[0] if entry else super().get(key)

    def get_expiry(self, key: str) -> float:
        entry = self._fresh(key)
        if entry is None:
            return super().get_expiry(key)
        del self._held()[key]  # one read of the window per increment
        return entry[1]

    def clear(self, key: str) -> None:
        self._held().pop(key, None)
        super().clear(key)

    def reset(self) -> int | None:
        self._held().clear()
        return super().reset()
