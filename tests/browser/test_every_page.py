"""Every HTML page of Steward in Chromium: the Lean PMO's at 390, 1440 and 1920 px, the
executive's and a team member's on a phone.

The pages are every named URL of the URL sweep (tests/test_url_sweep.py) that answers a whole
HTML page to that person, on the sweep's organisation. On each: no sideways scroll, no console
error, every chart drawn; on the phone, the skip link is the first thing the keyboard reaches
and takes the focus to the page's content. Screenshots land in test-artifacts/every-page/.
"""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from tests.browser.conftest import ARTIFACTS, log_in
from tests.browser.test_exec_screens import WIDTHS, _problems_of
from tests.test_url_sweep import ALL_NAMES, OBJECT_KWARGS

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# downloads, fragments htmx swaps in, and pages that end the session
NOT_PAGES = ("-csv", "-export", "-progress", "-errors", "-branch", "logout", "sso-")
RUNS = [("pmo", 390), ("pmo", 1440), ("pmo", 1920), ("executive", 390), ("member", 390)]


def whole_pages(org, role: str) -> dict[str, str]:
    """name → URL of every page that answers `role` a whole HTML page."""
    client = Client()
    client.force_login(org.users[role])
    pages = {}
    for name in ALL_NAMES:
        if name.startswith("api:") or any(part in name for part in NOT_PAGES):
            continue
        url = reverse(name, kwargs=OBJECT_KWARGS.get(name, lambda _: {})(org))
        response = client.get(url)
        html = response.get("Content-Type", "").startswith("text/html")
        if response.status_code == 200 and html and b'<main id="main"' in response.content:
            pages[name] = url
    return pages


def skip_link_problems(page, name: str) -> list[str]:
    """The first Tab reaches the skip link, Enter moves the focus to the page's content."""
    page.keyboard.press("Tab")
    first = page.evaluate("() => document.activeElement.className")
    if first != "skip-link":
        return [f"{name}: the first Tab reaches .{first}, not the skip link"]
    page.keyboard.press("Enter")
    landed = page.evaluate("() => document.activeElement.id")
    return [] if landed == "main" else [f"{name}: the skip link leads to #{landed}, not #main"]


@pytest.mark.parametrize(("role", "width"), RUNS, ids=[f"{r}-{w}" for r, w in RUNS])
def test_every_page_fits_the_screen(org, browser, live_server, role, width):
    pages = whole_pages(org, role)
    assert len(pages) >= (25 if role == "pmo" else 8), sorted(pages)  # the walk found the pages
    folder = ARTIFACTS / "every-page"
    folder.mkdir(parents=True, exist_ok=True)
    context = browser.new_context(
        base_url=live_server.url, viewport={"width": width, "height": WIDTHS[width]}
    )
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    log_in(page, role)
    problems: list[str] = []
    for name, url in pages.items():
        errors.clear()
        page.goto(url)
        page.wait_for_load_state("load")
        charts = page.locator("[data-chart]").count()
        if charts:
            page.wait_for_function(
                f"() => document.querySelectorAll('[data-chart] svg.main-svg').length >= {charts}",
                timeout=20_000,
            )
        problems += _problems_of(page, f"{role} {name}", width, errors)
        page.screenshot(path=str(folder / f"{role}-{name}-{width}.png"), full_page=True)
        if width == 390:
            problems += skip_link_problems(page, f"{role} {name}")
    context.close()
    assert not problems, "\n".join(problems)
