"""Scenarios: copy a period's plan into a what-if, edit it, refresh it, promote it into decisions.

A scenario never writes to budgets except through `scenario_promote`, which sends every changed
line through `budget_change` (period rules, exceptions, audit history, optimistic concurrency) with
one decision per value stream, all in one transaction.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from leanpmo.guardrails import check_plan, new_breaches
from leanpmo.metrics.comparison import Drift, inferred_kind
from leanpmo.models import (
    DecisionKind,
    FundingPeriod,
    Scenario,
    ScenarioLine,
    ValueStreamBudget,
)
from leanpmo.plan_fields import FIELD_LABELS, PLAN_FIELDS
from leanpmo.selectors.funding import (
    budget_plan_row,
    guardrail_rules,
    period_budgets,
    previous_totals,
)
from leanpmo.selectors.scenarios import plan_values, scenario_drift, scenario_lines
from leanpmo.services.budgets import ChangeResult, budget_change
from leanpmo.services.decisions import DecisionInput, decision_record
from leanpmo.services.money_plans import PlanRowError, PlanRowInput, plan_write


class ScenarioStale(Exception):
    """The plan changed since the scenario copied it; `drift` says how. Refresh before promoting."""

    def __init__(self, drift: list[Drift]):
        self.drift = drift
        names = ", ".join(item.value_stream for item in drift)
        super().__init__(
            f"The plan changed since this scenario was copied ({names}). "
            "Refresh the scenario from the plan, check it, then promote it."
        )


def _require_draft(scenario: Scenario) -> None:
    if not scenario.is_draft:
        raise ValidationError(
            {"scenario": "This scenario was promoted into decisions; it can no longer change."}
        )
    if scenario.period.status == FundingPeriod.Status.CLOSED:
        raise ValidationError({"period": f"{scenario.period} is closed; its money cannot change."})


def _line_from(scenario: Scenario, budget: ValueStreamBudget) -> ScenarioLine:
    return ScenarioLine(
        scenario=scenario,
        value_stream=budget.value_stream,
        **{name: getattr(budget, name) for name in PLAN_FIELDS},
        base=plan_values(budget),
        base_version=budget.version,
    )


@transaction.atomic
def scenario_create(
    *, period: FundingPeriod, name: str, user, now: dt.datetime, description: str = ""
) -> Scenario:
    """Copy every budget of `period` into a new draft scenario; ValidationError names the field."""
    if period.status == FundingPeriod.Status.CLOSED:
        raise ValidationError({"period": f"{period} is closed: choose a draft or approved period."})
    scenario = Scenario(
        period=period,
        name=name.strip(),
        description=description,
        created_by=user if user is not None and user.is_authenticated else None,
        created_at=now,
    )
    scenario.full_clean(exclude=["created_by", "promoted_by"])
    scenario.save()
    ScenarioLine.objects.bulk_create(
        [_line_from(scenario, budget) for budget in period_budgets(period)]
    )
    return scenario


@transaction.atomic
def scenario_line_change(
    *, line: ScenarioLine, expected_version: int, changes: dict[str, Any]
) -> ScenarioLine:
    """Write `changes` to a draft scenario's line if its version is still `expected_version`.

    Same validation as a budget (ValidationError naming the field); VersionConflict when the line
    changed since it was read. Changes equal to what is stored write nothing.
    """
    stored = ScenarioLine.objects.select_related("scenario__period__portfolio", "value_stream").get(
        pk=line.pk
    )
    _require_draft(stored.scenario)
    fresh, _ = plan_write(
        stored,
        expected_version=expected_version,
        changes=changes,
        exclude=("scenario", "value_stream", "base", "version"),
        related=("scenario__period", "value_stream"),
    )
    return fresh


@transaction.atomic
def scenario_lines_save(*, scenario: Scenario, rows: list[PlanRowInput]) -> int:
    """Save a scenario grid in one transaction (all or nothing); returns how many lines changed.

    Raises PlanRowError (naming the line, with the field-named error) or VersionConflict; then
    nothing is kept.
    """
    _require_draft(scenario)
    written = 0
    for row in rows:
        if row.row.scenario_id != scenario.pk:
            raise PlanRowError(row.row, ValidationError("This row belongs to another scenario."))
        try:
            stored = scenario_line_change(
                line=row.row, expected_version=row.expected_version, changes=row.changes
            )
        except ValidationError as exc:
            raise PlanRowError(row.row, exc) from exc
        written += stored.version != row.row.version
    return written


@transaction.atomic
def scenario_refresh(*, scenario: Scenario) -> list[Drift]:
    """Bring a stale scenario onto the current plan; returns what had changed in the plan.

    Lines the person did not edit take the plan's new values; edited lines keep their values. Every
    line's copy (`base`, `base_version`) becomes the plan as it is now; budgets added since get a
    line, lines of budgets gone from the plan are dropped.
    """
    scenario = Scenario.objects.select_for_update().select_related("period").get(pk=scenario.pk)
    _require_draft(scenario)
    lines = scenario_lines(scenario)
    budgets = period_budgets(scenario.period)
    drift = scenario_drift(lines, budgets)
    by_stream = {budget.value_stream_id: budget for budget in budgets}
    for line in lines:
        budget = by_stream.pop(line.value_stream_id, None)
        if budget is None:
            line.delete()
            continue
        if plan_values(line) == line.base:  # untouched in the scenario: follow the plan
            for name in PLAN_FIELDS:
                setattr(line, name, getattr(budget, name))
        line.base, line.base_version, line.version = (
            plan_values(budget),
            budget.version,
            line.version + 1,
        )
        line.save()
    ScenarioLine.objects.bulk_create([_line_from(scenario, b) for b in by_stream.values()])
    return drift


@dataclass
class PromotionPlan:
    """What promoting would do: per changed line its budget, the money before/after, the kind of
    decision the change suggests, and the guardrail breaches the scenario causes for it."""

    line: ScenarioLine
    budget: ValueStreamBudget
    before: Decimal
    after: Decimal
    kind: str
    breaches: list = field(default_factory=list)

    @property
    def change(self) -> Decimal:
        """The value stream's money after the promotion minus before."""
        return self.after - self.before

    @property
    def changes(self) -> dict[str, Any]:
        return self.budget.changed_values({name: getattr(self.line, name) for name in PLAN_FIELDS})

    @property
    def described_changes(self) -> list[tuple[str, Any, Any]]:
        """(label, plan value, scenario value) for each field the scenario changes."""
        return [
            (FIELD_LABELS.get(name, name), getattr(self.budget, name), value)
            for name, value in self.changes.items()
        ]


