"""Integration tokens: issue, revoke and check them (the services behind the token model).

A token's text is ``stw_<key_id>_<secret>``: ``key_id`` finds the row, the secret is compared with
its stored SHA-256 digest in constant time. The text exists only in the return value of
:func:`integration_token_issue`; nothing can show it again.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import transaction

from portfolio.models import IntegrationToken, Portfolio

MAX_DAYS = 366
# last_used_at is written at most this often per token, so that a busy CI does not write per call.
LAST_USED_RESOLUTION = dt.timedelta(minutes=1)


class TokenRejected(Exception):
    """The presented token cannot be used; the message says why, for the integration's logs."""


@dataclass(frozen=True)
class IssuedToken:
    """A new token and its text, which is shown once and never stored."""

    token: IntegrationToken
    text: str


def secret_digest(secret: str) -> str:
    """SHA-256 hex digest of a token secret (the secrets are random, so no salt or stretching)."""
    return hashlib.sha256(secret.encode()).hexdigest()


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


def integration_token_check(text: str, *, now: dt.datetime) -> IntegrationToken:
    """Return the token whose text is `text`, usable at `now`; raise TokenRejected saying why.

    Records when the token was last used (at most once a minute per token).
    """
    if not text.startswith(IntegrationToken.PREFIX):
        raise TokenRejected(
            f"Not a Steward integration token: it must start with “{IntegrationToken.PREFIX}”."
        )
    key_id, _, secret = text.removeprefix(IntegrationToken.PREFIX).partition("_")
    token = (
        IntegrationToken.objects.select_related("portfolio").filter(key_id=key_id).first()
        if key_id and secret
        else None
    )
    if token is None or not hmac.compare_digest(token.secret_hash, secret_digest(secret)):
        raise TokenRejected("Unknown integration token.")
    if token.revoked_at is not None:
        raise TokenRejected(f"This integration token was revoked on {token.revoked_at:%Y-%m-%d}.")
    if token.expires_at <= now:
        raise TokenRejected(
            f"This integration token expired on {token.expires_at:%Y-%m-%d}; issue a new one."
        )
    if token.last_used_at is None or now - token.last_used_at >= LAST_USED_RESOLUTION:
        IntegrationToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now
    return token
