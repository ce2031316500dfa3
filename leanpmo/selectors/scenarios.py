"""Reads for funding scenarios: their lines, what moved in the plan since, and the comparison."""

from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import Decimal

import pandas as pd
from django.db.models import Count, QuerySet

from leanpmo.guardrails import Result, check_plan, new_breaches
from leanpmo.metrics import comparison
from leanpmo.metrics.comparison import Drift, plan_drift
from leanpmo.models import MoneyPlan, Scenario, ScenarioLine, ValueStreamBudget, scenario_portfolios
from leanpmo.plan_fields import PLAN_FIELDS
from leanpmo.selectors.funding import (
    budget_plan_row,
    guardrail_rules,
    period_budgets,
    plan_totals,
    previous_totals,
    themes_by_id,
)
from portfolio.models import Portfolio


def plan_values(budget_or_line: MoneyPlan) -> dict[str, str]:
    """A budget's (or scenario line's) plan fields as text, e.g. {"amount_run": "600000.00", …}.

    What a scenario keeps of the budget it copied, to tell later whether the plan moved on.
    """
    values = {}
    for name in PLAN_FIELDS:
        value = getattr(budget_or_line, name)
        if isinstance(value, Decimal):
            value = value.quantize(Decimal("0.01"))
        elif isinstance(value, dict):
            value = json.dumps(value, sort_keys=True)
        values[name] = str(value)
    return values


def scenario_lines(scenario: Scenario) -> list[ScenarioLine]:
    """The scenario's lines, value streams selected, in value-stream name order (1 query)."""
    return list(
        ScenarioLine.objects.filter(scenario=scenario)
        .select_related("value_stream")
        .order_by("value_stream__name")
    )


def scenario_drift(lines: list, budgets: list[ValueStreamBudget]) -> list[Drift]:
    """What changed in the plan since the lines were copied (no queries); empty when nothing did."""
    return plan_drift(
        {line.value_stream_id: (line.value_stream.name, line.base) for line in lines},
        {b.value_stream_id: (b.value_stream.name, plan_values(b)) for b in budgets},
    )


@dataclass
class ScenarioComparison:
    """A scenario beside its period's plan, with everything its page shows.

    `lines` / `budgets`: the scenario's lines and the plan's budgets; `plan_results` /
    `scenario_results`: guardrail checks of each; `drift`: how the plan changed since the copy;
    `tables`: streams, horizons, themes and guardrails comparison frames (see leanpmo.metrics.comparison).
    """

    lines: list
    budgets: list[ValueStreamBudget]
    plan_results: list[Result]
    scenario_results: list[Result]
    plan_totals: dict[str, Decimal]
    scenario_totals: dict[str, Decimal]
    drift: list[Drift]
    tables: dict[str, pd.DataFrame]

    @property
    def new_breaches(self) -> list[Result]:
        return new_breaches(self.plan_results, self.scenario_results)


def scenario_comparison(
    scenario: Scenario, *, lines: list[ScenarioLine] | None = None
) -> ScenarioComparison:
    """The scenario beside its plan (a constant number of queries whatever the number of streams).

    `lines` may carry values as typed (unsaved) to compare those instead of the stored ones.
    """
    lines = scenario_lines(scenario) if lines is None else lines
    period = scenario.period
    budgets = period_budgets(period)
    rules = guardrail_rules(period.portfolio)
    before = previous_totals(period)
    plan_rows = [budget_plan_row(budget) for budget in budgets]
    scenario_rows = [budget_plan_row(line) for line in lines]
    plan_results = check_plan(plan_rows, rules, previous_totals=before)
    scenario_results = check_plan(scenario_rows, rules, previous_totals=before)
    themes = themes_by_id(period.portfolio)
    tables = {
        "streams": comparison.stream_comparison(plan_rows, scenario_rows),
        "horizons": comparison.horizon_comparison(plan_rows, scenario_rows),
        "themes": comparison.theme_comparison(
            plan_rows,
            {b.value_stream_id: b.theme_split for b in budgets},
            scenario_rows,
            {line.value_stream_id: line.theme_split for line in lines},
            themes,
        ),
        "guardrails": comparison.guardrail_comparison(plan_results, scenario_results),
    }
    return ScenarioComparison(
        lines=lines,
        budgets=budgets,
        plan_results=plan_results,
        scenario_results=scenario_results,
        plan_totals=plan_totals(plan_rows),
        scenario_totals=plan_totals(scenario_rows),
        drift=scenario_drift(lines, budgets),
        tables=tables,
    )


def portfolio_scenarios(portfolio: Portfolio) -> QuerySet[Scenario]:
    """The portfolio's scenarios, newest first, with period, author and decision count (1 query)."""
    return (
        Scenario.objects.filter(period__portfolio=portfolio)
        .select_related("period", "created_by")
        .annotate(
            decision_count=Count("decisions", distinct=True),
            line_count=Count("lines", distinct=True),
        )
        .order_by("-created_at", "-pk")
    )


def scenarios_readable(portfolio: Portfolio, user) -> bool:
    """Whether `user` may read the portfolio's scenarios (executives, Lean PMO, admins; 1 query)."""
    return scenario_portfolios(user).filter(pk=portfolio.pk).exists()
