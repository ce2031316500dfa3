"""The flow sections other pages show: the flow part of the value-stream page and of the team page
(chart panels built from a published run's dashboard, once per run and process), and the table
behind each chart for its CSV download."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import pandas as pd
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from portfolio.charting import Figure, chart_panel
from portfolio.sections import KeptSections
from teams.models import ProductTeam
from valuestreams.charts.breakdowns import (
    flow_distribution_chart,
    flow_distribution_finding,
    flow_distribution_table,
    team_breakdown_chart,
    team_breakdown_finding,
    team_breakdown_table,
    time_in_status_chart,
    time_in_status_finding,
    time_in_status_table,
)
from valuestreams.charts.dora import (
    dora_trend_chart,
    dora_trend_finding,
    dora_trend_table,
)
from valuestreams.charts.flow import (
    flow_efficiency_chart,
    flow_efficiency_finding,
    flow_efficiency_table,
    flow_load_chart,
    flow_load_finding,
    flow_load_table,
    flow_time_chart,
    flow_time_finding,
    flow_time_table,
    flow_velocity_chart,
    flow_velocity_finding,
    flow_velocity_table,
)
from valuestreams.models import ValueStream
from valuestreams.selectors.dashboard import (
    FlowDashboard,
    latest_run,
    parse_grain,
    team_dashboard,
    value_stream_dashboard,
)
from valuestreams.selectors.recompute_state import recompute_failure


@dataclass(frozen=True)
class FlowChart:
    """One chart of a flow dashboard: its title, the frame it draws, how, and what it finds."""

    title: str
    note: str
    frame: str  # attribute of FlowDashboard
    figure: Callable[[pd.DataFrame], Figure]
    table: Callable[[pd.DataFrame], pd.DataFrame]
    finding: Callable[[pd.DataFrame, str], str]  # (frame, the recent span's name)


RUNNING = " The {grain} still running is drawn lighter."
CHARTS: dict[str, FlowChart] = {
    "velocity": FlowChart(
        "Flow velocity",
        "Items done per {grain}, by type." + RUNNING,
        "flow",
        flow_velocity_chart,
        flow_velocity_table,
        lambda frame, recent: flow_velocity_finding(frame),
    ),
    "flow-time": FlowChart(
        "Flow time",
        "Days from start to done of the items done per {grain}: half of them took p50 or less, "
        "85 % p85, 95 % p95.",
        "flow",
        flow_time_chart,
        flow_time_table,
        lambda frame, recent: flow_time_finding(frame),
    ),
    "efficiency": FlowChart(
        "Flow efficiency",
        "Share of flow time spent actively worked on, per {grain}.",
        "flow",
        flow_efficiency_chart,
        flow_efficiency_table,
        lambda frame, recent: flow_efficiency_finding(frame),
    ),
    "load": FlowChart(
        "Flow load",
        "Items started and not yet done (work in progress), per {grain}." + RUNNING,
        "flow",
        flow_load_chart,
        flow_load_table,
        lambda frame, recent: flow_load_finding(frame),
    ),
    "distribution": FlowChart(
        "Flow distribution",
        "Items done by type in the {recent}{target}.",
        "distribution",
        flow_distribution_chart,
        flow_distribution_table,
        lambda frame, recent: flow_distribution_finding(frame, recent=recent),
    ),
    "time-in-status": FlowChart(
        "Where work waits",
        "Time the items done in the {recent} spent in each status "
        "(green: worked on, amber: waiting).",
        "status_times",
        time_in_status_chart,
        time_in_status_table,
        lambda frame, recent: time_in_status_finding(frame, recent=recent),
    ),
    "teams": FlowChart(
        "Velocity by team",
        "Items done per {grain}, by team." + RUNNING,
        "team_velocity",
        team_breakdown_chart,
        team_breakdown_table,
        lambda frame, recent: team_breakdown_finding(frame),
    ),
    "dora": FlowChart(
        "DORA metrics over the last twelve months",
        "Each complete month against the {benchmark} tiers: the bands behind the lines are the "
        "tiers (green elite, teal high, amber medium, red low), each point is coloured by the "
        "tier its month reached. Lead time and recovery time are on log scales.",
        "dora_months",
        dora_trend_chart,
        dora_trend_table,
        lambda frame, recent: dora_trend_finding(frame),
    ),
}
TEAM_CHARTS = ("velocity", "flow-time", "efficiency", "load", "dora")


def flow_panels(
    dashboard: FlowDashboard, names: tuple[str, ...], csv_url: Callable[[str], str], prefix: str
) -> list[dict[str, Any]]:
    """`chart_panel` dicts for the named charts of a dashboard, each with its CSV link and its
    markup (`html`: `_partials/chart.html` rendered once, as pages show the panels of a published
    run many times)."""
    has_target = dashboard.distribution["target"].notna().any()
    target = ", against the target allocation" if has_target else " (no target allocation set)"
    benchmark = dashboard.dora[0].benchmark_name if dashboard.dora else ""
    panels = []
    for name in names:
        spec = CHARTS[name]
        frame = getattr(dashboard, spec.frame)
        empty = frame.empty
        panels.append(
            chart_panel(
                f"{prefix}-{name}",
                spec.title,
                {} if empty else spec.figure(frame),
                pd.DataFrame() if empty else spec.table(frame),
                csv_url=csv_url(name),
                finding="" if empty else spec.finding(frame, dashboard.recent_text),
                note=spec.note.format(
                    grain=dashboard.grain,
                    recent=dashboard.recent_text,
                    target=target,
                    benchmark=benchmark,
                ),
            )
        )
    for panel in panels:
        panel["html"] = render_to_string("_partials/chart.html", {"chart": panel})
    return panels


# The flow part of value-stream and team pages for the runs published last, per process. A
# dashboard and its chart panels are a pure function of a published run (a recompute that changes
# any row publishes a new run), the scope, the grain and the names of the teams; so a process
# builds them once per run, and a page view then costs two queries (the latest run, whether a
# recompute failed since) and its rendering. The least recently used go first.
PUBLISHED = KeptSections()
_FOREVER = dt.datetime.max.replace(tzinfo=dt.UTC)  # a run's flow part ends with the run


def _published(key: tuple, run, build) -> tuple[FlowDashboard, dict[str, Any]]:
    """`build()` for the `run`, from this process's copy when it built it already; the
    recompute failure is read fresh each time (it is not part of a run)."""
    if run is None:
        return build()
    key = (*key, run.pk, run.computed_at)
    found, kept = PUBLISHED.get(key, timezone.now())
    if not found:  # built just now, with the failure
        dashboard, panels = build()
        PUBLISHED.put(key, (dashboard, panels), _FOREVER)
        return dashboard, panels
    dashboard, panels = kept
    return replace(dashboard, recompute_failure=recompute_failure(run.portfolio_id)), panels


def _grain_query(grain: str) -> str:
    return f"?grain={grain}"


def value_stream_flow_section(value_stream: ValueStream, teams: list, grain: str | None) -> dict:
    """Context for the flow part of the value-stream page."""
    grain = parse_grain(grain)
    run = latest_run(value_stream.portfolio_id)

    def build() -> tuple[FlowDashboard, dict[str, Any]]:
        dashboard = value_stream_dashboard(value_stream, teams=teams, grain=grain, run=run)

        def csv_url(name: str) -> str:
            url = reverse("value-stream-flow-csv", kwargs={"pk": value_stream.pk, "chart": name})
            return url + _grain_query(dashboard.grain)

        main = ("velocity", "flow-time", "efficiency", "load", "distribution", "teams")
        waits, dora = flow_panels(dashboard, ("time-in-status", "dora"), csv_url, "vs")
        panels = {
            "flow_panels": flow_panels(dashboard, main, csv_url, "vs"),
            "waits_panel": waits,
            "dora_panel": dora,
        }
        return dashboard, panels

    names = tuple((team.pk, team.name) for team in teams)
    dashboard, panels = _published(("value_stream", value_stream.pk, grain, names), run, build)
    return {
        "flow": dashboard,
        **panels,
        "grains": [("week", "Weekly"), ("month", "Monthly")],
    }


def team_flow_section(team: ProductTeam, grain: str | None = None) -> dict:
    """Context for `valuestreams/_team_flow.html` on the team page (four queries)."""
    grain = parse_grain(grain)
    run = latest_run(team.value_stream.portfolio_id)

    def build() -> tuple[FlowDashboard, dict[str, Any]]:
        dashboard = team_dashboard(team, grain=grain, run=run)

        def csv_url(name: str) -> str:
            url = reverse("team-flow-csv", kwargs={"pk": team.pk, "chart": name})
            return url + _grain_query(dashboard.grain)

        *panels, dora = flow_panels(dashboard, TEAM_CHARTS, csv_url, "team")
        return dashboard, {"team_flow_panels": panels, "team_dora_panel": dora}

    dashboard, panels = _published(("team", team.pk, grain), run, build)
    return {
        "team_flow": dashboard,
        **panels,
        "team_flow_grains": [("week", "Weekly"), ("month", "Monthly")],
    }


def chart_table(dashboard: FlowDashboard, chart: str) -> pd.DataFrame:
    """The numbers behind one chart of a dashboard (one column "no data yet" when it has none)."""
    spec = CHARTS[chart]
    frame = getattr(dashboard, spec.frame)
    return spec.table(frame) if not frame.empty else pd.DataFrame(columns=["no data yet"])
