"""Strategy and money structure: strategic themes, investment horizons, funding periods, the
money plan a budget and a scenario line share (MoneyPlan), value-stream budgets and actual spend.

Money is always `Decimal` (DecimalField, 2 places) in the portfolio's currency.
"""

from __future__ import annotations

import copy
import functools
from decimal import Decimal
from typing import Self

import pghistory
from django.conf import settings
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q, Value

from leanpmo.models.scoping import PeriodScopedQuerySet, PortfolioScopedQuerySet
from leanpmo.plan_fields import ALLOCATION_FIELD, HORIZON_AMOUNT_FIELD, MONEY_FIELDS, PLAN_FIELDS
from portfolio.fields import LONG_TEXT, LimitedTextField
from portfolio.links import object_url
from portfolio.models import Portfolio, validate_date_in_range
from valuestreams.models import ValueStream

MONEY = {"max_digits": 14, "decimal_places": 2}
NOT_NEGATIVE = [MinValueValidator(Decimal("0"), message="Money cannot be negative.")]
PERCENT = [MinValueValidator(0), MaxValueValidator(100)]


class StrategicTheme(models.Model):
    """A portfolio goal with its objective and measures; budgets split their money over themes."""

    portfolio = models.ForeignKey(Portfolio, on_delete=models.CASCADE, related_name="themes")
    name = models.CharField(max_length=120)
    objective = LimitedTextField(blank=True, max_length=LONG_TEXT)
    measures = LimitedTextField(
        blank=True, max_length=LONG_TEXT, help_text="How progress towards the theme is measured."
    )
    position = models.PositiveSmallIntegerField(default=0)

    objects = PortfolioScopedQuerySet.as_manager()

    class Meta:
        ordering = ["portfolio", "position", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["portfolio", "name"],
                name="theme_name_unique_in_portfolio",
                violation_error_message="This portfolio already has a theme with this name.",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Horizon(models.TextChoices):
    RUN = "run", "Run"
    GROW = "grow", "Grow"
    TRANSFORM = "transform", "Transform"


class InvestmentHorizon(models.Model):
    """One of a portfolio's three money horizons (Run / Grow / Transform), with its local name.

    The classification is fixed (a budget has one amount per horizon), portfolios may rename and
    describe each horizon.
    """

    portfolio = models.ForeignKey(Portfolio, on_delete=models.CASCADE, related_name="horizons")
    code = models.CharField(max_length=10, choices=Horizon.choices)
    name = models.CharField(max_length=60)
    description = LimitedTextField(blank=True, max_length=LONG_TEXT)
    position = models.PositiveSmallIntegerField(default=0)

    objects = PortfolioScopedQuerySet.as_manager()

    class Meta:
        ordering = ["portfolio", "position"]
        constraints = [
            models.UniqueConstraint(fields=["portfolio", "code"], name="horizon_code_unique"),
        ]

    def __str__(self) -> str:
        return self.name


@pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent(), pghistory.DeleteEvent())
class FundingPeriod(models.Model):
    """A quarter or fiscal year of funding: draft → approved → closed; periods never overlap.

    An approved period's money changes only through a recorded decision; a closed period not at all.
    """

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        APPROVED = "approved", "Approved"
        CLOSED = "closed", "Closed"

    portfolio = models.ForeignKey(
        Portfolio, on_delete=models.CASCADE, related_name="funding_periods"
    )
    name = models.CharField(max_length=60, help_text="e.g. 2026 Q3")
    starts_on = models.DateField(validators=[validate_date_in_range])
    ends_on = models.DateField(validators=[validate_date_in_range])
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT)
    approved_at = models.DateTimeField(null=True, blank=True)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    objects = PortfolioScopedQuerySet.as_manager()

    class Meta:
        ordering = ["portfolio", "starts_on"]
        constraints = [
            models.UniqueConstraint(
                fields=["portfolio", "name"],
                name="period_name_unique_in_portfolio",
                violation_error_message="This portfolio already has a period with this name.",
            ),
            models.CheckConstraint(
                condition=Q(ends_on__gte=F("starts_on")),
                name="period_ends_after_start",
                violation_error_message="A period must end on or after its first day.",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def days(self) -> int:
        return (self.ends_on - self.starts_on).days + 1


def _allocation_adds_up_to_100() -> Q:
    """The first share is 100 minus the others: the database's form of “the shares add up to 100”."""
    first, *others = ALLOCATION_FIELD.values()
    return Q((first, functools.reduce(lambda rest, name: rest - F(name), others, Value(100))))


class MoneyPlan(models.Model):
    """One value stream's plan: money per horizon, its fixed-scope part, a target allocation by work
    type and a split over strategic themes, with the rules they obey and an edit `version`.

    The fields, constraints and `clean()` a budget and a scenario line share (the field names are
    listed in leanpmo.plan_fields). `version` grows by one on every change made through the services
    (optimistic concurrency: a write names the version it read). `theme_split` maps theme ids (as
    text) to whole percentages summing to 100, or is empty when the money is not yet assigned to
    themes. `fixed_scope_amount` is the part of the money tied to fixed-scope projects. A concrete
    plan says which period it belongs to (`funding_period`) and has a `value_stream`.
    """

    amount_run = models.DecimalField("Run", **MONEY, default=Decimal(0), validators=NOT_NEGATIVE)
    amount_grow = models.DecimalField("Grow", **MONEY, default=Decimal(0), validators=NOT_NEGATIVE)
    amount_transform = models.DecimalField(
        "Transform", **MONEY, default=Decimal(0), validators=NOT_NEGATIVE
    )
    fixed_scope_amount = models.DecimalField(
        "fixed-scope money",
        **MONEY,
        default=Decimal(0),
        validators=NOT_NEGATIVE,
        help_text="Part of the money tied to fixed-scope projects.",
    )
    alloc_feature = models.PositiveSmallIntegerField("Feature %", default=70, validators=PERCENT)
    alloc_defect = models.PositiveSmallIntegerField("Defect %", default=10, validators=PERCENT)
    alloc_risk = models.PositiveSmallIntegerField("Risk %", default=10, validators=PERCENT)
    alloc_debt = models.PositiveSmallIntegerField("Debt %", default=10, validators=PERCENT)
    theme_split = models.JSONField(default=dict, blank=True)
    version = models.PositiveIntegerField(default=1)

    value_stream: models.ForeignKey
    value_stream_id: int | None
    # the fields a person gave new values (see with_values): clean() puts its errors there
    typed_fields: frozenset[str] = frozenset()

    class Meta:
        abstract = True
        constraints = [
            models.CheckConstraint(
                condition=Q(*((f"{name}__gte", 0) for name in MONEY_FIELDS)),
                name="%(class)s_money_not_negative",
                violation_error_message="Money cannot be negative.",
            ),
            models.CheckConstraint(
                condition=_allocation_adds_up_to_100(),
                name="%(class)s_allocation_sums_to_100",
                violation_error_message="The allocation by work type must add up to 100 %.",
            ),
        ]

    @property
    def funding_period(self) -> FundingPeriod | None:
        """The period whose plan this is (None while unset)."""
        raise NotImplementedError

    @property
    def total(self) -> Decimal:
        return sum((getattr(self, name) for name in HORIZON_AMOUNT_FIELD.values()), Decimal(0))

    def with_values(self, values: dict) -> Self:
        """An unsaved copy carrying `values` (field → value): the plan as typed, to check or save.

        The copy remembers the fields given (`typed_fields`), so that what `clean()` finds wrong
        with several fields together (an allocation that does not add up) lands on those typed.
        """
        twin = copy.copy(self)
        for name, value in values.items():
            setattr(twin, name, value)
        twin.typed_fields = frozenset(values)
        return twin

    def changed_values(self, changes: dict) -> dict:
        """The part of `changes` (field → value) that differs from this plan's values."""
        return {name: value for name, value in changes.items() if getattr(self, name) != value}

    def clean(self) -> None:
        """The plan's rules, each error on the field it concerns: the allocation adds up to 100 %
        (the error on the allocation fields typed, else on the whole row), fixed-scope money fits
        in the total, the theme split names the portfolio's themes and adds up to 100 %, and the
        value stream belongs to the period's portfolio."""
        errors: dict[str, str] = {}
        allocation = sum(getattr(self, field) or 0 for field in ALLOCATION_FIELD.values())
        if allocation != 100:
            typed = [name for name in ALLOCATION_FIELD.values() if name in self.typed_fields]
            for name in typed or [NON_FIELD_ERRORS]:
                errors[name] = (
                    "The allocation by work type must add up to 100 % "
                    f"(it adds up to {allocation} %)."
                )
        amounts = [getattr(self, field) for field in HORIZON_AMOUNT_FIELD.values()]
        fixed = self.fixed_scope_amount
        if None not in amounts and fixed is not None and fixed > sum(amounts):
            errors["fixed_scope_amount"] = (
                "Fixed-scope money cannot exceed the value stream's total budget."
            )
        period = self.funding_period
        if self.theme_split:
            errors.update(self._theme_split_errors(period))
        linked = period is not None and self.value_stream_id
        if linked and self.value_stream.portfolio_id != period.portfolio_id:
            errors["value_stream"] = "This value stream belongs to another portfolio."
        if errors:
            raise ValidationError(errors)

    def _theme_split_errors(self, period: FundingPeriod | None) -> dict[str, str]:
        if not isinstance(self.theme_split, dict):
            return {"theme_split": "The theme split must map themes to percentages."}
        themes = set(
            StrategicTheme.objects.filter(
                portfolio_id=period.portfolio_id if period else None
            ).values_list("pk", flat=True)
        )
        for key, share in self.theme_split.items():
            if not str(key).isdigit() or int(key) not in themes:
                return {"theme_split": f"“{key}” is not a strategic theme of this portfolio."}
            if not isinstance(share, int) or not 0 <= share <= 100:
                return {"theme_split": "Theme shares must be whole percentages from 0 to 100."}
        if sum(self.theme_split.values()) != 100:
            return {"theme_split": "The theme split must add up to 100 %."}
        return {}


@pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent(), pghistory.DeleteEvent())
class ValueStreamBudget(MoneyPlan):
    """Money for one value stream in one period, split by horizon and theme, with a target allocation
    (the plan's fields and rules: MoneyPlan), audited, with free-text notes."""

    EDITABLE_FIELDS = (*PLAN_FIELDS, "notes")

    period = models.ForeignKey(FundingPeriod, on_delete=models.CASCADE, related_name="budgets")
    value_stream = models.ForeignKey(ValueStream, on_delete=models.PROTECT, related_name="budgets")
    notes = LimitedTextField(blank=True, max_length=LONG_TEXT)
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    objects = PeriodScopedQuerySet.as_manager()

    class Meta(MoneyPlan.Meta):
        ordering = ["period", "value_stream__name"]
        constraints = [
            *MoneyPlan.Meta.constraints,
            models.UniqueConstraint(
                fields=["period", "value_stream"],
                name="one_budget_per_stream_and_period",
                violation_error_message="This value stream already has a budget in this period.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.value_stream} in {self.period}"

    def get_absolute_url(self) -> str:
        return object_url("budget-detail", self.pk)  # one per row of the funding grid

    @property
    def funding_period(self) -> FundingPeriod | None:
        return self.period if self.period_id else None


class ActualSpend(models.Model):
    """Money actually spent by a value stream in a period (imported from finance)."""

    period = models.ForeignKey(FundingPeriod, on_delete=models.CASCADE, related_name="actuals")
    value_stream = models.ForeignKey(ValueStream, on_delete=models.PROTECT, related_name="actuals")
    amount = models.DecimalField(**MONEY, validators=NOT_NEGATIVE)
    source = models.CharField(max_length=60, default="finance import")
    imported_at = models.DateTimeField(auto_now=True)

    objects = PeriodScopedQuerySet.as_manager()

    class Meta:
        ordering = ["period", "value_stream__name"]
        constraints = [
            models.UniqueConstraint(
                fields=["period", "value_stream"], name="one_actual_per_stream_and_period"
            ),
            models.CheckConstraint(condition=Q(amount__gte=0), name="actual_not_negative"),
        ]

    def __str__(self) -> str:
        return f"actual of {self.value_stream} in {self.period}"
