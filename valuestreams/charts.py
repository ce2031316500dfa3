"""Flow and DORA charts: pure functions from metric frames to plain figures and their tables.

No Django, no data fetching. Each `<metric>_chart` takes the frame the dashboard selectors build
and returns a plain figure (``{"data": [...], "layout": {...}}``, see `portfolio.charting`); each
`<metric>_table` returns the same numbers as a table (the chart's "numbers behind it" and its
CSV); each `<metric>_finding` says in one line what the chart shows, with its unit. Periods are
drawn as dates (a week by its Monday, a month by its first day), times arrive in seconds and are
shown in days, fractions arrive as 0–1 and are shown in percent.

Input frames:

- ``flow``: one row per window × item type ("All" for every type), ordered by window, columns
  ``label`` ("2026-W06" or "2026-02"), ``item_type``, ``velocity``, ``flow_time_p50_s``,
  ``flow_time_p85_s``, ``flow_time_p95_s``, ``flow_efficiency``, ``load_mean``, ``load_end``,
  and optionally ``complete`` (False for the window still running at the as-of time).
- ``distribution``: ``item_type``, ``done`` (items), ``share`` and ``target`` (0–1, target may
  be NaN).
- ``status_times``: ``status``, ``flow_state``, ``items``, ``time_s``, ``share``.
- ``team_velocity``: ``team``, ``label``, ``velocity`` (item type "All"), optionally ``complete``.
- ``dora``: one row per month, ``label``, ``benchmark`` and the DORA measures and tiers of
  ``DoraMetric`` (``median_deployment_days_per_week``, ``median_lead_time_minutes``,
  ``change_failure_rate``, ``median_recovery_time_minutes``, ``*_tier``), optionally ``complete``.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import pandas as pd

from portfolio import formatting
from portfolio.charting import Figure, figure
from valuestreams.metrics.dora import load_benchmark
from valuestreams.metrics.flow_windows import label_start

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
TIER_COLOURS = {"elite": "#2e7d32", "high": "#138d90", "medium": "#b26a00", "low": "#b3261e"}
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


def _period_column(labels: pd.Series) -> tuple[str, list[Any]]:
    """The first column of a table: weeks as dates ("Week starting"), months as "Feb 2026"."""
    if grain_of(labels) == "week":
        return "Week starting", [period_start(label) for label in labels]
    return "Month", [formatting.month(period_start(label)) for label in labels]


def _x(labels: Iterable[str]) -> list[str]:
    return [period_start(label).isoformat() for label in labels]


def _running(rows: pd.DataFrame) -> list[bool]:
    """Per row: whether its window was still running at the as-of time."""
    if "complete" not in rows:
        return [False] * len(rows)
    return [not bool(value) for value in rows["complete"]]


def _complete(rows: pd.DataFrame) -> pd.DataFrame:
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


def _layout(labels: Iterable[str], *, y_title: str, **extra: Any) -> dict[str, Any]:
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


def _all_types(flow: pd.DataFrame) -> pd.DataFrame:
    return flow[flow["item_type"] == "All"]


def _days(seconds: pd.Series) -> pd.Series:
    return (seconds.astype(float) / SECONDS_PER_DAY).round(1)


def _percent(fraction: pd.Series) -> pd.Series:
    return (fraction.astype(float) * 100).round(1)


def _opacity(rows: pd.DataFrame) -> list[float]:
    return [RUNNING_OPACITY if running else 1.0 for running in _running(rows)]


# --- flow velocity ----------------------------------------------------------------------------


def _wide(rows: pd.DataFrame, columns: str, labels: list[str]) -> pd.DataFrame:
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


def flow_velocity_chart(flow: pd.DataFrame) -> Figure:
    """Items done per window, stacked by flow-item type (the running window drawn lighter)."""
    windows = _all_types(flow) if not _all_types(flow).empty else flow.drop_duplicates("label")
    labels = list(dict.fromkeys(flow["label"]))
    opacity = dict(zip(windows["label"], _opacity(windows), strict=True))
    wide = _wide(flow[flow["item_type"] != "All"], "item_type", labels)
    x = _x(labels)
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
    return figure(traces, _layout(labels, y_title="items done", barmode="stack"))


def flow_velocity_table(flow: pd.DataFrame) -> pd.DataFrame:
    """Window × type table of items done, with the total."""
    labels = list(dict.fromkeys(flow["label"]))
    table = _wide(flow, "item_type", labels)
    columns = [t for t in ITEM_TYPES if t in table.columns]
    columns += [c for c in table.columns if c not in columns and c != "All"]
    table = table.reindex(columns=[*columns, "All"]).fillna(0).astype(int)
    name, periods = _period_column(pd.Series(labels))
    table = table.rename(columns={"All": "Total"}).reset_index(drop=True)
    table.insert(0, name, periods)
    return table.rename_axis(columns=None)


def flow_velocity_finding(flow: pd.DataFrame) -> str:
    """ "42 items done in the week of 2 Feb 2026; 38 a week on average over the last 13 weeks"."""
    rows = _complete(_all_types(flow))
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
    rows = _all_types(flow)
    labels = rows["label"].tolist()
    traces = [
        {
            "type": "scatter",
            "name": name,
            "x": _x(labels),
            "y": _days(rows[f"flow_time_{name}_s"]).tolist(),
            "mode": "lines+markers",
            "line": {"color": PERCENTILE_COLOURS[name], "width": 3 if name == "p85" else 2},
            "connectgaps": False,
            "hovertemplate": "%{y} days",
        }
        for name in ("p50", "p85", "p95")
    ]
    return figure(traces, _layout(labels, y_title="days from start to done"))


def flow_time_table(flow: pd.DataFrame) -> pd.DataFrame:
    rows = _all_types(flow)
    name, periods = _period_column(rows["label"])
    return pd.DataFrame(
        {
            name: periods,
            "Items done": rows["velocity"].astype(int).to_numpy(),
            "p50 (days)": _days(rows["flow_time_p50_s"]).to_numpy(),
            "p85 (days)": _days(rows["flow_time_p85_s"]).to_numpy(),
            "p95 (days)": _days(rows["flow_time_p95_s"]).to_numpy(),
        }
    )


def flow_time_finding(flow: pd.DataFrame) -> str:
    """ "85 % of the items done in Feb 2026 took 9.5 days or less (half of them 3.1 days)"."""
    rows = _complete(_all_types(flow)).dropna(subset=["flow_time_p85_s"])
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
    rows = _all_types(flow)
    labels = rows["label"].tolist()
    trace = {
        "type": "scatter",
        "name": "efficiency",
        "x": _x(labels),
        "y": _percent(rows["flow_efficiency"]).tolist(),
        "mode": "lines+markers",
        "line": {"color": "#2e7d32", "width": 3},
        "fill": "tozeroy",
        "fillcolor": "rgba(46,125,50,0.12)",
        "hovertemplate": "%{y} % active",
    }
    layout = _layout(labels, y_title="% of flow time active", showlegend=False)
    layout["yaxis"]["range"] = [0, 100]
    return figure([trace], layout)


def flow_efficiency_table(flow: pd.DataFrame) -> pd.DataFrame:
    rows = _all_types(flow)
    name, periods = _period_column(rows["label"])
    return pd.DataFrame(
        {
            name: periods,
            "Items done": rows["velocity"].astype(int).to_numpy(),
            "Efficiency (%)": _percent(rows["flow_efficiency"]).to_numpy(),
        }
    )


def flow_efficiency_finding(flow: pd.DataFrame) -> str:
    """ "24 % of the flow time of the items done in Feb 2026 was active work"."""
    rows = _complete(_all_types(flow)).dropna(subset=["flow_efficiency"])
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
    rows = _all_types(flow)
    labels = rows["label"].tolist()
    traces = [
        {
            "type": "bar",
            "name": "mean over the period",
            "x": _x(labels),
            "y": rows["load_mean"].astype(float).round(1).tolist(),
            "marker": {"color": "#9cc3e4", "opacity": _opacity(rows)},
        },
        {
            "type": "scatter",
            "name": "at period end",
            "x": _x(labels),
            "y": rows["load_end"].astype(float).tolist(),
            "mode": "lines+markers",
            "line": {"color": "#1f4e79", "width": 2},
        },
    ]
    return figure(traces, _layout(labels, y_title="items in progress"))


def flow_load_table(flow: pd.DataFrame) -> pd.DataFrame:
    rows = _all_types(flow)
    name, periods = _period_column(rows["label"])
    return pd.DataFrame(
        {
            name: periods,
            "Mean load": rows["load_mean"].astype(float).round(1).to_numpy(),
            "Load at end": rows["load_end"].to_numpy(),
        }
    )


def flow_load_finding(flow: pd.DataFrame) -> str:
    """ "61 items in progress at the end of Feb 2026, up 12 on 3 months before"."""
    rows = _complete(_all_types(flow)).dropna(subset=["load_end"])
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


# --- flow distribution ------------------------------------------------------------------------


def flow_distribution_chart(distribution: pd.DataFrame) -> Figure:
    """Share of each type among items done, next to the value stream's target allocation.

    The labels are whole percentages that add up to 100.
    """
    types = distribution["item_type"].tolist()
    shares = _percent(distribution["share"])
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
                "y": _percent(distribution["target"]).tolist(),
                "marker": {"color": "rgba(0,0,0,0)", "line": {"color": "#1c2430", "width": 2}},
                "hovertemplate": "%{x}: target %{y} %<extra></extra>",
            }
        )
    layout = _layout([], y_title="% of items done", barmode="group", hovermode="closest")
    layout["xaxis"] = {"type": "category", "gridcolor": GRID}
    return figure(traces, layout)


def flow_distribution_table(distribution: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "Type": distribution["item_type"],
            "Items done": distribution["done"].astype(int),
            "Share (%)": _percent(distribution["share"]),
            "Target (%)": _percent(distribution["target"]),
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
        "x": _days(rows["time_s"]).tolist(),
        "y": rows["status"].tolist(),
        "marker": {"color": [STATE_COLOURS.get(s, "#9aa5b1") for s in rows["flow_state"]]},
        "customdata": [
            [state, share]
            for state, share in zip(rows["flow_state"], _percent(rows["share"]), strict=True)
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
            "Days": _days(status_times["time_s"]),
            "Share (%)": _percent(status_times["share"]),
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
    opacity = dict(zip(windows["label"], _opacity(windows), strict=True))
    wide = _wide(team_velocity, "team", labels)
    x = _x(labels)
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
    return figure(traces, _layout(labels, y_title="items done", barmode="stack"))


def team_breakdown_table(team_velocity: pd.DataFrame) -> pd.DataFrame:
    labels = list(dict.fromkeys(team_velocity["label"]))
    teams = list(dict.fromkeys(team_velocity["team"]))
    table = _wide(team_velocity, "team", labels).reindex(columns=teams).reset_index(drop=True)
    name, periods = _period_column(pd.Series(labels))
    table.insert(0, name, periods)
    return table.rename_axis(columns=None)


def team_breakdown_finding(team_velocity: pd.DataFrame) -> str:
    """ "Instant Payments did 46 % of the items done over the last 13 weeks"."""
    if team_velocity.empty:
        return ""
    rows = _complete(team_velocity)
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


# --- DORA over the last months ----------------------------------------------------------------


@dataclass(frozen=True)
class DoraSeries:
    """One DORA metric as the trend chart draws it: which measure, in which unit, on which
    scale; `scales` turns each measure the benchmark's rules name into the plotted unit."""

    key: str
    name: str
    measure: str
    tier: str
    unit: str
    scales: dict[str, float]
    log: bool = False
    ticks: tuple[tuple[float, str], ...] = ()


