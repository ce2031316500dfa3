"""Pure figures for initiatives: the work-shape pyramid, its trend, the strategic cap and the
kanban's own flow. Tables in (from leanpmo.metrics.initiatives), Plotly figure dicts out (plain data,
no plotly.graph_objects, no Django), each with a title that states its finding."""

from __future__ import annotations

from typing import Any

import pandas as pd

from leanpmo.charts.layout import labelled_rows
from leanpmo.metrics.initiatives import SHAPE_LABELS, SHAPES, STATE_LABELS, STRATEGIC
from portfolio.formatting import days, whole_percents

Figure = dict[str, Any]
SHAPE_COLOURS = {
    "team_mission": "#2e7d32",
    "product_group": "#2a7ab8",
    "strategic_initiative": "#6a4c93",
}
TOP_LEGEND = {"orientation": "h", "y": 1.02, "yanchor": "bottom", "x": 0}


def _ordered(mix: pd.DataFrame) -> pd.DataFrame:
    """One period's mix in pyramid order (team missions first), shapes without work as 0."""
    return mix.set_index("shape").reindex(list(SHAPES)).fillna(0)


def _by_period(mix: pd.DataFrame) -> dict[Any, tuple[dict[str, tuple[Any, Any]], Any]]:
    """Period → (shape → (count, cost_share) in SHAPES order with shapes without work as (0, 0.0),
    the period's count in all), periods in the mix's order: one pass, not a frame per period."""
    parts: dict[Any, dict[str, tuple[Any, Any]]] = {}
    totals: dict[Any, Any] = {}
    for period, shape, count, share in zip(
        mix["period"], mix["shape"], mix["count"], mix["cost_share"], strict=True
    ):
        count = 0 if pd.isna(count) else count
        parts.setdefault(period, {})[shape] = (count, 0.0 if pd.isna(share) else share)
        totals[period] = totals.get(period, 0) + count
    return {
        period: ({shape: part.get(shape, (0, 0.0)) for shape in SHAPES}, totals[period])
        for period, part in parts.items()
    }


def pyramid_chart(mix: pd.DataFrame) -> Figure:
    """The pyramid of one period: each shape's share of the work in progress by count and by
    team cost in whole percent (each adding up to 100 %), strategic initiatives on top
    (`mix`: shape, count, cost, count_share, cost_share)."""
    ordered = _ordered(mix)
    labels = [SHAPE_LABELS[shape] for shape in ordered.index]
    by_count = whole_percents(list(ordered["count_share"]))
    by_cost = whole_percents(list(ordered["cost_share"]))
    return {
        "data": [
            {
                "type": "bar",
                "orientation": "h",
                "name": "Share by team cost",
                "y": labels,
                "x": by_cost,
                "marker": {"color": "#b26a00"},
                "text": [f"{pct} %" for pct in by_cost],
                "textposition": "auto",
                "hovertemplate": "%{y}: %{x} % of the team cost<extra></extra>",
            },
            {
                "type": "bar",
                "orientation": "h",
                "name": "Share by count",
                "y": labels,
                "x": by_count,
                "marker": {"color": "#1f4e79"},
                "text": [
                    f"{pct} % · {int(n)}" for pct, n in zip(by_count, ordered["count"], strict=True)
                ],
                "textposition": "auto",
                "hovertemplate": "%{y}: %{x} % of the initiatives in progress<extra></extra>",
            },
        ],
        "layout": {
            "barmode": "group",
            "xaxis": {"ticksuffix": " %", "range": [0, 100]},
            "yaxis": {"categoryorder": "array", "categoryarray": labels, "automargin": True},
            "legend": {**TOP_LEGEND, "traceorder": "reversed"},
        },
    }


def pyramid_title(mix: pd.DataFrame) -> str:
    """ "Strategic initiatives: 29 % of the initiatives in progress, 47 % of the team cost"."""
    if mix.empty or not mix["count"].sum():
        return "Work-shape pyramid: nothing in progress"
    ordered = _ordered(mix)
    by_count = whole_percents(list(ordered["count_share"]))
    by_cost = whole_percents(list(ordered["cost_share"]))
    top = list(ordered.index).index(STRATEGIC)
    return (
        f"Strategic initiatives: {by_count[top]} % of the initiatives in progress, "
        f"{by_cost[top]} % of the team cost"
    )


