"""Journeys on the money pages in Chromium: the executive answers an exception from its decision,
reading the guardrail it breaches in words; the Lean PMO approves a period through its
confirmation step; the funding grid by keyboard alone."""

import re
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from leanpmo.models import ExceptionApproval, FundingPeriod, ValueStreamBudget
from leanpmo.services.budgets import budget_change
from leanpmo.services.decisions import DecisionInput
from tests.browser.conftest import log_in
from tests.leanpmo.support import NOW, funding_for

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _exception(org):
    funding = funding_for(org, approved=True)
    return budget_change(
        budget=funding.budget,
        expected_version=funding.budget.version,
        user=org.users["pmo"],
        changes={"amount_run": Decimal("1200000")},
        decision=DecisionInput(
            kind="exception",
            rationale="The instant-payments regulation lands this quarter.",
            expected_outcome="SEPA Instant live for every customer by 30 June.",
        ),
        now=NOW,
    ).decision


def test_the_executive_reads_the_breach_and_approves_the_exception(org, page, shot):
    decision = _exception(org)
    log_in(page, "executive")
    page.goto(f"/portfolios/{org.portfolio.pk}/decisions/")
    page.get_by_role("region", name="All decisions").get_by_role(
        "link", name="Exception Payments"
    ).click()
    page.wait_for_url(f"**/decisions/{decision.pk}/")
    expect(page.get_by_text("This exception waits for an executive's approval.")).to_be_visible()
    shot(page, "money-journey-decision-waiting")
    page.get_by_role("link", name="Review and answer").click()
    page.wait_for_url(f"**/decisions/{decision.pk}/approval/")
    breach = page.locator(".breach-callout")
    words = breach.inner_text().replace("\xa0", " ")  # a figure and its unit stay on one line
    assert "Run would be 75 % of the money; the limit is 70 %." in words
    money = page.locator("table.money-change")
    assert money.get_by_role("row", name=re.compile("Run")).inner_text().split("\t")[1:] == [
        "600,000",
        "1,200,000",
    ]
    assert "+600,000 · +60 %" in money.inner_text()
    asker = org.users["pmo"].get_full_name()
    expect(page.get_by_text(f"Asked by {asker}")).to_be_visible()
    expect(page.get_by_text("The instant-payments regulation lands this quarter.")).to_be_visible()
    shot(page, "money-journey-approval")
    page.get_by_label("Approve").check()
    page.get_by_label("Note").fill("The regulation is real; we review in June.")
    page.get_by_role("button", name="Answer").click()
    page.wait_for_url(f"**/decisions/{decision.pk}/")
    expect(page.get_by_text("Exception approved: the change is applied.")).to_be_visible()
    assert ExceptionApproval.objects.get(decision=decision).approved
    budget = ValueStreamBudget.objects.get(period=decision.period, value_stream=org.value_stream)
    assert budget.amount_run == Decimal("1200000")
    shot(page, "money-journey-approved")


def test_the_pmo_approves_a_period_through_its_confirmation(org, page, shot):
    funding = funding_for(org)  # a draft period
    log_in(page, "pmo")
    page.goto(f"/portfolios/{org.portfolio.pk}/funding/{funding.period.pk}/")
    page.get_by_role("link", name="Approve this period…").click()
    page.wait_for_url(f"**/funding/{funding.period.pk}/status/")
    expect(page.get_by_role("heading", name="Approve 2026 Q2?")).to_be_visible()
    expect(page.get_by_text("changes only through a recorded decision")).to_be_visible()
    shot(page, "money-journey-confirm")
    page.get_by_role("button", name="Approve 2026 Q2").click()  # without ticking the box
    expect(
        page.get_by_text("Tick the box to confirm: nothing changes until you do.")
    ).to_be_visible()
    assert FundingPeriod.objects.get(pk=funding.period.pk).status == "draft"
    page.get_by_label("I have checked the plan and approve 2026 Q2").check()
    page.get_by_role("button", name="Approve 2026 Q2").click()
    page.wait_for_url(f"**/funding/{funding.period.pk}/")
    expect(page.get_by_text("2026 Q2 is now approved")).to_be_visible()
    assert page.locator("h1 .status").inner_text() == "Approved"
    assert FundingPeriod.objects.get(pk=funding.period.pk).status == "approved"
    expect(page.get_by_role("link", name="Close this period…")).to_be_visible()
    shot(page, "money-journey-approved-period")


def test_the_grid_is_usable_by_keyboard_alone(org, page, shot):
    funding = funding_for(org)
    log_in(page, "pmo")
    page.goto(f"/portfolios/{org.portfolio.pk}/funding/{funding.period.pk}/")
    page.wait_for_function("() => window.htmx !== undefined")
    run = page.get_by_label("Payments Run in EUR")
    run.focus()
    order = []
    for _ in range(8):  # across the row: each cell has its own label for screen readers
        order.append(page.evaluate("() => document.activeElement.labels[0].textContent.trim()"))
        page.keyboard.press("Tab")
    assert order == [
        "Payments Run in EUR",
        "Payments Grow in EUR",
        "Payments Transform in EUR",
        "Payments Fixed-scope in EUR",
        "Payments Feature % of capacity",
        "Payments Defect % of capacity",
        "Payments Risk % of capacity",
        "Payments Debt % of capacity",
    ]
    run.focus()
    outline = page.evaluate("() => getComputedStyle(document.activeElement).outlineWidth")
    assert outline == "3px"  # a visible focus
    page.keyboard.press("Control+A")
    page.keyboard.type("1400000")
    page.locator("[data-total=total]").filter(has_text="1,800,000").wait_for()
    assert page.locator(f"#row-change-{funding.budget.pk}").inner_text() == ""  # no earlier period
    shot(page, "money-journey-grid-keyboard")
