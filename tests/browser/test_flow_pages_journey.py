import pytest
from playwright.sync_api import expect

from tests.browser.conftest import log_in
from tests.valuestreams.flow_pages_rows import metric_run, publish
from valuestreams.models import ScopeKind

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def published(org):
    metric_run(org.portfolio, {"unmapped_status_changes": 4, "unmapped_statuses": ["Parked"]})
    publish(org.portfolio, ScopeKind.VALUE_STREAM, org.value_stream.pk, weeks=12, months=4)
    for team in (org.team, org.other_team):
        publish(org.portfolio, ScopeKind.TEAM, team.pk, weeks=12, months=4, dora_tier="elite")
    return org


def test_executive_reads_a_value_streams_flow_and_dora_tiles(published, page, shot):
    org = published
    log_in(page, "executive")
    page.goto(f"/value-streams/{org.value_stream.pk}/")
    page.wait_for_selector("#vs-velocity-panel svg.main-svg")
    # six flow charts, where work waits and the DORA trend: every figure drawn from plain data
    assert page.locator("#flow .chart .plot-container").count() == 8
    assert page.locator("#vs-dora-panel .plot-container .scatterlayer .trace").count() == 4
    tiles = page.locator(".dora-tile")
    assert tiles.count() == 5
    assert tiles.first.locator(".tier-badge").inner_text().lower() == "high"
    assert "rgb(19, 141, 144)" in tiles.first.evaluate("el => getComputedStyle(el).borderTopColor")
    expect(
        page.get_by_text("4 status changes went into an unmapped status (Parked)")
    ).to_be_visible()
    expect(
        page.locator(".team-flow-table").get_by_role("link", name="Payment Rails")
    ).to_be_visible()
    shot(page, "flow-value-stream-weekly")
    page.get_by_role("link", name="Monthly").click()
    page.wait_for_url("**grain=month**")
    page.wait_for_selector("#vs-velocity-panel svg.main-svg")
    ticks = page.locator("#vs-velocity-panel .xtick text").evaluate_all(
        "texts => texts.map(text => text.textContent)"
    )
    # months are dates on the axis, not "2026-02"
    assert not any("2026-02" in tick for tick in ticks)
    assert any("Feb" in tick for tick in ticks)
    shot(page, "flow-value-stream-monthly")


def test_member_sees_their_teams_flow_on_the_team_page(published, page, shot):
    org = published
    log_in(page, "member")
    page.goto(f"/teams/{org.team.pk}/")
    section = page.locator("section.team-flow")
    section.locator("svg.main-svg").first.wait_for()
    assert section.locator(".chart .plot-container").count() == 5  # four flow charts and DORA
    assert section.locator(".dora-tile.tier-elite").count() >= 1
    with page.expect_download() as download:
        section.locator("#team-velocity-panel summary").click()
        section.locator("#team-velocity-panel").get_by_role("link", name="download CSV").click()
    assert download.value.suggested_filename == "instant-payments-velocity-week.csv"
    shot(page, "flow-team-member")
