"""Every page, as each of its readers sees it, in Vietnamese and English, on a phone (390 px)
and a desktop (1366 px): no sideways scrolling, no heading or card title wrapping one word
per line, no untranslated text, no raw stored value (`home_isolation`), no serious or
critical axe violation, no console error, and no link to another port than the server's.

The pages come from the URLconf (covidhub/core/tests/every_page.py): a new page without an
entry there fails `test_every_named_route_is_a_page_or_says_why_not`. Screenshots of every
page go to var/screenshots/<persona>/ for a reviewer. One browser and one context per
reader and language for the whole module; the demo province is seeded once.
"""

from __future__ import annotations

import re
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.urls import reverse

from conftest import CHROMIUM_ARGS, _verified_client, axe_violations
from covidhub.accounts.workspaces import workspace_links_for
from covidhub.core.tests.every_page import (
    ANON,
    CITIZEN_PHONES,
    PAGES,
    STAFF_PERSONAS,
    is_not_page,
    named_routes,
)
from covidhub.core.tests.page_checks import PAGE_FACTS, layout_problems, page_problems

SCREENSHOTS = Path(__file__).resolve().parents[3] / "var" / "screenshots"
LANGUAGES = ("vi", "en")
WIDTHS = (1366, 390)
ERROR_PAGES = {"error-404": ("/khong-co-trang-nay/", 404), "error-400": ("/portal/?q=%00", 400)}

# A check that fails only because of an item of issue 17 that another change is still
# fixing: (persona, page) → the item. Strict, so the entry goes when the item is fixed.
KNOWN: dict[tuple[str, str], str] = {}
# Of those, the ones that fail only sometimes (not strict: an unexpected pass is no failure).
FLAKY: set[tuple[str, str]] = set()


def _staff_pages() -> list[tuple[str, str]]:
    """Each staff role's workspace and every page it links to."""
    visits = []
    for username, role in STAFF_PERSONAS.items():
        visits.append((username, "accounts:workspace"))
        for link in workspace_links_for(frozenset({role})):
            if link.url_name not in PAGES:
                visits.append((username, link.url_name))
    return visits


def _visits() -> list[tuple[str, str]]:
    """Each page once, seen by one of its readers; the workspace by every staff role."""
    visits = [(page.persona, name) for name, page in PAGES.items()]
    seen = set(PAGES)
    for persona, name in _staff_pages():
        if name == "accounts:workspace" or name not in seen:
            visits.append((persona, name))
            seen.add(name)
    visits += [(ANON, name) for name in ERROR_PAGES]
    return visits


def _params() -> list[Any]:
    params = []
    for persona, name in _visits():
        reason = KNOWN.get((persona, name))
        # Strict where the failure is certain, so that the entry goes when it is fixed.
        strict = (persona, name) not in FLAKY
        marks = [pytest.mark.xfail(strict=strict, reason=reason)] if reason else []
        params.append(pytest.param(persona, name, id=f"{persona}-{name}", marks=marks))
    return params


def test_every_named_route_is_a_page_or_says_why_not() -> None:
    visited = {name for _persona, name in _visits()}
    missing = [
        f"{name} ({pattern})"
        for name, pattern in named_routes().items()
        if name not in visited and not is_not_page(name, pattern)
    ]
    assert not missing, "add to covidhub/core/tests/every_page.py: " + ", ".join(missing)


@pytest.fixture(scope="module")
def demo_province(django_db_setup: Any, django_db_blocker: Any) -> Any:
    """The demo province and a signed-in session for each reader, committed once for the
    module (each test then only reads, inside its own transaction)."""
    from covidhub.accounts.models import User

    with django_db_blocker.unblock():
        call_command("seed_demo", "--people", "1000", "--quiet", stdout=StringIO())
        sessions = {
            persona: _verified_client(User.objects.get(username=persona)).cookies["sessionid"]
            for persona in STAFF_PERSONAS
        }
        for persona, phone in CITIZEN_PHONES.items():
            citizen = User.objects.get(phone=phone, kind=User.Kind.CITIZEN)
            sessions[persona] = _verified_client(citizen).cookies["sessionid"]
        # Open for the whole module: a request the browser still makes after a test ends
        # must not meet a blocked database (it would answer 500 to the next page).
        yield {persona: cookie.value for persona, cookie in sessions.items()}
        call_command("flush", interactive=False, verbosity=0)


