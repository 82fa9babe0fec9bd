"""In Chromium: the main pages, signed out and signed in, load under the
Content-Security-Policy without a single violation (their scripts and styles all come
from static files), and the print button of the QR card works without inline script."""

from __future__ import annotations

from typing import Any

import pytest

from conftest import _verified_client

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WATCH = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", function (event) {
  window.__cspViolations.push(event.violatedDirective + " " + event.blockedURI);
});
"""


def _visit(page: Any, path: str) -> list[str]:
    console: list[str] = []
    page.on("console", lambda message: console.append(message.text))
    response = page.goto(path)
    assert response is not None and response.status == 200, path
    assert response.headers.get("content-security-policy")
    page.wait_for_load_state("load")
    violations = page.evaluate("window.__cspViolations")
    return violations + [text for text in console if "Content Security Policy" in text]


def test_main_pages_load_without_csp_violations(page: Any, live_server: Any, citizen: Any) -> None:
    page.add_init_script(WATCH)
    for path in ["/", "/portal/", "/signin/", "/portal/embed/"]:
        assert _visit(page, path) == [], path
    # Signed in: the same browser with a citizen's session.
    session = _verified_client(citizen).cookies["sessionid"].value
    page.context.add_cookies([{"name": "sessionid", "value": session, "url": live_server.url}])
    for path in ["/", "/me/household/", "/declarations/checkin/"]:
        assert _visit(page, path) == [], path
    # Control: an inline script is blocked and seen, so an empty list above means none.
    page.evaluate(
        "() => { const s = document.createElement('script');"
        " s.textContent = 'window.__ran = true'; document.body.appendChild(s); }"
    )
    page.wait_for_function("window.__cspViolations.length > 0")
    assert page.evaluate("window.__ran === undefined")
