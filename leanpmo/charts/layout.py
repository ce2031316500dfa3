"""What every Lean PMO chart shares: the palette, money axes, and the layout of horizontal bar
charts whose categories are named above their bars. Pure: no plotly objects, no Django."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

import pandas as pd

Figure = dict[str, Any]

COLOURS = {"Run": "#1f4e79", "Grow": "#2a7ab8", "Transform": "#6a4c93"}
TOP_LEGEND = {"orientation": "h", "y": 1.02, "yanchor": "bottom", "x": 0}
OUTCOME_COLOURS = {
    "Held": "#2e7d32",
    "Partly held": "#b26a00",
    "Did not hold": "#b3261e",
    "Too early to tell": "#5d6b7c",
    "Not reviewed": "#9aa7b4",
}
PLAN_COLOUR, SCENARIO_COLOUR = "#9aa7b4", "#2a7ab8"
# a horizontal bar chart writes each category's name (and figures) above its bar, across the
# whole width, so that long names stay readable on a phone and the bars keep the room
ROW_HEIGHT = 58  # px per category: a line of text above a bar
BAR_GAP = 0.5  # the part of a row that is not bar
MARGIN = {"t": 8, "r": 16, "b": 48, "l": 8}


def as_floats(values: Sequence[Any]) -> list[float | None]:
    """Numbers Plotly can draw (Decimal → float, missing → None)."""
    out: list[float | None] = []
    for value in values:
        if value is None or (isinstance(value, float) and pd.isna(value)):
            out.append(None)
        else:
            out.append(float(value))
    return out


def decimal_total(values: Sequence[Any]) -> Decimal:
    return sum((Decimal(str(v)) for v in values if v is not None and not pd.isna(v)), Decimal(0))


def money_axis(currency: str) -> dict[str, Any]:
    """A money axis: short ticks ("500k", "1.5M") titled with the currency."""
    return {
        "title": {"text": currency},
        "tickformat": "~s",
        "rangemode": "tozero",
        "automargin": True,
    }


def hbar_height(count: int) -> int:
    """A horizontal bar chart's height: enough for every category's name and bar."""
    return MARGIN["t"] + MARGIN["b"] + ROW_HEIGHT * max(count, 1)


def labelled_rows(labels: Sequence[str], texts: Sequence[str], *, legend: bool = False) -> dict:
    """The layout of a horizontal bar chart whose categories (`labels`, top to bottom) are named
    by `texts` written above their bars from the left edge, instead of tick labels beside them."""
    height = hbar_height(len(labels)) + (30 if legend else 0)
    plot = height - MARGIN["t"] - MARGIN["b"] - (30 if legend else 0)
    bar = plot / max(len(labels), 1) * (1 - BAR_GAP)
    layout: dict[str, Any] = {
        "height": height,
        "margin": {**MARGIN, "t": MARGIN["t"] + (30 if legend else 0)},
        "bargap": BAR_GAP,
        "yaxis": {
            "type": "category",
            "autorange": "reversed",
            "showticklabels": False,
            "fixedrange": True,
        },
        "annotations": [
            {
                "x": 0,
                "xref": "paper",
                "y": label,
                "yref": "y",
                "text": text,
                "showarrow": False,
                "xanchor": "left",
                "yanchor": "bottom",
                "yshift": round(bar / 2) + 1,
                "font": {"size": 13},
                "align": "left",
            }
            for label, text in zip(labels, texts, strict=True)
        ],
    }
    if legend:
        # in the band the top margin keeps for it, whatever the chart's height
        layout["legend"] = {
            "orientation": "h",
            "x": 0,
            "y": 1,
            "yref": "container",
            "yanchor": "top",
        }
    return layout
