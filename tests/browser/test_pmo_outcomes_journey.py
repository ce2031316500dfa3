"""Lean PMO cascades an objective to a team and gives it a key result; the team's member then
finds it on the team page and posts the first check-in."""

import pytest
from playwright.sync_api import expect

from teams.models import KeyResult, Objective, OutcomeUpdate
from tests.browser.conftest import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_pmo_sets_up_a_team_key_result_and_the_member_checks_in(org, page, shot):
    top = Objective.objects.create(
        portfolio=org.portfolio, level="portfolio", title="Customers never wait for their money"
    )
    stream = Objective.objects.create(
        portfolio=org.portfolio,
        level="value_stream",
        value_stream=org.value_stream,
        parent=top,
        title="Instant payments by default",
    )

    log_in(page, "pmo")
    page.goto(f"/portfolios/{org.portfolio.pk}/")
    page.get_by_role("link", name="Outcomes", exact=True).click()
    page.locator(f"#objective-{stream.pk}").get_by_role(
        "link", name="Add a team objective under it"
    ).click()
    page.get_by_label("Title").fill("Settle every payment in seconds")
    page.get_by_label("Team").select_option(label=f"{org.value_stream.name} · {org.team.name}")
    assert page.get_by_label("Contributes to").input_value() == str(stream.pk)
    shot(page, "pmo-team-objective-form")
    page.get_by_role("button", name="Save").click()
    # back on the outcomes page with the value-stream objective unfolded at the new one
    page.wait_for_url(f"**/portfolios/{org.portfolio.pk}/outcomes/?open={stream.pk}#objective-*")
    objective = Objective.objects.get(title="Settle every payment in seconds")
    assert (objective.team, objective.parent) == (org.team, stream)
    node = page.locator(f"#objective-{objective.pk}")
    expect(node).to_be_visible()

    node.get_by_role("link", name="Add a key result").click()
    page.get_by_label("Metric").fill("Payments settled within 10 seconds")
    page.get_by_label("Unit").fill("%")
    page.get_by_label("Baseline").fill("82")
    page.get_by_label("Target").fill("82")
    page.get_by_label("Check-in cadence (days)").fill("0")
    page.get_by_role("button", name="Save").click()
    expect(page.locator(".field").get_by_text("The target equals the baseline")).to_be_visible()
    assert (
        page.locator(".field")
        .get_by_text("Ensure this value is greater than or equal to 1.")
        .is_visible()
    )
    shot(page, "pmo-key-result-error")
    assert not KeyResult.objects.exists()
    page.get_by_label("Target").fill("99")
    page.get_by_label("Check-in cadence (days)").fill("7")
    page.get_by_role("button", name="Save").click()
    page.wait_for_url(f"**/portfolios/{org.portfolio.pk}/outcomes/?open={stream.pk}#key-result-*")
    key_result = KeyResult.objects.get(objective=objective)
    row = page.locator(f"#key-result-{key_result.pk}")
    assert "Payments settled within 10 seconds" in row.inner_text()
    assert row.locator(".kr-latest").inner_text() == "—"
    shot(page, "pmo-outcomes-cascade")

    page.context.clear_cookies()
    log_in(page, "member")
    page.goto(f"/teams/{org.team.pk}/")
    card = page.locator(f"#key-result-{key_result.pk}")
    assert "Settle every payment in seconds" in card.inner_text()
    assert "Instant payments by default" in card.inner_text()
    form = page.locator("#post-update")
    form.get_by_label(key_result.metric).check()  # a radio with the key result's facts
    form.get_by_label("Current value").fill("88")
    form.get_by_label("Confidence").fill("6")
    form.get_by_label("At risk").check()
    form.get_by_label("What blocks us").fill("Scheme cut-off windows.")
    form.get_by_role("button", name="Post update").click()
    page.wait_for_url(f"**/teams/{org.team.pk}/#key-result-{key_result.pk}")
    assert card.locator(".kr-value").inner_text() == "88 %"
    assert "Scheme cut-off windows." in page.locator("ol.feed li").first.inner_text()
    assert OutcomeUpdate.objects.get().posted_by == org.users["member"]
    shot(page, "member-first-check-in")

    page.goto(f"/portfolios/{org.portfolio.pk}/outcomes/")
    # the value-stream objective comes folded; opening it fetches its team objectives
    page.wait_for_function("() => window.htmx !== undefined")
    page.locator(f"#objective-{stream.pk} summary").click()
    row = page.locator(f"#key-result-{key_result.pk}")
    row.wait_for()
    assert row.locator(".kr-latest").inner_text() == "88 %"
    assert "35 %" in row.inner_text()  # (88 − 82) ÷ (99 − 82)
    assert page.get_by_role("link", name="Add a key result").count() == 0
    shot(page, "member-outcomes-cascade")
