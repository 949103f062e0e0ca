"""The HTTP hop from the relying party to ESIA: real HTTP, or the Flask test client."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol
from urllib.error import HTTPError, URLError
from urllib.parse import urlencode, urlsplit
from urllib.request import Request, urlopen

from flask import Flask


@dataclass
class HttpResponse:
    status: int
    body: bytes
    headers: Mapping[str, str] = field(default_factory=dict)

    def json(self) -> Any:
        return json.loads(self.body.decode("utf-8"))


class Transport(Protocol):
    """One HTTP request from the relying party to ESIA."""

    def request(
        self,
        method: str,
        url: str,
        *,
        headers: Mapping[str, str] | None = None,
        form: Mapping[str, str] | None = None,
    ) -> HttpResponse: ...


class EsiaUnavailable(Exception):
    """ESIA did not answer (network error or timeout)."""


class UrllibTransport:
    """Real HTTP with the standard library (no redirects are expected from ESIA's API)."""

    def __init__(self, timeout: float = 15.0) -> None:
        self.timeout = timeout

    def request(self, method, url, *, headers=None, form=None) -> HttpResponse:
        if urlsplit(url).scheme not in {"http", "https"}:
            raise EsiaUnavailable(f"unsupported URL {url!r}")
        data = urlencode(form).encode() if form is not None else None
        req = Request(url, data=data, method=method, headers=dict(headers or {}))  # noqa: S310
        if data is not None:
            req.add_header("Content-Type", "application/x-www-form-urlencoded")
        try:
            with urlopen(req, timeout=self.timeout) as resp:  # noqa: S310 (scheme checked above)
                return HttpResponse(resp.status, resp.read(), dict(resp.headers))
        except HTTPError as exc:
            return HttpResponse(exc.code, exc.read(), dict(exc.headers or {}))
        except (URLError, TimeoutError, OSError) as exc:
            raise EsiaUnavailable(str(exc)) from exc


class FlaskClientTransport:
    """In-process HTTP through the Flask test client (tests): the emulator in the same app.

    Each call runs in a fresh application context, as if it came from another process, so
    the emulator never shares `g` or the database session with the request that called it.
    """

    def __init__(self, app: Flask) -> None:
        self.app = app

    def request(self, method, url, *, headers=None, form=None) -> HttpResponse:
        from flask.globals import _cv_app

        parts = urlsplit(url)
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        token = _cv_app.set(None)
        try:
            client = self.app.test_client()
            resp = client.open(path, method=method, headers=dict(headers or {}), data=form)
            return HttpResponse(resp.status_code, resp.get_data(), dict(resp.headers))
        finally:
            _cv_app.reset(token)


def esia_transport(app: Flask) -> Transport:
    """The app's transport to ESIA: whatever a test installed, else real HTTP."""
    transport = app.extensions.get("esia_transport")
    if transport is None:
        transport = app.extensions.setdefault("esia_transport", UrllibTransport())
    return transport
