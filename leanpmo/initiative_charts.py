"""Pure Plotly figures for initiatives: the work-shape pyramid, its trend, the strategic cap and the
kanban's own flow. Tables in (from leanpmo.initiative_metrics), figures out; no Django."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from leanpmo.initiative_metrics import SHAPE_LABELS, SHAPES, STATE_LABELS, STRATEGIC

SHAPE_COLOURS = {
    "team_mission": "#2e7d32",
    "product_group": "#2a7ab8",
    "strategic_initiative": "#6a4c93",
}
TOP_LEGEND = {"orientation": "h", "y": 1.14, "x": 0}


def pyramid_chart(mix: pd.DataFrame) -> go.Figure:
    """The pyramid of one period: each shape's share of the work in progress by count and by
    team cost, strategic initiatives on top (`mix`: shape, count, cost, count_share, cost_share)."""
    ordered = mix.set_index("shape").reindex(list(SHAPES)).fillna(0)
    labels = [SHAPE_LABELS[shape] for shape in ordered.index]
    figure = go.Figure(
        [
            go.Bar(
                name="Share by count",
                y=labels,
                x=ordered["count_share"].tolist(),
                orientation="h",
                marker_color="#1f4e79",
                text=[
                    f"{int(n)} · {s:.0%}"
                    for n, s in zip(ordered["count"], ordered["count_share"], strict=True)
                ],
                textposition="auto",
                hovertemplate="%{y}: %{text} of the initiatives<extra></extra>",
            ),
            go.Bar(
                name="Share by team cost",
                y=labels,
                x=ordered["cost_share"].tolist(),
                orientation="h",
                marker_color="#b26a00",
                text=[f"{s:.0%}" for s in ordered["cost_share"]],
                textposition="auto",
                hovertemplate="%{y}: %{x:.0%} of the team cost<extra></extra>",
            ),
        ]
    )
    figure.update_layout(
        barmode="group",
        xaxis={"tickformat": ".0%", "range": [0, 1]},
        yaxis={"categoryorder": "array", "categoryarray": labels},
        legend=TOP_LEGEND,
    )
    return figure


def pyramid_trend_chart(mix: pd.DataFrame) -> go.Figure:
    """Each shape's share of the team cost of the work in progress, period by period (stacked)."""
    figure = go.Figure()
    for shape in SHAPES:
        part = mix[mix["shape"] == shape]
        figure.add_trace(
            go.Bar(
                name=SHAPE_LABELS[shape],
                x=part["period"].tolist(),
                y=part["cost_share"].tolist(),
                marker_color=SHAPE_COLOURS[shape],
                customdata=part["count"].tolist(),
                hovertemplate="%{x}: %{y:.0%} of the team cost, %{customdata} in progress"
                "<extra></extra>",
            )
        )
    figure.update_layout(barmode="stack", yaxis={"tickformat": ".0%"}, legend=TOP_LEGEND)
    return figure


def strategic_cap_chart(mix: pd.DataFrame, cap: int | None) -> go.Figure:
    """Strategic initiatives in progress per period (at its end, or now) against the cap."""
    part = mix[mix["shape"] == STRATEGIC]
    figure = go.Figure(
        go.Bar(
            name="Strategic initiatives in progress",
            x=part["period"].tolist(),
            y=part["count"].tolist(),
            marker_color=SHAPE_COLOURS[STRATEGIC],
            hovertemplate="%{x}: %{y} in progress<extra></extra>",
        )
    )
    if cap is not None:
        figure.add_trace(
            go.Scatter(
                name=f"Cap ({cap})",
                x=part["period"].tolist(),
                y=[cap] * len(part),
                mode="lines",
                line={"dash": "dash", "color": "#b3261e"},
                hovertemplate="cap %{y}<extra></extra>",
            )
        )
    figure.update_layout(yaxis={"dtick": 1, "rangemode": "tozero"}, legend=TOP_LEGEND)
    return figure


def state_days_chart(state_days: pd.DataFrame) -> go.Figure:
    """Where bets wait: median days per stay in each kanban state (`state_days`: state, stays,
    median_days, mean_days)."""
    figure = go.Figure(
        go.Bar(
            x=[STATE_LABELS[state] for state in state_days["state"]],
            y=state_days["median_days"].tolist(),
            marker_color="#2a7ab8",
            customdata=state_days["stays"].tolist(),
            hovertemplate="%{x}: median %{y} days over %{customdata} stays<extra></extra>",
        )
    )
    figure.update_layout(yaxis={"title": {"text": "days"}, "rangemode": "tozero"})
    return figure
