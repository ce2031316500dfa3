"""The shape every chart takes on its way to a page: a figure plus the numbers behind it.

A figure is plain data, ``{"data": [trace, ...], "layout": {...}}`` as plotly.js takes it
(`static/js/charts.js` draws it). Building it as dicts and lists costs microseconds; building
``plotly.graph_objects`` figures validates every property and cost the flow pages ~140 ms a
request, so the chart modules build plain dicts. A ``go.Figure`` is still accepted (it is turned
into its JSON once). Pure: no Django.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

import numpy as np
import pandas as pd

Figure = dict[str, Any]


def plain(value: Any) -> Any:
    """`value` as JSON-safe plain data for plotly.js: NaN, NaT and None → None, numpy and
    Decimal numbers → float or int, dates → ISO text, tuples and arrays → lists."""
    if value is None or isinstance(value, bool | str | int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, Mapping):
        return {str(key): plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple | pd.Series | pd.Index | np.ndarray):
        return [plain(item) for item in value]
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating | Decimal):
        number = float(value)
        return number if math.isfinite(number) else None
    if isinstance(value, np.bool_):
        return bool(value)
    if value is pd.NaT:
        return None
    if isinstance(value, dt.datetime | dt.date | pd.Timestamp):
        return value.isoformat()
    return value


def figure(data: Sequence[Mapping[str, Any]], layout: Mapping[str, Any] | None = None) -> Figure:
    """A plain figure of `data` traces and a `layout`, JSON-safe (see `plain`)."""
    return {"data": plain(list(data)), "layout": plain(dict(layout or {}))}


def _as_plain_figure(source: Any) -> Figure:
    if hasattr(source, "to_json"):  # a plotly.graph_objects.Figure
        parsed = json.loads(source.to_json())
        return {"data": parsed.get("data", []), "layout": parsed.get("layout", {})}
    # a dict made by `figure()` is plain already
    return {"data": source.get("data", []), "layout": source.get("layout", {})}


def _missing(value: Any) -> bool:
    return (
        value is None
        or value is pd.NaT
        or value is pd.NA
        or (isinstance(value, float) and value != value)
    )


def table_rows(table: pd.DataFrame) -> list[list[Any]]:
    """The table's rows as lists of Python values, None where a value is missing."""
    return [
        [None if _missing(value) else value for value in row]
        for row in table.to_numpy(dtype=object).tolist()
    ]


def chart_panel(
    dom_id: str,
    title: str,
    figure: Any,
    table: pd.DataFrame,
    *,
    csv_url: str | None = None,
    note: str = "",
    finding: str = "",
    columns: Sequence[str] | None = None,
) -> dict[str, Any]:
    """Context for `_partials/chart.html`: JSON-safe figure, the table's columns and rows.

    `figure` is a plain figure dict made by `figure()` (or a ``go.Figure``). `title` names the chart ("Flow time"),
    `finding` states what it shows with its unit ("85 % of items took 9.5 days or less");
    `table` holds the chart's numbers (one row per plotted point or bar); `columns` renames its
    columns for people. An empty table renders "No data for this chart yet".
    """
    return {
        "dom_id": dom_id,
        "script_id": f"{dom_id}-data",
        "title": title,
        "finding": finding,
        "note": note,
        "figure": _as_plain_figure(figure),
        "columns": list(columns or table.columns),
        "rows": table_rows(table),
        "csv_url": csv_url,
    }
