"""Portfolios and who holds which role in them.

Access is decided here once: `Portfolio.objects.visible_to(user)` and `.editable_by(user)` are the
rules every page and API endpoint (and the value-stream and team rules, which build on them) use.
"""

from __future__ import annotations

import zoneinfo

import pghistory
from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q

from portfolio.date_range import date_range_problem
from portfolio.fields import LONG_TEXT, LimitedTextField


def validate_date_in_range(value) -> None:
    """Reject a date or date-time outside the range Steward accepts (1970-01-01 to 2200-12-31,
    :mod:`portfolio.date_range`), naming it: far-off dates are typos, and the metrics cannot
    compute with them."""
    problem = date_range_problem(value)
    if problem is not None:
        raise ValidationError(problem, code="date_out_of_range")


def validate_time_zone(value: str) -> None:
    """Reject names that are not IANA time zones (e.g. "Europe/Zurich")."""
    if value not in zoneinfo.available_timezones():
        raise ValidationError(
            f"“{value}” is not a known time zone; use an IANA name such as Europe/Zurich."
        )


class PortfolioQuerySet(models.QuerySet):
    def visible_to(self, user) -> PortfolioQuerySet:
        """Portfolios the user may read: a role in the portfolio, or a current seat in one of its teams."""
        if not user.is_authenticated:
            return self.none()
        if user.is_superuser:
            return self.all()
        # teams builds on portfolio, so its model is imported here rather than at module level
        from teams.models import TeamMembership

        roles = PortfolioMembership.objects.filter(user=user).values("portfolio")
        seats = (
            TeamMembership.objects.current()
            .filter(person=user)
            .values("team__value_stream__portfolio")
        )
        return self.filter(Q(pk__in=roles) | Q(pk__in=seats))

    def editable_by(self, user) -> PortfolioQuerySet:
        """Portfolios whose structure the user may change: Lean PMO staff and administrators."""
        if not user.is_authenticated:
            return self.none()
        if user.is_superuser:
            return self.all()
        return self.filter(
            memberships__user=user, memberships__role=PortfolioMembership.Role.LEAN_PMO
        )


class Portfolio(models.Model):
    """Strategy and investment managed as a product; the top of Portfolio → Value Stream → Team."""

    name = models.CharField(max_length=120, unique=True)
    description = LimitedTextField(blank=True, max_length=LONG_TEXT)
    currency = models.CharField(max_length=3, default="EUR", help_text="ISO 4217 code, e.g. EUR.")
    time_zone = models.CharField(
        max_length=64,
        default="UTC",
        validators=[validate_time_zone],
        help_text="Weekly and monthly figures are bucketed in this time zone.",
    )
    funding_transparency = models.BooleanField(
        default=False, help_text="Team members see money figures when this is on."
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = PortfolioQuerySet.as_manager()

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


@pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent(), pghistory.DeleteEvent())
class PortfolioMembership(models.Model):
    """A person's role in one portfolio. Team members get their access from team seats instead.

    `source` says who grants it: a role set by hand in Steward is never changed or removed by
    single sign-on; one granted by the identity provider's groups is re-applied at every sign-in.
    Every change, by any path, is kept in the audit history (django-pghistory triggers).
    """

    class Role(models.TextChoices):
        EXECUTIVE = "executive", "Executive"
        LEAN_PMO = "lean_pmo", "Lean PMO"

    class Source(models.TextChoices):
        MANUAL = "manual", "Set in Steward"
        SSO = "sso", "Identity provider groups"

    portfolio = models.ForeignKey(Portfolio, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="portfolio_memberships"
    )
    role = models.CharField(max_length=20, choices=Role.choices)
    source = models.CharField(
        max_length=10,
        choices=Source.choices,
        default=Source.MANUAL,
        help_text="Roles from the identity provider are re-applied (or removed) at every sign-in; "
        "set this to “Set in Steward” to keep a role whatever the groups say.",
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["portfolio", "user"], name="one_role_per_portfolio"),
        ]
        ordering = ["portfolio", "role", "user"]

    def __str__(self) -> str:
        return f"{self.user} — {self.get_role_display()} of {self.portfolio}"


class OidcIdentity(models.Model):
    """Who a user is at an OpenID Connect provider: the issuer and the subject it gives them.

    Single sign-on finds people by this pair only, never by e-mail (an address can be reused or
    changed at the provider). An administrator links an existing Steward account to a provider
    identity by adding a row here.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="oidc_identities"
    )
    issuer = models.CharField(
        max_length=255, help_text="The provider's issuer URL (the iss claim)."
    )
    subject = models.CharField(max_length=255, help_text="The person's id at the provider (sub).")
    created_at = models.DateTimeField(auto_now_add=True)
    last_login_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["issuer", "subject"], name="one_user_per_oidc_subject"),
        ]
        ordering = ["issuer", "subject"]
        verbose_name = "OIDC identity"
        verbose_name_plural = "OIDC identities"

    def __str__(self) -> str:
        return f"{self.subject} at {self.issuer}"


class IntegrationTokenQuerySet(models.QuerySet):
    def visible_to(self, user) -> IntegrationTokenQuerySet:
        """Tokens the user may see: those of the portfolios whose Lean PMO they are (or admins)."""
        return self.filter(portfolio__in=Portfolio.objects.editable_by(user))

    def editable_by(self, user) -> IntegrationTokenQuerySet:
        """Tokens the user may issue or revoke: the same as those they may see."""
        return self.visible_to(user)

    def usable_at(self, at) -> IntegrationTokenQuerySet:
        """Tokens neither revoked nor expired at `at`."""
        return self.filter(revoked_at__isnull=True, expires_at__gt=at)


class IntegrationToken(models.Model):
    """A hashed, scoped, expiring credential with which one integration writes to one portfolio.

    The token text is ``stw_<key_id>_<secret>``. Only ``key_id`` (to find the row) and the SHA-256
    digest of the secret are stored: the text is shown once, when the token is issued, and can
    never be recovered. A token reads nothing; its scopes say which endpoints it may call.
    """

    PREFIX = "stw_"

    class Scope(models.TextChoices):
        INGEST = "ingest", "Ingest events (work items, deployments, incidents, changes, imports)"

    portfolio = models.ForeignKey(
        Portfolio, on_delete=models.CASCADE, related_name="integration_tokens"
    )
    name = models.CharField(max_length=80, help_text="What uses it, e.g. “jira” or “ci”.")
    key_id = models.CharField(
        max_length=16, unique=True, help_text="Public part of the token, used to find it."
    )
    secret_hash = models.CharField(
        max_length=64, help_text="SHA-256 hex digest of the token's secret part."
    )
    scopes = ArrayField(
        models.CharField(max_length=20, choices=Scope.choices), default=list, blank=True
    )
    expires_at = models.DateTimeField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    objects = IntegrationTokenQuerySet.as_manager()

    class Meta:
        ordering = ["portfolio", "-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.PREFIX}{self.key_id}…) for {self.portfolio}"


class DataChange(models.Model):
    """One row per committed transaction that wrote to a table the pages read (a trigger on every
    such table adds it; see portfolio.sections). The number of rows and the largest id change
    whenever the data does, which is what page sections are kept by. Pruned hourly."""

    txid = models.BigIntegerField(unique=True)
    at = models.DateTimeField()

    def __str__(self) -> str:
        return f"data change {self.pk} (transaction {self.txid})"


class DataChangeEpoch(models.Model):
    """How many times old data changes were pruned (one row): part of the data version, so that a
    count of data changes is never seen twice for different data."""

    n = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"data change epoch {self.n}"
