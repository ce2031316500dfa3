"""Flow and DORA charts: pure functions from metric frames to Plotly figures and their tables.

No Django, no data fetching. Each `<metric>_chart` takes the frame the dashboard selectors build
and returns a `go.Figure`; each `<metric>_table` returns the same numbers as a people-readable
table (the chart's "numbers behind it" and its CSV). Times arrive in seconds and are shown in
days; fractions arrive as 0–1 and are shown in percent.

Input frames:

- ``flow``: one row per window × item type ("All" for every type), ordered by ``window_start``,
  columns ``label``, ``item_type``, ``velocity``, ``flow_time_p50_s``, ``flow_time_p85_s``,
  ``flow_time_p95_s``, ``flow_efficiency``, ``load_mean``, ``load_end``.
- ``distribution``: ``item_type``, ``done`` (items), ``share`` and ``target`` (0–1, target may
  be NaN).
- ``status_times``: ``status``, ``flow_state``, ``items``, ``time_s``, ``share``.
- ``team_velocity``: ``team``, ``label``, ``velocity`` (item type "All").
"""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

SECONDS_PER_DAY = 86_400
ITEM_TYPES = ("Feature", "Defect", "Risk", "Debt")
TYPE_COLOURS = {"Feature": "#2a7ab8", "Defect": "#c0392b", "Risk": "#d68910", "Debt": "#7d5ba6"}
STATE_COLOURS = {
    "new": "#9aa5b1",
    "waiting": "#d68910",
    "active": "#2e7d32",
    "done": "#1f4e79",
    "canceled": "#5d6b7c",
}
PERCENTILE_COLOURS = {"p50": "#2a7ab8", "p85": "#1f4e79", "p95": "#c0392b"}
TEAM_PALETTE = (
    "#2a7ab8",
    "#2e7d32",
    "#d68910",
    "#7d5ba6",
    "#c0392b",
    "#138d90",
    "#5d6b7c",
    "#a04000",
)


def _layout(figure: go.Figure, *, y_title: str, **extra) -> go.Figure:
    figure.update_layout(
        legend={
            "orientation": "h",
            "y": 1.12,
            "x": 0,
            "font": {"size": 12},
            "traceorder": "normal",
        },
        margin={"t": 36, "r": 12, "b": 40, "l": 56},
        hovermode="x unified",
        yaxis={"title": {"text": y_title}, "rangemode": "tozero", "gridcolor": "#e6eaef"},
        # Category labels such as 2026-W07 stay level and readable: Plotly thins them to ~7.
        xaxis={"type": "category", "gridcolor": "#e6eaef", "nticks": 7, "tickangle": 0},
        **extra,
    )
    return figure


def _all_types(flow: pd.DataFrame) -> pd.DataFrame:
    return flow[flow["item_type"] == "All"]


def _days(seconds: pd.Series) -> pd.Series:
    return (seconds.astype(float) / SECONDS_PER_DAY).round(1)


def _percent(fraction: pd.Series) -> pd.Series:
    return (fraction.astype(float) * 100).round(1)


def flow_velocity_chart(flow: pd.DataFrame) -> go.Figure:
    """Items done per window, stacked by flow-item type."""
    figure = go.Figure()
    by_type = flow[flow["item_type"] != "All"]
    labels = list(dict.fromkeys(flow["label"]))
    for item_type in [*ITEM_TYPES, *sorted(set(by_type["item_type"]) - set(ITEM_TYPES))]:
        rows = by_type[by_type["item_type"] == item_type].set_index("label")["velocity"]
        if rows.empty or not rows.any():
            continue
        figure.add_trace(
            go.Bar(
                name=item_type,
                x=labels,
                y=rows.reindex(labels, fill_value=0).tolist(),
                marker_color=TYPE_COLOURS.get(item_type, "#9aa5b1"),
            )
        )
    return _layout(figure, y_title="items done", barmode="stack")


def flow_velocity_table(flow: pd.DataFrame) -> pd.DataFrame:
    """Window × type table of items done, with the total."""
    table = flow.pivot_table(
        index="label", columns="item_type", values="velocity", aggfunc="sum", sort=False
    )
    columns = [t for t in ITEM_TYPES if t in table.columns]
    columns += [c for c in table.columns if c not in columns and c != "All"]
    table = table.reindex(columns=[*columns, "All"]).fillna(0).astype(int)
    return table.rename(columns={"All": "Total"}).reset_index().rename(columns={"label": "Period"})


def flow_time_chart(flow: pd.DataFrame) -> go.Figure:
    """Flow time percentiles (p50, p85, p95) of the items done per window, in days."""
    rows = _all_types(flow)
    figure = go.Figure()
    for name in ("p50", "p85", "p95"):
        figure.add_trace(
            go.Scatter(
                name=name,
                x=rows["label"].tolist(),
                y=_days(rows[f"flow_time_{name}_s"]).tolist(),
                mode="lines+markers",
                line={"color": PERCENTILE_COLOURS[name], "width": 3 if name == "p85" else 2},
                connectgaps=False,
            )
        )
    return _layout(figure, y_title="days")


def flow_time_table(flow: pd.DataFrame) -> pd.DataFrame:
    rows = _all_types(flow)
    return pd.DataFrame(
        {
            "Period": rows["label"],
            "Items done": rows["velocity"].astype(int),
            "p50 (days)": _days(rows["flow_time_p50_s"]),
            "p85 (days)": _days(rows["flow_time_p85_s"]),
            "p95 (days)": _days(rows["flow_time_p95_s"]),
        }
    )


