"""Lean PMO records: strategy and money structure, guardrails, funding decisions and their reviews.

Money is always `Decimal` (DecimalField, 2 places) in the portfolio's currency. Access is decided once
per model: `visible_to(user)` narrows to portfolios whose *money* the user may see (executives, Lean PMO,
administrators, and team members of portfolios with funding transparency); `editable_by(user)` narrows to
portfolios the user runs as Lean PMO (or administrators).
"""

from __future__ import annotations

import copy
import datetime as dt
import functools
from decimal import Decimal
from typing import Self

import pghistory
import pgtrigger
from django.conf import settings
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q, Value
from django.urls import reverse

from leanpmo import detectors, initiative_metrics
from leanpmo.plan_fields import ALLOCATION_FIELD, HORIZON_AMOUNT_FIELD, MONEY_FIELDS, PLAN_FIELDS
from portfolio.fields import LONG_TEXT, LimitedTextField
from portfolio.models import Portfolio, PortfolioMembership, validate_date_in_range
from valuestreams.models import FlowItemType, ValueStream

MONEY = {"max_digits": 14, "decimal_places": 2}
NOT_NEGATIVE = [MinValueValidator(Decimal("0"), message="Money cannot be negative.")]
PERCENT = [MinValueValidator(0), MaxValueValidator(100)]


def money_portfolios(user) -> models.QuerySet[Portfolio]:
    """Portfolios whose money `user` may see (the queryset form of portfolio.access.can_see_money)."""
    visible = Portfolio.objects.visible_to(user)
    if not user.is_authenticated or user.is_superuser:
        return visible
    roles = PortfolioMembership.objects.filter(user=user).values("portfolio")
    return visible.filter(Q(pk__in=roles) | Q(funding_transparency=True))


class PortfolioScopedQuerySet(models.QuerySet):
    """`visible_to` / `editable_by` for rows reached from a portfolio through `portfolio_path`."""

    portfolio_path = "portfolio"

    def visible_to(self, user):
        """Rows of portfolios whose money the user may see."""
        return self.filter(**{f"{self.portfolio_path}__in": money_portfolios(user)})

    def readable_portfolio(self, user):
        """Rows of portfolios the user may read at all (money or not): 403 rather than 404 for them."""
        return self.filter(**{f"{self.portfolio_path}__in": Portfolio.objects.visible_to(user)})

    def editable_by(self, user):
        """Rows of portfolios the user runs as Lean PMO (or every portfolio for administrators)."""
        return self.filter(**{f"{self.portfolio_path}__in": Portfolio.objects.editable_by(user)})


class PeriodScopedQuerySet(PortfolioScopedQuerySet):
    portfolio_path = "period__portfolio"


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
        return reverse("budget-detail", args=[self.pk])

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


class DecisionKind(models.TextChoices):
    START = "start", "Start"
    INCREASE = "increase", "Increase"
    CONTINUE = "continue", "Continue"
    DECREASE = "decrease", "Decrease"
    STOP = "stop", "Stop"
    EXCEPTION = "exception", "Exception"


class FundingDecisionQuerySet(PortfolioScopedQuerySet):
    def current(self):
        """Decisions not superseded by a later correction."""
        return self.filter(superseded_by__isnull=True)


