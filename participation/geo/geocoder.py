"""Reverse geocoding (a point → an address) through a Nominatim-compatible service, optional.

Off unless GEOCODER_URL is set: nothing is fetched from the internet by default. The call goes
server-side (the browser only talks to this site) to `{GEOCODER_URL}/reverse?format=jsonv2`,
with a short timeout and an identifying User-Agent as Nominatim's usage policy asks, and the
answer is cached per point rounded to 5 decimals (about a metre): in Redis when there is one
(shared by every web process), else in this process. Every failure — the service down, slow,
answering garbage — means "no address": the resident types it, the form never breaks.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections import OrderedDict
from typing import Any
from urllib.error import URLError
from urllib.parse import urlencode
from urllib.request import Request, urlopen

from flask import current_app
from redis.exceptions import RedisError

from participation.core.jobs import redis_connection

log = logging.getLogger(__name__)

ADDRESS_MAX = 500  # the message form's address field
ANSWER_MAX_BYTES = 256 * 1024
CACHE_PREFIX = "geo:reverse:"
LOCAL_CACHE_SIZE = 2048
# The parts of a Nominatim `address`, in the order a Russian address is written.
PLACE_KEYS = ("city", "town", "village", "hamlet", "municipality", "county", "state")
STREET_KEYS = ("road", "pedestrian", "footway", "square", "neighbourhood", "suburb")


class _LocalCache:
    """A small expiring LRU for a process without Redis (development)."""

    def __init__(self, size: int) -> None:
        self._size = size
        self._lock = threading.Lock()
        self._items: OrderedDict[str, tuple[float, str]] = OrderedDict()

    def get(self, key: str) -> str | None:
        with self._lock:
            found = self._items.get(key)
            if found is None:
                return None
            if found[0] < time.monotonic():
                del self._items[key]
                return None
            self._items.move_to_end(key)
            return found[1]

    def set(self, key: str, value: str, seconds: int) -> None:
        with self._lock:
            self._items[key] = (time.monotonic() + seconds, value)
            self._items.move_to_end(key)
            while len(self._items) > self._size:
                self._items.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


local_cache = _LocalCache(LOCAL_CACHE_SIZE)


def geocoder_enabled() -> bool:
    """Whether a geocoder is configured (the form then asks it for the point's address)."""
    return bool(current_app.config.get("GEOCODER_URL"))


def reverse_geocode(lat: float, lon: float) -> str | None:
    """The address at the point (checked coordinates), or None: off, nothing there, or failed."""
    base = current_app.config.get("GEOCODER_URL")
    if not base:
        return None
    key = f"{CACHE_PREFIX}{lat:.5f}:{lon:.5f}"
    cached = _cache_get(key)
    if cached is not None:
        return cached or None  # "": the service was asked and found nothing here
    try:
        body = _fetch(base, round(lat, 5), round(lon, 5))
    except (URLError, OSError, ValueError) as exc:  # timeouts are OSError; bad JSON ValueError
        log.warning("reverse geocoding of %.5f,%.5f failed: %s", lat, lon, exc)
        return None  # not cached: the next placement asks again
    address = address_of(body)
    _cache_set(key, address or "")
    return address


def _fetch(base: str, lat: float, lon: float) -> Any:
    config = current_app.config
    query = urlencode(
        {"format": "jsonv2", "lat": f"{lat:.5f}", "lon": f"{lon:.5f}", "accept-language": "ru"}
    )
    agent = config.get("GEOCODER_USER_AGENT") or (
        f"participation/0.1 (+{config.get('PUBLIC_BASE_URL', 'http://127.0.0.1:5000')})"
    )
    request = Request(  # noqa: S310 (GEOCODER_URL is checked to be http(s) at start-up)
        f"{base}/reverse?{query}",
        headers={"User-Agent": agent, "Accept": "application/json", "Accept-Language": "ru"},
    )
    with urlopen(request, timeout=config["GEOCODER_TIMEOUT_SECONDS"]) as response:  # noqa: S310
        raw = response.read(ANSWER_MAX_BYTES + 1)
    if len(raw) > ANSWER_MAX_BYTES:
        raise ValueError("answer too large")
    return json.loads(raw.decode("utf-8"))


def address_of(body: Any) -> str | None:
    """A short Russian address from a Nominatim jsonv2 answer: «Уфа, улица Ленина, 12»."""
    if not isinstance(body, dict) or "error" in body:
        return None
    parts = body.get("address")
    found: list[str] = []
    if isinstance(parts, dict):
        place = next((parts[k] for k in PLACE_KEYS if isinstance(parts.get(k), str)), None)
        street = next((parts[k] for k in STREET_KEYS if isinstance(parts.get(k), str)), None)
        house = parts.get("house_number") if isinstance(parts.get("house_number"), str) else None
        found = [p.strip() for p in (place, street, house) if p and p.strip()]
    if len(found) < 2:  # too little to be useful: the full line the service composed
        display = body.get("display_name")
        found = [display.strip()] if isinstance(display, str) and display.strip() else []
    text = " ".join(", ".join(found).split())  # no control characters or runs of spaces
    return text[:ADDRESS_MAX] or None


def _cache_get(key: str) -> str | None:
    url = current_app.config.get("REDIS_URL")
    if url:
        try:
            value = redis_connection(url).get(key)
        except RedisError as exc:
            log.warning("reverse geocoding cache unavailable: %s", exc)
            return None
        return None if value is None else value.decode("utf-8")
    return local_cache.get(key)


def _cache_set(key: str, value: str) -> None:
    seconds = current_app.config["GEOCODER_CACHE_SECONDS"]
    url = current_app.config.get("REDIS_URL")
    if url:
        try:
            redis_connection(url).set(key, value.encode("utf-8"), ex=seconds)
        except RedisError as exc:
            log.warning("reverse geocoding cache unavailable: %s", exc)
        return
    local_cache.set(key, value, seconds)
