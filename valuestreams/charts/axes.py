"""What every chart shares: colours, the period axis (a week drawn at its Monday, a month at its
first day), the layout, the units (seconds shown in days, fractions in percent) and the velocity
grid of the stacked bars."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

import pandas as pd

from portfolio import formatting
from valuestreams.metrics.flow_windows import label_start

SECONDS_PER_DAY = 86_400
TYPE_COLOURS = {"Feature": "#2a7ab8", "Defect": "#c0392b", "Risk": "#d68910", "Debt": "#7d5ba6"}
GRID = "#e6eaef"
# A window still running at the as-of time is drawn lighter: its figures are not final.
RUNNING_OPACITY = 0.45
# How many complete periods the findings average over.
RECENT_PERIODS = {"week": 13, "month": 6}


# --- periods ----------------------------------------------------------------------------------


def period_start(label: str) -> dt.date:
    """The first day of a window label: "2026-W06" → Monday 2 Feb 2026, "2026-02" → 1 Feb 2026."""
    return label_start(label)


def grain_of(labels: Iterable[str]) -> str:
    """ "week" when the labels are ISO weeks, else "month"."""
    return "week" if any("W" in str(label) for label in labels) else "month"


def period_name(label: str) -> str:
    """A window as people name it: "the week of 2 Feb 2026", "Feb 2026"."""
    start = period_start(label)
    if "W" in str(label):
        return f"the week of {formatting.day(start)}"
    return formatting.month(start)


def period_column(labels: pd.Series) -> tuple[str, list[Any]]:
    """The first column of a table: weeks as dates ("Week starting"), months as "Feb 2026"."""
    if grain_of(labels) == "week":
        return "Week starting", [period_start(label) for label in labels]
    return "Month", [formatting.month(period_start(label)) for label in labels]


def x_dates(labels: Iterable[str]) -> list[str]:
    return [period_start(label).isoformat() for label in labels]


def running(rows: pd.DataFrame) -> list[bool]:
    """Per row: whether its window was still running at the as-of time."""
    if "complete" not in rows:
        return [False] * len(rows)
    return [not bool(value) for value in rows["complete"]]


def complete_rows(rows: pd.DataFrame) -> pd.DataFrame:
    """The rows of complete windows (all rows when none is complete yet)."""
    if "complete" not in rows:
        return rows
    done = rows[rows["complete"].astype(bool)]
    return done if not done.empty else rows


def date_axis(labels: Iterable[str]) -> dict[str, Any]:
    """A date axis for window labels: days as "14 Dec", months as "Feb 2026" (for monthly
    windows one tick a month, or every second or third month as the span grows), the hover
    naming the period ("week of 2 Feb 2026", "Feb 2026")."""
    labels = list(labels)
    weekly = grain_of(labels) == "week"
    axis: dict[str, Any] = {
        "type": "date",
        "gridcolor": GRID,
        "hoverformat": "week of %-d %b %Y" if weekly else "%b %Y",
        "automargin": True,
        "tickformatstops": [
            {"dtickrange": [None, 28 * SECONDS_PER_DAY * 1000], "value": "%-d %b"},
            {"dtickrange": [28 * SECONDS_PER_DAY * 1000, None], "value": "%b %Y"},
        ],
    }
    if not weekly and labels:
        months = len(set(labels))
        axis["dtick"] = "M1" if months <= 6 else "M2" if months <= 12 else "M3"
        axis["tick0"] = period_start(labels[0]).isoformat()
    return axis


def layout(labels: Iterable[str], *, y_title: str, **extra: Any) -> dict[str, Any]:
    return {
        "legend": {
            "orientation": "h",
            "y": 1.02,
            "yanchor": "bottom",
            "x": 0,
            "traceorder": "normal",
        },
        "margin": {"t": 28, "r": 12, "b": 36, "l": 56},
        "hovermode": "x unified",
        "yaxis": {
            "title": {"text": y_title},
            "rangemode": "tozero",
            "gridcolor": GRID,
            "automargin": True,
        },
        "xaxis": date_axis(labels),
        **extra,
    }


def all_types(flow: pd.DataFrame) -> pd.DataFrame:
    return flow[flow["item_type"] == "All"]


def days(seconds: pd.Series) -> pd.Series:
    return (seconds.astype(float) / SECONDS_PER_DAY).round(1)


def percent(fraction: pd.Series) -> pd.Series:
    return (fraction.astype(float) * 100).round(1)


def opacity(rows: pd.DataFrame) -> list[float]:
    return [RUNNING_OPACITY if running else 1.0 for running in running(rows)]


def velocity_grid(rows: pd.DataFrame, columns: str, labels: list[str]) -> pd.DataFrame:
    """Velocity per window (rows, in `labels` order) × `columns` (item type or team), 0 where
    a window has none. A few hundred rows: a dict is quicker than a pivot table here."""
    cells: dict[Any, dict[str, int]] = {}
    for label, key, velocity in zip(
        rows["label"].tolist(), rows[columns].tolist(), rows["velocity"].tolist(), strict=True
    ):
        column = cells.setdefault(key, {})
        count = 0 if velocity is None or velocity != velocity else int(velocity)
        column[label] = column.get(label, 0) + count
    return pd.DataFrame(
        {key: [column.get(label, 0) for label in labels] for key, column in cells.items()},
        index=pd.Index(labels, dtype=object),
        dtype=int,
    )
