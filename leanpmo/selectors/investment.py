"""The frames of the executive investment page: budgets, team cost, work finished, the decisions'
timeline, each a DataFrame (the only place Lean PMO rows become frames). A fixed number of queries
whatever the row count."""

from __future__ import annotations

from decimal import Decimal

import pandas as pd
from django.db.models import Sum

from leanpmo.models import (
    ActualSpend,
    FundingDecision,
    FundingPeriod,
    ValueStreamBudget,
)
from leanpmo.plan_fields import (
    ALLOCATION_FIELD,
    FIXED_SCOPE_FIELD,
    HORIZON_AMOUNT_FIELD,
    PLAN_FIELDS,
    THEME_SPLIT_FIELD,
)
from leanpmo.selectors.decisions import decision_log, decision_timeline_frame
from leanpmo.selectors.funding import themes_by_id
from portfolio.models import Portfolio
from portfolio.money import cents
from teams.models import ProductTeam
from valuestreams.models import FlowMetric, ScopeKind


def team_cost_frame(portfolio: Portfolio, period: FundingPeriod) -> pd.DataFrame:
    """Per team: columns value_stream_id, team, fte (float), cost (Decimal to the cent: FTE × yearly
    loaded cost × period days / 365)."""
    rows = ProductTeam.objects.filter(value_stream__portfolio=portfolio).values_list(
        "value_stream_id", "name", "capacity_fte", "loaded_cost_per_fte"
    )
    share = Decimal(period.days) / Decimal(365)
    return pd.DataFrame(
        [(vs, name, float(fte), cents(fte * cost * share)) for vs, name, fte, cost in rows],
        columns=["value_stream_id", "team", "fte", "cost"],
    )


def budget_frame(portfolio: Portfolio) -> pd.DataFrame:
    """Every budget of the portfolio: period, period_start, status, value_stream_id, value_stream,
    run, grow, transform, total, fixed_scope, Feature/Defect/Risk/Debt (%), theme_split (dict), actual.

    Money columns (run … actual) hold Decimal, exact to the cent like the database; actual is None
    where nothing was imported.
    """
    actuals = {
        (row["period_id"], row["value_stream_id"]): row["amount"]
        for row in ActualSpend.objects.filter(period__portfolio=portfolio).values(
            "period_id", "value_stream_id", "amount"
        )
    }
    records = []
    for row in ValueStreamBudget.objects.filter(period__portfolio=portfolio).values(
        "period_id", "period__name", "period__starts_on", "period__status", "value_stream_id",
        "value_stream__name", *PLAN_FIELDS,
    ):  # fmt: skip
        records.append(
            {
                "period_id": row["period_id"],
                "period": row["period__name"],
                "period_start": row["period__starts_on"],
                "status": row["period__status"],
                "value_stream_id": row["value_stream_id"],
                "value_stream": row["value_stream__name"],
                **{code: row[field] for code, field in HORIZON_AMOUNT_FIELD.items()},
                # as ValueStreamBudget.total adds them
                "total": sum((row[field] for field in HORIZON_AMOUNT_FIELD.values()), Decimal(0)),
                "fixed_scope": row[FIXED_SCOPE_FIELD],
                **{kind: row[field] for kind, field in ALLOCATION_FIELD.items()},
                "theme_split": row[THEME_SPLIT_FIELD],
                "actual": actuals.get((row["period_id"], row["value_stream_id"])),
            }
        )
    columns = [
        "period_id", "period", "period_start", "status", "value_stream_id", "value_stream",
        "run", "grow", "transform", "total", "fixed_scope", "Feature", "Defect", "Risk", "Debt",
        "theme_split", "actual",
    ]  # fmt: skip
    return pd.DataFrame(records, columns=columns).sort_values(["period_start", "value_stream"])


def completed_distribution_frame(portfolio: Portfolio, period: FundingPeriod) -> pd.DataFrame:
    """Flow distribution of completed work per value stream in the period's months.

    Columns value_stream_id, item_type, done (items done of that type, summed over the monthly
    windows inside the period). Empty when no flow metrics were computed.
    """
    rows = (
        FlowMetric.objects.filter(
            portfolio=portfolio,
            scope_kind=ScopeKind.VALUE_STREAM,
            grain="month",
            window_start__date__gte=period.starts_on,
            window_start__date__lte=period.ends_on,
        )
        .exclude(item_type="All")
        .values("scope_id", "item_type")
        .annotate(done=Sum("velocity"))
    )
    return pd.DataFrame(
        [(row["scope_id"], row["item_type"], row["done"]) for row in rows],
        columns=["value_stream_id", "item_type", "done"],
    )


def investment_frames(
    portfolio: Portfolio,
    period: FundingPeriod | None,
    *,
    decisions: list[FundingDecision] | None = None,
) -> dict[str, pd.DataFrame]:
    """Every table of the executive page for `period` (constant queries whatever the row counts).
    `decisions`: the portfolio's decision log when the caller has read it already."""
    from leanpmo.metrics import mix

    all_budgets = budget_frame(portfolio)
    budgets = all_budgets[all_budgets["period_id"] == (period.pk if period else None)]
    if decisions is None:
        decisions = list(decision_log(portfolio))
    empty_teams = pd.DataFrame(columns=["value_stream_id", "team", "fte", "cost"])
    empty_done = pd.DataFrame(columns=["value_stream_id", "item_type", "done"])
    return {
        "streams": mix.stream_team_mix(
            budgets, team_cost_frame(portfolio, period) if period else empty_teams
        ),
        "themes": mix.theme_mix(budgets, themes_by_id(portfolio)),
        "horizons": mix.horizon_mix(budgets),
        "work_types": mix.work_type_mix(
            budgets, completed_distribution_frame(portfolio, period) if period else empty_done
        ),
        "actuals": mix.budget_vs_actual(budgets),
        "periods": mix.funding_over_periods(all_budgets),
        "decisions": decision_timeline_frame(decisions),
    }


def budget_export_frame(portfolio: Portfolio, *, period_id: int | None) -> pd.DataFrame:
    """The portfolio's budgets for the download (of one period when `period_id` is given): the
    budget frame's columns with the theme split written as "Theme 60%; Other 40%" in `themes`, the
    ids, the raw split and the period's start left out."""
    frame = budget_frame(portfolio)
    if period_id is not None:
        frame = frame[frame["period_id"] == period_id]
    themes = themes_by_id(portfolio)
    return frame.assign(
        themes=frame["theme_split"].map(
            lambda split: "; ".join(f"{themes.get(k, k)} {v}%" for k, v in (split or {}).items())
        )
    ).drop(columns=["period_id", "value_stream_id", "theme_split", "period_start"])