@pghistory.track(pghistory.InsertEvent())
class FundingDecision(models.Model):
    """A funding decision with its evidence; append-only (a database trigger refuses updates/deletes).

    A decision is about a value stream (its money) or an initiative (starting or stopping a bet, or
    an exception to the strategic WIP cap); at least one of the two is set. `evidence` is the frozen
    snapshot of the value stream's latest flow and DORA figures and the latest recompute's caveats
    (for an initiative: its WSJF, hypothesis, linked key results and its value streams' figures),
    taken when the decision was recorded. An exception decision carries
    the budget change it asks for in `proposal` (field → new value, as text) and `base_version`;
    the change is applied when an executive approves it. A correction is a new decision whose
    `supersedes` names the one it corrects.
    """

    portfolio = models.ForeignKey(
        Portfolio, on_delete=models.CASCADE, related_name="funding_decisions"
    )
    period = models.ForeignKey(FundingPeriod, on_delete=models.PROTECT, related_name="decisions")
    value_stream = models.ForeignKey(
        ValueStream,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="funding_decisions",
    )
    initiative = models.ForeignKey(
        "Initiative",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="decisions",
    )
    kind = models.CharField(max_length=10, choices=DecisionKind.choices)
    amount_before = models.DecimalField(**MONEY, validators=NOT_NEGATIVE)
    amount_after = models.DecimalField(**MONEY, validators=NOT_NEGATIVE)
    rationale = LimitedTextField(max_length=LONG_TEXT)
    options_considered = LimitedTextField(blank=True, max_length=LONG_TEXT)
    expected_outcome = LimitedTextField(max_length=LONG_TEXT)
    leading_indicators = LimitedTextField(blank=True, max_length=LONG_TEXT)
    evidence = models.JSONField(default=dict, blank=True)
    proposal = models.JSONField(default=dict, blank=True)
    base_version = models.PositiveIntegerField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField()
    review_due_on = models.DateField(validators=[validate_date_in_range])
    supersedes = models.OneToOneField(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="superseded_by",
    )

    objects = FundingDecisionQuerySet.as_manager()

    class Meta:
        ordering = ["-decided_at", "-pk"]
        indexes = [models.Index(fields=["portfolio", "review_due_on"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(value_stream__isnull=False) | Q(initiative__isnull=False),
                name="decision_names_stream_or_initiative",
                violation_error_message="A decision is about a value stream or an initiative.",
            ),
        ]
        triggers = [
            pgtrigger.Protect(
                name="funding_decision_append_only",
                operation=pgtrigger.Update | pgtrigger.Delete,
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.subject} ({self.decided_at:%Y-%m-%d})"

    @property
    def subject(self) -> str:
        """What the decision is about: the value stream's name, or the initiative's title."""
        if self.value_stream_id:
            return self.value_stream.name
        return self.initiative.title if self.initiative_id else ""

    @property
    def has_evidence_snapshot(self) -> bool:
        """Figures were frozen with the decision: flow or DORA of a value stream (or of an
        initiative's value streams), or an initiative's key results."""
        streams = self.evidence.get("value_streams") or {}
        figures = [self.evidence, *streams.values()]
        return any(f.get("flow") or f.get("dora") for f in figures) or bool(
            self.evidence.get("key_results")
        )

    @property
    def has_evidence(self) -> bool:
        """Figures were frozen and the expected outcome is said."""
        return self.has_evidence_snapshot and bool(self.expected_outcome.strip())

    @property
    def change(self) -> Decimal:
        return self.amount_after - self.amount_before

    @property
    def change_percent(self) -> Decimal | None:
        """The change against the money before, in percent (None when there was none before)."""
        if not self.amount_before:
            return None
        return self.change * 100 / self.amount_before


class DecisionScopedQuerySet(PortfolioScopedQuerySet):
    portfolio_path = "decision__portfolio"


class ExceptionApproval(models.Model):
    """An executive's answer to an exception decision: approved (change applied) or rejected."""

    decision = models.OneToOneField(
        FundingDecision, on_delete=models.PROTECT, related_name="approval"
    )
    approved = models.BooleanField()
    note = LimitedTextField(blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField()

    objects = DecisionScopedQuerySet.as_manager()

    class Meta:
        ordering = ["-decided_at"]
        triggers = [
            pgtrigger.Protect(
                name="exception_approval_append_only",
                operation=pgtrigger.Update | pgtrigger.Delete,
            ),
        ]

    def __str__(self) -> str:
        return f"{'approved' if self.approved else 'rejected'}: {self.decision}"


class ReviewOutcome(models.TextChoices):
    HELD = "held", "Held"
    PARTLY = "partly", "Partly held"
    DID_NOT_HOLD = "did_not_hold", "Did not hold"
    TOO_EARLY = "too_early", "Too early to tell"


class DecisionReview(models.Model):
    """Whether a decision's expected outcome held, with the figures at review time (append-only)."""

    decision = models.ForeignKey(FundingDecision, on_delete=models.PROTECT, related_name="reviews")
    outcome = models.CharField(max_length=14, choices=ReviewOutcome.choices)
    notes = LimitedTextField(blank=True, max_length=LONG_TEXT)
    figures = models.JSONField(default=dict, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    reviewed_at = models.DateTimeField()

    objects = DecisionScopedQuerySet.as_manager()

    class Meta:
        ordering = ["decision", "reviewed_at"]
        triggers = [
            pgtrigger.Protect(
                name="decision_review_append_only",
                operation=pgtrigger.Update | pgtrigger.Delete,
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_outcome_display()}: {self.decision}"


def scenario_portfolios(user) -> models.QuerySet[Portfolio]:
    """Portfolios whose scenarios `user` may read: executives, Lean PMO and administrators only.

    Scenarios are drafts of the Lean PMO; team members never see them, funding transparency or not.
    """
    visible = Portfolio.objects.visible_to(user)
    if not user.is_authenticated or user.is_superuser:
        return visible
    return visible.filter(pk__in=PortfolioMembership.objects.filter(user=user).values("portfolio"))


class ScenarioQuerySet(PeriodScopedQuerySet):
    def visible_to(self, user):
        """Scenarios of portfolios where the user is executive or Lean PMO (or every one for admins)."""
        return self.filter(**{f"{self.portfolio_path}__in": scenario_portfolios(user)})


class ScenarioLineQuerySet(ScenarioQuerySet):
    portfolio_path = "scenario__period__portfolio"


class Scenario(models.Model):
    """A named what-if: a draft reallocation of one funding period's plan, never touching its budgets.

    Its lines copy every budget of the period when it is created (with what they copied, to tell
    when the plan moved on). Promoting it records one funding decision per changed value stream
    through the budget change path; `decisions` then links them and the scenario is read-only.
    """

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        PROMOTED = "promoted", "Promoted"

    period = models.ForeignKey(FundingPeriod, on_delete=models.CASCADE, related_name="scenarios")
    name = models.CharField(max_length=120)
    description = LimitedTextField(blank=True, max_length=LONG_TEXT)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField()
    promoted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    promoted_at = models.DateTimeField(null=True, blank=True)
    decisions = models.ManyToManyField(FundingDecision, blank=True, related_name="scenarios")

    objects = ScenarioQuerySet.as_manager()

    class Meta:
        ordering = ["period", "-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["period", "name"],
                name="scenario_name_unique_in_period",
                violation_error_message="This period already has a scenario with this name.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.period})"

    @property
    def is_draft(self) -> bool:
        return self.status == self.Status.DRAFT


class ScenarioLine(MoneyPlan):
    """One value stream's money and allocation in a scenario (MoneyPlan: the same fields and rules as
    a budget).

    `base` holds the budget's values when they were copied (field → value as text) and
    `base_version` its version: promotion writes with that version, so a plan that moved on since
    refuses the promotion instead of being overwritten. `version` grows with every edit of the line.
    """

    EDITABLE_FIELDS = PLAN_FIELDS

    scenario = models.ForeignKey(Scenario, on_delete=models.CASCADE, related_name="lines")
    value_stream = models.ForeignKey(ValueStream, on_delete=models.PROTECT, related_name="+")
    base = models.JSONField(default=dict, blank=True)
    base_version = models.PositiveIntegerField()

    objects = ScenarioLineQuerySet.as_manager()

    class Meta(MoneyPlan.Meta):
        ordering = ["scenario", "value_stream__name"]
        constraints = [
            *MoneyPlan.Meta.constraints,
            models.UniqueConstraint(
                fields=["scenario", "value_stream"], name="one_line_per_stream_and_scenario"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.value_stream} in {self.scenario}"

    @property
    def funding_period(self) -> FundingPeriod | None:
        return self.scenario.period if self.scenario_id else None


# --- initiatives: the portfolio's bets on a kanban ---------------------------------------------


class InitiativeState(models.TextChoices):
    FUNNEL = "funnel", "Funnel"
    REVIEWING = "reviewing", "Reviewing"
    ANALYSING = "analysing", "Analysing"
    READY = "ready", "Ready"
    IMPLEMENTING = "implementing", "Implementing"
    DONE = "done", "Done"
    STOPPED = "stopped", "Stopped"


class WorkShape(models.TextChoices):
    TEAM_MISSION = "team_mission", "Team mission"
    PRODUCT_GROUP = "product_group", "Product group"
    STRATEGIC = "strategic_initiative", "Strategic initiative"


class FundingMode(models.TextChoices):
    CAPACITY = "capacity", "Capacity"
    FIXED_SCOPE = "fixed_scope", "Fixed-scope project"


WSJF_SCALE = [
    MinValueValidator(1, message="Use 1 or more (a relative scale, e.g. 1, 2, 3, 5, 8, 13, 20)."),
    MaxValueValidator(100, message="Use at most 100."),
]
WSJF_FIELDS = ("user_business_value", "time_criticality", "risk_reduction", "job_size")


class InitiativeQuerySet(models.QuerySet):
    """Initiatives are read by everyone in the portfolio and changed by its Lean PMO."""

    def visible_to(self, user) -> InitiativeQuerySet:
        """Initiatives of the portfolios the user may read (money or not)."""
        return self.filter(portfolio__in=Portfolio.objects.visible_to(user))

    def editable_by(self, user) -> InitiativeQuerySet:
        """Initiatives of the portfolios the user runs as Lean PMO (every one for administrators)."""
        return self.filter(portfolio__in=Portfolio.objects.editable_by(user))

    def with_shape(self) -> InitiativeQuerySet:
        """Annotate `team_count`, `stream_count` and `shape` (the work shape that follows from the
        linked teams, None without teams) — the database form of initiative_metrics.work_shape."""
        return self.annotate(
            team_count=models.Count("teams", distinct=True),
            stream_count=models.Count("teams__value_stream", distinct=True),
        ).annotate(
            shape=models.Case(
                models.When(team_count=0, then=models.Value(None)),
                models.When(team_count=1, then=models.Value(WorkShape.TEAM_MISSION)),
                models.When(stream_count=1, then=models.Value(WorkShape.PRODUCT_GROUP)),
                default=models.Value(WorkShape.STRATEGIC),
                output_field=models.CharField(),
            )
        )


@pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent())
class Initiative(models.Model):
    """A bet (epic) of a portfolio on its kanban: funnel → reviewing → analysing → ready →
    implementing → done, or stopped at any point.

    `state` and `state_changed_at` mirror the newest of its append-only transitions (written only by
    the move service, in the same transaction). The work shape is not stored: it follows from the
    linked teams (`work_shape`, or `InitiativeQuerySet.with_shape` in SQL). A fixed-scope project
    has an end date and a scope budget; capacity funding has no scope budget. WSJF inputs are whole
    numbers on a relative scale (1–100); the score is computed, never stored. Every change of a
    field (WSJF inputs included) is kept by django-pghistory with who made it.
    """

    portfolio = models.ForeignKey(Portfolio, on_delete=models.CASCADE, related_name="initiatives")
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="owned_initiatives",
    )
    state = models.CharField(
        max_length=12, choices=InitiativeState.choices, default=InitiativeState.FUNNEL
    )
    state_changed_at = models.DateTimeField()
    hypothesis_belief = models.TextField(
        "we believe …", blank=True, help_text="e.g. that customers who can pay in one tap …"
    )
    hypothesis_outcome = models.TextField(
        "will result in …", blank=True, help_text="e.g. more first payments within a week."
    )
    hypothesis_measure = models.TextField(
        "measured by …", blank=True, help_text="The leading indicators, e.g. activation rate."
    )
    leading_indicators = models.ManyToManyField(
        "teams.KeyResult", blank=True, related_name="initiatives"
    )
    mvp = models.TextField("MVP", blank=True, help_text="The smallest thing that tests the bet.")
    in_scope = models.TextField("in scope", blank=True)
    out_of_scope = models.TextField("out of scope", blank=True)
    cost_estimate = models.DecimalField(
        "cost estimate", **MONEY, null=True, blank=True, validators=NOT_NEGATIVE
    )
    sponsors = models.TextField(blank=True)
    alternatives = models.TextField("alternatives considered", blank=True)
    themes = models.ManyToManyField(StrategicTheme, blank=True, related_name="initiatives")
    value_streams = models.ManyToManyField(ValueStream, blank=True, related_name="initiatives")
    teams = models.ManyToManyField("teams.ProductTeam", blank=True, related_name="initiatives")
    funding_mode = models.CharField(
        max_length=12, choices=FundingMode.choices, default=FundingMode.CAPACITY
    )
    end_date = models.DateField(
        "end date", null=True, blank=True, validators=[validate_date_in_range]
    )
    scope_budget = models.DecimalField(
        "scope budget", **MONEY, null=True, blank=True, validators=NOT_NEGATIVE
    )
    user_business_value = models.PositiveSmallIntegerField(
        "user-business value", null=True, blank=True, validators=WSJF_SCALE
    )
    time_criticality = models.PositiveSmallIntegerField(
        "time criticality", null=True, blank=True, validators=WSJF_SCALE
    )
    risk_reduction = models.PositiveSmallIntegerField(
        "risk reduction / opportunity enablement", null=True, blank=True, validators=WSJF_SCALE
    )
    job_size = models.PositiveSmallIntegerField(
        "job size", null=True, blank=True, validators=WSJF_SCALE
    )
    created_at = models.DateTimeField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    objects = InitiativeQuerySet.as_manager()

    class Meta:
        ordering = ["portfolio", "title"]
        indexes = [models.Index(fields=["portfolio", "state"])]
        constraints = [
            models.UniqueConstraint(
                fields=["portfolio", "title"],
                name="initiative_title_unique_in_portfolio",
                violation_error_message="This portfolio already has an initiative with this title.",
            ),
            models.CheckConstraint(
                condition=Q(funding_mode="capacity", scope_budget__isnull=True)
                | Q(funding_mode="fixed_scope", end_date__isnull=False, scope_budget__isnull=False),
                name="initiative_fixed_scope_has_end_and_budget",
                violation_error_message="A fixed-scope project needs an end date and a scope "
                "budget; capacity funding has no scope budget.",
            ),
            models.CheckConstraint(
                condition=Q(cost_estimate__isnull=True) | Q(cost_estimate__gte=0),
                name="initiative_cost_not_negative",
                violation_error_message="Money cannot be negative.",
            ),
            models.CheckConstraint(
                condition=Q(scope_budget__isnull=True) | Q(scope_budget__gte=0),
                name="initiative_scope_budget_not_negative",
                violation_error_message="Money cannot be negative.",
            ),
            *[
                models.CheckConstraint(
                    condition=Q(**{f"{name}__isnull": True})
                    | Q(**{f"{name}__gte": 1, f"{name}__lte": 100}),
                    name=f"initiative_{name}_1_to_100",
                )
                for name in WSJF_FIELDS
            ],
        ]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("initiative-detail", args=[self.pk])

    @property
    def work_shape(self) -> str | None:
        """The shape that follows from the linked teams (uses prefetched teams when there are)."""
        return initiative_metrics.work_shape(team.value_stream_id for team in self.teams.all())

    @property
    def work_shape_label(self) -> str:
        shape = self.work_shape
        return WorkShape(shape).label if shape else "No team yet"

    @property
    def wsjf(self) -> initiative_metrics.Wsjf:
        """WSJF with its inputs (no score without a job size)."""
        return initiative_metrics.wsjf(*(getattr(self, name) for name in WSJF_FIELDS))

    @property
    def is_fixed_scope(self) -> bool:
        return self.funding_mode == FundingMode.FIXED_SCOPE

    @property
    def money(self) -> Decimal:
        """The money a start commits: the scope budget of a fixed-scope project, else the cost
        estimate (0 when there is none)."""
        if self.is_fixed_scope and self.scope_budget is not None:
            return self.scope_budget
        return self.cost_estimate or Decimal(0)

    def clean(self) -> None:
        errors: dict[str, str] = {}
        if self.funding_mode == FundingMode.FIXED_SCOPE:
            if self.end_date is None:
                errors["end_date"] = "A fixed-scope project needs its end date."
            if self.scope_budget is None:
                errors["scope_budget"] = "A fixed-scope project needs its scope budget."
        elif self.scope_budget is not None:
            errors["scope_budget"] = (
                "Capacity funding has no scope budget; choose fixed-scope project to give one."
            )
        if errors:
            raise ValidationError(errors)


class InitiativeTransitionQuerySet(models.QuerySet):
    def visible_to(self, user) -> InitiativeTransitionQuerySet:
        return self.filter(initiative__portfolio__in=Portfolio.objects.visible_to(user))

    def editable_by(self, user) -> InitiativeTransitionQuerySet:
        return self.filter(initiative__portfolio__in=Portfolio.objects.editable_by(user))


class InitiativeTransition(models.Model):
    """One move of an initiative on the kanban: who, when, from, to and why. Append-only (a database
    trigger refuses updates and deletes); the first one of an initiative (from "") is its creation.

    `decision` is the funding decision the move was recorded with: a start (→ implementing) or a
    stop, or the executive-approved exception that let it pass the strategic WIP cap.
    """

    initiative = models.ForeignKey(Initiative, on_delete=models.PROTECT, related_name="transitions")
    from_state = models.CharField(max_length=12, choices=InitiativeState.choices, blank=True)
    to_state = models.CharField(max_length=12, choices=InitiativeState.choices)
    reason = models.TextField()
    moved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    moved_at = models.DateTimeField()
    decision = models.ForeignKey(
        FundingDecision,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="initiative_transitions",
    )

    objects = InitiativeTransitionQuerySet.as_manager()

    class Meta:
        ordering = ["initiative", "moved_at", "pk"]
        indexes = [models.Index(fields=["initiative", "moved_at"])]
        triggers = [
            pgtrigger.Protect(
                name="initiative_transition_append_only",
                operation=pgtrigger.Update | pgtrigger.Delete,
            ),
        ]

    def __str__(self) -> str:
        return f"{self.initiative}: {self.from_state or 'new'} → {self.to_state}"


# --- Signals: what the steward finds (SPEC §6) -------------------------------------------------
# Detectors are pure functions in leanpmo/detectors/; these models keep what they found, the
# acknowledgements, the per-portfolio thresholds and the evaluation bookkeeping.

SignalDetector = models.TextChoices(
    "SignalDetector", [(info.code.upper(), (info.code, info.label)) for info in detectors.DETECTORS]
)


class SignalSeverity(models.IntegerChoices):
    LOW = detectors.LOW, "Low"
    MEDIUM = detectors.MEDIUM, "Medium"
    HIGH = detectors.HIGH, "High"


class SignalQuerySet(models.QuerySet):
    """Signals are read by everyone in their portfolio (money is left out of what members see) and
    acknowledged by its Lean PMO."""

    def visible_to(self, user) -> SignalQuerySet:
        """Signals of the portfolios the user may read."""
        return self.filter(portfolio__in=Portfolio.objects.visible_to(user))

    def editable_by(self, user) -> SignalQuerySet:
        """Signals the user may acknowledge: Lean PMO of the portfolio, administrators."""
        return self.filter(portfolio__in=Portfolio.objects.editable_by(user))

    def with_acknowledgement(self, now) -> SignalQuerySet:
        """Annotate `acknowledged_until` (None unless an acknowledgement of the same detector and
        objects holds at `now` for this severity or a worse one) and `acknowledged_reason`."""
        holding = SignalAcknowledgement.objects.filter(
            portfolio=models.OuterRef("portfolio"),
            detector=models.OuterRef("detector"),
            key=models.OuterRef("key"),
            expires_at__gt=now,
            severity__gte=models.OuterRef("severity"),
        )
        return self.annotate(
            acknowledged_until=models.Subquery(holding.values("expires_at")[:1]),
            acknowledged_reason=models.Subquery(holding.values("reason")[:1]),
        )

    def in_state(self, state: str, now) -> SignalQuerySet:
        """Narrow to a state as the inbox names it: new (opened in the last 7 days and waiting for
        someone), open (waiting for someone), acknowledged (open, acknowledgement holding),
        resolved, or all. Needs `with_acknowledgement(now)` first."""
        waiting = Q(state=Signal.State.OPEN, acknowledged_until__isnull=True)
        match state:
            case "new":
                return self.filter(waiting, opened_at__gte=now - dt.timedelta(days=7))
            case "open":
                return self.filter(waiting)
            case "acknowledged":
                return self.filter(state=Signal.State.OPEN, acknowledged_until__isnull=False)
            case "resolved":
                return self.filter(state=Signal.State.RESOLVED)
        return self


class Signal(models.Model):
    """A finding of one detector about one set of objects (the `key`), kept across evaluations.

    Identity is (portfolio, detector, key): an evaluation that finds it again updates it (severity,
    facts, `last_seen`), one that no longer finds it resolves it, and finding it after that opens
    it again (`opened_at`). `facts` holds the names and numbers its sentence is built from when it
    is shown (so money can be left out per viewer, see leanpmo.detectors.wording); `evidence` the
    links to what shows it (URL names, see leanpmo.detectors.findings.Evidence).
    """

    class State(models.TextChoices):
        OPEN = "open", "Open"
        RESOLVED = "resolved", "Resolved"

    portfolio = models.ForeignKey(Portfolio, on_delete=models.CASCADE, related_name="signals")
    detector = models.CharField(max_length=32, choices=SignalDetector.choices)
    key = models.CharField(max_length=200, help_text="The objects concerned, canonically.")
    severity = models.PositiveSmallIntegerField(choices=SignalSeverity.choices)
    state = models.CharField(max_length=10, choices=State.choices, default=State.OPEN)
    facts = models.JSONField(default=dict, blank=True)
    evidence = models.JSONField(default=list, blank=True)
    value_stream = models.ForeignKey(
        ValueStream, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    team = models.ForeignKey(
        "teams.ProductTeam", on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    first_seen = models.DateTimeField(help_text="As-of time of the evaluation that first found it.")
    opened_at = models.DateTimeField(help_text="When it was last found after being resolved.")
    last_seen = models.DateTimeField(help_text="As-of time of the latest evaluation finding it.")
    resolved_at = models.DateTimeField(null=True, blank=True)

    objects = SignalQuerySet.as_manager()

    class Meta:
        ordering = ["-severity", "-opened_at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["portfolio", "detector", "key"], name="one_signal_per_detector_and_objects"
            ),
        ]
        indexes = [models.Index(fields=["portfolio", "state", "severity"])]

    def __str__(self) -> str:
        return f"{self.get_detector_display()} ({self.key})"

    def explanation(self, *, show_money: bool) -> str:
        """The signal's one sentence; amounts only with `show_money`."""
        return detectors.explain(
            self.detector, self.facts, show_money=show_money, currency=self.portfolio.currency
        )


@pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent(), pghistory.DeleteEvent())
class SignalAcknowledgement(models.Model):
    """Someone looked at a signal and set it aside until `expires_at`, for `reason`.

    Keyed on the detector and the objects (never on the text), so it covers the signal whatever
    its numbers become — unless its severity gets worse than `severity` (the one acknowledged) or
    the expiry passes: then the signal is back. One row per signal identity, rewritten by a new
    acknowledgement; every version is kept in the audit history.
    """

    portfolio = models.ForeignKey(
        Portfolio, on_delete=models.CASCADE, related_name="signal_acknowledgements"
    )
    detector = models.CharField(max_length=32, choices=SignalDetector.choices)
    key = models.CharField(max_length=200)
    severity = models.PositiveSmallIntegerField(choices=SignalSeverity.choices)
    reason = models.TextField()
    expires_at = models.DateTimeField()
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    acknowledged_at = models.DateTimeField()

    class Meta:
        ordering = ["portfolio", "detector", "key"]
        constraints = [
            models.UniqueConstraint(
                fields=["portfolio", "detector", "key"], name="one_acknowledgement_per_signal"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.detector} {self.key} until {self.expires_at:%Y-%m-%d}"


def _threshold(name: str) -> models.Field:
    spec = next(spec for spec in detectors.SPECS if spec.name == name)
    bounds = [
        MinValueValidator(spec.minimum, message=f"At least {spec.minimum:g} {spec.unit}."),
        MaxValueValidator(spec.maximum, message=f"At most {spec.maximum:g} {spec.unit}."),
    ]
    default = getattr(detectors.DEFAULTS, name)
    if isinstance(default, float):
        return models.DecimalField(
            spec.label, max_digits=3, decimal_places=1, default=Decimal(str(default)),
            validators=bounds, help_text=spec.help,
        )  # fmt: skip
    return models.PositiveSmallIntegerField(
        spec.label, default=default, validators=bounds, help_text=spec.help
    )


@pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent())
class SignalThresholds(models.Model):
    """A portfolio's thresholds for the detectors (defaults: leanpmo.detectors.thresholds).

    A portfolio without a row uses the defaults; the Lean PMO's first save creates it. Every change
    is kept in the audit history.
    """

    portfolio = models.OneToOneField(
        Portfolio, on_delete=models.CASCADE, primary_key=True, related_name="signal_thresholds"
    )
    min_weekly_points = _threshold("min_weekly_points")
    min_items = _threshold("min_items")
    stale_share_high = _threshold("stale_share_high")
    decision_lookback_days = _threshold("decision_lookback_days")
    review_overdue_high_days = _threshold("review_overdue_high_days")
    fixed_scope_high_percent = _threshold("fixed_scope_high_percent")
    churn_max_percent = _threshold("churn_max_percent")
    young_team_days = _threshold("young_team_days")
    max_teams_per_person = _threshold("max_teams_per_person")
    min_team_size = _threshold("min_team_size")
    pyramid_shift_points = _threshold("pyramid_shift_points")
    pyramid_min_work = _threshold("pyramid_min_work")
    flow_band_weeks = _threshold("flow_band_weeks")
    flow_band_sigmas = _threshold("flow_band_sigmas")
    allocation_gap_points = _threshold("allocation_gap_points")
    distribution_weeks = _threshold("distribution_weeks")
    hotspot_min_dependents = _threshold("hotspot_min_dependents")
    hotspot_blocked_percent = _threshold("hotspot_blocked_percent")
    caveat_share_max = _threshold("caveat_share_max")
    metrics_stale_days = _threshold("metrics_stale_days")
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name_plural = "signal thresholds"

    def __str__(self) -> str:
        return f"signal thresholds of {self.portfolio_id}"

    def as_thresholds(self) -> detectors.Thresholds:
        """The pure thresholds the detectors take."""
        values = {name: getattr(self, name) for name in detectors.THRESHOLD_NAMES}
        values["flow_band_sigmas"] = float(values["flow_band_sigmas"])
        return detectors.Thresholds(**values)


class SignalEvaluation(models.Model):
    """Bookkeeping of a portfolio's signal evaluations: the row, not a broker message, says that
    one is wanted.

    A write that can raise or clear a signal bumps `request_seq` and sets `requested_at` (in its
    own transaction) and enqueues an evaluation only when none was pending, so many writes make one
    evaluation. An evaluation clears `requested_at` when it ends unless a newer request arrived
    meanwhile (then it runs again). A request whose message was lost (`enqueued_at` old) is swept
    and enqueued again. `detectors` holds the last evaluation's outcome per detector: findings,
    the scopes without enough data, an error, seconds.
    """

    portfolio = models.OneToOneField(
        Portfolio, on_delete=models.CASCADE, primary_key=True, related_name="signal_evaluation"
    )
    request_seq = models.PositiveIntegerField(default=0)
    requested_at = models.DateTimeField(null=True, blank=True)
    enqueued_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    evaluated_at = models.DateTimeField(null=True, blank=True)
    as_of = models.DateTimeField(null=True, blank=True)
    duration_s = models.FloatField(null=True, blank=True)
    detectors = models.JSONField(default=dict, blank=True)

    def __str__(self) -> str:
        return f"signal evaluation of {self.portfolio_id}"


class SignalDailyCount(models.Model):
    """Open signals per detector at the end of an evaluation, kept per local day (the inbox trend)."""

    portfolio = models.ForeignKey(Portfolio, on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    detector = models.CharField(max_length=32, choices=SignalDetector.choices)
    open = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["portfolio", "day", "detector"]
        constraints = [
            models.UniqueConstraint(
                fields=["portfolio", "day", "detector"], name="one_signal_count_per_day"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.detector} on {self.day}: {self.open}"


class DigestPreference(models.Model):
    """Whether a person receives the weekly signals digest (executives and Lean PMO do by default)."""

    person = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="digest_preference",
    )
    weekly_digest = models.BooleanField(default=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"digest {'on' if self.weekly_digest else 'off'} for {self.person_id}"


class DigestDelivery(models.Model):
    """One weekly digest sent to one person for one portfolio (ISO week in the portfolio's time
    zone, e.g. "2026-W10"): its row makes the weekly send idempotent."""

    portfolio = models.ForeignKey(Portfolio, on_delete=models.CASCADE, related_name="+")
    person = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    week = models.CharField(max_length=8)
    sent_at = models.DateTimeField()

    class Meta:
        ordering = ["-sent_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["portfolio", "person", "week"], name="one_digest_per_person_and_week"
            ),
        ]

    def __str__(self) -> str:
        return f"digest {self.week} of {self.portfolio_id} to {self.person_id}"
