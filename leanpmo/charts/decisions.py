"""Pure figure of the decisions on the investment page: when they were taken and how they held."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pandas as pd

from leanpmo.charts.layout import MARGIN, OUTCOME_COLOURS, Figure, labelled_rows
from portfolio.formatting import (
    money_change,
)


def decision_timeline_chart(frame: pd.DataFrame, currency: str) -> Figure:
    """Decisions as points in time, one row per value stream or initiative, coloured by the
    outcome of their latest review. `frame`: decided_at, value_stream, kind, change, outcome."""
    subjects = sorted(frame["value_stream"].unique().tolist()) if not frame.empty else []
    data = []
    for outcome, colour in OUTCOME_COLOURS.items():
        part = frame[frame["outcome"] == outcome]
        if part.empty:
            continue
        data.append(
            {
                "type": "scatter",
                "mode": "markers",
                "name": outcome,
                "x": [_iso(value) for value in part["decided_at"]],
                "y": part["value_stream"].tolist(),
                "marker": {"size": 14, "color": colour, "line": {"width": 1, "color": "#fff"}},
                "customdata": [
                    f"{kind} · {money_change(change, currency)}" if change else kind
                    for kind, change in zip(part["kind"], part["change"], strict=True)
                ],
                "hovertemplate": "%{y}<br>%{x|%-d %b %Y}<br>%{customdata}<extra>"
                + outcome
                + "</extra>",
            }
        )
    rows = labelled_rows(subjects, subjects, legend=True)
    for note in rows["annotations"]:
        note["yshift"] = 8
        note["font"] = {"size": 12, "color": "#5d6b7c"}
    rows["yaxis"].update({"categoryorder": "array", "categoryarray": subjects, "showgrid": True})
    return {
        "data": data,
        "layout": {
            "xaxis": {"type": "date", "tickformat": "%b %Y"},
            **rows,
            "height": MARGIN["t"] + MARGIN["b"] + 30 + 44 * max(len(subjects), 1),
        },
    }


def decision_timeline_title(frame: pd.DataFrame) -> str:
    """ "22 decisions: 3 held, 1 partly held, 18 not reviewed yet"."""
    if frame.empty:
        return "No decisions yet"
    counts = frame["outcome"].value_counts()
    parts = [
        f"{counts[outcome]} {outcome.lower()}"
        for outcome in OUTCOME_COLOURS
        if counts.get(outcome, 0)
    ]
    noun = "decision" if len(frame) == 1 else "decisions"
    return f"{len(frame)} {noun}: " + ", ".join(parts).replace("not reviewed", "not reviewed yet")


def _iso(value: Any) -> str:
    """A date or time as ISO text Plotly reads as a date."""
    if isinstance(value, dt.datetime | dt.date | pd.Timestamp):
        return value.isoformat()
    return str(value)
