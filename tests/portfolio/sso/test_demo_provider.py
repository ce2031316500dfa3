"""`make run` with STEWARD_DEMO_OIDC=1: the launcher's in-process provider and the demo's people."""

from __future__ import annotations

import socket

import pytest
import requests
from django.test import Client

from config.stack import demo_identity_provider
from portfolio.models import PortfolioMembership
from portfolio.sso.config import sso_settings
from portfolio.sso.demo import DEMO_IDENTITIES
from tests.factories import PortfolioFactory
from tests.portfolio.sso.conftest import local, start

pytestmark = pytest.mark.django_db


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_without_the_variable_the_launcher_starts_no_provider():
    with demo_identity_provider({}) as env:
        assert env == {}


def test_the_demo_provider_signs_the_demo_people_in_with_their_demo_roles(settings, capsys):
    everyday = PortfolioFactory(name="Everyday Banking")
    lending = PortfolioFactory(name="Lending & Wealth")
    port = free_port()
    with demo_identity_provider(
        {"STEWARD_DEMO_OIDC": "1", "STEWARD_DEMO_OIDC_PORT": str(port)}
    ) as env:
        settings.STEWARD_SSO = sso_settings(env)  # exactly what the web processes get
        issuer = env["STEWARD_OIDC_ISSUER"]
        assert requests.get(f"{issuer}/.well-known/openid-configuration", timeout=5).ok
        expected = {
            "sofia.berg@harbour.example": {everyday.pk: "executive"},
            "liam.novak@harbour.example": {lending.pk: "lean_pmo", everyday.pk: "executive"},
            "nina.keller@harbour.example": {},
        }
        for person in DEMO_IDENTITIES:
            client = Client()
            authorize = start(client)
            # a predefined person is one button on the provider's page
            answer = requests.post(
                authorize, data={"sub": person.subject}, allow_redirects=False, timeout=5
            )
            assert client.get(local(answer.headers["Location"]))["Location"] == "/"
            memberships = PortfolioMembership.objects.filter(
                user__oidc_identities__subject=person.subject
            )
            assert {m.portfolio_id: m.role for m in memberships} == expected[person.subject]
            assert memberships.first() is None or memberships.first().user.first_name == (
                person.given_name
            )
    printed = capsys.readouterr().out
    assert f"demo identity provider (oidc-provider-mock) at http://127.0.0.1:{port}/" in printed
    assert "Sign in with Harbour Bank ID as sofia.berg@harbour.example" in printed
    with pytest.raises(requests.ConnectionError):  # stopped with the launcher
        requests.get(f"{issuer}/.well-known/openid-configuration", timeout=2)


def test_a_taken_port_stops_the_launcher_with_a_clear_message():
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        env = {"STEWARD_DEMO_OIDC": "1", "STEWARD_DEMO_OIDC_PORT": str(port)}
        refused = f"cannot listen on port {port}.*STEWARD_DEMO_OIDC_PORT"
        with pytest.raises(SystemExit, match=refused), demo_identity_provider(env):
            pass
