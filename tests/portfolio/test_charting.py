import datetime as dt
import json
from decimal import Decimal

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from django.contrib.staticfiles import finders

from portfolio.charting import chart_panel, figure, plain


def test_plotly_js_is_served_from_the_installed_wheel():
    path = finders.find("vendor/plotly.min.js")
    assert path is not None
    assert path.endswith("plotly/package_data/plotly.min.js")


def test_chart_panel_carries_a_plain_figure_and_its_numbers():
    table = pd.DataFrame({"week": ["2026-W01", "2026-W02"], "velocity": [3, None]})
    panel = chart_panel(
        "velocity",
        "Flow velocity",
        figure([{"type": "bar", "x": table.week, "y": table.velocity}]),
        table,
        finding="3 items done",
    )
    assert panel["figure"] == {
        "data": [{"type": "bar", "x": ["2026-W01", "2026-W02"], "y": [3.0, None]}],
        "layout": {},
    }
    assert panel["rows"] == [["2026-W01", 3.0], ["2026-W02", None]]
    assert panel["columns"] == ["week", "velocity"]
    assert panel["script_id"] == "velocity-data"
    assert panel["finding"] == "3 items done"


def test_a_plotly_figure_is_still_accepted():
    panel = chart_panel("x", "Bars", go.Figure(go.Bar(x=["a"], y=[1])), pd.DataFrame({"a": [1]}))
    assert panel["figure"]["data"][0]["type"] == "bar"


def test_plain_makes_numpy_decimal_dates_and_missing_values_json_safe():
    value = {
        "a": np.int64(3),
        "b": np.float64("nan"),
        "c": Decimal("2.50"),
        "d": dt.date(2026, 2, 2),
        "e": (1, float("inf")),
        "f": pd.NaT,
        "g": np.array([1.5, np.nan]),
    }
    converted = plain(value)
    assert converted == {
        "a": 3,
        "b": None,
        "c": 2.5,
        "d": "2026-02-02",
        "e": [1, None],
        "f": None,
        "g": [1.5, None],
    }
    json.dumps(converted, allow_nan=False)


def test_empty_table_gives_no_rows():
    panel = chart_panel("x", "Nothing", {}, pd.DataFrame({"a": []}))
    assert panel["rows"] == []
    assert panel["figure"] == {"data": [], "layout": {}}
