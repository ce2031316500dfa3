"""Single sign-on through the real flow against the in-process provider: who lands with which role,
what identifies a person, and every answer that must sign nobody in."""

from __future__ import annotations

import datetime as dt
import html
import logging
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
import time_machine
from django.contrib.auth import get_user_model
from django.contrib.messages import get_messages
from django.test import Client
from django.urls import reverse

from portfolio.models import OidcIdentity, PortfolioMembership
from portfolio.sso.config import SsoSettings
from tests.factories import UserFactory
from tests.portfolio.sso.conftest import local, sign_in, start
from tests.portfolio.sso.provider import (
    EXECUTIVE_GROUPS,
    NO_ROLE_GROUPS,
    PMO_GROUPS,
    decoded_payload,
    s256,
    with_payload,
)

pytestmark = pytest.mark.django_db

User = get_user_model()


def sso_user(sub: str):
    return User.objects.get(oidc_identities__subject=sub)


def roles_of(user) -> dict[str, tuple[str, str]]:
    """portfolio name → (role, source) for every membership the user holds."""
    return {
        m.portfolio.name: (m.role, m.source)
        for m in PortfolioMembership.objects.filter(user=user).select_related("portfolio")
    }


def asked(authorize_url: str) -> dict[str, str]:
    """The parameters of an authorization request (state, nonce, code_challenge, …)."""
    return {key: values[0] for key, values in parse_qs(urlsplit(authorize_url).query).items()}


