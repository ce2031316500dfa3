import re

import pytest
from playwright.sync_api import expect

from leanpmo.models import FundingDecision, ValueStreamBudget
from tests.browser.conftest import log_in
from tests.demo_database import DEMO_TODAY
from tests.leanpmo.support import funding_for

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_pmo_funds_with_a_decision_and_the_executive_sees_the_new_mix(org, page, shot):
    funding = funding_for(org, approved=True)
    log_in(page, "pmo")
    page.goto(f"/portfolios/{org.portfolio.pk}/")
    page.get_by_role("link", name="Funding & decisions").click()
    page.get_by_role("link", name="2026 Q2").click()
    expect(page.get_by_role("heading", name=re.compile("2026 Q2"))).to_be_visible()
    page.wait_for_function("() => window.htmx !== undefined")  # live preview ready
    run = page.get_by_label("Payments Run")
    run.fill("1400000")
    # totals and guardrails follow the typing (htmx preview), nothing saved yet
    page.locator("[data-total=total]").filter(has_text="1,800,000").wait_for()
    expect(page.locator("#plan-summary .breach").first).to_be_visible()  # Run now above 70 %
    shot(page, "pmo-funding-grid-breach")
    run.fill("650000")
    page.locator("[data-total=total]").filter(has_text="1,050,000").wait_for()
    assert page.locator(f"#row-total-{funding.budget.pk}").inner_text() == "1,050,000"
    page.select_option("#id_decision_kind", "increase")
    page.fill("#id_rationale", "Instant payments volume doubled; flow time is healthy.")
    page.fill("#id_expected_outcome", "Velocity up 20 % by the end of the quarter.")
    page.get_by_role("button", name="Save 2026 Q2").click()
    expect(page.get_by_text("Saved: Payments.")).to_be_visible()
    shot(page, "pmo-funding-grid-saved")
    assert ValueStreamBudget.objects.get(pk=funding.budget.pk).amount_run == 650000
    decision = FundingDecision.objects.get(kind="increase")
    page.goto(f"/budgets/{funding.budget.pk}/")
    expect(page.get_by_role("cell", name="650,000 EUR").first).to_be_visible()
    shot(page, "pmo-budget-history")

    page.context.clear_cookies()
    log_in(page, "executive")
    page.goto(f"/portfolios/{org.portfolio.pk}/")
    page.get_by_role("link", name="Investment mix").click()
    page.locator("#chart-streams-panel .main-svg").first.wait_for()
    assert page.locator("[data-total]").count() == 0  # the executive page, not the editor
    expect(page.get_by_text("1,050,000").first).to_be_visible()
    expect(page.get_by_role("link", name="Increase Payments")).to_be_visible()
    shot(page, "executive-investment-mix")
    page.get_by_role("link", name="Increase Payments").click()
    expect(page.get_by_text("Instant payments volume doubled")).to_be_visible()
    assert decision.decided_by == org.users["pmo"]
    shot(page, "executive-decision")


def test_a_refused_grid_shows_what_was_typed_with_each_error_on_the_cell_typed(org, page, shot):
    funding = funding_for(org)
    budget = funding.budget
    log_in(page, "pmo")
    page.goto(f"/portfolios/{org.portfolio.pk}/funding/{funding.period.pk}/")
    page.get_by_label("Payments Debt %").fill("5")
    page.get_by_label("Payments Fixed-scope").fill("5000000")
    page.get_by_role("button", name="Save 2026 Q2").click()
    debt_cell = page.locator("td.cell.has-error").filter(has=page.get_by_label("Payments Debt %"))
    assert "Debt %: The allocation by work type must add up to 100 %" in debt_cell.inner_text()
    feature = page.locator("td.cell").filter(has=page.get_by_label("Payments Feature %"))
    assert "has-error" not in (feature.get_attribute("class") or "")
    assert page.locator(f"#row-alloc-{budget.pk}").inner_text() == "90 %"
    assert (
        page.locator("#plan-summary .breach")
        .filter(has_text="Payments gives 5 % of its capacity to Debt; the minimum is 10 %")
        .is_visible()
    )
    assert page.locator("#plan-summary").get_by_text("all within").count() == 0
    assert page.get_by_label("Payments Debt %").input_value() == "5"  # the typed cells stay
    shot(page, "pmo-funding-grid-refused")
    page.wait_for_function("() => window.htmx !== undefined")
    page.get_by_label("Payments Grow").fill("lots")
    page.locator("#plan-summary").get_by_text("not checked").wait_for()
    assert page.locator("[data-total=total]").inner_text() == "—"
    assert page.locator(f"#row-total-{budget.pk}").inner_text() == "—"
    shot(page, "pmo-funding-grid-unreadable")


def test_demo_funding_pages_render_for_the_pmo_and_the_executive(demo_per_test, page, shot):
    from django.contrib.auth import get_user_model

    from leanpmo.models import FundingPeriod

    today = DEMO_TODAY
    assert get_user_model().objects.filter(username="pmo").exists()
    current = FundingPeriod.objects.get(
        portfolio__name="Everyday Banking", starts_on__lte=today, ends_on__gte=today
    )
    log_in(page, "pmo")
    page.goto(f"/portfolios/{current.portfolio_id}/funding/{current.pk}/")
    streams = current.portfolio.value_streams.count()
    assert page.locator("table.funding-grid tbody tr").count() == streams
    shot(page, "demo-funding-editor")
    page.goto(f"/portfolios/{current.portfolio_id}/decisions/")
    expect(page.get_by_text("overdue").first).to_be_visible()
    shot(page, "demo-decision-log")
    page.locator("table.table a[href^='/decisions/']").first.click()
    shot(page, "demo-decision-detail")
    budget = current.budgets.order_by("-version").first()
    page.goto(f"/budgets/{budget.pk}/")
    shot(page, "demo-budget-history")
    page.goto(f"/portfolios/{current.portfolio_id}/guardrails/")
    shot(page, "demo-guardrails")
    page.context.clear_cookies()
    log_in(page, "executive")
    page.goto(f"/portfolios/{current.portfolio_id}/investment/")
    page.locator("#chart-streams-panel .main-svg").first.wait_for()
    page.locator("#chart-decisions-panel .main-svg").first.wait_for()
    shot(page, "demo-investment-mix")
    page.goto(f"/portfolios/{current.portfolio_id}/decisions/")
    expect(page.get_by_text("awaiting approval").first).to_be_visible()
