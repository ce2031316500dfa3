"""The investment mix: pure pandas from budget, team-cost and flow frames to the executive page's tables.

No Django, no clock. Money columns are floats in the portfolio's currency (display only).
"""

from __future__ import annotations

import pandas as pd

from leanpmo.plan_fields import HORIZON_LABELS, WORK_TYPES

HORIZONS = list(HORIZON_LABELS.items())


def stream_team_mix(budgets: pd.DataFrame, teams: pd.DataFrame) -> pd.DataFrame:
    """Each value stream's budget spread over its teams in proportion to team cost.

    `budgets`: one period's rows (value_stream_id, value_stream, total); `teams`: value_stream_id, team,
    fte, cost. Returns value_stream, team, amount, team_cost. A stream without teams (or without team
    cost) keeps its money on one row named "(no team)".
    """
    rows = []
    for budget in budgets.itertuples():
        own = teams[teams["value_stream_id"] == budget.value_stream_id]
        cost = own["cost"].sum()
        if own.empty or cost == 0:
            rows.append((budget.value_stream, "(no team)", budget.total, 0.0))
            continue
        for team in own.itertuples():
            rows.append(
                (budget.value_stream, team.team, budget.total * team.cost / cost, team.cost)
            )
    return pd.DataFrame(rows, columns=["value_stream", "team", "amount", "team_cost"]).round(2)


def theme_mix(budgets: pd.DataFrame, themes: dict[str, str]) -> pd.DataFrame:
    """Money per strategic theme (from each budget's theme split); unsplit money is "(no theme)".

    Returns theme, amount, share (0–1), largest first.
    """
    amounts: dict[str, float] = {}
    for budget in budgets.itertuples():
        split = budget.theme_split or {}
        if not split:
            amounts["(no theme)"] = amounts.get("(no theme)", 0.0) + budget.total
            continue
        for theme_id, percent in split.items():
            name = themes.get(str(theme_id), "(unknown theme)")
            amounts[name] = amounts.get(name, 0.0) + budget.total * percent / 100
    frame = pd.DataFrame(
        sorted(amounts.items(), key=lambda kv: -kv[1]), columns=["theme", "amount"]
    )
    total = frame["amount"].sum()
    frame["share"] = frame["amount"] / total if total else 0.0
    return frame.round({"amount": 2, "share": 4})


def horizon_mix(budgets: pd.DataFrame) -> pd.DataFrame:
    """Money per horizon: horizon, amount, share (0–1)."""
    amounts = [
        (label, float(budgets[code].sum()) if not budgets.empty else 0.0)
        for code, label in HORIZONS
    ]
    frame = pd.DataFrame(amounts, columns=["horizon", "amount"])
    total = frame["amount"].sum()
    frame["share"] = frame["amount"] / total if total else 0.0
    return frame.round({"amount": 2, "share": 4})


def work_type_mix(budgets: pd.DataFrame, completed: pd.DataFrame) -> pd.DataFrame:
    """Planned allocation (money-weighted, 0–1) against the share of completed items (0–1, or None).

    `completed`: value_stream_id, item_type, done (items completed). Returns item_type, planned,
    completed, done.
    """
    total = budgets["total"].sum() if not budgets.empty else 0
    planned = {
        kind: float((budgets[kind] * budgets["total"]).sum() / total / 100) if total else None
        for kind in WORK_TYPES
    }
    done = (
        completed.groupby("item_type")["done"].sum()
        if not completed.empty
        else pd.Series(dtype=float)
    )
    done_total = done.sum()
    rows = [
        (
            kind,
            planned[kind],
            float(done.get(kind, 0) / done_total) if done_total else None,
            int(done.get(kind, 0)),
        )
        for kind in WORK_TYPES
    ]
    return pd.DataFrame(rows, columns=["item_type", "planned", "completed", "done"]).round(
        {"planned": 4, "completed": 4}
    )


def budget_vs_actual(budgets: pd.DataFrame) -> pd.DataFrame:
    """Per value stream: value_stream, budget, actual (None where nothing was imported), variance."""
    frame = budgets[["value_stream", "total", "actual"]].rename(columns={"total": "budget"})
    frame = frame.assign(variance=frame["actual"] - frame["budget"])
    return frame.reset_index(drop=True)


def funding_over_periods(all_budgets: pd.DataFrame) -> pd.DataFrame:
    """Money per period and horizon: period, period_start, Run, Grow, Transform, total (period order)."""
    if all_budgets.empty:
        return pd.DataFrame(columns=["period", "period_start", "Run", "Grow", "Transform", "total"])
    grouped = (
        all_budgets.groupby(["period_start", "period"], as_index=False)[
            ["run", "grow", "transform", "total"]
        ]
        .sum()
        .rename(columns={"run": "Run", "grow": "Grow", "transform": "Transform"})
        .sort_values("period_start")
    )
    return grouped[["period", "period_start", "Run", "Grow", "Transform", "total"]].reset_index(
        drop=True
    )
