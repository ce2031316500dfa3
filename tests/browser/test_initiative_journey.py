"""The portfolio kanban in Chromium: the Lean PMO moves cards with the keyboard and meets the cap;
the demo board at phone, laptop and wide-screen widths."""

import pytest
from playwright.sync_api import expect

from leanpmo.models import Initiative
from tests.browser.conftest import ARTIFACTS, log_in
from tests.leanpmo.initiative_support import set_cap, start, strategic, to_ready

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _move_by_keyboard(page, initiative: Initiative, reason: str, steps_down: int = 0) -> None:
    """Open the card's move control, pick the target and give the reason — keys only."""
    page.locator(f"#initiative-{initiative.pk} summary").focus()
    page.keyboard.press("Enter")  # opens the <details>
    page.keyboard.press("Tab")  # → "Move to"
    for _ in range(steps_down):
        page.keyboard.press("ArrowDown")
    page.keyboard.press("Tab")  # → "Why"
    page.keyboard.type(reason)
    page.keyboard.press("Tab")  # → the Move button
    page.keyboard.press("Enter")


def test_the_pmo_moves_cards_by_keyboard_and_sees_the_cap_refuse(org, page, shot):
    set_cap(org, 1)
    start(org, strategic(org, "Open banking"))
    waiting = to_ready(org, strategic(org, "Virtual cards"))
    fresh = strategic(org, "Spending insights")
    log_in(page, "pmo")
    page.goto(f"/portfolios/{org.portfolio.pk}/")
    page.get_by_role("link", name="Initiatives").first.click()
    page.wait_for_function("() => window.htmx !== undefined")
    expect(page.get_by_text("1 of 1")).to_be_visible()

    # funnel → reviewing: the board comes back by htmx with the card in its new column
    _move_by_keyboard(page, fresh, "A team asked for it.")
    page.locator(".state-reviewing").get_by_role("link", name="Spending insights").wait_for()
    expect(page.get_by_text("Spending insights moved to Reviewing.")).to_be_visible()
    fresh.refresh_from_db()
    assert fresh.state == "reviewing"

    # ready → implementing: refused by the cap, the guardrail named, focus on the refusal
    _move_by_keyboard(page, waiting, "The scheme incentive ends this quarter.")
    refusal = page.locator(".refusal")
    refusal.wait_for()
    assert "At most 1 strategic initiative in progress" in refusal.inner_text()
    expect(refusal).to_be_focused()  # the focus moves to the refusal once it is swapped in
    expect(page.get_by_role("button", name="Ask an executive for an exception")).to_be_visible()
    shot(page, "pmo-kanban-cap-refused")
    waiting.refresh_from_db()
    assert waiting.state == "ready"


def _no_horizontal_scroll(page) -> bool:
    return page.evaluate(
        "() => document.documentElement.scrollWidth <= document.documentElement.clientWidth"
    )


def test_the_demo_kanban_at_phone_laptop_and_wide_screen_widths(demo_per_test, page, shot):
    from portfolio.models import Portfolio

    portfolio = Portfolio.objects.get(name="Everyday Banking")
    log_in(page, "pmo")
    for width, height in ((390, 844), (1440, 900), (1920, 1080)):
        page.set_viewport_size({"width": width, "height": height})
        page.goto(f"/portfolios/{portfolio.pk}/initiatives/")
        page.locator("#chart-kanban-states-panel .main-svg").first.wait_for()
        assert _no_horizontal_scroll(page), width
        expect(page.get_by_text("2 of 2")).to_be_visible()
        shot(page, f"demo-kanban-{width}")
        if width == 390:  # the top of the page as a phone shows it, for people to look at
            page.screenshot(path=str(ARTIFACTS / "demo-kanban-390-screen.png"))
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"/initiatives/{portfolio.initiatives.get(title='Virtual cards in the app').pk}/")
    assert _no_horizontal_scroll(page)
    shot(page, "demo-initiative-390")
    page.set_viewport_size({"width": 1440, "height": 900})
    page.goto(
        f"/initiatives/{portfolio.initiatives.get(title='Chatbot for account questions').pk}/"
    )
    shot(page, "demo-initiative-stopped-1440")
    page.context.clear_cookies()
    log_in(page, "executive")
    page.goto(f"/portfolios/{portfolio.pk}/investment/#pyramid")
    page.locator("#chart-pyramid-pyramid-panel .main-svg").first.wait_for()
    page.locator("#chart-pyramid-trend-panel .main-svg").first.wait_for()
    shot(page, "demo-investment-pyramid-1440")