def flow_efficiency_chart(flow: pd.DataFrame) -> go.Figure:
    """Flow efficiency (active ÷ flow time) of the items done per window, in percent."""
    rows = _all_types(flow)
    figure = go.Figure(
        go.Scatter(
            name="efficiency",
            x=rows["label"].tolist(),
            y=_percent(rows["flow_efficiency"]).tolist(),
            mode="lines+markers",
            line={"color": "#2e7d32", "width": 3},
            fill="tozeroy",
            fillcolor="rgba(46,125,50,0.12)",
        )
    )
    figure = _layout(figure, y_title="% of flow time active", showlegend=False)
    figure.update_yaxes(range=[0, 100])
    return figure


def flow_efficiency_table(flow: pd.DataFrame) -> pd.DataFrame:
    rows = _all_types(flow)
    return pd.DataFrame(
        {
            "Period": rows["label"],
            "Items done": rows["velocity"].astype(int),
            "Efficiency (%)": _percent(rows["flow_efficiency"]),
        }
    )


def flow_load_chart(flow: pd.DataFrame) -> go.Figure:
    """Work in progress: the mean of each window's days (bars) and the load at its end (line)."""
    rows = _all_types(flow)
    figure = go.Figure(
        [
            go.Bar(
                name="mean",
                x=rows["label"].tolist(),
                y=rows["load_mean"].astype(float).round(1).tolist(),
                marker_color="#9cc3e4",
            ),
            go.Scatter(
                name="at period end",
                x=rows["label"].tolist(),
                y=rows["load_end"].astype(float).tolist(),
                mode="lines+markers",
                line={"color": "#1f4e79", "width": 2},
            ),
        ]
    )
    return _layout(figure, y_title="items in progress")


def flow_load_table(flow: pd.DataFrame) -> pd.DataFrame:
    rows = _all_types(flow)
    return pd.DataFrame(
        {
            "Period": rows["label"],
            "Mean load": rows["load_mean"].astype(float).round(1),
            "Load at end": rows["load_end"],
        }
    )


def flow_distribution_chart(distribution: pd.DataFrame) -> go.Figure:
    """Share of each type among items done, next to the value stream's target allocation."""
    types = distribution["item_type"].tolist()
    figure = go.Figure(
        go.Bar(
            name="done",
            x=types,
            y=_percent(distribution["share"]).tolist(),
            marker_color=[TYPE_COLOURS.get(t, "#9aa5b1") for t in types],
            text=[f"{v:.0f} %" for v in _percent(distribution["share"]).fillna(0)],
            textposition="outside",
        )
    )
    if distribution["target"].notna().any():
        figure.add_trace(
            go.Bar(
                name="target",
                x=types,
                y=_percent(distribution["target"]).tolist(),
                marker={"color": "rgba(0,0,0,0)", "line": {"color": "#1c2430", "width": 2}},
            )
        )
    figure = _layout(figure, y_title="% of items done", barmode="group")
    figure.update_layout(hovermode="closest")
    return figure


def flow_distribution_table(distribution: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "Type": distribution["item_type"],
            "Items done": distribution["done"].astype(int),
            "Share (%)": _percent(distribution["share"]),
            "Target (%)": _percent(distribution["target"]),
        }
    )


def time_in_status_chart(status_times: pd.DataFrame) -> go.Figure:
    """Where work waits: days spent in each source status, largest at the top, by flow state."""
    rows = status_times.sort_values("time_s", ascending=True)
    figure = go.Figure(
        go.Bar(
            orientation="h",
            x=_days(rows["time_s"]).tolist(),
            y=rows["status"].tolist(),
            marker_color=[STATE_COLOURS.get(s, "#9aa5b1") for s in rows["flow_state"]],
            customdata=list(zip(rows["flow_state"], _percent(rows["share"]), strict=True)),
            hovertemplate="%{y}: %{x} days (%{customdata[1]} %, %{customdata[0]})<extra></extra>",
        )
    )
    figure.update_layout(
        showlegend=False,
        margin={"t": 16, "r": 16, "b": 44, "l": 170},
        xaxis={"title": {"text": "days, summed over items done"}, "gridcolor": "#e6eaef"},
        yaxis={"automargin": True},
    )
    return figure


def time_in_status_table(status_times: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "Status": status_times["status"],
            "Flow state": status_times["flow_state"],
            "Items": status_times["items"].astype(int),
            "Days": _days(status_times["time_s"]),
            "Share (%)": _percent(status_times["share"]),
        }
    )


def team_breakdown_chart(team_velocity: pd.DataFrame) -> go.Figure:
    """Items done per window, stacked by team: who carries the value stream's flow."""
    labels = list(dict.fromkeys(team_velocity["label"]))
    figure = go.Figure()
    for n, (team, rows) in enumerate(team_velocity.groupby("team", sort=True)):
        values = rows.set_index("label")["velocity"].reindex(labels, fill_value=0)
        figure.add_trace(
            go.Bar(
                name=str(team),
                x=labels,
                y=values.astype(int).tolist(),
                marker_color=TEAM_PALETTE[n % len(TEAM_PALETTE)],
            )
        )
    return _layout(figure, y_title="items done", barmode="stack")


def team_breakdown_table(team_velocity: pd.DataFrame) -> pd.DataFrame:
    table = team_velocity.pivot_table(
        index="label", columns="team", values="velocity", aggfunc="sum", sort=False
    )
    return table.fillna(0).astype(int).reset_index().rename(columns={"label": "Period"})
