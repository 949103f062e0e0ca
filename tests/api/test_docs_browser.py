"""The documentation page in a real browser (Debian's Chromium): Swagger UI renders every
operation from /api/v1/openapi.json, under our CSP, with nothing fetched from elsewhere."""

from __future__ import annotations

import pytest

from tests.browser import serve_platform, shot

pytestmark = [pytest.mark.browser, pytest.mark.committed]

CSP_WATCH = """
window.__csp = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__csp.push(e.violatedDirective + " " + e.blockedURI);
});
"""


def test_the_docs_page_renders_the_operations_from_our_origin_only(
    app, browser, monkeypatch, tmp_path
):
    with serve_platform(app, monkeypatch, tmp_path) as base:
        context = browser.new_context()
        page = context.new_page()
        requested, console_errors = [], []
        page.on("request", lambda r: requested.append(r.url))
        page.on("console", lambda m: m.type == "error" and console_errors.append(m.text))
        page.add_init_script(CSP_WATCH)
        page.goto(f"{base}/api/v1/docs")
        page.wait_for_selector(".opblock", timeout=15000)
        operations = page.locator(".opblock-summary-path").all_inner_texts()
        assert any("/api/v1/categories" in o for o in operations), operations
        assert any("/api/v1/me" in o for o in operations), operations
        page.locator(".opblock-summary", has_text="/api/v1/categories").first.click()
        page.wait_for_selector("text=Try it out", timeout=5000)
        shot(page, "api", "docs")
        violations = page.evaluate("window.__csp")
        context.close()
    assert violations == []
    assert [u for u in requested if not u.startswith(base) and not u.startswith("data:")] == []
    assert [e for e in console_errors if "Content Security Policy" in e] == []
