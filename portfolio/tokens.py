"""Integration tokens: check a presented token (the API's authentication calls this) and the
digest its secret is stored as. Issuing and revoking are services (portfolio.services).

A token's text is ``stw_<key_id>_<secret>``: ``key_id`` finds the row, the secret is compared with
its stored SHA-256 digest in constant time. The text exists only in the return value of
:func:`portfolio.services.integration_token_issue`; nothing can show it again.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac

from portfolio.models import IntegrationToken

# last_used_at is written at most this often per token, so that a busy CI does not write per call.
LAST_USED_RESOLUTION = dt.timedelta(minutes=1)


class TokenRejected(Exception):
    """The presented token cannot be used; the message says why, for the integration's logs."""


def secret_digest(secret: str) -> str:
    """SHA-256 hex digest of a token secret (the secrets are random, so no salt or stretching)."""
    return hashlib.sha256(secret.encode()).hexdigest()


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
