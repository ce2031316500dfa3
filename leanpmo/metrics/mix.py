"""The investment mix: pure pandas from budget, team-cost and flow frames to the executive page's tables.

No Django, no clock. Money columns hold Decimal in the portfolio's currency, exact to the cent (see
portfolio.money); shares are floats from 0 to 1.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal

import pandas as pd

from leanpmo.plan_fields import HORIZON_LABELS, WORK_TYPES
from portfolio.money import ZERO, cents, money_sum

HORIZONS = list(HORIZON_LABELS.items())


def stream_team_mix(budgets: pd.DataFrame, teams: pd.DataFrame) -> pd.DataFrame:
    """Each value stream's budget spread over its teams in proportion to team cost.

    `budgets`: one period's rows (value_stream_id, value_stream, total); `teams`: value_stream_id, team,
    fte, cost (Decimal). Returns value_stream, team, amount, team_cost (Decimal, to the cent). A
    stream without teams (or without team cost) keeps its money on one row named "(no team)".
    """
    own_teams: dict[object, list[tuple[str, Decimal]]] = {}
    for stream_id, team, cost in zip(
        teams["value_stream_id"], teams["team"], teams["cost"], strict=True
    ):
        own_teams.setdefault(stream_id, []).append((team, cost))
    rows = []
    for stream_id, stream, total in zip(
        budgets["value_stream_id"], budgets["value_stream"], budgets["total"], strict=True
    ):
        own = own_teams.get(stream_id, [])
        cost = money_sum(team_cost for _, team_cost in own)
        if not own or cost == 0:
            rows.append((stream, "(no team)", cents(total), ZERO))
            continue
        for team, team_cost in own:
            rows.append((stream, team, cents(total * team_cost / cost), cents(team_cost)))
    return pd.DataFrame(rows, columns=["value_stream", "team", "amount", "team_cost"])


def theme_amounts(
    plans: Iterable[tuple[Decimal, Mapping[str, int] | None]], themes: Mapping[str, str]
) -> dict[str, Decimal]:
    """Theme name → money, each plan's total (Decimal) spread by its theme split (theme id as text →
    percent); unsplit money is "(no theme)", a theme id not in `themes` "(unknown theme)". Exact
    (not rounded: round the sums)."""
    amounts: dict[str, Decimal] = {}
    for total, split in plans:
        if not split:
            amounts["(no theme)"] = amounts.get("(no theme)", ZERO) + total
            continue
        for theme_id, percent in split.items():
            name = themes.get(str(theme_id), "(unknown theme)")
            amounts[name] = amounts.get(name, ZERO) + total * percent / 100
    return amounts


def theme_mix(budgets: pd.DataFrame, themes: dict[str, str]) -> pd.DataFrame:
    """Money per strategic theme (from each budget's theme split); unsplit money is "(no theme)".

    Returns theme, amount, share (0–1), largest first.
    """
    amounts = theme_amounts(
        ((budget.total, budget.theme_split) for budget in budgets.itertuples()), themes
    )
    return _with_shares(
        pd.DataFrame(
            sorted(
                ((name, cents(amount)) for name, amount in amounts.items()), key=lambda kv: -kv[1]
            ),
            columns=["theme", "amount"],
        )
    )


def _with_shares(frame: pd.DataFrame) -> pd.DataFrame:
    """`frame` (with Decimal `amount`) and each row's share of the whole (float 0–1, 4 places)."""
    total = money_sum(frame["amount"])
    shares = [round(float(amount / total), 4) if total else 0.0 for amount in frame["amount"]]
    return frame.assign(share=pd.Series(shares, index=frame.index, dtype=float))


def horizon_mix(budgets: pd.DataFrame) -> pd.DataFrame:
    """Money per horizon: horizon, amount, share (0–1)."""
    amounts = [(label, money_sum(budgets[code])) for code, label in HORIZONS]
    return _with_shares(pd.DataFrame(amounts, columns=["horizon", "amount"]))


def work_type_mix(budgets: pd.DataFrame, completed: pd.DataFrame) -> pd.DataFrame:
    """Planned allocation (money-weighted, 0–1) against the share of completed items (0–1, or None).

    `completed`: value_stream_id, item_type, done (items completed). Returns item_type, planned,
    completed, done.
    """
    total = money_sum(budgets["total"])
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
    """Per value stream: value_stream, budget, actual (None where nothing was imported), variance
    (actual − budget, None without an actual); money as Decimal, exact to the cent."""
    rows = [
        (budget.value_stream, budget.total, budget.actual, _difference(budget.actual, budget.total))
        for budget in budgets.itertuples()
    ]
    return pd.DataFrame(rows, columns=["value_stream", "budget", "actual", "variance"])


def _difference(actual: Decimal | None, budget: Decimal) -> Decimal | None:
    return None if actual is None or pd.isna(actual) else cents(actual - budget)


def funding_over_periods(all_budgets: pd.DataFrame) -> pd.DataFrame:
    """Money per period and horizon (Decimal): period, period_start, Run, Grow, Transform, total
    (period order)."""
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
