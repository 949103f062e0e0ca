"""Where webhooks may go: the address rules (SSRF) and the settings that switch them."""

from __future__ import annotations

import ipaddress

import pytest

from participation.api.webhooks.transport import DeliveryError, Policy, is_public, post, url_problem
from participation.config import ConfigError, load_config
from tests.core.test_config import _production_env

PRODUCTION = Policy(allow_local_http=False, block_private=True, timeout=1)
DEVELOPMENT = Policy(allow_local_http=True, block_private=False, timeout=1)


@pytest.mark.parametrize(
    ("address", "public"),
    [
        ("93.184.215.14", True),
        ("2a00:1450:4010:c05::64", True),
        ("10.0.0.1", False),
        ("172.31.255.255", False),
        ("192.168.1.1", False),
        ("127.0.0.1", False),
        ("169.254.169.254", False),
        ("100.64.0.1", False),
        ("0.0.0.0", False),
        ("224.0.0.1", False),
        ("::1", False),
        ("fe80::1", False),
        ("fd12:3456::1", False),
        ("::ffff:192.168.1.1", False),
        ("::ffff:93.184.215.14", True),
    ],
)
def test_only_global_unicast_addresses_are_public(address, public):
    assert is_public(ipaddress.ip_address(address)) is public


@pytest.mark.parametrize(
    ("url", "production", "development"),
    [
        ("https://sed.example.ru/hook", None, None),
        ("https://93.184.215.14:8443/hook?org=5", None, None),
        ("http://sed.example.ru/hook", "https://", "https://"),
        ("http://127.0.0.1:5000/hook", "https://", None),
        ("http://localhost:5000/hook", "https://", None),
        ("http://[::1]:5000/hook", "https://", None),
        ("https://localhost/hook", "сам сервер", None),
        ("https://app.localhost/hook", "сам сервер", None),
        ("https://10.0.0.1/hook", "внутреннюю сеть", None),
        ("https://169.254.169.254/", "внутреннюю сеть", None),
        ("https://user@sed.example.ru/", "логин", "логин"),
        ("https:///nohost", "https://", "https://"),
        ("javascript:alert(1)", "https://", "https://"),
        ("https://sed.example.ru/a b", "пробел", "пробел"),
    ],
)
def test_url_rules(url, production, development):
    for policy, expected in ((PRODUCTION, production), (DEVELOPMENT, development)):
        problem = url_problem(url, policy, look_up=False)
        if expected is None:
            assert problem is None, (url, policy, str(problem))
        else:
            assert problem is not None and expected in str(problem), (url, policy)


@pytest.mark.parametrize(
    ("resolved", "refused"),
    [
        (["192.168.1.5"], True),
        (["93.184.215.14", "10.0.0.3"], True),  # one inside address is enough
        (["93.184.215.14"], False),
        (OSError("no such name"), False),  # not resolvable yet: each delivery checks again
    ],
)
def test_a_name_that_resolves_inside_is_refused_in_production(app, monkeypatch, resolved, refused):
    from participation.api.webhooks import transport

    def fake_resolve(host, port):
        if isinstance(resolved, Exception):
            raise resolved
        return [ipaddress.ip_address(a) for a in resolved]

    monkeypatch.setattr(transport, "resolve", fake_resolve)
    with app.test_request_context():
        problem = url_problem("https://intranet.example.ru/hook", PRODUCTION)
        assert (problem is not None and "внутреннюю сеть" in str(problem)) is refused
        assert url_problem("https://intranet.example.ru/hook", DEVELOPMENT) is None


def test_sending_is_refused_when_the_name_leads_inside(app, monkeypatch):
    from participation.api.webhooks import transport

    monkeypatch.setattr(transport, "resolve", lambda host, port: [ipaddress.ip_address("10.9.8.7")])
    with app.test_request_context(), pytest.raises(DeliveryError, match="внутреннюю сеть"):
        post("https://innocent.example.ru/hook", b"{}", {}, PRODUCTION)


def test_settings_default_by_environment(tmp_path):
    development = load_config({}, tmp_path)
    assert development["WEBHOOKS_ALLOW_LOCAL_HTTP"] is True
    assert development["WEBHOOKS_BLOCK_PRIVATE_ADDRESSES"] is False
    production = load_config(_production_env(tmp_path), tmp_path)
    assert production["WEBHOOKS_ALLOW_LOCAL_HTTP"] is False
    assert production["WEBHOOKS_BLOCK_PRIVATE_ADDRESSES"] is True
    assert production["WEBHOOKS_TIMEOUT_SECONDS"] == 10


def test_production_refuses_local_http_webhooks(tmp_path):
    with pytest.raises(ConfigError, match="WEBHOOKS_ALLOW_LOCAL_HTTP"):
        load_config({**_production_env(tmp_path), "WEBHOOKS_ALLOW_LOCAL_HTTP": "true"}, tmp_path)
