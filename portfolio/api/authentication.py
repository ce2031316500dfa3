"""Integration tokens over HTTP: `Authorization: Bearer stw_...`, and what such a caller may do.

A request authenticated by a token has ``request.auth`` set to the IntegrationToken and
``request.user`` set to an anonymous user: every ``visible_to(user)`` rule therefore shows it
nothing. The token is recognised on every endpoint, so that a valid token on a read endpoint is
told plainly that it may not read (403 from :class:`PeopleOnly`, the default permission) rather
than that no credentials were sent. Only views that declare :class:`IngestPermission` accept it,
and only for the token's own portfolio (:func:`portfolio_for_ingest`).
"""

from __future__ import annotations

from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied
from django.utils import timezone
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.permissions import BasePermission

from portfolio.access import get_for_user
from portfolio.models import IntegrationToken, Portfolio
from portfolio.tokens import TokenRejected, integration_token_check


class IntegrationTokenAuthentication(BaseAuthentication):
    """Authenticate `Authorization: Bearer stw_...`; a bad, expired or revoked token gets 401."""

    keyword = "Bearer"

    def authenticate(self, request):
        header = get_authorization_header(request).split()
        if not header or header[0].decode("latin-1").lower() != self.keyword.lower():
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed(
                "Malformed Authorization header: expected “Bearer stw_…” with no spaces in the token."
            )
        try:
            text = header[1].decode("ascii")
        except UnicodeDecodeError as exc:
            raise exceptions.AuthenticationFailed(
                "The token contains non-ASCII characters."
            ) from exc
        try:
            token = integration_token_check(text, now=timezone.now())
        except TokenRejected as exc:
            raise exceptions.AuthenticationFailed(str(exc)) from exc
        return AnonymousUser(), token

    def authenticate_header(self, request) -> str:
        return f'{self.keyword} realm="steward"'


def request_token(request) -> IntegrationToken | None:
    """The integration token the request was authenticated with, if any."""
    return request.auth if isinstance(request.auth, IntegrationToken) else None


TOKEN_READS_NOTHING = (
    "Integration tokens may only send events to /api/v1/ingest/ (and follow their own imports); "
    "this token may not read or change anything here. Sign in as a person to use this endpoint."
)


class PeopleOnly(BasePermission):
    """The default permission: a signed-in person. An integration token is refused with a 403 that
    says so (DRF would otherwise answer "Authentication credentials were not provided")."""

    message = TOKEN_READS_NOTHING

    def has_permission(self, request, view) -> bool:
        if request_token(request) is not None:
            return False
        return bool(request.user and request.user.is_authenticated)


class IngestPermission(BasePermission):
    """A token with the ``ingest`` scope, or a logged-in person (their portfolio role is checked
    per portfolio by :func:`portfolio_for_ingest`)."""

    message = "This token lacks the “ingest” scope."

    def has_permission(self, request, view) -> bool:
        token = request_token(request)
        if token is not None:
            return IntegrationToken.Scope.INGEST in token.scopes
        return bool(request.user and request.user.is_authenticated)


def portfolio_for_ingest(request, portfolio_id: int | None) -> Portfolio:
    """The portfolio a request may write events to, or an error saying why not.

    A token writes to its own portfolio only (`portfolio_id` may be omitted; another id: 403). A
    person names the portfolio and must be its Lean PMO (or an admin): 404 for outsiders, 403 for
    readers.
    """
    token = request_token(request)
    if token is not None:
        if portfolio_id is not None and portfolio_id != token.portfolio_id:
            raise PermissionDenied(
                f"This token belongs to portfolio {token.portfolio_id}; it cannot write to "
                f"portfolio {portfolio_id}."
            )
        return token.portfolio
    if portfolio_id is None:
        raise exceptions.ValidationError(
            {"portfolio": ["Name the portfolio (its id) to write to."]}
        )
    return get_for_user(Portfolio, request.user, portfolio_id, write=True)


class IntegrationTokenScheme(OpenApiAuthenticationExtension):
    """Describes the token in the OpenAPI schema (registered on import)."""

    target_class = IntegrationTokenAuthentication
    name = "integrationToken"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "An integration token `stw_…` from `manage.py issue_token`.",
        }