def pyramid_trend_chart(mix: pd.DataFrame) -> Figure:
    """Each shape's share of the team cost of the work in progress, period by period (stacked,
    whole percent adding up to 100 % in each period that has work)."""
    by_period = _by_period(mix)
    periods = list(by_period)
    shares: dict[str, list[int]] = {shape: [] for shape in SHAPES}
    counts: dict[str, list[int]] = {shape: [] for shape in SHAPES}
    for part, _ in by_period.values():
        pcts = whole_percents([part[shape][1] for shape in SHAPES])
        for shape, pct in zip(SHAPES, pcts, strict=True):
            shares[shape].append(pct)
            counts[shape].append(int(part[shape][0]))
    return {
        "data": [
            {
                "type": "bar",
                "name": SHAPE_LABELS[shape],
                "x": periods,
                "y": shares[shape],
                "marker": {"color": SHAPE_COLOURS[shape]},
                "customdata": counts[shape],
                "hovertemplate": "%{x}: %{y} % of the team cost, %{customdata} in progress"
                "<extra>" + SHAPE_LABELS[shape] + "</extra>",
            }
            for shape in SHAPES
        ],
        "layout": {
            "barmode": "stack",
            "yaxis": {"ticksuffix": " %", "range": [0, 100]},
            "xaxis": {"type": "category"},
            "legend": TOP_LEGEND,
        },
    }


def pyramid_trend_title(mix: pd.DataFrame) -> str:
    """The latest period's share of team cost in strategic initiatives."""
    by_period = _by_period(mix)
    periods = [period for period, (_, in_progress) in by_period.items() if in_progress]
    if not periods:
        return "Work-shape mix over periods: nothing in progress yet"
    last, _ = by_period[periods[-1]]
    pct = whole_percents([last[shape][1] for shape in SHAPES])[SHAPES.index(STRATEGIC)]
    return f"{periods[-1]}: {pct} % of the team cost in strategic initiatives"


def strategic_cap_chart(mix: pd.DataFrame, cap: int | None) -> Figure:
    """Strategic initiatives in progress per period (at its end, or now) against the cap."""
    part = mix[mix["shape"] == STRATEGIC]
    periods = part["period"].tolist()
    data: list[dict[str, Any]] = [
        {
            "type": "bar",
            "name": "Strategic initiatives in progress",
            "x": periods,
            "y": [int(n) for n in part["count"]],
            "marker": {"color": SHAPE_COLOURS[STRATEGIC]},
            "hovertemplate": "%{x}: %{y} in progress<extra></extra>",
        }
    ]
    if cap is not None:
        data.append(
            {
                "type": "scatter",
                "mode": "lines",
                "name": f"Cap ({cap})",
                "x": periods,
                "y": [cap] * len(periods),
                "line": {"dash": "dash", "color": "#b3261e"},
                "hovertemplate": "cap %{y}<extra></extra>",
            }
        )
    return {
        "data": data,
        "layout": {
            "yaxis": {"dtick": 1, "rangemode": "tozero", "title": {"text": "initiatives"}},
            "xaxis": {"type": "category"},
            "legend": TOP_LEGEND,
        },
    }


def strategic_cap_title(mix: pd.DataFrame, cap: int | None) -> str:
    """ "2 strategic initiatives in progress in 2027 Q1; the cap is 2"."""
    part = mix[mix["shape"] == STRATEGIC]
    if part.empty:
        return "Strategic initiatives in progress"
    count = int(part["count"].iloc[-1])
    noun = "strategic initiative" if count == 1 else "strategic initiatives"
    title = f"{count} {noun} in progress in {part['period'].iloc[-1]}"
    return title + (f"; the cap is {cap}" if cap is not None else "; no cap set")


def state_days_chart(state_days: pd.DataFrame) -> Figure:
    """Where bets wait: median days per stay in each kanban state, one bar per state named above
    it (`state_days`: state, stays, median_days, mean_days)."""
    labels = [STATE_LABELS[state] for state in state_days["state"]]
    texts = [
        f"<b>{label}</b> · median {days(median)} · {int(stays)} stay{'s' if stays != 1 else ''}"
        for label, median, stays in zip(
            labels, state_days["median_days"], state_days["stays"], strict=True
        )
    ]
    return {
        "data": [
            {
                "type": "bar",
                "orientation": "h",
                "y": labels,
                "x": [round(float(v), 1) for v in state_days["median_days"]],
                "marker": {"color": "#2a7ab8"},
                "customdata": [int(n) for n in state_days["stays"]],
                "hovertemplate": "%{y}: median %{x} days over %{customdata} stays<extra></extra>",
            }
        ],
        "layout": {
            "xaxis": {"title": {"text": "days"}, "rangemode": "tozero"},
            **labelled_rows(labels, texts),
        },
    }


def state_days_title(state_days: pd.DataFrame) -> str:
    """ "Bets wait longest in analysing: median 34 days per stay"."""
    if state_days.empty:
        return "Median days per stay in each state"
    longest = state_days.loc[state_days["median_days"].astype(float).idxmax()]
    label = STATE_LABELS[longest["state"]].lower()
    return f"Bets stay longest in {label}: median {days(longest['median_days'])} per stay"
