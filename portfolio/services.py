"""Writes for portfolios: issuing and revoking integration tokens.

A token's text exists only in the return value of :func:`integration_token_issue`; only its
secret's SHA-256 digest is stored (portfolio.tokens checks a presented token against it).
"""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import transaction

from portfolio.models import IntegrationToken, Portfolio
from portfolio.tokens import secret_digest

MAX_DAYS = 366


@dataclass(frozen=True)
class IssuedToken:
    """A new token and its text, which is shown once and never stored."""

    token: IntegrationToken
    text: str


@transaction.atomic
def integration_token_issue(
    *,
    portfolio: Portfolio,
    name: str,
    days: int,
    now: dt.datetime,
    created_by=None,
    scopes: tuple[str, ...] = (IntegrationToken.Scope.INGEST,),
) -> IssuedToken:
    """Create a token for `portfolio` valid for `days` days from `now`; return it with its text.

    Raises ValidationError naming the field: `days` must be 1–366 (tokens always expire), `name`
    must not be empty, `scopes` must be known.
    """
    if not 1 <= days <= MAX_DAYS:
        raise ValidationError(
            {"days": f"A token must expire within 1 to {MAX_DAYS} days; got {days}."}
        )
    key_id = secrets.token_hex(6)
    secret = secrets.token_urlsafe(32)
    token = IntegrationToken(
        portfolio=portfolio,
        name=name.strip(),
        key_id=key_id,
        secret_hash=secret_digest(secret),
        scopes=list(scopes),
        expires_at=now + dt.timedelta(days=days),
        created_by=created_by,
    )
    token.full_clean()
    token.save()
    return IssuedToken(token=token, text=f"{IntegrationToken.PREFIX}{key_id}_{secret}")


@transaction.atomic
def integration_token_revoke(*, token: IntegrationToken, now: dt.datetime) -> IntegrationToken:
    """Revoke `token` from `now` on (revoking twice keeps the first time)."""
    if token.revoked_at is None:
        token.revoked_at = now
        token.save(update_fields=["revoked_at"])
    return token