DORA_SERIES = (
    DoraSeries(
        "deployment_frequency",
        "Deployment frequency",
        "median_deployment_days_per_week",
        "deployment_frequency_tier",
        "days a week with a deployment",
        # the low/medium line is once a month: 12 months over 52 weeks
        {"median_deployment_days_per_week": 1.0, "median_deployment_days_per_month": 12 / 52},
    ),
    DoraSeries(
        "lead_time_for_changes",
        "Lead time for changes",
        "median_lead_time_minutes",
        "lead_time_tier",
        "median, first commit to production",
        {"median_lead_time_minutes": 1 / 1440},
        log=True,
        ticks=((1 / 24, "1 h"), (1.0, "1 day"), (7.0, "1 week"), (30.0, "30 days")),
    ),
    DoraSeries(
        "change_failure_rate",
        "Change failure rate",
        "change_failure_rate",
        "change_failure_rate_tier",
        "% of deployments that failed",
        {"change_failure_rate": 100.0},
    ),
    DoraSeries(
        "failed_deployment_recovery_time",
        "Recovery time",
        "median_recovery_time_minutes",
        "recovery_time_tier",
        "median, failed deployment to recovery",
        {"median_recovery_time_minutes": 1 / 60},
        log=True,
        ticks=((1 / 6, "10 min"), (1.0, "1 h"), (24.0, "1 day"), (168.0, "1 week")),
    ),
)
_SERIES_UNIT = {
    "deployment_frequency": "days a week",
    "change_failure_rate": "%",
}


