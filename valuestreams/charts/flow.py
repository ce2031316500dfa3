"""Flow velocity, time, efficiency and load over time.

Input frame ``flow``: one row per window × item type ("All" for every type), ordered by window,
columns ``label`` ("2026-W06" or "2026-02"), ``item_type``, ``velocity``, ``flow_time_p50_s``,
``flow_time_p85_s``, ``flow_time_p95_s``, ``flow_efficiency``, ``load_mean``, ``load_end``, and
optionally ``complete`` (False for the window still running at the as-of time).
"""

from __future__ import annotations

import pandas as pd

from portfolio import formatting
from portfolio.charting import Figure, figure
from valuestreams.charts import axes
from valuestreams.charts.axes import RECENT_PERIODS, TYPE_COLOURS, grain_of, period_name

ITEM_TYPES = ("Feature", "Defect", "Risk", "Debt")
PERCENTILE_COLOURS = {"p50": "#2a7ab8", "p85": "#1f4e79", "p95": "#c0392b"}


# --- flow velocity ----------------------------------------------------------------------------


def flow_velocity_chart(flow: pd.DataFrame) -> Figure:
    """Items done per window, stacked by flow-item type (the running window drawn lighter)."""
    windows = (
        axes.all_types(flow) if not axes.all_types(flow).empty else flow.drop_duplicates("label")
    )
    labels = list(dict.fromkeys(flow["label"]))
    opacity = dict(zip(windows["label"], axes.opacity(windows), strict=True))
    wide = axes.velocity_grid(flow[flow["item_type"] != "All"], "item_type", labels)
    x = axes.x_dates(labels)
    traces = [
        {
            "type": "bar",
            "name": item_type,
            "x": x,
            "y": wide[item_type].tolist(),
            "marker": {
                "color": TYPE_COLOURS.get(item_type, "#9aa5b1"),
                "opacity": [opacity.get(label, 1.0) for label in labels],
            },
        }
        for item_type in [*ITEM_TYPES, *sorted(set(wide.columns) - set(ITEM_TYPES))]
        if item_type in wide.columns and wide[item_type].any()
    ]
    return figure(traces, axes.layout(labels, y_title="items done", barmode="stack"))


def flow_velocity_table(flow: pd.DataFrame) -> pd.DataFrame:
    """Window × type table of items done, with the total."""
    labels = list(dict.fromkeys(flow["label"]))
    table = axes.velocity_grid(flow, "item_type", labels)
    columns = [t for t in ITEM_TYPES if t in table.columns]
    columns += [c for c in table.columns if c not in columns and c != "All"]
    table = table.reindex(columns=[*columns, "All"]).fillna(0).astype(int)
    name, periods = axes.period_column(pd.Series(labels))
    table = table.rename(columns={"All": "Total"}).reset_index(drop=True)
    table.insert(0, name, periods)
    return table.rename_axis(columns=None)


def flow_velocity_finding(flow: pd.DataFrame) -> str:
    """ "42 items done in the week of 2 Feb 2026; 38 a week on average over the last 13 weeks"."""
    rows = axes.complete_rows(axes.all_types(flow))
    if rows.empty:
        return ""
    grain = grain_of(rows["label"])
    last = rows.iloc[-1]
    recent = rows.tail(RECENT_PERIODS[grain])
    text = (
        f"{formatting.plural(int(last['velocity']), 'item')} done in {period_name(last['label'])}"
    )
    if len(recent) > 1:
        average = formatting.number(recent["velocity"].astype(float).mean())
        text += f"; {average} a {grain} on average over the last {len(recent)} {grain}s"
    return text


# --- flow time --------------------------------------------------------------------------------


def flow_time_chart(flow: pd.DataFrame) -> Figure:
    """Flow time percentiles (p50, p85, p95) of the items done per window, in days."""
    rows = axes.all_types(flow)
    labels = rows["label"].tolist()
    traces = [
        {
            "type": "scatter",
            "name": name,
            "x": axes.x_dates(labels),
            "y": axes.days(rows[f"flow_time_{name}_s"]).tolist(),
            "mode": "lines+markers",
            "line": {"color": PERCENTILE_COLOURS[name], "width": 3 if name == "p85" else 2},
            "connectgaps": False,
            "hovertemplate": "%{y} days",
        }
        for name in ("p50", "p85", "p95")
    ]
    return figure(traces, axes.layout(labels, y_title="days from start to done"))


def flow_time_table(flow: pd.DataFrame) -> pd.DataFrame:
    rows = axes.all_types(flow)
    name, periods = axes.period_column(rows["label"])
    return pd.DataFrame(
        {
            name: periods,
            "Items done": rows["velocity"].astype(int).to_numpy(),
            "p50 (days)": axes.days(rows["flow_time_p50_s"]).to_numpy(),
            "p85 (days)": axes.days(rows["flow_time_p85_s"]).to_numpy(),
            "p95 (days)": axes.days(rows["flow_time_p95_s"]).to_numpy(),
        }
    )


