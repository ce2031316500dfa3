"""Reads of the money plan: periods, budgets, guardrail checks of a period's plan, the frames of
the investment page and each theme's money. Each runs a fixed number of queries whatever the row
count."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Count, Sum

from leanpmo.guardrails import PlanRow, Result, Rule, check_plan
from leanpmo.models import (
    FundingPeriod,
    Guardrail,
    MoneyPlan,
    StrategicTheme,
    ValueStreamBudget,
)
from leanpmo.plan_fields import ALLOCATION_FIELD, HORIZON_AMOUNT_FIELD
from portfolio.models import Portfolio
from portfolio.money import cents


def budget_plan_row(budget: MoneyPlan) -> PlanRow:
    """The guardrail view of one budget (or scenario line)."""
    return PlanRow(
        value_stream_id=budget.value_stream_id,
        name=budget.value_stream.name,
        amounts={code: getattr(budget, field) for code, field in HORIZON_AMOUNT_FIELD.items()},
        allocation={kind: getattr(budget, field) for kind, field in ALLOCATION_FIELD.items()},
        fixed_scope=budget.fixed_scope_amount,
    )


def guardrail_rules(portfolio: Portfolio) -> list[Rule]:
    """The portfolio's active guardrails as pure rules."""
    return [
        Rule(
            id=guardrail.pk,
            kind=guardrail.kind,
            description=guardrail.describe(),
            horizon=guardrail.horizon,
            item_type=guardrail.item_type,
            min_percent=guardrail.min_percent,
            max_percent=guardrail.max_percent,
        )
        for guardrail in Guardrail.objects.filter(portfolio=portfolio, active=True)
    ]


def previous_period(period: FundingPeriod) -> FundingPeriod | None:
    """The portfolio's period that ended last before `period` starts."""
    return (
        FundingPeriod.objects.filter(portfolio_id=period.portfolio_id, ends_on__lt=period.starts_on)
        .order_by("-ends_on")
        .first()
    )


def previous_totals(period: FundingPeriod) -> dict[int, Decimal]:
    """Value stream id → total budget in the previous period (empty when there is none)."""
    before = previous_period(period)
    if before is None:
        return {}
    return {
        budget.value_stream_id: budget.total
        for budget in ValueStreamBudget.objects.filter(period=before).only(
            "value_stream_id", *HORIZON_AMOUNT_FIELD.values()
        )
    }


@dataclass
class PeriodLine:
    """A period with its money: how many value streams it funds, its total, and the change of the
    total against the period before it (percent; None for the first, or after an empty one)."""

    period: FundingPeriod
    streams: int
    total: Decimal
    change: Decimal | None


def period_lines(portfolio: Portfolio) -> list[PeriodLine]:
    """The portfolio's periods, newest first, each with its money (2 queries)."""
    periods = list(FundingPeriod.objects.filter(portfolio=portfolio).order_by("starts_on"))
    sums = {
        row["period_id"]: row
        for row in ValueStreamBudget.objects.filter(period__portfolio=portfolio)
        .values("period_id")
        .annotate(
            streams=Count("pk"),
            run=Sum("amount_run"),
            grow=Sum("amount_grow"),
            transform=Sum("amount_transform"),
        )
    }
    lines, before = [], None
    for period in periods:
        row = sums.get(period.pk, {})
        total = sum((row.get(code) or Decimal(0) for code in HORIZON_AMOUNT_FIELD), Decimal(0))
        change = (total - before) * 100 / before if before else None
        lines.append(PeriodLine(period, row.get("streams", 0), total, change))
        before = total
    return lines[::-1]


def period_budgets(period: FundingPeriod) -> list[ValueStreamBudget]:
    """The period's budgets, value streams selected, in value-stream name order."""
    return list(
        ValueStreamBudget.objects.filter(period=period)
        .select_related("value_stream", "updated_by")
        .order_by("value_stream__name")
    )


@dataclass
class PlanCheck:
    """A period's plan with its guardrail results."""

    budgets: list[ValueStreamBudget]
    results: list[Result]
    totals: dict[str, Decimal]

    @property
    def breaches(self) -> list[Result]:
        return [result for result in self.results if not result.ok]


def plan_totals(rows: list[PlanRow]) -> dict[str, Decimal]:
    """Sum per horizon code, fixed-scope money and the grand total."""
    totals = {
        code: sum((row.amounts.get(code, Decimal(0)) for row in rows), Decimal(0))
        for code in HORIZON_AMOUNT_FIELD
    }
    totals["fixed_scope"] = sum((row.fixed_scope for row in rows), Decimal(0))
    totals["total"] = sum((row.total for row in rows), Decimal(0))
    return totals


def period_check(period: FundingPeriod) -> PlanCheck:
    """The period's budgets checked against the portfolio's guardrails."""
    budgets = period_budgets(period)
    rows = [budget_plan_row(budget) for budget in budgets]
    results = check_plan(
        rows, guardrail_rules(period.portfolio), previous_totals=previous_totals(period)
    )
    return PlanCheck(budgets, results, plan_totals(rows))


def current_period(portfolio: Portfolio, *, today: dt.date) -> FundingPeriod | None:
    """The period containing `today`, else the latest approved one, else the latest."""
    periods = list(FundingPeriod.objects.filter(portfolio=portfolio).order_by("starts_on"))
    for period in periods:
        if period.starts_on <= today <= period.ends_on:
            return period
    approved = [p for p in periods if p.status != FundingPeriod.Status.DRAFT]
    return (approved or periods or [None])[-1]


def themes_by_id(portfolio: Portfolio) -> dict[str, str]:
    """Theme id (as text, the key of budgets' theme_split) → name."""
    return {
        str(pk): name
        for pk, name in StrategicTheme.objects.filter(portfolio=portfolio).values_list("pk", "name")
    }


@dataclass(frozen=True)
class ThemeMoney:
    """A strategic theme's money in a period (from the budgets' theme splits) and its share of
    the period's whole budget (0–1)."""

    period: FundingPeriod
    amount: Decimal
    share: float


def theme_money(portfolio: Portfolio, *, today: dt.date) -> dict[int, ThemeMoney]:
    """Theme id → its money in the portfolio's current period (see `current_period`); empty
    without a period or budgets. Three queries, whatever the number of budgets and themes."""
    from leanpmo.metrics import mix

    period = current_period(portfolio, today=today)
    if period is None:
        return {}
    rows = ValueStreamBudget.objects.filter(period=period).values_list(
        *HORIZON_AMOUNT_FIELD.values(), "theme_split"
    )
    plans = [(sum(amounts, Decimal(0)), split) for *amounts, split in rows]
    total = sum((amount for amount, _ in plans), Decimal(0))
    ids = {str(pk): str(pk) for pk in portfolio.themes.values_list("pk", flat=True)}
    return {
        int(key): ThemeMoney(period, cents(amount), float(amount / total) if total else 0.0)
        for key, amount in mix.theme_amounts(plans, ids).items()
        if key.isdigit()
    }
