"""The signed-in person: their user (keyed on issuer + subject), their profile and their roles.

`sso_sign_in` runs at every single sign-on, in one transaction. It never looks a person up by
e-mail, refreshes name and e-mail from the verified claims, and re-applies the portfolio roles that
the role mapping grants: roles granted by the provider's groups are added, changed and removed to
match, roles set by hand in Steward are never touched, and a token whose groups claim is missing or
overflowed keeps every role as it was (with a warning in the log). Every role change is written
inside ``pghistory.context(user=…, via="sso", groups=…)``, so the audit history says it was SSO.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pghistory
from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction

from portfolio.models import OidcIdentity, Portfolio, PortfolioMembership
from portfolio.sso.config import OidcSettings
from portfolio.sso.mapping import groups_from_claims, roles_for_groups
from portfolio.sso.selectors import portfolio_ids_by_key

log = logging.getLogger(__name__)

USERNAME_MAX = 150


class AccountDisabled(Exception):
    """The provider vouches for someone whose Steward account an administrator has deactivated."""


@dataclass(frozen=True)
class RoleChange:
    """One portfolio role changed by a sign-in; None before means added, None after means removed."""

    portfolio: str
    before: str | None
    after: str | None


@dataclass(frozen=True)
class SignInResult:
    """Who signed in, whether the user is new, and what happened to their roles.

    `roles_applied` is False when the token could not tell the person's groups (`problem` says
    why); their roles were then kept as they were.
    """

    user: Any
    created: bool
    roles_applied: bool
    changes: tuple[RoleChange, ...]
    problem: str = ""


def _text(claims: Mapping[str, Any], name: str, limit: int) -> str | None:
    value = claims.get(name)
    return value.strip()[:limit] if isinstance(value, str) and value.strip() else None


def _free_username(claims: Mapping[str, Any], issuer: str, subject: str) -> str:
    """A username nobody has, from preferred_username, e-mail or subject (display only, not identity)."""
    User = get_user_model()
    wanted = next(
        (value for name in ("preferred_username", "email") if (value := _text(claims, name, 120))),
        subject,
    )
    base = re.sub(r"[^\w.@+-]+", "-", wanted).strip("-")[:120] or "user"
    if not User.objects.filter(username=base).exists():
        return base
    # someone (perhaps a password account) has it: add a suffix derived from the identity
    suffixed = f"{base}-{hashlib.sha256(f'{issuer} {subject}'.encode()).hexdigest()[:8]}"
    candidate, counter = suffixed, 2
    while User.objects.filter(username=candidate).exists():
        candidate, counter = f"{suffixed}-{counter}", counter + 1
    return candidate[:USERNAME_MAX]


def _user_for_identity(
    *, issuer: str, subject: str, claims: Mapping[str, Any]
) -> tuple[Any, OidcIdentity, bool]:
    """(user, identity, created): the user this issuer + subject belongs to, created on first sign-in."""
    identity = (
        OidcIdentity.objects.select_related("user").filter(issuer=issuer, subject=subject).first()
    )
    if identity is not None:
        return identity.user, identity, False
    User = get_user_model()
    try:
        with transaction.atomic():
            user = User(username=_free_username(claims, issuer, subject))
            user.set_unusable_password()
            user.save()
            identity = OidcIdentity.objects.create(user=user, issuer=issuer, subject=subject)
    except IntegrityError:
        # the same person's first sign-in in another tab got there first
        identity = OidcIdentity.objects.select_related("user").get(issuer=issuer, subject=subject)
        return identity.user, identity, False
    return user, identity, True


def _profile_refresh(user, claims: Mapping[str, Any]) -> None:
    """Name and e-mail from the claims the token carries (a claim left out changes nothing)."""
    first, last = _text(claims, "given_name", 150), _text(claims, "family_name", 150)
    if first is None and last is None and (name := _text(claims, "name", 301)):
        first, _, last = name.partition(" ")
        first, last = first[:150], last.strip()[:150]
    email = _text(claims, "email", 254)
    fields = {"first_name": first, "last_name": last, "email": email}
    changed = [
        field
        for field, value in fields.items()
        if value is not None and getattr(user, field) != value
    ]
    for field in changed:
        setattr(user, field, fields[field])
    if changed:
        user.save(update_fields=changed)


@transaction.atomic
def sso_roles_apply(
    *, user, roles: Mapping[int, str], groups: tuple[str, ...] = ()
) -> tuple[RoleChange, ...]:
    """Make the user's SSO-granted memberships exactly `roles` (portfolio id → role).

    A portfolio where the user holds a role set by hand keeps that role, whatever `roles` says.
    `groups` (the groups that matched the mapping) goes into the audit context. Returns the changes.
    """
    User = get_user_model()
    User.objects.select_for_update().filter(pk=user.pk).exists()  # one sign-in per person at a time
    held = {
        membership.portfolio_id: membership
        for membership in PortfolioMembership.objects.filter(user=user)
        .select_related("portfolio")
        .select_for_update()
    }
    names = dict(Portfolio.objects.filter(pk__in=list(roles)).values_list("pk", "name"))
    changes: list[RoleChange] = []
    with pghistory.context(user=user.pk, via="sso", groups=list(groups)):
        for portfolio_id, role in sorted(roles.items()):
            membership = held.get(portfolio_id)
            if membership is None:
                PortfolioMembership.objects.create(
                    user=user,
                    portfolio_id=portfolio_id,
                    role=role,
                    source=PortfolioMembership.Source.SSO,
                )
                changes.append(RoleChange(names[portfolio_id], None, role))
            elif membership.source == PortfolioMembership.Source.SSO and membership.role != role:
                changes.append(RoleChange(membership.portfolio.name, membership.role, role))
                membership.role = role
                membership.save(update_fields=["role"])
        for portfolio_id, membership in held.items():
            if membership.source == PortfolioMembership.Source.SSO and portfolio_id not in roles:
                changes.append(RoleChange(membership.portfolio.name, membership.role, None))
                membership.delete()
    return tuple(changes)


@transaction.atomic
def sso_sign_in(*, oidc: OidcSettings, claims: Mapping[str, Any], now: dt.datetime) -> SignInResult:
    """Find or create the user for verified ID-token `claims` and bring their profile and roles up to date.

    Raises AccountDisabled (changing nothing) when the user is deactivated in Steward.
    """
    issuer, subject = claims["iss"], claims["sub"]
    user, identity, created = _user_for_identity(issuer=issuer, subject=subject, claims=claims)
    if not user.is_active:
        raise AccountDisabled(f"{user.username} is deactivated in Steward.")
    _profile_refresh(user, claims)
    identity.last_login_at = now
    identity.save(update_fields=["last_login_at"])

    reading = groups_from_claims(claims, oidc.groups_claim)
    if not reading.known:
        log.warning(
            "SSO sign-in of %s (%s at %s): %s; their portfolio roles are kept as they were",
            user.username,
            subject,
            issuer,
            reading.problem,
        )
        return SignInResult(user, created, roles_applied=False, changes=(), problem=reading.problem)
    assignment = roles_for_groups(reading.groups or (), oidc.role_mapping, portfolio_ids_by_key())
    if assignment.unknown_portfolios:
        log.warning(
            "SSO role mapping names portfolios that do not exist: %s",
            ", ".join(assignment.unknown_portfolios),
        )
    changes = sso_roles_apply(user=user, roles=assignment.roles, groups=assignment.matched_groups)
    for change in changes:
        log.info(
            "SSO sign-in of %s: %s role %s → %s",
            user.username,
            change.portfolio,
            change.before or "none",
            change.after or "none",
        )
    return SignInResult(user, created, roles_applied=True, changes=changes)
