"""Value streams: long-lived flows of value for a customer or business outcome, owned across
their teams, with the queryset that scopes them to what a user may read or change."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from portfolio.fields import LONG_TEXT, LimitedTextField
from portfolio.models import Portfolio


class ValueStreamQuerySet(models.QuerySet):
    def visible_to(self, user) -> ValueStreamQuerySet:
        """Value streams of the portfolios the user may read."""
        return self.filter(portfolio__in=Portfolio.objects.visible_to(user))

    def editable_by(self, user) -> ValueStreamQuerySet:
        """Value streams of the portfolios whose structure the user may change."""
        return self.filter(portfolio__in=Portfolio.objects.editable_by(user))


class ValueStream(models.Model):
    """A long-lived flow of value for a customer or business outcome, owned across its teams."""

    portfolio = models.ForeignKey(Portfolio, on_delete=models.PROTECT, related_name="value_streams")
    name = models.CharField(max_length=120)
    customer = models.CharField(
        max_length=200, blank=True, help_text="The customer or journey this value stream serves."
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="owned_value_streams",
    )
    description = LimitedTextField(blank=True, max_length=LONG_TEXT)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ValueStreamQuerySet.as_manager()

    class Meta:
        ordering = ["portfolio", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["portfolio", "name"],
                name="value_stream_name_unique_in_portfolio",
                violation_error_message="This portfolio already has a value stream with this name.",
            ),
        ]

    def __str__(self) -> str:
        return self.name