def tier_bands(rules: list[dict[str, Any]], scales: dict[str, float]) -> list[tuple]:
    """(tier, low, high) bands of a benchmark's tier rules in the plotted unit; None is open.

    The rules are tried in order (elite first); a rule ">= 5" after an elite ">= 7" gives the
    band [5, 7). Rules on another measure of the same metric are converted with `scales`.
    """
    bands = []
    higher_is_better = bool(rules) and rules[0]["op"] in (">=", ">")
    bounds = [float(rule["bound"]) * scales.get(rule["measure"], 1.0) for rule in rules]
    for index, rule in enumerate(rules):
        previous = bounds[index - 1] if index else None
        if higher_is_better:
            low = bounds[index] if rule["op"] in (">=", ">") else None
            bands.append((rule["tier"], low, previous))
        else:
            high = bounds[index] if rule["op"] in ("<", "<=") else None
            bands.append((rule["tier"], previous, high))
    return bands


def _dora_value_text(series: DoraSeries, value: Any) -> str:
    if value is None or pd.isna(value):
        return "—"
    if series.key == "deployment_frequency":
        return f"{formatting.measure(value, 1)} days a week"
    if series.key == "change_failure_rate":
        return formatting.share(value, 1)
    return formatting.duration(float(value) * 60)


def _axis_range(values: list[float], bands: list[tuple], log: bool) -> list[float]:
    finite = [b for _, low, high in bands for b in (low, high) if b is not None]
    shown = [v for v in values if v is not None and (v > 0 or not log)]
    if log:
        low = min([*(v / 1.6 for v in shown), *(b / 3 for b in finite if b > 0)], default=0.1)
        high = max([*(v * 1.6 for v in shown), *(b * 2 for b in finite)], default=10)
        return [math.log10(low), math.log10(high)]
    high = max([*(v * 1.15 for v in shown), *(b * 1.3 for b in finite)], default=1)
    return [0, high]


