"""What single sign-on changes about access: the outsider it makes, break-glass passwords, the
administrators' settings page, integration tokens (unchanged), and a provider that is down."""

from __future__ import annotations

import json

import pytest
from django.contrib.messages import get_messages
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from portfolio.models import PortfolioMembership
from portfolio.services import integration_token_issue
from portfolio.sso.config import SsoSettings
from tests.portfolio.sso.conftest import sign_in
from tests.portfolio.sso.provider import EXECUTIVE_GROUPS, NO_ROLE_GROUPS, PMO_GROUPS, Provider
from tests.test_url_sweep import OBJECT_KWARGS

pytestmark = pytest.mark.django_db

PASSWORD = "secret-pass-123"  # tests.factories.UserFactory's


def password_login(client: Client, username: str):
    return client.post(reverse("login"), {"username": username, "password": PASSWORD})


@pytest.fixture
def admins_only(settings, provider):
    settings.STEWARD_SSO = SsoSettings(oidc=provider.settings(), password_login="admins")


# — the outsider SSO makes —


def test_someone_the_mapping_gives_no_role_gets_404_on_every_portfolio_url(
    org, sso_on, provider, client
):
    provider.put_user("sub-nobody", name="Nora Nobody", groups=NO_ROLE_GROUPS)
    sign_in(client, provider, "sub-nobody")
    home = client.get(reverse("home"))
    assert home.status_code == 200
    assert b"Everyday Banking" not in home.content
    assert b"Lending" not in home.content
    answers = {
        name: client.get(reverse(name, kwargs=kwargs(org))).status_code
        for name, kwargs in OBJECT_KWARGS.items()
    }
    assert {name: status for name, status in answers.items() if status != 404} == {}
    assert client.get(reverse("api:portfolio-list")).json()["count"] == 0


# — break-glass: passwords —


def test_passwords_work_for_everyone_by_default_with_sso_on(org, sso_on):
    response = password_login(Client(), "pmo")
    assert response.status_code == 302
    assert response["Location"] == reverse("home")


def test_with_passwords_for_admins_only_others_are_refused_with_a_clear_message(org, admins_only):
    client = Client()
    response = password_login(client, "pmo")
    assert response.status_code == 200
    assert "Password sign-in is for administrators only" in response.content.decode()
    assert "Sign in with Test IdP" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_with_passwords_for_admins_only_an_administrator_still_logs_in(org, admins_only):
    client = Client()
    response = password_login(client, "admin")
    assert response["Location"] == reverse("home")
    assert int(client.session["_auth_user_id"]) == org.users["admin"].pk
    page = Client().get(reverse("login"))
    assert b"Password sign-in below is for administrators only." in page.content


def test_an_administrator_logs_in_with_a_password_while_the_provider_is_down(org, settings):
    down = Provider()
    settings.STEWARD_SSO = SsoSettings(oidc=down.settings(), password_login="admins")
    down.stop()  # the provider's server is really gone: its port refuses connections

    client = Client()
    page = client.get(reverse("login"))
    assert page.status_code == 200  # rendering the button asks nothing of the provider
    assert b"Sign in with Test IdP" in page.content
    attempt = client.get(reverse("sso-login"))
    assert attempt["Location"] == reverse("login")
    messages = [str(m) for m in get_messages(attempt.wsgi_request)]
    assert any("cannot be reached" in m for m in messages), messages

    response = password_login(client, "admin")
    assert response["Location"] == reverse("home")
    assert client.get(reverse("portfolio-detail", args=[org.portfolio.pk])).status_code == 200


# — integration tokens are for machines, untouched by SSO —


def test_integration_tokens_work_as_before_with_sso_and_admin_only_passwords(org, admins_only):
    issued = integration_token_issue(
        portfolio=org.portfolio, name="ci", days=30, now=timezone.now()
    )
    body = {
        "source": "github",
        "portfolio": org.portfolio.pk,
        "records": [{"key": "d-1", "finished_at": "2024-03-05T10:00:00Z"}],
    }
    response = Client().post(
        reverse("api:ingest-deployments-list"),
        data=json.dumps(body),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {issued.text}",
    )
    assert response.status_code == 200, response.content
    assert response.json()["created"] == 1


# — the administrators' view of the configuration —


def test_administrators_see_the_provider_the_mapping_and_the_role_changes(
    org, sso_on, provider, client_for
):
    provider.put_user(
        "sub-seen", name="Sam Seen", groups=[*PMO_GROUPS, "steward:lending:executive"]
    )
    sign_in(Client(), provider, "sub-seen")
    provider.put_user("sub-seen", name="Sam Seen", groups=EXECUTIVE_GROUPS)
    sign_in(Client(), provider, "sub-seen")

    page = client_for("admin").get(reverse("sso-settings"))
    assert page.status_code == 200
    html = page.content.decode()
    assert provider.url in html
    assert "http://testserver/sso/callback/" in html  # the redirect URL to register
    assert "<code>steward:everyday-banking:lean-pmo</code>" in html
    assert "Everyday Banking" in html
    assert "Lean PMO" in html
    assert "granted Lean PMO" in html
    assert "now Executive" in html
    assert "removed Executive" in html  # Lending, dropped at the second sign-in
    assert "Sam Seen" in html


def test_a_mapping_naming_a_missing_portfolio_is_flagged_on_the_settings_page(
    settings, org, provider, client_for
):
    from portfolio.sso.config import parse_role_mapping

    settings.STEWARD_SSO = SsoSettings(
        oidc=provider.settings(role_mapping=parse_role_mapping("g=Closed Portfolio:executive"))
    )
    html = client_for("admin").get(reverse("sso-settings")).content.decode()
    assert "no portfolio “Closed Portfolio”" in html


def test_the_settings_page_says_when_sso_is_off(org, client_for):
    html = client_for("admin").get(reverse("sso-settings")).content.decode()
    assert "Single sign-on is off" in html


@pytest.mark.parametrize("who", ["outsider", "member", "executive", "pmo"])
def test_the_settings_page_is_404_for_everyone_but_administrators(org, sso_on, client_for, who):
    assert client_for(who).get(reverse("sso-settings")).status_code == 404


def test_django_admin_shows_where_a_membership_comes_from(org, sso_on, provider, client_for):
    provider.put_user("sub-admin-view", groups=EXECUTIVE_GROUPS)
    sign_in(Client(), provider, "sub-admin-view")
    admin = client_for("admin")
    listing = admin.get(reverse("admin:portfolio_portfoliomembership_changelist") + "?source=sso")
    assert listing.status_code == 200
    assert "Identity provider groups" in listing.content.decode()
    identities = admin.get(reverse("admin:portfolio_oidcidentity_changelist"))
    assert "sub-admin-view" in identities.content.decode()
    assert reverse("sso-settings") in identities.content.decode()
    assert PortfolioMembership.objects.filter(source="sso").count() == 1
