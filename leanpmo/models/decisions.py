"""Funding decisions with their evidence, executives' answers to exception decisions, and
reviews of whether a decision held. All three are append-only."""

from __future__ import annotations

from decimal import Decimal

import pghistory
import pgtrigger
from django.conf import settings
from django.db import models
from django.db.models import Q

from leanpmo.models.funding import MONEY, NOT_NEGATIVE, FundingPeriod
from leanpmo.models.scoping import PortfolioScopedQuerySet
from portfolio.fields import LONG_TEXT, LimitedTextField
from portfolio.models import Portfolio, validate_date_in_range
from valuestreams.models import ValueStream


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
