"""Two journeys of the teams area in Chromium: a member checks in with the keyboard alone, sees the
implausible-jump warning, confirms and sees the check-in; Lean PMO adds a person to a team, ends
another's seat, and the stability figures follow."""

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from teams.models import OutcomeUpdate, TeamMembership
from tests.browser.conftest import log_in
from tests.factories import TeamMembershipFactory, UserFactory
from tests.teams.factories import KeyResultFactory, OutcomeUpdateFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

FOCUSED = (
    "() => { const e = document.activeElement; return e.id || e.name || e.textContent.trim(); }"
)


def tab_to(page, matches, *, limit: int = 60, backwards: bool = False) -> None:
    """Press Tab (or Shift+Tab) until the focused element answers `matches` (a JS predicate on
    document.activeElement); fail after `limit` presses: the element is out of keyboard reach."""
    for _ in range(limit):
        page.keyboard.press("Shift+Tab" if backwards else "Tab")
        if page.evaluate(f"() => ({matches})(document.activeElement)"):
            return
    pytest.fail(f"no element answering {matches} within {limit} Tab presses")


def focus_is_visible(page) -> bool:
    """Whether the focused element draws a focus ring (an outline at least 2 px wide)."""
    return page.evaluate(
        """() => { const s = getComputedStyle(document.activeElement);
                   return s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) >= 2; }"""
    )


def test_member_checks_in_with_the_keyboard_alone_and_confirms_a_jump(org, page, shot):
    today = timezone.localdate()
    key_result = KeyResultFactory(
        objective__team=org.team,
        metric="Payments settled within 10 seconds",
        unit="%",
        baseline=Decimal(91),
        target=Decimal(99),
        cadence_days=7,
        starts_on=today - dt.timedelta(days=120),
    )
    OutcomeUpdateFactory(
        key_result=key_result,
        value=Decimal("94.5"),
        posted_by=org.users["member"],
        posted_at=timezone.now() - dt.timedelta(days=9),
    )
    # signing in by keyboard too
    page.goto("/accounts/login/")
    tab_to(page, "e => e.id === 'id_username'")
    page.keyboard.type("member")
    page.keyboard.press("Tab")
    page.keyboard.type("secret-pass-123")
    page.keyboard.press("Enter")
    page.wait_for_url("**/")
    # the home page leads to the team's check-in that is due, by keyboard
    assert page.locator("#your-teams-heading").inner_text() == "Your team"
    tab_to(page, "e => e.textContent.trim() === 'Payments settled within 10 seconds'")
    assert focus_is_visible(page)
    page.keyboard.press("Enter")
    page.wait_for_url(f"**/teams/{org.team.pk}/updates/new/?key_result={key_result.pk}")
    form = page.locator("form.checkin-form")
    facts = form.locator("label[for='id_key_result_0']").inner_text()
    assert "Last 94.5 % on" in facts
    assert "baseline 91 % → target 99 % (increase)" in facts
    assert page.locator("#id_key_result_0").is_checked()

    tab_to(page, "e => e.id === 'id_value'")
    assert focus_is_visible(page)
    assert page.locator("[data-unit-of='id_value']").inner_text() == "%"
    page.keyboard.type("945")
    page.keyboard.press("Tab")
    assert page.evaluate(FOCUSED) == "id_confidence"
    page.keyboard.type("6")
    page.keyboard.press("Tab")  # into the status radios: the first one
    assert page.evaluate(FOCUSED) == "id_status_0"
    page.keyboard.press("ArrowRight")  # at risk
    assert page.locator("#id_status_1").is_checked()
    page.keyboard.press("Tab")
    assert page.evaluate(FOCUSED) == "id_learned"
    page.keyboard.type("The new scheme adapter doubled throughput.")
    tab_to(page, "e => e.type === 'submit' && e.closest('form.checkin-form')")
    assert focus_is_visible(page)
    shot(page, "keyboard-check-in-typed")
    page.keyboard.press("Enter")

    page.wait_for_load_state()
    warning = page.locator("#confirm-warnings")
    assert "Please look again before posting" in warning.inner_text()
    assert "945 % is 850.5 % away from the last check-in (94.5 % on" in warning.inner_text()
    assert OutcomeUpdate.objects.filter(key_result=key_result).count() == 1
    # the confirmation box has the focus, described by the warnings; what was typed is kept
    assert page.evaluate("() => document.activeElement.name") == "confirm"
    assert page.locator("input[name=confirm]").get_attribute("aria-describedby") == (
        "confirm-warnings-list"
    )
    assert page.locator("#id_value").input_value() == "945"
    assert focus_is_visible(page)
    shot(page, "keyboard-check-in-warning")
    page.keyboard.press("Space")
    tab_to(page, "e => e.type === 'submit' && e.closest('form.checkin-form')")
    assert page.evaluate("() => document.activeElement.textContent.trim()") == "Post the check-in"
    page.keyboard.press("Enter")

    page.wait_for_url(f"**/teams/{org.team.pk}/#key-result-{key_result.pk}")
    expect(page.get_by_text(f"Check-in on “{key_result.metric}” posted.")).to_be_visible()
    feed = page.locator("ol.feed li").first.inner_text()
    assert "945 %" in feed
    assert "The new scheme adapter doubled throughput." in feed
    posted = OutcomeUpdate.objects.filter(key_result=key_result).order_by("-pk").first()
    assert (posted.value, posted.status, posted.confidence) == (Decimal(945), "at_risk", 6)
    shot(page, "keyboard-check-in-posted")


