"""Portfolios and who holds which role in them.

Access is decided here once: `Portfolio.objects.visible_to(user)` and `.editable_by(user)` are the
rules every page and API endpoint (and the value-stream and team rules, which build on them) use.
"""

from __future__ import annotations

import zoneinfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q


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
    description = models.TextField(blank=True)
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


class PortfolioMembership(models.Model):
    """A person's role in one portfolio. Team members get their access from team seats instead."""

    class Role(models.TextChoices):
        EXECUTIVE = "executive", "Executive"
        LEAN_PMO = "lean_pmo", "Lean PMO"

    portfolio = models.ForeignKey(Portfolio, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="portfolio_memberships"
    )
    role = models.CharField(max_length=20, choices=Role.choices)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["portfolio", "user"], name="one_role_per_portfolio"),
        ]
        ordering = ["portfolio", "role", "user"]

    def __str__(self) -> str:
        return f"{self.user} — {self.get_role_display()} of {self.portfolio}"
