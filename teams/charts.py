"""Pure figure builders for the team and value-stream pages: DataFrames in, Plotly figures out."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pandas as pd
import plotly.graph_objects as go

STATUS_COLOURS = {"on_track": "#2e7d32", "at_risk": "#b26a00", "off_track": "#b3261e"}


def key_result_trend_chart(
    points: pd.DataFrame, *, baseline: Decimal, target: Decimal, unit: str
) -> go.Figure:
    """The key result's check-ins over time, with its baseline and target as dashed lines.

    `points` columns: `posted_at` (datetime), `value` (number), `status` (on_track / at_risk /
    off_track), `confidence` (0–10). Markers are coloured by status.
    """
    figure = go.Figure()
    figure.add_trace(
        go.Scatter(
            x=list(points["posted_at"]),
            y=[float(v) for v in points["value"]],
            mode="lines+markers",
            name="Check-ins",
            line={"color": "#1f4e79", "width": 2},
            marker={
                "size": 7,
                "color": [STATUS_COLOURS.get(s, "#5d6b7c") for s in points["status"]],
            },
            customdata=list(points["confidence"]),
            hovertemplate="%{x|%d %b %Y}: %{y} "
            + unit
            + "<br>confidence %{customdata}/10<extra></extra>",
        )
    )
    for label, level, colour in (("baseline", baseline, "#5d6b7c"), ("target", target, "#2e7d32")):
        figure.add_hline(
            y=float(level),
            line={"dash": "dash", "color": colour, "width": 1},
            annotation_text=f"{label} {float(level):g}",
            annotation_position="top left",
        )
    figure.update_layout(
        height=240,
        showlegend=False,
        margin={"t": 16, "r": 16, "b": 32, "l": 48},
        yaxis={"title": {"text": unit}},
        xaxis={"type": "date"},
    )
    if len(points) == 1:  # one check-in: show the week around it, not milliseconds
        moment = points["posted_at"].iloc[0]
        figure.update_xaxes(range=[moment - dt.timedelta(days=7), moment + dt.timedelta(days=7)])
    return figure


def realisation_chart(points: pd.DataFrame) -> go.Figure:
    """A realisation metric over time. `points` columns: `on` (date), `value` (number)."""
    figure = go.Figure(
        go.Scatter(
            x=list(points["on"]),
            y=[float(v) for v in points["value"]],
            mode="lines+markers",
            line={"color": "#1f4e79", "width": 2},
        )
    )
    figure.update_layout(height=240, showlegend=False)
    return figure