def test_member_sees_errors_linked_to_their_fields_by_keyboard(org, page):
    key_result = KeyResultFactory(objective__team=org.team, metric="Failed payments", unit="")
    log_in(page, "member")
    page.goto(f"/teams/{org.team.pk}/updates/new/?key_result={key_result.pk}")
    tab_to(page, "e => e.type === 'submit' && e.closest('form.checkin-form')")
    page.keyboard.press("Enter")
    page.wait_for_load_state()
    summary = page.locator(".form-errors")
    assert "Current value" in summary.inner_text()
    assert "Status" in summary.inner_text()
    # the first field with an error has the focus and says why
    assert page.evaluate("() => document.activeElement.id") == "id_value"
    described = page.locator("#id_value").get_attribute("aria-describedby").split()
    assert "id_value_error" in described
    assert page.locator("#id_value_error").inner_text() == "Give the key result's value today."
    # the summary's link takes the keyboard to the field
    tab_to(page, "e => e.getAttribute('href') === '#id_confidence'", backwards=True)
    page.keyboard.press("Enter")
    page.keyboard.press("Tab")
    assert page.evaluate("() => document.activeElement.id") in {"id_confidence", "id_status_0"}


def test_pmo_adds_a_person_and_ends_a_seat_and_the_stability_figures_change(org, page, shot):
    today = timezone.localdate()
    quarter_start = dt.date(today.year, 3 * ((today.month - 1) // 3) + 1, 1)
    long_ago = quarter_start - dt.timedelta(days=400)
    for first, last in (("Hugo", "Fischer"), ("Noah", "Haddad"), ("Isla", "Moreau")):
        TeamMembershipFactory(
            team=org.team,
            person=UserFactory(first_name=first, last_name=last),
            start_date=long_ago,
        )
    UserFactory(first_name="Ana", last_name="Costa", username="ana.costa")
    TeamMembership.objects.filter(person=org.users["member"]).update(start_date=long_ago)

    log_in(page, "pmo")
    page.goto(f"/teams/{org.team.pk}/")
    churn = page.locator(".team-health dl.facts div").nth(1)
    assert churn.inner_text().endswith("0 %")
    assert "4 FTE in 4 people" in page.locator("dl.facts").first.inner_text()
    people = page.locator("#people")
    people.get_by_role("link", name="Add a person").click()
    page.get_by_label("Find a person by name").fill("ana co")
    page.get_by_role("button", name="Search").click()
    page.get_by_role("combobox", name="Person", exact=True).select_option(
        label="Ana Costa (ana.costa) — in no team today"
    )
    page.get_by_label("Role").fill("Designer")
    page.get_by_label("Allocation (%)").fill("60")
    page.get_by_label("First day in the team").fill(today.isoformat())
    shot(page, "pmo-add-person")
    page.get_by_role("button", name="Add to the team").click()
    page.wait_for_url(f"**/teams/{org.team.pk}/#people")
    expect(page.get_by_text(f"Ana Costa joins {org.team.name} at 60 % from")).to_be_visible()
    row = page.locator("#people tr", has_text="Ana Costa")
    assert "60 %" in row.inner_text()

    row = page.locator("#people tr", has_text="Hugo Fischer")
    row.get_by_role("link", name="End seat of Hugo Fischer").click()
    yesterday = today - dt.timedelta(days=1)
    page.get_by_label("Last day in the team").fill(yesterday.isoformat())
    page.get_by_role("button", name="End the seat").click()
    page.wait_for_url(f"**/teams/{org.team.pk}/#people")
    expect(page.get_by_text("Hugo Fischer's last day in")).to_be_visible()
    seat = TeamMembership.objects.get(person__last_name="Fischer")
    assert seat.end_date == yesterday
    # one joined and one left this quarter: (1 + 1) ÷ 2 ÷ mean headcount (4 + 4) / 2 = 25 %
    churn = page.locator(".team-health dl.facts div").nth(1)
    assert churn.inner_text().endswith("25 %")
    quarter = page.locator(".churn-table tbody tr").last.inner_text().split()
    assert quarter[2:] == ["4", "1", "1", "25", "%"]
    assert "3.6 FTE in 4 people" in page.locator("dl.facts").first.inner_text()
    assert "1 earlier seat" in page.locator("#people summary").inner_text()
    shot(page, "pmo-seats-changed")
