"""Pure Plotly figures for the executive investment page: mix tables in, figures out."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

COLOURS = {"Run": "#1f4e79", "Grow": "#2a7ab8", "Transform": "#6a4c93"}
TOP_LEGEND = {"orientation": "h", "y": 1.14, "x": 0}
OUTCOME_COLOURS = {
    "Held": "#2e7d32",
    "Partly held": "#b26a00",
    "Did not hold": "#b3261e",
    "Too early to tell": "#5d6b7c",
    "Not reviewed": "#9aa7b4",
}


def stream_team_chart(mix: pd.DataFrame) -> go.Figure:
    """Sunburst: the portfolio → value streams → teams, sized by money."""
    streams = mix.groupby("value_stream", as_index=False)["amount"].sum()
    ids = ["Portfolio", *[f"vs:{name}" for name in streams["value_stream"]]]
    labels = ["Portfolio", *streams["value_stream"].tolist()]
    parents = ["", *["Portfolio"] * len(streams)]
    values = [float(streams["amount"].sum()), *streams["amount"].astype(float).tolist()]
    for row in mix.itertuples():
        ids.append(f"team:{row.value_stream}:{row.team}")
        labels.append(row.team)
        parents.append(f"vs:{row.value_stream}")
        values.append(float(row.amount))
    figure = go.Figure(
        go.Sunburst(
            ids=ids,
            labels=labels,
            parents=parents,
            values=values,
            branchvalues="total",
            hovertemplate="%{label}: %{value:,.0f}<extra></extra>",
        )
    )
    figure.update_layout(margin={"t": 8, "r": 8, "b": 8, "l": 8})
    return figure


def share_bar_chart(frame: pd.DataFrame, label: str) -> go.Figure:
    """Horizontal bars of money per `label` (theme or horizon) with their shares."""
    colours = [COLOURS.get(name, "#2a7ab8") for name in frame[label]]
    figure = go.Figure(
        go.Bar(
            x=frame["amount"].tolist(),
            y=frame[label].tolist(),
            orientation="h",
            marker_color=colours,
            text=[f"{share:.0%}" for share in frame["share"].tolist()],
            textposition="auto",
            hovertemplate="%{y}: %{x:,.0f}<extra></extra>",
        )
    )
    figure.update_layout(yaxis={"autorange": "reversed"}, xaxis={"tickformat": ",.0f"})
    return figure


def work_type_chart(frame: pd.DataFrame) -> go.Figure:
    """Planned allocation by work type beside the share of completed items (when flow data exists)."""
    figure = go.Figure(
        go.Bar(
            name="Planned allocation",
            x=frame["item_type"].tolist(),
            y=frame["planned"].tolist(),
            marker_color="#1f4e79",
        )
    )
    if frame["completed"].notna().any():
        figure.add_trace(
            go.Bar(
                name="Completed work",
                x=frame["item_type"].tolist(),
                y=frame["completed"].tolist(),
                marker_color="#b26a00",
            )
        )
    figure.update_layout(barmode="group", yaxis={"tickformat": ".0%"}, legend=TOP_LEGEND)
    return figure


def budget_actual_chart(frame: pd.DataFrame) -> go.Figure:
    """Budget and actual spend per value stream."""
    figure = go.Figure(
        [
            go.Bar(
                name="Budget",
                x=frame["value_stream"].tolist(),
                y=frame["budget"].tolist(),
                marker_color="#2a7ab8",
            ),
            go.Bar(
                name="Actual",
                x=frame["value_stream"].tolist(),
                y=frame["actual"].tolist(),
                marker_color="#5d6b7c",
            ),
        ]
    )
    figure.update_layout(
        barmode="group", yaxis={"tickformat": ",.0f"}, xaxis={"automargin": True}, legend=TOP_LEGEND
    )
    return figure


def periods_chart(frame: pd.DataFrame) -> go.Figure:
    """Stacked money per horizon over the periods."""
    figure = go.Figure(
        [
            go.Bar(
                name=name,
                x=frame["period"].tolist(),
                y=frame[name].tolist(),
                marker_color=COLOURS[name],
            )
            for name in ("Run", "Grow", "Transform")
        ]
    )
    figure.update_layout(barmode="stack", yaxis={"tickformat": ",.0f"}, legend=TOP_LEGEND)
    return figure


def decision_timeline_chart(frame: pd.DataFrame) -> go.Figure:
    """Decisions as points in time per value stream, coloured by review outcome.

    `frame`: decided_at, value_stream, kind, change, outcome.
    """
    figure = go.Figure()
    for outcome, colour in OUTCOME_COLOURS.items():
        part = frame[frame["outcome"] == outcome]
        if part.empty:
            continue
        figure.add_trace(
            go.Scatter(
                name=outcome,
                x=part["decided_at"].tolist(),
                y=part["value_stream"].tolist(),
                mode="markers",
                marker={"size": 13, "color": colour, "line": {"width": 1, "color": "#fff"}},
                text=(part["kind"] + " · " + part["change"].map("{:+,.0f}".format)).tolist(),
                hovertemplate="%{y}<br>%{x|%d %b %Y}<br>%{text}<extra></extra>",
            )
        )
    figure.update_layout(legend=TOP_LEGEND, yaxis={"automargin": True})
    return figure


PLAN_COLOUR, SCENARIO_COLOUR = "#5d6b7c", "#2a7ab8"


def scenario_streams_chart(frame: pd.DataFrame) -> go.Figure:
    """Each value stream's money in the plan beside the scenario (`frame`: value_stream, plan,
    scenario, change)."""
    figure = go.Figure(
        [
            go.Bar(
                name="Plan",
                x=frame["value_stream"].tolist(),
                y=frame["plan"].tolist(),
                marker_color=PLAN_COLOUR,
            ),
            go.Bar(
                name="Scenario",
                x=frame["value_stream"].tolist(),
                y=frame["scenario"].tolist(),
                marker_color=SCENARIO_COLOUR,
                text=[f"{change:+,.0f}" if change else "" for change in frame["change"].tolist()],
                textposition="outside",
            ),
        ]
    )
    figure.update_layout(
        barmode="group", yaxis={"tickformat": ",.0f"}, xaxis={"automargin": True}, legend=TOP_LEGEND
    )
    return figure


def scenario_horizons_chart(frame: pd.DataFrame) -> go.Figure:
    """Money per horizon, plan beside scenario (`frame`: horizon, plan, scenario; the Total row is
    left out of the bars)."""
    horizons = frame[frame["horizon"] != "Total"]
    figure = go.Figure(
        [
            go.Bar(
                name=side.title(),
                x=horizons["horizon"].tolist(),
                y=horizons[side].tolist(),
                marker_color=colour,
            )
            for side, colour in (("plan", PLAN_COLOUR), ("scenario", SCENARIO_COLOUR))
        ]
    )
    figure.update_layout(barmode="group", yaxis={"tickformat": ",.0f"}, legend=TOP_LEGEND)
    return figure