@pytest.fixture(scope="module")
def browser() -> Any:
    from playwright.sync_api import sync_playwright

    from conftest import CHROMIUM, server_code_loaded

    server_code_loaded()
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        yield chromium
        chromium.close()


@pytest.fixture(scope="module")
def contexts(browser: Any) -> Any:
    """One browser context per reader and language, made on first use."""
    made: dict[tuple[str, str], Any] = {}
    yield made
    for context in made.values():
        context.close()


def _context(
    contexts: dict[tuple[str, str], Any], browser: Any, url: str, session: str, language: str
) -> Any:
    if (session, language) in contexts:
        return contexts[(session, language)]
    # No service worker: its background fetches would reach the server between tests.
    context = browser.new_context(
        base_url=url,
        locale="vi-VN",
        viewport={"width": WIDTHS[0], "height": 900},
        service_workers="block",
    )
    context.set_default_timeout(20_000)
    cookies = [{"name": "django_language", "value": language, "url": url}]
    if session:
        cookies.append({"name": "sessionid", "value": session, "url": url})
    context.add_cookies(cookies)
    contexts[(session, language)] = context
    return context


def _path(name: str) -> tuple[str, int]:
    if name in ERROR_PAGES:
        return ERROR_PAGES[name]
    page = PAGES.get(name)
    kwargs = page.build() if page and page.build else {}
    return reverse(name, kwargs=kwargs), 200


@pytest.mark.browser
@pytest.mark.parametrize(("persona", "name"), _params())
def test_page_reads_well_in_both_languages_at_both_sizes(
    persona: str,
    name: str,
    demo_province: dict[str, str],
    browser: Any,
    contexts: dict[tuple[str, str], Any],
    db: None,
    request: Any,
    settings: Any,
) -> None:
    # live_server is asked for here, not as an argument: as an argument it would make the
    # test transactional, and the flush after each test would empty the demo province.
    server = request.getfixturevalue("live_server")
    settings.SITE_URL = server.url
    port = int(server.url.rsplit(":", 1)[1])
    path, status = _path(name)
    problems: list[str] = []
    for language in LANGUAGES:
        problems += [
            f"{language}: {problem}"
            for problem in _look(
                _context(contexts, browser, server.url, demo_province.get(persona, ""), language),
                persona=persona,
                name=name,
                path=path,
                status=status,
                language=language,
                port=port,
            )
        ]
    assert not problems, f"{persona} {path}:\n" + "\n".join(problems)


def _look(
    context: Any, *, persona: str, name: str, path: str, status: int, language: str, port: int
) -> list[str]:
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    try:
        response = page.goto(path)
        problems = []
        if response is None or response.status != status:
            problems.append(f"answered {response and response.status}, not {status}")
        expected = f"{status} " if status != 200 else ""
        folder = SCREENSHOTS / persona
        folder.mkdir(parents=True, exist_ok=True)
        stem = re.sub(r"[^\w-]+", "-", name)
        for width in WIDTHS:
            page.set_viewport_size({"width": width, "height": 900})
            facts = page.evaluate(PAGE_FACTS)
            problems += layout_problems(facts, width=width)
            page.screenshot(
                path=str(folder / f"{stem}.{language}.{width}.jpg"),
                full_page=True,
                type="jpeg",
                quality=60,
            )
        problems += page_problems(facts, language=language, port=port)
        if language == LANGUAGES[0]:  # axe's rules do not depend on the language
            problems += [f"axe {v['id']}: {v['help']}" for v in axe_violations(page)]
        problems += [
            f"console error: {error}"
            for error in errors
            if not (expected and "status of " + expected.strip() in error)
        ]
        return problems
    finally:
        page.close()
