import pandas as pd
import plotly.graph_objects as go
from django.contrib.staticfiles import finders

from portfolio.charting import chart_panel


def test_plotly_js_is_served_from_the_installed_wheel():
    path = finders.find("vendor/plotly.min.js")
    assert path is not None
    assert path.endswith("plotly/package_data/plotly.min.js")


def test_chart_panel_carries_the_figure_and_its_numbers():
    table = pd.DataFrame({"week": ["2026-W01", "2026-W02"], "velocity": [3, None]})
    panel = chart_panel(
        "velocity", "Flow velocity", go.Figure(go.Bar(x=table.week, y=table.velocity)), table
    )
    assert panel["figure"]["data"][0]["type"] == "bar"
    assert panel["rows"] == [["2026-W01", 3.0], ["2026-W02", None]]
    assert panel["columns"] == ["week", "velocity"]
    assert panel["script_id"] == "velocity-data"


def test_empty_table_gives_no_rows():
    panel = chart_panel("x", "Nothing", go.Figure(), pd.DataFrame({"a": []}))
    assert panel["rows"] == []