def messages_of(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


def assert_refused(response, client: Client, text: str) -> None:
    """Sent back to the login page with `text` in the message, and nobody signed in."""
    assert response.status_code == 302
    assert response["Location"] == reverse("login")
    assert any(text in message for message in messages_of(response)), messages_of(response)
    assert "_auth_user_id" not in client.session


# — without single sign-on nothing changes —


def test_without_sso_the_login_page_has_no_button_and_the_sso_urls_answer_404(org, client):
    page = client.get(reverse("login"))
    assert page.status_code == 200
    assert b"Sign in with" not in page.content
    assert client.get(reverse("sso-login")).status_code == 404
    assert client.get(reverse("sso-callback") + "?code=x&state=y").status_code == 404


def test_with_sso_the_login_page_offers_the_provider_by_name(org, sso_on, client):
    page = client.get(reverse("login") + "?next=/portfolios/1/")
    assert b"Sign in with Test IdP" in page.content
    assert b'href="/sso/login/?next=/portfolios/1/"' in page.content
    assert b'name="password"' in page.content  # passwords still work for everyone by default


# — each person lands with the role their groups map to —


@pytest.mark.parametrize(
    ("groups", "role", "portfolio_status"),
    [
        (EXECUTIVE_GROUPS, "executive", 200),
        (PMO_GROUPS, "lean_pmo", 200),
        (NO_ROLE_GROUPS, None, 404),
    ],
    ids=["executive", "lean_pmo", "no-role"],
)
def test_each_person_signs_in_and_lands_with_the_role_their_groups_map_to(
    org, sso_on, provider, client, groups, role, portfolio_status
):
    provider.put_user(
        "sub-1", given_name="Eva", family_name="Lindqvist", email="eva@bank.example", groups=groups
    )
    response = sign_in(client, provider, "sub-1")
    assert response.status_code == 302
    assert response["Location"] == reverse("home")
    user = sso_user("sub-1")
    assert int(client.session["_auth_user_id"]) == user.pk
    assert (user.first_name, user.last_name, user.email) == ("Eva", "Lindqvist", "eva@bank.example")
    assert not user.has_usable_password()
    expected = {"Everyday Banking": (role, "sso")} if role else {}
    assert roles_of(user) == expected
    assert client.get(reverse("portfolio-detail", args=[org.portfolio.pk])).status_code == (
        portfolio_status
    )
    assert client.get(reverse("portfolio-detail", args=[org.other_portfolio.pk])).status_code == 404


def test_the_flow_uses_pkce_state_and_nonce_as_the_provider_sees_them(
    org, sso_on, provider, client
):
    provider.put_user("sub-pkce", groups=EXECUTIVE_GROUPS)
    sign_in(client, provider, "sub-pkce")
    request = provider.tap.authorize_requests[-1]
    assert request["response_type"] == "code"
    assert request["client_id"] == "steward"
    assert request["redirect_uri"] == "http://testserver/sso/callback/"
    assert set(request["scope"].split()) == {"openid", "profile", "email"}
    assert request["code_challenge_method"] == "S256"
    assert len(request["state"]) >= 20
    assert len(request["nonce"]) >= 20
    exchanged = provider.tap.token_requests[-1]
    assert exchanged["grant_type"] == "authorization_code"
    assert s256(exchanged["code_verifier"]) == request["code_challenge"]
    assert "code_verifier" not in request


def test_a_person_is_the_issuer_and_subject_never_the_email(org, sso_on, provider, client):
    owner_of_the_address = UserFactory(username="eva", email="eva@bank.example")
    provider.put_user("sub-email", email="eva@bank.example", groups=EXECUTIVE_GROUPS)
    sign_in(client, provider, "sub-email")
    user = sso_user("sub-email")
    assert user != owner_of_the_address
    assert roles_of(owner_of_the_address) == {}
    assert user.username != "eva"


def test_name_and_email_are_refreshed_at_each_sign_in_for_the_same_user(
    org, sso_on, provider, client
):
    provider.put_user("sub-refresh", name="Eva Lindqvist", email="eva@old.example", groups=[])
    sign_in(client, provider, "sub-refresh")
    first = sso_user("sub-refresh")
    provider.put_user("sub-refresh", name="Eva Berg", email="eva@new.example", groups=[])
    sign_in(Client(), provider, "sub-refresh")
    again = sso_user("sub-refresh")
    assert again.pk == first.pk
    assert (again.first_name, again.last_name, again.email) == ("Eva", "Berg", "eva@new.example")
    assert OidcIdentity.objects.filter(user=again).count() == 1


def test_the_same_subject_at_another_issuer_is_another_person(org, sso_on, provider, client):
    elsewhere = UserFactory(username="someone-else")
    OidcIdentity.objects.create(user=elsewhere, issuer="https://other-idp.example", subject="sub-x")
    provider.put_user("sub-x", groups=EXECUTIVE_GROUPS)
    sign_in(client, provider, "sub-x")
    signed_in = User.objects.get(pk=client.session["_auth_user_id"])
    assert signed_in != elsewhere
    assert signed_in.oidc_identities.get().issuer == provider.url


def test_an_administrator_links_an_existing_account_by_its_identity(org, sso_on, provider, client):
    pmo = org.users["pmo"]
    OidcIdentity.objects.create(user=pmo, issuer=provider.url, subject="sub-priya")
    provider.put_user("sub-priya", groups=PMO_GROUPS)
    sign_in(client, provider, "sub-priya")
    assert int(client.session["_auth_user_id"]) == pmo.pk
    # the Lean PMO role she was given by hand stays hers, set by hand
    assert roles_of(pmo) == {"Everyday Banking": ("lean_pmo", "manual")}


def test_after_sign_in_the_person_goes_where_they_were_going_but_never_off_site(
    org, sso_on, provider, client
):
    provider.put_user("sub-next", groups=EXECUTIVE_GROUPS)
    target = reverse("portfolio-detail", args=[org.portfolio.pk])
    assert sign_in(client, provider, "sub-next", next_url=target)["Location"] == target
    other = Client()
    assert sign_in(other, provider, "sub-next", next_url="https://evil.example/")["Location"] == "/"


def test_a_deactivated_account_is_refused(org, sso_on, provider, client):
    provider.put_user("sub-gone", groups=EXECUTIVE_GROUPS)
    sign_in(Client(), provider, "sub-gone")
    user = sso_user("sub-gone")
    user.is_active = False
    user.save()
    assert_refused(sign_in(client, provider, "sub-gone"), client, "deactivated")


def test_a_person_who_denies_consent_at_the_provider_is_not_signed_in(
    org, sso_on, provider, client
):
    authorize = start(client)
    denied = requests.post(authorize, data={"action": "deny"}, allow_redirects=False, timeout=5)
    assert "error=access_denied" in denied.headers["Location"]
    assert_refused(client.get(local(denied.headers["Location"])), client, "did not sign you in")


# — roles follow the groups at every sign-in —


def test_the_next_sign_in_applies_a_promotion_and_a_demotion(org, sso_on, provider, client):
    provider.put_user("sub-move", groups=EXECUTIVE_GROUPS)
    sign_in(Client(), provider, "sub-move")
    user = sso_user("sub-move")
    assert roles_of(user) == {"Everyday Banking": ("executive", "sso")}

    provider.put_user("sub-move", groups=[*PMO_GROUPS, "steward:lending:executive"])
    sign_in(Client(), provider, "sub-move")
    assert roles_of(user) == {
        "Everyday Banking": ("lean_pmo", "sso"),
        "Lending": ("executive", "sso"),
    }

    provider.put_user("sub-move", groups=NO_ROLE_GROUPS)
    response = sign_in(client, provider, "sub-move")
    assert roles_of(user) == {}
    assert response["Location"] == "/"
    assert client.get(reverse("portfolio-detail", args=[org.portfolio.pk])).status_code == 404


def test_every_role_change_by_sso_is_in_the_audit_history(org, sso_on, provider, client):
    provider.put_user("sub-audit", groups=EXECUTIVE_GROUPS)
    sign_in(Client(), provider, "sub-audit")
    provider.put_user("sub-audit", groups=PMO_GROUPS)
    sign_in(Client(), provider, "sub-audit")
    provider.put_user("sub-audit", groups=[])
    sign_in(Client(), provider, "sub-audit")
    user = sso_user("sub-audit")
    events = PortfolioMembership.pgh_event_model.objects.filter(user=user).order_by("pgh_id")
    assert [(e.pgh_label, e.role, e.source) for e in events] == [
        ("insert", "executive", "sso"),
        ("update", "lean_pmo", "sso"),
        ("delete", "lean_pmo", "sso"),
    ]
    contexts = [event.pgh_context.metadata for event in events]
    assert all(c["via"] == "sso" and c["user"] == user.pk for c in contexts)
    assert contexts[0]["groups"] == ["steward:everyday-banking:executive"]
    assert contexts[0]["url"] == "/sso/callback/"  # HistoryMiddleware's part of the context


def test_roles_set_by_hand_are_never_changed_or_removed_by_sso(org, sso_on, provider, client):
    provider.put_user("sub-hand", groups=NO_ROLE_GROUPS)
    sign_in(Client(), provider, "sub-hand")
    user = sso_user("sub-hand")
    PortfolioMembership.objects.create(user=user, portfolio=org.portfolio, role="executive")
    PortfolioMembership.objects.create(user=user, portfolio=org.other_portfolio, role="lean_pmo")

    provider.put_user("sub-hand", groups=PMO_GROUPS)  # would make them Lean PMO of Everyday Banking
    sign_in(client, provider, "sub-hand")
    assert roles_of(user) == {
        "Everyday Banking": ("executive", "manual"),
        "Lending": ("lean_pmo", "manual"),
    }
    provider.put_user("sub-hand", groups=[])
    sign_in(Client(), provider, "sub-hand")
    assert roles_of(user) == {
        "Everyday Banking": ("executive", "manual"),
        "Lending": ("lean_pmo", "manual"),
    }


@pytest.mark.parametrize(
    "claims",
    [
        {},
        {"_claim_names": {"groups": "src1"}, "_claim_sources": {"src1": {"endpoint": "https://g"}}},
        {"hasgroups": True},
        {"groups": "steward:everyday-banking:executive", "hasgroups": True},
    ],
    ids=["no-groups-claim", "entra-overage", "entra-hasgroups", "overage-with-a-partial-claim"],
)
def test_a_token_that_cannot_tell_the_groups_keeps_the_roles_and_logs_a_warning(
    org, sso_on, provider, client, caplog, claims
):
    provider.put_user("sub-keep", groups=[*PMO_GROUPS, "steward:lending:executive"])
    sign_in(Client(), provider, "sub-keep")
    user = sso_user("sub-keep")
    before = roles_of(user)
    assert before == {"Everyday Banking": ("lean_pmo", "sso"), "Lending": ("executive", "sso")}

    provider.put_user("sub-keep", name="Eva Kept", **claims)
    with caplog.at_level(logging.WARNING, logger="portfolio.sso.services"):
        response = sign_in(client, provider, "sub-keep")
    assert response.status_code == 302
    assert int(client.session["_auth_user_id"]) == user.pk
    assert roles_of(user) == before
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any("roles are kept" in w and "sub-keep" in w for w in warnings), warnings
    assert any("did not say which groups" in m for m in messages_of(response))
    user.refresh_from_db()
    assert user.first_name == "Eva"  # the profile is still refreshed


# — answers that sign nobody in —


def test_an_id_token_minted_for_another_client_is_refused(org, sso_on, provider, client, caplog):
    provider.put_user("sub-aud", groups=PMO_GROUPS)
    authorize = start(client)
    nonce = asked(authorize)["nonce"]
    # the same provider, the same person, the same nonce: only the audience differs
    foreign = provider.id_token_for(client_id="another-app", sub="sub-aud", nonce=nonce)
    assert decoded_payload(foreign)["aud"] == ["another-app"]
    provider.tap.next_id_token = foreign
    callback = provider.consent(authorize, "sub-aud")
    with caplog.at_level(logging.WARNING, logger="portfolio.sso.client"):
        response = client.get(local(callback))
    assert_refused(response, client, "did not pass verification")
    assert "InvalidClaimError" in caplog.text
    assert "'aud'" in caplog.text
    assert not OidcIdentity.objects.filter(subject="sub-aud").exists()


def test_an_id_token_altered_in_transit_is_refused(org, sso_on, provider, client, caplog):
    provider.put_user("sub-alter", groups=NO_ROLE_GROUPS)
    authorize = start(client)
    nonce = asked(authorize)["nonce"]
    genuine = provider.id_token_for(client_id="steward", sub="sub-alter", nonce=nonce)
    provider.tap.next_id_token = with_payload(genuine, groups=PMO_GROUPS)
    callback = provider.consent(authorize, "sub-alter")
    with caplog.at_level(logging.WARNING, logger="portfolio.sso.client"):
        response = client.get(local(callback))
    assert_refused(response, client, "did not pass verification")
    assert "BadSignatureError" in caplog.text
    assert not OidcIdentity.objects.filter(subject="sub-alter").exists()


def test_an_expired_id_token_is_refused(org, sso_on, provider, client, caplog):
    provider.put_user("sub-old", groups=EXECUTIVE_GROUPS)
    authorize = start(client)
    nonce = asked(authorize)["nonce"]
    stale = provider.id_token_for(client_id="steward", sub="sub-old", nonce=nonce)
    callback = provider.consent(authorize, "sub-old")
    provider.tap.next_id_token = stale
    expires = dt.datetime.fromtimestamp(decoded_payload(stale)["exp"], tz=dt.UTC)
    with (
        time_machine.travel(expires + dt.timedelta(minutes=5), tick=True),
        caplog.at_level(logging.WARNING, logger="portfolio.sso.client"),
    ):
        response = client.get(local(callback))
    assert_refused(response, client, "did not pass verification")
    assert "ExpiredTokenError" in caplog.text


def test_a_token_response_without_an_id_token_is_refused(org, sso_on, provider, client):
    provider.put_user("sub-no-id", groups=EXECUTIVE_GROUPS)
    callback = provider.consent(start(client), "sub-no-id")
    provider.tap.drop_next_id_token = True
    assert_refused(client.get(local(callback)), client, "sent no ID token")
    assert not OidcIdentity.objects.filter(subject="sub-no-id").exists()


def test_a_replayed_callback_signs_nobody_in(org, sso_on, provider, client):
    provider.put_user("sub-replay", groups=EXECUTIVE_GROUPS)
    callback = provider.consent(start(client), "sub-replay")
    assert client.get(local(callback))["Location"] == "/"
    # the same callback URL again, in another browser (a leaked URL) and in the same one
    attacker = Client()
    assert_refused(attacker.get(local(callback)), attacker, "already used or has expired")
    again = client.get(local(callback))
    assert again["Location"] == reverse("login")
    assert any("already used" in m for m in messages_of(again))


def test_a_used_code_with_a_fresh_state_is_refused_by_the_provider(org, sso_on, provider, client):
    provider.put_user("sub-code", groups=EXECUTIVE_GROUPS)
    used = provider.consent(start(client), "sub-code")
    client.get(local(used))
    code = asked(used)["code"]
    attacker = Client()
    state = asked(start(attacker))["state"]
    response = attacker.get(f"{reverse('sso-callback')}?code={code}&state={state}")
    assert_refused(response, attacker, "refused this sign-in")


def test_a_code_stolen_before_use_is_refused_by_the_nonce(org, sso_on, provider, client, caplog):
    provider.put_user("sub-stolen", groups=PMO_GROUPS)
    victims = provider.consent(start(Client()), "sub-stolen")
    code = asked(victims)["code"]
    attacker = Client()
    state = asked(start(attacker))["state"]
    with caplog.at_level(logging.WARNING, logger="portfolio.sso.client"):
        response = attacker.get(f"{reverse('sso-callback')}?code={code}&state={state}")
    assert_refused(response, attacker, "did not pass verification")
    assert "nonce" in caplog.text
    assert not OidcIdentity.objects.filter(subject="sub-stolen").exists()


def test_a_callback_without_a_sign_in_started_here_is_refused(org, sso_on, client):
    response = client.get(reverse("sso-callback") + "?code=abc&state=forged")
    assert_refused(response, client, "already used or has expired")


def test_a_provider_whose_discovery_names_another_issuer_is_refused(
    org, settings, provider, client
):
    settings.STEWARD_SSO = SsoSettings(oidc=provider.settings(issuer="https://login.example.com"))
    response = client.get(reverse("sso-login"))
    assert_refused(response, client, "issuer mismatch")


# — logging out —


def test_logging_out_of_an_sso_session_ends_it_at_the_provider_too(org, sso_on, provider, client):
    provider.put_user("sub-out", groups=EXECUTIVE_GROUPS)
    sign_in(client, provider, "sub-out")
    id_token = client.session["sso"]["id_token"]
    response = client.post(reverse("logout"))
    assert response.status_code == 200  # a page that refreshes to the provider (CSP form-action)
    location = response.context["end_session_url"]
    assert f'content="0;url={html.escape(location)}"' in response.text
    assert location.startswith(f"{provider.url}/oauth2/end_session?")
    assert f"id_token_hint={id_token}" in location
    assert "post_logout_redirect_uri=http%3A%2F%2Ftestserver%2Faccounts%2Flogin%2F" in location
    assert "_auth_user_id" not in client.session


def test_logging_out_of_a_password_session_stays_in_steward(org, sso_on, client_for):
    client = client_for("pmo")
    response = client.post(reverse("logout"))
    assert response["Location"] == reverse("login")
    assert "_auth_user_id" not in client.session
