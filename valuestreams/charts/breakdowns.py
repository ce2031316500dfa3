"""How the work done splits: by flow-item type against the target (flow distribution), by status
(where work waits) and by team (velocity by team).

Input frames:

- ``distribution``: ``item_type``, ``done`` (items), ``share`` and ``target`` (0–1, target may
  be NaN).
- ``status_times``: ``status``, ``flow_state``, ``items``, ``time_s``, ``share``.
- ``team_velocity``: ``team``, ``label``, ``velocity`` (item type "All"), optionally ``complete``.
"""

from __future__ import annotations

import pandas as pd

from portfolio import formatting
from portfolio.charting import Figure, figure
from valuestreams.charts import axes
from valuestreams.charts.axes import GRID, RECENT_PERIODS, TYPE_COLOURS, grain_of

STATE_COLOURS = {
    "new": "#9aa5b1",
    "waiting": "#d68910",
    "active": "#2e7d32",
    "done": "#1f4e79",
    "canceled": "#5d6b7c",
}
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


# --- flow distribution ------------------------------------------------------------------------


def flow_distribution_chart(distribution: pd.DataFrame) -> Figure:
    """Share of each type among items done, next to the value stream's target allocation.

    The labels are whole percentages that add up to 100.
    """
    types = distribution["item_type"].tolist()
    shares = axes.percent(distribution["share"])
    labels = formatting.whole_percents(distribution["share"].tolist())
    traces = [
        {
            "type": "bar",
            "name": "done",
            "x": types,
            "y": shares.tolist(),
            "marker": {"color": [TYPE_COLOURS.get(t, "#9aa5b1") for t in types]},
            "text": [formatting.percent(v) for v in labels],
            "textposition": "outside",
            "cliponaxis": False,
            "hovertemplate": "%{x}: %{y} % of items done<extra></extra>",
        }
    ]
    if distribution["target"].notna().any():
        traces.append(
            {
                "type": "bar",
                "name": "target",
                "x": types,
                "y": axes.percent(distribution["target"]).tolist(),
                "marker": {"color": "rgba(0,0,0,0)", "line": {"color": "#1c2430", "width": 2}},
                "hovertemplate": "%{x}: target %{y} %<extra></extra>",
            }
        )
    layout = axes.layout([], y_title="% of items done", barmode="group", hovermode="closest")
    layout["xaxis"] = {"type": "category", "gridcolor": GRID}
    return figure(traces, layout)


def flow_distribution_table(distribution: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "Type": distribution["item_type"],
            "Items done": distribution["done"].astype(int),
            "Share (%)": axes.percent(distribution["share"]),
            "Target (%)": axes.percent(distribution["target"]),
        }
    )


def flow_distribution_finding(distribution: pd.DataFrame, *, recent: str) -> str:
    """The type furthest from its target ("Debt: 5 % of the items done in the last 13 weeks,
    against a 20 % target"), or the largest type when there is no target."""
    rows = distribution.dropna(subset=["share"])
    if rows.empty or not rows["done"].astype(float).any():
        return ""
    with_target = rows.dropna(subset=["target"])
    if not with_target.empty:
        gaps = (with_target["share"].astype(float) - with_target["target"].astype(float)).abs()
        row = with_target.loc[gaps.idxmax()]
        return (
            f"{row['item_type']}: {formatting.share(row['share'])} of the items done in the "
            f"{recent}, against a {formatting.share(row['target'])} target"
        )
    row = rows.loc[rows["share"].astype(float).idxmax()]
    return f"{row['item_type']}: {formatting.share(row['share'])} of the items done in the {recent}"


# --- where work waits -------------------------------------------------------------------------


def time_in_status_chart(status_times: pd.DataFrame) -> Figure:
    """Where work waits: days spent in each source status, largest at the top, by flow state."""
    rows = status_times.sort_values("time_s", ascending=True)
    trace = {
        "type": "bar",
        "orientation": "h",
        "x": axes.days(rows["time_s"]).tolist(),
        "y": rows["status"].tolist(),
        "marker": {"color": [STATE_COLOURS.get(s, "#9aa5b1") for s in rows["flow_state"]]},
        "customdata": [
            [state, share]
            for state, share in zip(rows["flow_state"], axes.percent(rows["share"]), strict=True)
        ],
        "hovertemplate": "%{y}: %{x} days (%{customdata[1]} %, %{customdata[0]})<extra></extra>",
    }
    layout = {
        "showlegend": False,
        "margin": {"t": 16, "r": 16, "b": 44, "l": 16},
        "xaxis": {"title": {"text": "days, summed over the items done"}, "gridcolor": GRID},
        "yaxis": {"automargin": True},
    }
    return figure([trace], layout)


def time_in_status_table(status_times: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "Status": status_times["status"],
            "Flow state": status_times["flow_state"],
            "Items": status_times["items"].astype(int),
            "Days": axes.days(status_times["time_s"]),
            "Share (%)": axes.percent(status_times["share"]),
        }
    )


def time_in_status_finding(status_times: pd.DataFrame, *, recent: str) -> str:
    """ "Most time waits in In Review: 31 % of the time of the items done in the last 13 weeks"."""
    rows = status_times[status_times["flow_state"] == "waiting"]
    if rows.empty or not rows["time_s"].astype(float).any():
        return ""
    row = rows.loc[rows["time_s"].astype(float).idxmax()]
    return (
        f"Work waits longest in “{row['status']}”: {formatting.share(row['share'])} of the time "
        f"of the items done in the {recent}"
    )


# --- velocity by team -------------------------------------------------------------------------


def team_breakdown_chart(team_velocity: pd.DataFrame) -> Figure:
    """Items done per window, stacked by team: who carries the value stream's flow."""
    labels = list(dict.fromkeys(team_velocity["label"]))
    windows = team_velocity.drop_duplicates("label")
    opacity = dict(zip(windows["label"], axes.opacity(windows), strict=True))
    wide = axes.velocity_grid(team_velocity, "team", labels)
    x = axes.x_dates(labels)
    traces = [
        {
            "type": "bar",
            "name": str(team),
            "x": x,
            "y": wide[team].tolist(),
            "marker": {
                "color": TEAM_PALETTE[n % len(TEAM_PALETTE)],
                "opacity": [opacity.get(label, 1.0) for label in labels],
            },
        }
        for n, team in enumerate(sorted(wide.columns, key=str))
    ]
    return figure(traces, axes.layout(labels, y_title="items done", barmode="stack"))


def team_breakdown_table(team_velocity: pd.DataFrame) -> pd.DataFrame:
    labels = list(dict.fromkeys(team_velocity["label"]))
    teams = list(dict.fromkeys(team_velocity["team"]))
    table = (
        axes.velocity_grid(team_velocity, "team", labels)
        .reindex(columns=teams)
        .reset_index(drop=True)
    )
    name, periods = axes.period_column(pd.Series(labels))
    table.insert(0, name, periods)
    return table.rename_axis(columns=None)


def team_breakdown_finding(team_velocity: pd.DataFrame) -> str:
    """ "Instant Payments did 46 % of the items done over the last 13 weeks"."""
    if team_velocity.empty:
        return ""
    rows = axes.complete_rows(team_velocity)
    grain = grain_of(rows["label"])
    recent = list(dict.fromkeys(rows["label"]))[-RECENT_PERIODS[grain] :]
    done = rows[rows["label"].isin(recent)].groupby("team")["velocity"].sum()
    if done.empty or not done.sum():
        return ""
    team = done.idxmax()
    return (
        f"{team} did {formatting.share(done[team] / done.sum())} of the items done over the "
        f"last {len(recent)} {grain}s"
    )
