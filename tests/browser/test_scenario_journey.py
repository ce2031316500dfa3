import re
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from leanpmo.models import FundingDecision, Scenario, ValueStreamBudget
from tests.browser.conftest import log_in
from tests.factories import ValueStreamFactory
from tests.leanpmo.support import funding_for, make_budget

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_pmo_moves_money_in_a_scenario_compares_it_and_promotes_it_into_decisions(org, page, shot):
    funding = funding_for(org)
    cards = make_budget(
        funding.period,
        ValueStreamFactory(portfolio=org.portfolio, name="Cards"),
        run="500000",
        grow="200000",
        transform="150000",
    )
    funding_for(org, approved=True)
    log_in(page, "pmo")
    page.goto(f"/portfolios/{org.portfolio.pk}/funding/")
    page.get_by_role("link", name="Scenarios").click()
    page.fill("#id_name", "More cards")
    assert page.locator("#id_period option:checked").inner_text() == "2026 Q2"
    page.get_by_role("button", name="Copy the plan into a scenario").click()
    expect(page.get_by_role("heading", name=re.compile("More cards"))).to_be_visible()
    page.wait_for_function("() => window.htmx !== undefined")

    # move 100k of Run from Payments to Cards, and cut Cards' Debt share below its guardrail
    page.get_by_label("Payments Run").fill("500000")
    page.get_by_label("Cards Run").fill("600000")
    page.get_by_label("Cards Feature %").fill("70")
    page.get_by_label("Cards Debt %").fill("5")
    page.locator("[data-guardrail-verdict]").filter(has_text="1 new in the scenario").wait_for()
    assert page.locator("[data-total=total]").inner_text().startswith("1,850,000")
    shot(page, "pmo-scenario-typed-breach")
    page.get_by_role("button", name="Save scenario").click()
    expect(page.get_by_text("Scenario saved (2 value streams changed).")).to_be_visible()
    assert ValueStreamBudget.objects.get(pk=cards.pk).amount_run == Decimal("500000.00")

    # the comparison beside the plan: chart, its numbers, and the guardrail verdicts
    page.locator("#scenario-streams-panel .main-svg").first.wait_for()
    verdicts = page.locator("#guardrail-comparison")
    expect(verdicts.get_by_text("new breach")).to_be_visible()
    expect(verdicts.get_by_text("5 % for Debt — below the minimum of 10 %")).to_be_visible()
    page.locator("#comparison").scroll_into_view_if_needed()
    shot(page, "pmo-scenario-comparison")

    page.get_by_role("link", name="Turn into decisions").click()
    cards_id, payments_id = cards.value_stream_id, org.value_stream.pk
    assert page.locator(f"#id_vs{cards_id}-decision_kind").input_value() == "exception"
    assert page.locator(f"#id_vs{payments_id}-decision_kind").input_value() == "decrease"
    for stream in (cards_id, payments_id):
        page.fill(f"#id_vs{stream}-rationale", "Card volumes grow twice as fast as payments.")
        page.fill(f"#id_vs{stream}-expected_outcome", "Card flow velocity up 20 % this quarter.")
    shot(page, "pmo-scenario-promote")
    page.get_by_role("button", name="Record 2 decisions and promote").click()
    assert page.get_by_text(
        "Promoted: 2 decisions recorded, 1 waiting for an executive's approval."
    ).is_visible()
    expect(page.get_by_role("link", name="Exception Cards")).to_be_visible()
    shot(page, "pmo-scenario-promoted")

    scenario = Scenario.objects.get(name="More cards")
    assert scenario.status == "promoted"
    assert ValueStreamBudget.objects.get(pk=funding.budget.pk).amount_run == Decimal("500000.00")
    assert ValueStreamBudget.objects.get(pk=cards.pk).amount_run == Decimal("500000.00")  # waits
    assert set(scenario.decisions.values_list("kind", flat=True)) == {"exception", "decrease"}
    assert FundingDecision.objects.get(kind="exception").decided_by == org.users["pmo"]
