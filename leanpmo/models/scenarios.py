"""Scenarios: named what-ifs reallocating a funding period's plan, and their lines."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from leanpmo.models.decisions import FundingDecision
from leanpmo.models.funding import FundingPeriod, MoneyPlan
from leanpmo.models.scoping import PeriodScopedQuerySet
from leanpmo.plan_fields import PLAN_FIELDS
from portfolio.fields import LONG_TEXT, LimitedTextField
from portfolio.models import Portfolio, PortfolioMembership
from valuestreams.models import ValueStream


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
