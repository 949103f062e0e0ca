"""Real-browser tests: headless Debian Chromium (never a downloaded one) driven by Playwright,
with axe-core from the npm registry (tests/widgets/axe.py). Without Chromium, Playwright or
axe-core these tests are skipped locally and fail when CI=true.

The fixtures `browser` and `axe_source` reach every test through tests/conftest.py;
`serve_platform` (the app on a loopback port, ESIA over HTTP) also serves plain-HTTP tests.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from participation.auth.emulator.keys import emulator_key
from participation.auth.esia import UrllibTransport
from participation.extensions import db
from tests.widgets.axe import AxeUnavailable, fetch_axe

ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def unavailable(reason: str):
    if os.environ.get("CI") == "true":
        pytest.fail(f"CI: {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists():
        unavailable(f"{CHROMIUM} не найден: установите пакет chromium (apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        unavailable("Python-пакет playwright не установлен (pip install -e '.[dev]')")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture(scope="module")
def axe_source():
    try:
        return fetch_axe()
    except AxeUnavailable as exc:
        unavailable(f"axe-core недоступен: {exc}")


@contextmanager
def serve(app, host: str = "127.0.0.1") -> Iterator[int]:
    """A WSGI app on `host`:<free port> in a thread; yields the port."""
    server = make_server(host, 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_port
    finally:
        server.shutdown()
        thread.join(timeout=10)


@contextmanager
def serve_platform(app, monkeypatch, tmp_path) -> Iterator[str]:
    """The app on 127.0.0.1:<port>, its ESIA emulator called over HTTP; yields the base URL.
    The test's rows must be committed (mark the test `committed`): the server has its own
    sessions."""
    db.session.remove()
    db.session.configure(bind=None, join_transaction_mode="conditional_savepoint")
    for name, file in [
        ("ESIA_KEY_PATH", "client_key.pem"),
        ("ESIA_CERT_PATH", "client_cert.pem"),
        ("ESIA_EMULATOR_KEY_PATH", "emulator_key.pem"),
        ("ESIA_PROVIDER_KEY_PATH", "emulator_key.pem"),
    ]:
        monkeypatch.setitem(app.config, name, str(tmp_path / file))
    emulator_key(app)  # what mounting the emulator does with the paths now in force
    with serve(app) as port:
        base = f"http://127.0.0.1:{port}"
        monkeypatch.setitem(app.config, "ESIA_BASE_URL", f"{base}/esia")
        monkeypatch.setitem(app.extensions, "esia_transport", UrllibTransport(timeout=15))
        yield base


def shot(page, folder: str, name: str) -> None:
    """A full-page screenshot into test-artifacts/<folder>/<name>.png."""
    (ARTIFACTS / folder).mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / folder / f"{name}.png"), full_page=True)


WCAG_21_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


def axe_violations(frame, axe_source: str, tags: list[str] | None = None) -> list[dict]:
    """axe-core on a page or frame (only the rules tagged `tags`, if given): its violations,
    each with up to 5 of the nodes concerned."""
    if not frame.evaluate("() => typeof window.axe !== 'undefined'"):
        frame.add_script_tag(content=axe_source)
    result = frame.evaluate(
        """async (tags) => {
            const options = tags ? {runOnly: {type: "tag", values: tags}} : {};
            const result = await axe.run(document, options);
            return {
                passes: result.passes.length,
                violations: result.violations.map(v => ({
                    id: v.id, impact: v.impact, help: v.help,
                    nodes: v.nodes.slice(0, 5).map(n => ({
                        target: n.target.join(" "), html: n.html.slice(0, 200),
                        summary: n.failureSummary,
                    })),
                })),
            };
        }""",
        tags,
    )
    assert result["passes"] >= 10, f"axe checked almost nothing on {frame.url}: {result}"
    return result["violations"]


def check_axe(frame, axe_source: str, folder: str, name: str) -> None:
    """axe-core on a page or frame: no serious or critical violations (all of them are kept in
    test-artifacts/<folder>/axe-<name>.json)."""
    violations = axe_violations(frame, axe_source)
    (ARTIFACTS / folder).mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / folder / f"axe-{name}.json").write_text(
        json.dumps(violations, ensure_ascii=False, indent=2), encoding="utf-8"
    )
    serious = [v for v in violations if v["impact"] in ("serious", "critical")]
    assert not serious, f"axe на странице «{name}»: {json.dumps(serious, ensure_ascii=False)}"


def esia_login(page, persona: str) -> None:
    """On the ESIA emulator's page: choose the test person and log in."""
    page.wait_for_selector(f"#persona-{persona}")
    page.check(f"#persona-{persona}")
    page.click("button[name=action][value=login]")