def flow_time_finding(flow: pd.DataFrame) -> str:
    """ "85 % of the items done in Feb 2026 took 9.5 days or less (half of them 3.1 days)"."""
    rows = axes.complete_rows(axes.all_types(flow)).dropna(subset=["flow_time_p85_s"])
    if rows.empty:
        return ""
    last = rows.iloc[-1]
    text = (
        f"85 % of the items done in {period_name(last['label'])} took "
        f"{formatting.duration(last['flow_time_p85_s'])} or less"
    )
    if pd.notna(last["flow_time_p50_s"]):
        text += f" (half of them {formatting.duration(last['flow_time_p50_s'])})"
    return text


# --- flow efficiency --------------------------------------------------------------------------


def flow_efficiency_chart(flow: pd.DataFrame) -> Figure:
    """Flow efficiency (active ÷ flow time) of the items done per window, in percent."""
    rows = axes.all_types(flow)
    labels = rows["label"].tolist()
    trace = {
        "type": "scatter",
        "name": "efficiency",
        "x": axes.x_dates(labels),
        "y": axes.percent(rows["flow_efficiency"]).tolist(),
        "mode": "lines+markers",
        "line": {"color": "#2e7d32", "width": 3},
        "fill": "tozeroy",
        "fillcolor": "rgba(46,125,50,0.12)",
        "hovertemplate": "%{y} % active",
    }
    layout = axes.layout(labels, y_title="% of flow time active", showlegend=False)
    layout["yaxis"]["range"] = [0, 100]
    return figure([trace], layout)


def flow_efficiency_table(flow: pd.DataFrame) -> pd.DataFrame:
    rows = axes.all_types(flow)
    name, periods = axes.period_column(rows["label"])
    return pd.DataFrame(
        {
            name: periods,
            "Items done": rows["velocity"].astype(int).to_numpy(),
            "Efficiency (%)": axes.percent(rows["flow_efficiency"]).to_numpy(),
        }
    )


def flow_efficiency_finding(flow: pd.DataFrame) -> str:
    """ "24 % of the flow time of the items done in Feb 2026 was active work"."""
    rows = axes.complete_rows(axes.all_types(flow)).dropna(subset=["flow_efficiency"])
    if rows.empty:
        return ""
    last = rows.iloc[-1]
    return (
        f"{formatting.share(last['flow_efficiency'])} of the flow time of the items done in "
        f"{period_name(last['label'])} was active work; the rest they waited"
    )


# --- flow load --------------------------------------------------------------------------------


def flow_load_chart(flow: pd.DataFrame) -> Figure:
    """Work in progress: the mean of each window's days (bars) and the load at its end (line)."""
    rows = axes.all_types(flow)
    labels = rows["label"].tolist()
    traces = [
        {
            "type": "bar",
            "name": "mean over the period",
            "x": axes.x_dates(labels),
            "y": rows["load_mean"].astype(float).round(1).tolist(),
            "marker": {"color": "#9cc3e4", "opacity": axes.opacity(rows)},
        },
        {
            "type": "scatter",
            "name": "at period end",
            "x": axes.x_dates(labels),
            "y": rows["load_end"].astype(float).tolist(),
            "mode": "lines+markers",
            "line": {"color": "#1f4e79", "width": 2},
        },
    ]
    return figure(traces, axes.layout(labels, y_title="items in progress"))


def flow_load_table(flow: pd.DataFrame) -> pd.DataFrame:
    rows = axes.all_types(flow)
    name, periods = axes.period_column(rows["label"])
    return pd.DataFrame(
        {
            name: periods,
            "Mean load": rows["load_mean"].astype(float).round(1).to_numpy(),
            "Load at end": rows["load_end"].to_numpy(),
        }
    )


def flow_load_finding(flow: pd.DataFrame) -> str:
    """ "61 items in progress at the end of Feb 2026, up 12 on 3 months before"."""
    rows = axes.complete_rows(axes.all_types(flow)).dropna(subset=["load_end"])
    if rows.empty:
        return ""
    grain = grain_of(rows["label"])
    last = rows.iloc[-1]
    text = (
        f"{formatting.plural(round(float(last['load_end'])), 'item')} in progress at the end of "
        f"{period_name(last['label'])}"
    )
    back = 4 if grain == "week" else 3
    if len(rows) > back:
        change = round(float(last["load_end"]) - float(rows.iloc[-1 - back]["load_end"]))
        trend = "unchanged" if change == 0 else f"{'up' if change > 0 else 'down'} {abs(change)}"
        text += f", {trend} on {back} {grain}s before"
    return text
