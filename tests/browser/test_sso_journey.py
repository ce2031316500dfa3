"""Single sign-on in Chromium: Steward's button, the provider's page, back with the mapped role,
and logging out at the provider too (RP-initiated logout)."""

import re

import pytest
from playwright.sync_api import expect

from portfolio.models import PortfolioMembership
from portfolio.sso.config import SsoSettings
from tests.portfolio.sso.provider import NO_ROLE_GROUPS, PMO_GROUPS, Provider

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def provider():
    running = Provider()
    yield running
    running.stop()


@pytest.fixture
def sso_on(settings, provider):
    settings.STEWARD_SSO = SsoSettings(oidc=provider.settings())


def sign_in_as(page, subject: str) -> None:
    """Press Steward's button, then be `subject` on the provider's page."""
    page.goto("/accounts/login/")
    page.get_by_role("link", name="Sign in with Test IdP").click()
    page.fill("#subject-input", subject)
    page.get_by_role("button", name="Authorize", exact=True).click()


def test_a_lean_pmo_signs_in_through_the_provider_and_lands_with_the_role(
    org, sso_on, provider, page, shot
):
    provider.put_user("priya@bank.example", name="Priya Sharma", groups=PMO_GROUPS)
    page.goto("/accounts/login/")
    shot(page, "sso-login-page")
    sign_in_as(page, "priya@bank.example")
    page.wait_for_selector(".account .who")
    assert page.locator(".account .who").inner_text() == "Priya Sharma"
    page.get_by_role("link", name="Everyday Banking").click()
    page.get_by_role("heading", name="Everyday Banking", level=1).wait_for()  # the page loaded
    expect(page.get_by_role("link", name="New value stream")).to_be_visible()  # Lean PMO may edit
    shot(page, "sso-lean-pmo-portfolio")
    membership = PortfolioMembership.objects.get(
        user__oidc_identities__subject="priya@bank.example"
    )
    assert (membership.portfolio, membership.role, membership.source) == (
        org.portfolio,
        "lean_pmo",
        "sso",
    )

    page.get_by_role("button", name="Log out").click()
    page.wait_for_url(f"{provider.url}/oauth2/end_session*")
    page.get_by_role("button", name="End session").click()  # the provider's own confirmation
    page.wait_for_url(
        re.compile(r"/accounts/login/(\?state=[^&]+)?$")
    )  # the provider's state echoed
    shot(page, "sso-logged-out")
    expect(page.get_by_role("link", name="Sign in with Test IdP")).to_be_visible()
    assert page.goto(f"/portfolios/{org.portfolio.pk}/").url.endswith(
        f"/accounts/login/?next=/portfolios/{org.portfolio.pk}/"
    )


def test_someone_without_a_mapped_group_signs_in_and_sees_no_portfolio(
    org, sso_on, provider, page, shot
):
    provider.put_user("nora@bank.example", name="Nora Nobody", groups=NO_ROLE_GROUPS)
    sign_in_as(page, "nora@bank.example")
    page.wait_for_selector(".account .who")
    expect(page.get_by_text("not part of any portfolio")).to_be_visible()
    assert page.get_by_text("Everyday Banking").count() == 0
    assert page.goto(f"/portfolios/{org.portfolio.pk}/").status == 404
    shot(page, "sso-outsider-404")
