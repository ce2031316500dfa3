"""Realisation metrics: the value-stream page's section (latest values and their change, for
templates/teams/_value_stream_realisation.html) and the realisation page's charts. Query counts
do not grow with rows."""

from __future__ import annotations

import datetime as dt
from typing import Any

from portfolio.charting import chart_panel
from teams import selectors
from teams.charts import realisation_chart
from teams.metrics import realisation_summary


def realisation_rows(value_stream, *, as_of: dt.date) -> list[dict[str, Any]]:
    """The realisation section of the value-stream page: per realisation metric of the value
    stream, its latest value and its change over a quarter and a year (see
    teams.metrics.realisation_summary). One query."""
    return realisation_summary(selectors.realisation_frame(value_stream), as_of=as_of).to_dict(
        "records"
    )


def realisation_panels(value_stream) -> list[dict[str, Any]]:
    """One chart panel per realisation metric of the value stream (their scales differ)."""
    points = selectors.realisation_frame(value_stream)
    return [
        chart_panel(
            f"realisation-{value_stream.pk}-{index}",
            str(metric),
            realisation_chart(rows),
            rows[["on", "value"]],
            columns=["Date", "Value"],
        )
        for index, (metric, rows) in enumerate(points.groupby("metric", sort=True))
    ]
