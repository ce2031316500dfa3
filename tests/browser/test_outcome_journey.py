"""The team member's weekly two minutes: post a check-in, see it in the feed and the chart."""

import pytest
from playwright.sync_api import expect

from teams.models import OutcomeUpdate
from tests.browser.conftest import log_in
from tests.teams.factories import KeyResultFactory, OutcomeUpdateFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_member_posts_a_check_in_sees_it_and_cannot_post_for_another_team(org, page, shot):
    key_result = KeyResultFactory(
        objective__team=org.team, metric="Payments settled within 10 seconds", unit="%"
    )
    OutcomeUpdateFactory(key_result=key_result, posted_by=org.users["member"], value=91)
    other = KeyResultFactory(objective__team=org.other_team, metric="Scheme outage minutes")

    log_in(page, "member")
    page.goto(f"/teams/{org.team.pk}/")
    card = page.locator(f"#key-result-{key_result.pk}")
    assert card.locator(".kr-value").inner_text() == "91 %"
    shot(page, "member-team-outcomes")

    form = page.locator("#post-update")
    form.get_by_label(key_result.metric).check()  # a radio with the key result's facts
    form.get_by_label("Current value").fill("94.5")
    form.get_by_label("Confidence").fill("11")
    form.get_by_label("On track").check()
    form.get_by_role("button", name="Post update").click()
    assert (
        page.locator(".field")
        .get_by_text("Ensure this value is less than or equal to 10.")
        .is_visible()
    )
    shot(page, "member-check-in-error")
    assert OutcomeUpdate.objects.count() == 1

    page.get_by_label("Confidence").fill("7")
    page.get_by_label("What we learned").fill("Retries hid most timeouts.")
    page.get_by_role("button", name="Post update").click()
    page.wait_for_url(f"**/teams/{org.team.pk}/#key-result-{key_result.pk}")
    expect(page.get_by_text(f"Check-in on “{key_result.metric}” posted.")).to_be_visible()
    feed = page.locator("ol.feed li").first
    assert "94.5 %" in feed.inner_text()
    assert "Retries hid most timeouts." in feed.inner_text()
    assert card.locator(".kr-value").inner_text() == "94.5 %"
    chart = card.locator(".chart")
    chart.locator(".main-svg").first.wait_for()
    points = page.evaluate(
        "id => document.querySelector(`#key-result-${id} .chart`).data[0].y", key_result.pk
    )
    assert points == [91, 94.5]
    shot(page, "member-check-in-posted")

    page.goto(f"/teams/{org.other_team.pk}/")
    assert page.locator("#post-update").count() == 0
    response = page.request.post(
        f"/teams/{org.other_team.pk}/updates/new/",
        form={"key_result": str(other.pk), "value": "3", "confidence": "5", "status": "on_track"},
        headers={"X-CSRFToken": _csrf(page), "Referer": page.url},
    )
    assert response.status == 403
    assert OutcomeUpdate.objects.filter(key_result=other).count() == 0
    shot(page, "member-other-team")


def _csrf(page) -> str:
    return next(c["value"] for c in page.context.cookies() if c["name"] == "csrftoken")