def promotion_plan(scenario: Scenario) -> list[PromotionPlan]:
    """The value streams a promotion would change, with suggested decision kinds (constant queries).

    In an approved period a stream whose part of the scenario breaches a guardrail the plan keeps
    (its own check, or a portfolio-wide one) is suggested as an *exception*.
    """
    lines = scenario_lines(scenario)
    budgets = {budget.value_stream_id: budget for budget in period_budgets(scenario.period)}
    rules = guardrail_rules(scenario.period.portfolio)
    before_totals = previous_totals(scenario.period)
    plan_check = check_plan(
        [budget_plan_row(b) for b in budgets.values()], rules, previous_totals=before_totals
    )
    scenario_check = check_plan(
        [budget_plan_row(line) for line in lines], rules, previous_totals=before_totals
    )
    caused = new_breaches(plan_check, scenario_check)
    approved = scenario.period.status == FundingPeriod.Status.APPROVED
    plans = []
    for line in lines:
        budget = budgets.get(line.value_stream_id)
        if budget is None or plan_values(line) == plan_values(budget):
            continue
        own = [r for r in caused if r.value_stream_id in (None, line.value_stream_id)]
        kind = (
            DecisionKind.EXCEPTION if approved and own else inferred_kind(budget.total, line.total)
        )
        plans.append(PromotionPlan(line, budget, budget.total, line.total, kind, own))
    return plans


@dataclass
class PromotionResult:
    """The promoted scenario and, per changed value stream, what budget_change did."""

    scenario: Scenario
    results: list[ChangeResult]


@transaction.atomic
def scenario_promote(
    *, scenario: Scenario, decisions: dict[int, DecisionInput], user, now: dt.datetime
) -> PromotionResult:
    """Turn a draft scenario into decisions: one per changed value stream (`decisions` maps value
    stream id → what the person said), each change through budget_change with the version copied.

    Every change is judged against the rest of the scenario, so moving money between streams is
    not mistaken for a breach half-way. A stream whose part of the scenario breaches a guardrail
    needs an *exception* in an approved period (recorded, applied when an executive approves). In a
    draft period the change is applied and the decision recorded beside it. All or nothing: raises
    ScenarioStale (the plan moved on), PlanRowError (naming the line, field-named) or
    VersionConflict; then nothing is written.
    """
    scenario = (
        Scenario.objects.select_for_update().select_related("period__portfolio").get(pk=scenario.pk)
    )
    _require_draft(scenario)
    drift = scenario_drift(scenario_lines(scenario), period_budgets(scenario.period))
    if drift:
        raise ScenarioStale(drift)
    plans = promotion_plan(scenario)
    if not plans:
        raise ValidationError({"scenario": "This scenario changes nothing in the plan."})
    approved = scenario.period.status == FundingPeriod.Status.APPROVED
    final = {plan.budget.pk: plan.budget.with_values(plan.changes) for plan in plans}
    others = [b for b in period_budgets(scenario.period) if b.pk not in final]
    results = []
    for plan in plans:
        decision = decisions.get(plan.line.value_stream_id)
        errors = decision.errors() if decision else {"decision_kind": "Record the decision."}
        if decision and approved and plan.breaches and decision.kind != DecisionKind.EXCEPTION:
            errors["decision_kind"] = (
                "This change breaches a guardrail ("
                + "; ".join(f"{r.description}: {r.message}" for r in plan.breaches)
                + "). Record it as an exception decision for an executive to approve."
            )
        if errors:
            raise PlanRowError(plan.line, ValidationError(errors))
        assert decision is not None
        context = [
            plan.budget,
            *others,
            *(twin for pk, twin in final.items() if pk != plan.budget.pk),
        ]
        try:
            result = budget_change(
                budget=plan.budget,
                expected_version=plan.line.base_version,
                user=user,
                changes=plan.changes,
                decision=decision,
                now=now,
                plan=context,
            )
            if result.decision is None:  # a draft period: budget_change records no decision
                result.decision = decision_record(
                    period=scenario.period,
                    value_stream=plan.line.value_stream,
                    decision=decision,
                    amount_before=plan.before,
                    amount_after=result.budget.total,
                    user=user,
                    now=now,
                )
        except ValidationError as exc:
            raise PlanRowError(plan.line, exc) from exc
        results.append(result)
    scenario.status = Scenario.Status.PROMOTED
    scenario.promoted_at, scenario.promoted_by = now, user
    scenario.save(update_fields=["status", "promoted_at", "promoted_by"])
    scenario.decisions.add(*(result.decision for result in results))
    return PromotionResult(scenario, results)
