"""The in-process provider, SSO switched on against it, and a helper that signs in through the real flow."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from django.test import Client
from django.urls import reverse

from portfolio.sso.config import SsoSettings
from tests.portfolio.sso.provider import Provider


@pytest.fixture(scope="session")
def provider():
    """One provider for the session; each test sets the people it needs with `put_user`."""
    running = Provider()
    yield running
    running.stop()


@pytest.fixture
def sso_on(settings, provider):
    """Single sign-on configured for the provider, password login for everyone (the default)."""
    settings.STEWARD_SSO = SsoSettings(oidc=provider.settings())
    return settings.STEWARD_SSO.oidc


def local(url: str) -> str:
    """Path and query of a URL the provider sends the browser to (the test client wants no host)."""
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}" if parts.query else parts.path


def start(client: Client, next_url: str | None = None) -> str:
    """Press "Sign in with …": returns the provider's authorization URL Steward redirected to."""
    url = reverse("sso-login") + (f"?next={next_url}" if next_url else "")
    response = client.get(url)
    assert response.status_code == 302, response.content
    return response["Location"]


def sign_in(client: Client, provider: Provider, sub: str, next_url: str | None = None):
    """The whole flow as a browser does it; returns Steward's answer to the callback."""
    callback = provider.consent(start(client, next_url), sub)
    return client.get(local(callback))
