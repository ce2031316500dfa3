import pytest
from playwright.sync_api import expect

from tests.browser.conftest import log_in
from valuestreams.models import ValueStream

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_executive_logs_in_and_sees_the_portfolio_with_its_streams_and_teams(org, page, shot):
    log_in(page, "executive")
    page.get_by_role("link", name="Everyday Banking").click()
    page.wait_for_url(f"**/portfolios/{org.portfolio.pk}/")
    expect(page.get_by_role("heading", name="Everyday Banking", level=1)).to_be_visible()
    stream = page.locator("section.stream", has_text="Payments")
    expect(stream.get_by_role("link", name="Instant Payments")).to_be_visible()
    expect(stream.get_by_role("link", name="Payment Rails")).to_be_visible()
    assert page.get_by_text("Lending").count() == 0
    header = page.locator("header.topbar")
    assert header.evaluate("el => getComputedStyle(el).backgroundColor") == "rgb(31, 78, 121)"
    shot(page, "executive-portfolio")
    page.get_by_role("link", name="Instant Payments").click()
    expect(page.get_by_role("rowheader", name=org.users["member"].get_full_name())).to_be_visible()
    shot(page, "executive-team")


def test_outsider_gets_not_found_for_a_portfolio(org, page, shot):
    log_in(page, "outsider")
    expect(page.get_by_text("not part of any portfolio")).to_be_visible()
    response = page.goto(f"/portfolios/{org.portfolio.pk}/")
    assert response.status == 404
    shot(page, "outsider-404")


def test_lean_pmo_adds_a_value_stream_and_sees_a_clear_error_first(org, page, shot):
    log_in(page, "pmo")
    page.goto(f"/portfolios/{org.portfolio.pk}/")
    page.get_by_role("link", name="New value stream").click()
    page.fill("#id_name", "Payments")
    page.get_by_role("button", name="Save").click()
    assert page.get_by_text(
        "This portfolio already has a value stream with this name."
    ).is_visible()
    shot(page, "pmo-value-stream-error")
    page.fill("#id_name", "Cards")
    page.fill("#id_customer", "Card holders")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("heading", name="Cards", level=1)).to_be_visible()
    expect(page.get_by_text("Value stream “Cards” created.")).to_be_visible()
    assert ValueStream.objects.filter(portfolio=org.portfolio, name="Cards").count() == 1
