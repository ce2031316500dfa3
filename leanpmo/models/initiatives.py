"""Initiatives: the portfolio's bets on a kanban, and their append-only transitions."""

from __future__ import annotations

from decimal import Decimal

import pghistory
import pgtrigger
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.urls import reverse

from leanpmo.metrics import initiatives as metrics
from leanpmo.models.decisions import FundingDecision
from leanpmo.models.funding import MONEY, NOT_NEGATIVE, StrategicTheme
from portfolio.models import Portfolio, validate_date_in_range
from valuestreams.models import ValueStream

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
        linked teams, None without teams) — the database form of
        leanpmo.metrics.initiatives.work_shape."""
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
        return metrics.work_shape(team.value_stream_id for team in self.teams.all())

    @property
    def work_shape_label(self) -> str:
        shape = self.work_shape
        return WorkShape(shape).label if shape else "No team yet"

    @property
    def wsjf(self) -> metrics.Wsjf:
        """WSJF with its inputs (no score without a job size)."""
        return metrics.wsjf(*(getattr(self, name) for name in WSJF_FIELDS))

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
