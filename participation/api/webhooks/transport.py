"""One webhook POST: address checks against SSRF, a pinned connection, no redirects, timeouts.

The standard library's http.client is used on purpose: it never follows redirects, and it lets
the connection go to the very address that was checked (the name is resolved once, checked,
and the socket opened to that address with the original name for TLS and `Host`), so a DNS
answer that changes between the check and the connection cannot lead inside the network.
"""

from __future__ import annotations

import http.client
import ipaddress
import socket
import ssl
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

URL_MAX_LENGTH = 2000
RESPONSE_SNIPPET_BYTES = 1024
USER_AGENT = "participation-webhooks/1"
LOOPBACK_NAMES = frozenset({"localhost", "127.0.0.1", "::1"})

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


@dataclass(frozen=True)
class Policy:
    """Where sending is allowed (from the config: WEBHOOKS_*)."""

    allow_local_http: bool
    block_private: bool
    timeout: float = 10.0

    @classmethod
    def from_config(cls, config: Any) -> Policy:
        return cls(
            allow_local_http=bool(config["WEBHOOKS_ALLOW_LOCAL_HTTP"]),
            block_private=bool(config["WEBHOOKS_BLOCK_PRIVATE_ADDRESSES"]),
            timeout=float(config["WEBHOOKS_TIMEOUT_SECONDS"]),
        )


@dataclass(frozen=True)
class Response:
    status: int
    body: bytes
    retry_after: str | None


class DeliveryError(Exception):
    """No HTTP answer: the address is refused, not found, unreachable, or too slow."""


def is_public(address: IPAddress) -> bool:
    """A global unicast address (not private, loopback, link-local, reserved, multicast…)."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_global and not address.is_multicast


def _literal_ip(host: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


def _is_loopback_name(host: str) -> bool:
    return host in LOOPBACK_NAMES or host.endswith(".localhost")


def resolve(host: str, port: int) -> list[IPAddress]:
    """Every address the name resolves to (a literal address: itself)."""
    literal = _literal_ip(host)
    if literal is not None:
        return [literal]
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    seen: dict[str, IPAddress] = {}
    for info in infos:
        sockaddr = info[4]
        address = ipaddress.ip_address(str(sockaddr[0]).split("%", 1)[0])
        seen.setdefault(str(address), address)
    return list(seen.values())


def url_problem(url: str, policy: Policy, *, look_up: bool = True) -> Any | None:
    """Why the platform will not send to `url` (a message for the person), or None.

    With `look_up`, a name is resolved and refused if it leads to a non-public address; a name
    that does not resolve (yet) is accepted here — each delivery checks again.
    """
    if len(url) > URL_MAX_LENGTH:
        return _l("Адрес слишком длинный: не больше %(max)d символов.", max=URL_MAX_LENGTH)
    if any(c.isspace() or ord(c) < 32 for c in url):
        return _l("Адрес не должен содержать пробелов.")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return _l("Адрес записан с ошибкой. Пример: https://sed.example.ru/webhooks")
    host = (parts.hostname or "").lower()
    if parts.scheme not in {"https", "http"} or not host:
        return _l("Укажите полный адрес, начиная с https://, например https://sed.example.ru/hook")
    if parts.username is not None or parts.password is not None:
        return _l("Адрес не должен содержать логин и пароль: получатель проверяет подпись.")
    if parts.fragment:
        return _l("Уберите из адреса часть после знака #: она не передаётся серверу.")
    if port == 0:
        return _l("Адрес записан с ошибкой. Пример: https://sed.example.ru/webhooks")
    if parts.scheme == "http" and not (policy.allow_local_http and _is_loopback_name(host)):
        return _l("Нужен защищённый адрес: он должен начинаться с https://.")
    if not policy.block_private:
        return None
    if _is_loopback_name(host):
        return _l("Адрес ведёт на сам сервер платформы. Укажите адрес в интернете.")
    literal = _literal_ip(host)
    if literal is not None:
        return None if is_public(literal) else _internal_address()
    if not look_up:
        return None
    try:
        addresses = resolve(host, port or 443)
    except (OSError, UnicodeError):
        return None
    return None if all(is_public(a) for a in addresses) else _internal_address()


def _internal_address() -> Any:
    return _l(
        "Адрес ведёт во внутреннюю сеть (частный, локальный или служебный IP-адрес). "
        "Укажите адрес, доступный из интернета."
    )


class _PinnedHTTPConnection(http.client.HTTPConnection):
    """HTTP to a checked address; `Host` keeps the name."""

    def __init__(self, host: str, port: int, address: IPAddress, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout)
        self._address = address

    def connect(self) -> None:
        self.sock = socket.create_connection((str(self._address), self.port), self.timeout)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    """HTTPS to a checked address; the certificate is checked against the name (SNI too)."""

    def __init__(self, host: str, port: int, address: IPAddress, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout, context=ssl.create_default_context())
        self._address = address

    def connect(self) -> None:
        sock = socket.create_connection((str(self._address), self.port), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)


def post(url: str, body: bytes, headers: dict[str, str], policy: Policy) -> Response:
    """POST `body` to `url` once; any HTTP answer is returned (redirects are not followed)."""
    problem = url_problem(url, policy, look_up=False)
    if problem is not None:
        raise DeliveryError(str(problem))
    parts = urlsplit(url)
    host = parts.hostname or ""
    https = parts.scheme == "https"
    port = parts.port or (443 if https else 80)
    try:
        addresses = resolve(host, port)
    except (OSError, UnicodeError) as exc:
        raise DeliveryError(
            _("Не удалось найти сервер %(host)s: %(error)s", host=host, error=exc)
        ) from None
    if policy.block_private and not all(is_public(a) for a in addresses):
        raise DeliveryError(str(_internal_address()))
    if not addresses:
        raise DeliveryError(_("Не удалось найти сервер %(host)s", host=host))
    connection_class = _PinnedHTTPSConnection if https else _PinnedHTTPConnection
    connection = connection_class(host, port, addresses[0], policy.timeout)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    try:
        connection.request(
            "POST",
            target,
            body=body,
            headers={**headers, "User-Agent": USER_AGENT, "Connection": "close"},
        )
        answer = connection.getresponse()
        snippet = answer.read(RESPONSE_SNIPPET_BYTES)
        return Response(answer.status, snippet, answer.getheader("Retry-After"))
    except TimeoutError:
        seconds = f"{policy.timeout:g}"
        raise DeliveryError(_("Нет ответа за %(n)s с", n=seconds)) from None
    except ssl.SSLError as exc:
        raise DeliveryError(_("Ошибка TLS: %(error)s", error=exc.reason or exc)) from None
    except (OSError, http.client.HTTPException) as exc:
        detail = f"{type(exc).__name__}: {exc}"
        raise DeliveryError(_("Ошибка соединения: %(error)s", error=detail)) from None
    finally:
        connection.close()