def dora_trend_chart(dora: pd.DataFrame) -> Figure:
    """The four DORA metrics month by month, one row each, over their benchmark's tier bands
    (green elite, teal high, amber medium, red low); each point coloured by the tier it got.
    Lead time and recovery time are on log scales (the tiers span minutes to weeks)."""
    rows = _complete(dora)
    labels = rows["label"].tolist()
    benchmark = _benchmark(rows)
    rules = load_benchmark(benchmark)["metrics"]
    count, gap = len(DORA_SERIES), 0.1
    height = (1 - gap * (count - 1)) / count
    traces, shapes, annotations = [], [], []
    layout: dict[str, Any] = {
        "showlegend": False,
        "hovermode": "closest",
        "margin": {"t": 44, "r": 16, "b": 36, "l": 64},
        "xaxis": {**date_axis(labels), "anchor": f"y{count}"},
    }
    for index, series in enumerate(DORA_SERIES):
        axis = "y" if index == 0 else f"y{index + 1}"
        top = 1 - index * (height + gap)
        scale = series.scales[series.measure]
        values = [
            None if value is None or pd.isna(value) else float(value) * scale
            for value in rows[series.measure]
        ]
        bands = tier_bands(rules.get(series.key, {}).get("tiers", []), series.scales)
        span = _axis_range(values, bands, series.log)
        yaxis: dict[str, Any] = {
            "domain": [max(top - height, 0), top],
            "anchor": "x",
            "range": span,
            "gridcolor": GRID,
            "zeroline": False,
            "automargin": True,
        }
        if series.log:
            yaxis["type"] = "log"
            yaxis["tickvals"] = [value for value, _ in series.ticks]
            yaxis["ticktext"] = [text for _, text in series.ticks]
        else:
            yaxis["title"] = {"text": _SERIES_UNIT.get(series.key, ""), "font": {"size": 12}}
        layout["yaxis" if index == 0 else f"yaxis{index + 1}"] = yaxis
        for tier, low, high in bands:
            y0 = span[0] if low is None else (math.log10(low) if series.log else low)
            y1 = span[1] if high is None else (math.log10(high) if series.log else high)
            y0, y1 = max(y0, span[0]), min(y1, span[1])
            if y1 <= y0:
                continue
            shapes.append(
                {
                    "type": "rect",
                    "layer": "below",
                    "xref": "paper",
                    "x0": 0,
                    "x1": 1,
                    "yref": axis,
                    # shapes on a log axis take data values (the range is in log10)
                    "y0": 10**y0 if series.log else y0,
                    "y1": 10**y1 if series.log else y1,
                    "fillcolor": TIER_COLOURS.get(tier, "#9aa5b1"),
                    "opacity": 0.1,
                    "line": {"width": 0},
                }
            )
            if (y1 - y0) / (span[1] - span[0]) >= 0.16:
                middle = (y0 + y1) / 2
                annotations.append(
                    {
                        "xref": "paper",
                        "x": 1,
                        "xanchor": "right",
                        "yref": axis,
                        "y": middle,  # annotations on a log axis take log10 values
                        "yanchor": "middle",
                        "text": tier,
                        "showarrow": False,
                        "font": {"size": 11, "color": TIER_COLOURS.get(tier, "#5d6b7c")},
                    }
                )
        annotations.append(
            {
                "xref": "paper",
                "x": 0,
                "xanchor": "left",
                "yref": "paper",
                "y": top,
                "yanchor": "bottom",
                # two lines: the unit stays readable on a phone's narrow chart
                "text": f"<b>{series.name}</b><br>{series.unit}",
                "align": "left",
                "showarrow": False,
                "font": {"size": 13},
            }
        )
        tiers = [str(tier) if tier else "no tier" for tier in rows[series.tier].fillna("")]
        traces.append(
            {
                "type": "scatter",
                "name": series.name,
                "xaxis": "x",
                "yaxis": axis,
                "x": _x(labels),
                "y": values,
                "mode": "lines+markers",
                "connectgaps": False,
                "line": {"color": "#1f4e79", "width": 2},
                "marker": {
                    "size": 9,
                    "color": [TIER_COLOURS.get(tier, "#9aa5b1") for tier in tiers],
                    "line": {"color": "#ffffff", "width": 1},
                },
                "customdata": [
                    [_dora_value_text(series, value), tier]
                    for value, tier in zip(rows[series.measure], tiers, strict=True)
                ],
                "hovertemplate": f"{series.name}, %{{x|%b %Y}}: %{{customdata[0]}} "
                "(%{customdata[1]})<extra></extra>",
            }
        )
    layout["shapes"] = shapes
    layout["annotations"] = annotations
    return figure(traces, layout)


