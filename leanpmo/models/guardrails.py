"""Guardrails: a portfolio's rules on money and work."""

from __future__ import annotations

from decimal import Decimal

import pghistory
from django.core.exceptions import ValidationError
from django.db import models

from leanpmo.models.funding import PERCENT, Horizon
from leanpmo.models.scoping import PortfolioScopedQuerySet
from portfolio.models import Portfolio
from valuestreams.models import FlowItemType


@pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent(), pghistory.DeleteEvent())
class Guardrail(models.Model):
    """A portfolio rule on money or work, checked wherever money is edited and on the executive page.

    Kinds and their parameters:
    - horizon_share: a horizon's share of the period's total money within [min_percent, max_percent];
    - max_budget_change: a value stream's budget changes by at most max_percent against the previous
      period without an exception decision;
    - min_allocation: each budget allocates at least min_percent to `item_type` (Debt or Risk);
    - max_fixed_scope_share: at most max_percent of the period's money is tied to fixed-scope projects;
    - max_strategic_wip: at most max_count strategic initiatives are implementing at once (a move
      that would exceed it is refused unless an executive approved an exception).
    """

    class Kind(models.TextChoices):
        HORIZON_SHARE = "horizon_share", "Horizon share of total"
        MAX_BUDGET_CHANGE = "max_budget_change", "Max change of a budget between periods"
        MIN_ALLOCATION = "min_allocation", "Min allocation to a work type"
        MAX_FIXED_SCOPE_SHARE = "max_fixed_scope_share", "Max share of fixed-scope money"
        MAX_STRATEGIC_WIP = "max_strategic_wip", "Max strategic initiatives in progress"

    portfolio = models.ForeignKey(Portfolio, on_delete=models.CASCADE, related_name="guardrails")
    kind = models.CharField(max_length=24, choices=Kind.choices)
    horizon = models.CharField(max_length=10, choices=Horizon.choices, blank=True)
    item_type = models.CharField(max_length=10, choices=FlowItemType.choices, blank=True)
    min_percent = models.DecimalField(
        max_digits=5, decimal_places=2, null=True, blank=True, validators=PERCENT
    )
    max_percent = models.DecimalField(
        max_digits=5, decimal_places=2, null=True, blank=True, validators=PERCENT
    )
    max_count = models.PositiveSmallIntegerField(
        null=True,
        blank=True,
        help_text="For the strategic WIP cap: how many strategic initiatives may be in progress.",
    )
    active = models.BooleanField(default=True)

    objects = PortfolioScopedQuerySet.as_manager()

    class Meta:
        ordering = ["portfolio", "kind", "horizon", "item_type"]
        constraints = [
            models.UniqueConstraint(
                fields=["portfolio", "kind", "horizon", "item_type"],
                name="one_guardrail_per_rule",
                violation_error_message="This portfolio already has this guardrail.",
            ),
        ]

    def __str__(self) -> str:
        return self.describe()

    def describe(self) -> str:
        """The rule in a sentence, e.g. “Run between 50 % and 70 % of the money”."""
        lo, hi = _pct(self.min_percent, "0"), _pct(self.max_percent, "100")
        match self.kind:
            case self.Kind.HORIZON_SHARE:
                name = Horizon(self.horizon).label if self.horizon else "?"
                return f"{name} between {lo} % and {hi} % of the money"
            case self.Kind.MAX_BUDGET_CHANGE:
                return f"A budget changes by at most {hi} % between periods"
            case self.Kind.MIN_ALLOCATION:
                return f"At least {lo} % of capacity for {self.item_type or '?'}"
            case self.Kind.MAX_STRATEGIC_WIP:
                count = "?" if self.max_count is None else self.max_count
                plural = "" if count == 1 else "s"
                return f"At most {count} strategic initiative{plural} in progress"
            case _:
                return f"At most {hi} % of the money in fixed-scope projects"

    def clean(self) -> None:
        needs = {
            self.Kind.HORIZON_SHARE: ("horizon",),
            self.Kind.MIN_ALLOCATION: ("item_type", "min_percent"),
            self.Kind.MAX_BUDGET_CHANGE: ("max_percent",),
            self.Kind.MAX_FIXED_SCOPE_SHARE: ("max_percent",),
            self.Kind.MAX_STRATEGIC_WIP: ("max_count",),
        }
        errors = {
            field: "This guardrail needs a value here."
            for field in needs.get(self.kind, ())
            if getattr(self, field) in (None, "")
        }
        if self.kind == self.Kind.HORIZON_SHARE and self.min_percent is None is self.max_percent:
            errors["min_percent"] = "Give a minimum, a maximum or both."
        if (
            self.min_percent is not None
            and self.max_percent is not None
            and self.min_percent > self.max_percent
        ):
            errors["max_percent"] = "The maximum must not be below the minimum."
        if errors:
            raise ValidationError(errors)


def _pct(value: Decimal | None, default: str) -> str:
    """A percentage without trailing zeros: 10.00 → "10", 12.50 → "12.5"."""
    return format(Decimal(value if value is not None else default).normalize(), "f")
