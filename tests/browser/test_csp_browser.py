"""A strict Content-Security-Policy holds in Chromium: every page, opened as each role, runs with
only this server's scripts and Dash's own inline ones (by hash), and the browser reports no
violation; the header forbids framing."""

from __future__ import annotations

from typing import Any

import pytest

from tests.browser.test_browser import browser, live_server, submit_login, watched_page  # noqa: F401  (fixtures)
from tests.conftest import SQLITE_PASS

pytestmark = [pytest.mark.browser, SQLITE_PASS]  # the policy holds for the pages' code, whatever the database
ROLES = {"province_admin": None, "changzhi_staff": None, "leader_ro": None}
# Every page of the menu, and the pages opened from lists (with an address they accept).
PATHS = ["/", "/pilots", "/summary", "/city", "/updates", "/flags", "/bulletins", "/jobs", "/recipients",
         "/applications", "/pilot-list", "/work-plan", "/library", "/audit", "/users", "/notices", "/pilot?id=1",
         "/application-form", "/update-form?pilot=1&period=2026-11", "/no-such-page"]  # fmt: skip
WATCH = """() => { window.__violations = [];
  document.addEventListener('securitypolicyviolation', e => window.__violations.push(
    e.violatedDirective + ' ' + (e.blockedURI || 'inline') + ' ' + (e.sourceFile || '') + ':' + e.lineNumber)); }"""


def test_the_policy_is_strict(live_server: str, browser: Any) -> None:  # noqa: F811
    context, page, _problems = watched_page(browser, bypass_csp=False)
    response = page.goto(f"{live_server}/login")
    policy = response.headers["content-security-policy"]
    assert "script-src 'self' 'sha256-" in policy and "unsafe-inline" not in policy.split("style-src")[0]
    assert (
        "unsafe-eval" not in policy and "frame-ancestors 'none'" in policy and "default-src 'self'" in policy
    )
    assert response.headers["x-frame-options"] == "DENY"
    context.close()


@pytest.mark.parametrize("username", list(ROLES))
def test_no_page_breaks_the_policy(live_server: str, browser: Any, username: str) -> None:  # noqa: F811
    context, page, problems = watched_page(browser, bypass_csp=False)
    context.add_init_script(f"({WATCH})()")
    page.goto(f"{live_server}/login")
    submit_login(page, username)
    page.wait_for_load_state("networkidle")
    found: dict[str, Any] = {}
    for path in PATHS:
        page.goto(f"{live_server}{path}")
        page.wait_for_load_state("networkidle")
        page.wait_for_selector("#_pages_content", state="attached")
        violations = page.evaluate("window.__violations")
        if violations:
            found[path] = violations
    csp_console = [p for p in problems if "Content Security Policy" in p]
    context.close()
    assert found == {} and csp_console == []