def _benchmark(dora: pd.DataFrame) -> str:
    known = dora["benchmark"].dropna() if "benchmark" in dora else pd.Series(dtype=object)
    return str(known.iloc[-1]) if not known.empty else "dora-2023"


def dora_trend_table(dora: pd.DataFrame) -> pd.DataFrame:
    rows = _complete(dora)
    return pd.DataFrame(
        {
            "Month": [formatting.month(period_start(label)) for label in rows["label"]],
            "Deployment days a week": rows["median_deployment_days_per_week"].to_numpy(),
            "Deployment frequency tier": rows["deployment_frequency_tier"].to_numpy(),
            "Lead time (days)": (rows["median_lead_time_minutes"].astype(float) / 1440)
            .round(2)
            .to_numpy(),
            "Lead time tier": rows["lead_time_tier"].to_numpy(),
            "Change failure rate (%)": _percent(rows["change_failure_rate"]).to_numpy(),
            "Change failure rate tier": rows["change_failure_rate_tier"].to_numpy(),
            "Recovery time (hours)": (rows["median_recovery_time_minutes"].astype(float) / 60)
            .round(1)
            .to_numpy(),
            "Recovery time tier": rows["recovery_time_tier"].to_numpy(),
        }
    )


def dora_trend_finding(dora: pd.DataFrame) -> str:
    """The last complete month's tiers: "In Feb 2026: deployment frequency high, lead time
    elite, change failure rate elite, recovery time medium (DORA 2023 tiers)"."""
    rows = _complete(dora)
    if rows.empty:
        return ""
    last = rows.iloc[-1]
    parts = [
        f"{series.name.lower().replace(' for changes', '')} {last[series.tier] or 'without a tier'}"
        for series in DORA_SERIES
        if pd.notna(last[series.measure])
    ]
    if not parts:
        return ""
    version = _benchmark(rows).replace("dora-", "DORA ")
    return f"In {period_name(last['label'])}: {', '.join(parts)} ({version} tiers)"
