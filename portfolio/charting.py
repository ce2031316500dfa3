"""The shape every chart takes on its way to a page: a Plotly figure plus the numbers behind it."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import pandas as pd
import plotly.graph_objects as go


def chart_panel(
    dom_id: str,
    title: str,
    figure: go.Figure | dict[str, Any],
    table: pd.DataFrame,
    *,
    csv_url: str | None = None,
    note: str = "",
    finding: str = "",
    columns: Sequence[str] | None = None,
) -> dict[str, Any]:
    """Context for `_partials/chart.html`: JSON-safe figure, the table's columns and rows.

    `figure` is a plotly Figure or already a plain dict of JSON-safe data and layout (cheaper: no
    figure objects are built). `title` names the chart ("By horizon"), `finding` states what it
    shows with its unit ("Run takes 55 % of 3.21M EUR").
    `table` holds the chart's numbers (one row per plotted point or bar); `columns` renames its
    columns for people. An empty table renders "No data for this chart yet".
    """
    figure_json = figure if isinstance(figure, dict) else json.loads(figure.to_json())
    table = table.astype(object).where(table.notna(), None)
    return {
        "dom_id": dom_id,
        "script_id": f"{dom_id}-data",
        "title": title,
        "finding": finding,
        "note": note,
        "figure": {"data": figure_json.get("data", []), "layout": figure_json.get("layout", {})},
        "columns": list(columns or table.columns),
        "rows": table.to_numpy().tolist(),
        "csv_url": csv_url,
    }
