"""The OpenID Connect protocol, with Authlib's Django client and joserfc underneath.

Authlib does the authorization code flow: a random `state` and `nonce` and a PKCE (S256)
verifier kept in the session, the token request, the ID token's signature checked against the
provider's JWKS (fetched again when a key id is unknown, so key rotation works). Its defaults are not
enough on their own, so this module adds what they leave out:

- the audience: Authlib's ``parse_id_token`` checks ``iss`` (and only against the discovery document)
  but not ``aud``; here ``aud`` must contain our client id and ``iss`` must equal the configured issuer;
- the discovery document's issuer must equal the configured one (OpenID Connect Discovery §4.3);
- an answer without an ID token is refused (Authlib returns it without verifying anything);
- expiry, issued-at and the nonce are checked (Authlib's ``CodeIDToken``), with one minute of leeway.

A state that is not in this browser's session (a replayed or forged callback) and a code the
provider refuses (already used) end in `SignInRefused`, as does anything the provider says wrong.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from typing import Any

import requests
from authlib.integrations.base_client import MismatchingStateError, OAuthError
from authlib.integrations.django_client import DjangoIntegration, DjangoOAuth2App
from django.http import HttpRequest, HttpResponseRedirect
from joserfc.errors import JoseError

from portfolio.sso.config import OidcSettings

log = logging.getLogger(__name__)

CLIENT_NAME = "steward_oidc"  # Authlib keeps each sign-in's state under _state_<name>_<state>
HTTP_TIMEOUT_SECONDS = 10
LEEWAY_SECONDS = 60

_apps: dict[OidcSettings, DjangoOAuth2App] = {}
_apps_lock = threading.Lock()


class SignInRefused(Exception):
    """The provider's answer signs nobody in. The message is safe to show; details go to the log."""


@dataclass(frozen=True)
class VerifiedToken:
    """An ID token whose signature, issuer, audience, expiry and nonce were verified."""

    claims: dict[str, Any]
    id_token: str


def oidc_app(oidc: OidcSettings) -> DjangoOAuth2App:
    """The Authlib client for `oidc` (one per configuration; it caches discovery and JWKS)."""
    with _apps_lock:
        app = _apps.get(oidc)
        if app is None:
            app = DjangoOAuth2App(
                DjangoIntegration(CLIENT_NAME),
                name=CLIENT_NAME,
                client_id=oidc.client_id,
                client_secret=oidc.client_secret,
                server_metadata_url=oidc.discovery_url,
                client_kwargs={
                    "scope": " ".join(oidc.scopes),
                    "code_challenge_method": "S256",
                    "default_timeout": HTTP_TIMEOUT_SECONDS,
                },
            )
            _apps[oidc] = app
        return app


def _metadata(oidc: OidcSettings) -> dict[str, Any]:
    """The provider's discovery document; refuses one whose issuer is not the configured issuer."""
    app = oidc_app(oidc)
    try:
        metadata = app.load_server_metadata()
    except (requests.RequestException, ValueError) as exc:
        log.warning("OIDC: could not read the discovery document %s: %s", oidc.discovery_url, exc)
        raise SignInRefused(
            f"{oidc.provider_name} cannot be reached just now. Try again in a moment."
        ) from exc
    if metadata.get("issuer") != oidc.issuer:
        log.error(
            "OIDC: the discovery document says issuer %r, STEWARD_OIDC_ISSUER says %r",
            metadata.get("issuer"),
            oidc.issuer,
        )
        raise SignInRefused(
            f"{oidc.provider_name} is not configured correctly (issuer mismatch); "
            "tell your administrator."
        )
    return metadata


def authorization_redirect(
    request: HttpRequest, oidc: OidcSettings, redirect_uri: str
) -> HttpResponseRedirect:
    """Send the browser to the provider with a new state, nonce and PKCE challenge in the session."""
    _metadata(oidc)
    try:
        return oidc_app(oidc).authorize_redirect(request, redirect_uri)
    except (requests.RequestException, ValueError) as exc:
        log.warning("OIDC: could not start sign-in: %s", exc)
        raise SignInRefused(f"{oidc.provider_name} cannot be reached just now.") from exc


def _claims_options(oidc: OidcSettings) -> dict[str, dict[str, Any]]:
    # a new dict each time: Authlib pops "validate" hooks out of the options it is given
    return {
        "iss": {"essential": True, "value": oidc.issuer},
        "aud": {"essential": True, "value": oidc.client_id},
        "sub": {"essential": True},
        "exp": {"essential": True},
        "iat": {"essential": True},
        "nonce": {"essential": True},
    }


def verified_token(request: HttpRequest, oidc: OidcSettings) -> VerifiedToken:
    """Exchange the callback's code for tokens and return the verified ID token's claims.

    Raises SignInRefused when the state is not this session's (replay, forgery, expiry), the
    provider reports an error or refuses the code, or the ID token fails any check.
    """
    if request.GET.get("error"):
        log.info(
            "OIDC: the provider answered %s: %s",
            request.GET.get("error"),
            request.GET.get("error_description", ""),
        )
        raise SignInRefused(f"{oidc.provider_name} did not sign you in.")
    _metadata(oidc)
    try:
        token = oidc_app(oidc).authorize_access_token(
            request, claims_options=_claims_options(oidc), leeway=LEEWAY_SECONDS
        )
    except MismatchingStateError as exc:
        log.warning("OIDC: callback with a state this session did not start (replayed or forged)")
        raise SignInRefused(
            "This sign-in link was already used or has expired. Sign in again."
        ) from exc
    except OAuthError as exc:
        log.warning("OIDC: the provider refused the code: %s %s", exc.error, exc.description)
        raise SignInRefused(
            f"{oidc.provider_name} refused this sign-in (the code was already used or has expired). "
            "Sign in again."
        ) from exc
    except JoseError as exc:
        log.warning("OIDC: ID token refused: %s: %s", type(exc).__name__, exc)
        raise SignInRefused(
            f"The answer from {oidc.provider_name} did not pass verification, so nobody was signed in."
        ) from exc
    except (requests.RequestException, ValueError) as exc:
        log.warning("OIDC: token request failed: %s", exc)
        raise SignInRefused(f"{oidc.provider_name} cannot be reached just now.") from exc
    claims = token.get("userinfo")
    if not claims or not token.get("id_token"):
        log.warning("OIDC: the token response has no ID token; refused")
        raise SignInRefused(f"{oidc.provider_name} sent no ID token, so nobody was signed in.")
    return VerifiedToken(claims=dict(claims), id_token=token["id_token"])


def end_session_url(
    oidc: OidcSettings, *, id_token: str | None, post_logout_redirect_uri: str
) -> str | None:
    """The provider's RP-initiated logout URL, or None when it has none (or cannot be reached)."""
    try:
        metadata = _metadata(oidc)
    except SignInRefused:
        return None
    if not metadata.get("end_session_endpoint"):
        return None
    return oidc_app(oidc).create_logout_url(
        post_logout_redirect_uri=post_logout_redirect_uri,
        id_token_hint=id_token,
        client_id=oidc.client_id,
    )["url"]
