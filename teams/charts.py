"""Pure figure builders for the team and value-stream pages: DataFrames in, plain figures out
(``{"data": [...], "layout": {...}}``, see `portfolio.charting`)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pandas as pd

from portfolio import formatting
from portfolio.charting import Figure, figure

STATUS_COLOURS = {"on_track": "#2e7d32", "at_risk": "#b26a00", "off_track": "#b3261e"}
LEVEL_COLOURS = {"baseline": "#5d6b7c", "target": "#2e7d32"}
GRID = "#e6eaef"


def key_result_trend_chart(
    points: pd.DataFrame, *, baseline: Decimal, target: Decimal, unit: str
) -> Figure:
    """The key result's check-ins over time, with its baseline and target as dashed lines.

    `points` columns: `posted_at` (datetime), `value` (number), `status` (on_track / at_risk /
    off_track), `confidence` (0–10). Markers are coloured by status.
    """
    moments = list(points["posted_at"])
    trace = {
        "type": "scatter",
        "x": [moment.isoformat() for moment in moments],
        "y": [float(v) for v in points["value"]],
        "mode": "lines+markers",
        "name": "Check-ins",
        "line": {"color": "#1f4e79", "width": 2},
        "marker": {
            "size": 8,
            "color": [STATUS_COLOURS.get(s, "#5d6b7c") for s in points["status"]],
        },
        "customdata": list(points["confidence"]),
        "hovertemplate": "%{x|%d %b %Y}: %{y} "
        + unit
        + "<br>confidence %{customdata}/10<extra></extra>",
    }
    shapes, annotations = [], []
    for label, level in (("baseline", baseline), ("target", target)):
        colour = LEVEL_COLOURS[label]
        shapes.append(
            {
                "type": "line",
                "xref": "paper",
                "x0": 0,
                "x1": 1,
                "yref": "y",
                "y0": float(level),
                "y1": float(level),
                "line": {"dash": "dash", "color": colour, "width": 1},
            }
        )
        annotations.append(
            {
                "xref": "paper",
                "x": 0,
                "xanchor": "left",
                "yref": "y",
                "y": float(level),
                "yanchor": "bottom",
                "text": f"{label} {formatting.measure(level)}",
                "showarrow": False,
                "font": {"size": 11, "color": colour},
            }
        )
    # a few ticks, and room for them when a phone turns them
    xaxis: dict = {"type": "date", "gridcolor": GRID, "nticks": 5, "automargin": True}
    if len(moments) == 1:  # one check-in: show the week around it, not milliseconds
        moment = moments[0]
        xaxis["range"] = [
            (moment - dt.timedelta(days=7)).isoformat(),
            (moment + dt.timedelta(days=7)).isoformat(),
        ]
    # the baseline and the target stay in view, whatever the check-ins say
    levels = [float(v) for v in points["value"]] + [float(baseline), float(target)]
    low, high = min(levels), max(levels)
    pad = (high - low) * 0.12 or abs(high) * 0.05 or 1.0
    layout = {
        "height": 240,
        "showlegend": False,
        "margin": {"t": 16, "r": 16, "b": 32, "l": 48},
        "yaxis": {
            "title": {"text": unit},
            "gridcolor": GRID,
            "automargin": True,
            "range": [low - pad, high + pad],
        },
        "xaxis": xaxis,
        "shapes": shapes,
        "annotations": annotations,
    }
    return figure([trace], layout)


def realisation_chart(points: pd.DataFrame) -> Figure:
    """A realisation metric over time. `points` columns: `on` (date), `value` (number)."""
    trace = {
        "type": "scatter",
        "x": [on.isoformat() for on in points["on"]],
        "y": [float(v) for v in points["value"]],
        "mode": "lines+markers",
        "line": {"color": "#1f4e79", "width": 2},
    }
    layout = {
        "height": 240,
        "showlegend": False,
        "xaxis": {"type": "date", "gridcolor": GRID, "nticks": 5, "automargin": True},
        "yaxis": {"gridcolor": GRID, "automargin": True},
    }
    return figure([trace], layout)
