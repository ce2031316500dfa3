"""The executive screens of the demo as each role sees them on a phone, a laptop and a projector.

Home, portfolio, value-stream, team and outcomes pages, as executive, Lean PMO and team member, at
390, 1440 and 1920 px wide: no horizontal scroll, no console error, every chart drawn, a visible
focus ring. Screenshots land in test-artifacts/screens/ for people to look at.
"""

from __future__ import annotations

import pytest
from django.utils import timezone
from django.utils.module_loading import import_string

from tests.browser.conftest import ARTIFACTS, log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WIDTHS = {390: 844, 1440: 900, 1920: 1080}
ROLES = ("executive", "pmo", "member")


def _seed_demo() -> None:
    from portfolio.demo import demo_seed
    from portfolio.management.commands.seed_demo import DEMO_STEPS

    today = timezone.localdate()
    demo_seed(today=today, password="secret-pass-123")
    for step in DEMO_STEPS:
        import_string(step)(today=today)


def _pages() -> dict[str, str]:
    from portfolio.models import Portfolio
    from teams.models import ProductTeam
    from valuestreams.models import ValueStream

    portfolio = Portfolio.objects.get(name="Everyday Banking")
    stream = ValueStream.objects.get(portfolio=portfolio, name="Payments & Transfers")
    team = ProductTeam.objects.get(value_stream=stream, name="Instant Payments")
    return {
        "home": "/",
        "portfolio": f"/portfolios/{portfolio.pk}/",
        "value-stream": f"/value-streams/{stream.pk}/",
        "team": f"/teams/{team.pk}/",
        "outcomes": f"/portfolios/{portfolio.pk}/outcomes/",
    }


def _problems_of(page, name: str, width: int, errors: list[str]) -> list[str]:
    problems = []
    overflow = page.evaluate(
        "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    if overflow > 0:
        wide = page.evaluate(
            """() => [...document.querySelectorAll('body *')]
                .filter(el => el.getBoundingClientRect().right > document.documentElement.clientWidth + 1)
                .slice(0, 5).map(el => el.tagName + '.' + el.className)"""
        )
        problems.append(f"{name} at {width} px scrolls sideways by {overflow} px: {wide}")
    charts = page.locator("[data-chart]").count()
    drawn = page.locator("[data-chart] svg.main-svg").count()
    if charts and drawn < charts:
        problems.append(f"{name} at {width} px: {drawn} of {charts} charts drawn")
    problems += [f"{name} at {width} px: console: {error}" for error in errors]
    return problems


def _focus_is_visible(page) -> bool:
    page.keyboard.press("Tab")
    return page.evaluate(
        """() => {
            const style = getComputedStyle(document.activeElement);
            return style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) >= 2;
        }"""
    )


def test_the_executive_screens_fit_every_width_for_every_role(browser, live_server):
    _seed_demo()
    pages = _pages()
    folder = ARTIFACTS / "screens"
    folder.mkdir(parents=True, exist_ok=True)
    problems: list[str] = []
    for role in ROLES:
        context = browser.new_context(base_url=live_server.url)
        page = context.new_page()
        errors: list[str] = []
        page.on("console", lambda m, e=errors: e.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda exc, e=errors: e.append(str(exc)))
        log_in(page, role)
        for width, height in WIDTHS.items():
            page.set_viewport_size({"width": width, "height": height})
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
        if not _focus_is_visible(page):
            problems.append(f"{role}: the focused element has no visible outline")
        if role == "executive":
            problems += _open_a_folded_objective(page, pages["outcomes"], folder, errors)
        context.close()
    assert not problems, "\n".join(problems)


def _open_a_folded_objective(page, url: str, folder, errors: list[str]) -> list[str]:
    """A value-stream objective on the outcomes page opens with its team objectives (htmx)."""
    page.set_viewport_size({"width": 1440, "height": 900})
    errors.clear()
    page.goto(url)
    page.wait_for_function("() => window.htmx !== undefined")
    folded = page.locator("details.okr-fold").first
    assert page.locator("details.okr-fold .okr-node").count() == 0  # nothing fetched yet
    folded.locator("summary").click()
    folded.locator(".okr-fold-body .okr-node.okr-team").first.wait_for()
    page.screenshot(path=str(folder / "executive-outcomes-opened-1440.png"), full_page=True)
    teams = folded.locator(".okr-fold-body .okr-node.okr-team").count()
    problems = (
        [f"outcomes: the opened objective shows {teams} team objectives"] if not teams else []
    )
    return problems + [f"outcomes opened: console: {error}" for error in errors]
