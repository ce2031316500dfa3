"""Flow dashboards on value-stream and team pages: chart panels, and the CSV of each chart."""

from __future__ import annotations

import csv
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pandas as pd
import plotly.graph_objects as go
from django.http import Http404, HttpRequest, HttpResponse
from django.urls import reverse
from django.utils.text import slugify
from django.views.decorators.http import require_safe

from portfolio.access import get_for_user
from portfolio.charting import chart_panel
from teams.models import ProductTeam
from valuestreams import charts
from valuestreams.importing.records import neutralise_cell
from valuestreams.models import ValueStream
from valuestreams.selectors.dashboard import (
    FlowDashboard,
    parse_grain,
    team_dashboard,
    value_stream_dashboard,
)


@dataclass(frozen=True)
class FlowChart:
    """One chart of a flow dashboard: its title, the frame it draws and how."""

    title: str
    note: str
    frame: str  # attribute of FlowDashboard
    figure: Callable[[pd.DataFrame], go.Figure]
    table: Callable[[pd.DataFrame], pd.DataFrame]


CHARTS: dict[str, FlowChart] = {
    "velocity": FlowChart(
        "Flow velocity",
        "Items done per {grain}, by type.",
        "flow",
        charts.flow_velocity_chart,
        charts.flow_velocity_table,
    ),
    "flow-time": FlowChart(
        "Flow time",
        "Days from start to done of the items done per {grain} (p50, p85, p95).",
        "flow",
        charts.flow_time_chart,
        charts.flow_time_table,
    ),
    "efficiency": FlowChart(
        "Flow efficiency",
        "Share of flow time spent actively worked on.",
        "flow",
        charts.flow_efficiency_chart,
        charts.flow_efficiency_table,
    ),
    "load": FlowChart(
        "Flow load",
        "Items started and not yet done (work in progress).",
        "flow",
        charts.flow_load_chart,
        charts.flow_load_table,
    ),
    "distribution": FlowChart(
        "Flow distribution",
        "Items done by type in the {recent}{target}.",
        "distribution",
        charts.flow_distribution_chart,
        charts.flow_distribution_table,
    ),
    "time-in-status": FlowChart(
        "Where work waits",
        "Time the items done in the {recent} spent in each status "
        "(green: worked on, amber: waiting).",
        "status_times",
        charts.time_in_status_chart,
        charts.time_in_status_table,
    ),
    "teams": FlowChart(
        "Velocity by team",
        "Items done per {grain}, by team.",
        "team_velocity",
        charts.team_breakdown_chart,
        charts.team_breakdown_table,
    ),
}
TEAM_CHARTS = ("velocity", "flow-time", "efficiency", "load")


def flow_panels(
    dashboard: FlowDashboard, names: tuple[str, ...], csv_url: Callable[[str], str], prefix: str
) -> list[dict[str, Any]]:
    """`chart_panel` dicts for the named charts of a dashboard, each with its CSV link."""
    has_target = dashboard.distribution["target"].notna().any()
    target = ", against the target allocation" if has_target else " (no target allocation set)"
    panels = []
    for name in names:
        spec = CHARTS[name]
        frame = getattr(dashboard, spec.frame)
        table = spec.table(frame) if not frame.empty else pd.DataFrame()
        panels.append(
            chart_panel(
                f"{prefix}-{name}",
                spec.title,
                spec.figure(frame) if not frame.empty else go.Figure(),
                table,
                csv_url=csv_url(name),
                note=spec.note.format(
                    grain=dashboard.grain, recent=dashboard.recent_text, target=target
                ),
            )
        )
    return panels


def _grain_query(grain: str) -> str:
    return f"?grain={grain}"


def value_stream_flow_context(value_stream: ValueStream, teams: list, grain: str | None) -> dict:
    """Context for the flow part of the value-stream page."""
    dashboard = value_stream_dashboard(value_stream, teams=teams, grain=grain)

    def csv_url(name: str) -> str:
        url = reverse("value-stream-flow-csv", kwargs={"pk": value_stream.pk, "chart": name})
        return url + _grain_query(dashboard.grain)

    main = ("velocity", "flow-time", "efficiency", "load", "distribution", "teams")
    return {
        "flow": dashboard,
        "flow_panels": flow_panels(dashboard, main, csv_url, "vs"),
        "waits_panel": flow_panels(dashboard, ("time-in-status",), csv_url, "vs")[0],
        "grains": [("week", "Weekly"), ("month", "Monthly")],
    }


def team_flow_context(team: ProductTeam, grain: str | None = None) -> dict:
    """Context for `valuestreams/_team_flow.html` on the team page (four queries)."""
    dashboard = team_dashboard(team, grain=grain)

    def csv_url(name: str) -> str:
        url = reverse("team-flow-csv", kwargs={"pk": team.pk, "chart": name})
        return url + _grain_query(dashboard.grain)

    return {
        "team_flow": dashboard,
        "team_flow_panels": flow_panels(dashboard, TEAM_CHARTS, csv_url, "team"),
        "team_flow_grains": [("week", "Weekly"), ("month", "Monthly")],
    }


def _csv_response(table: pd.DataFrame, filename: str) -> HttpResponse:
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    writer = csv.writer(response)
    writer.writerow([neutralise_cell(str(column)) for column in table.columns])
    for row in table.astype(object).where(table.notna(), None).itertuples(index=False):
        writer.writerow(["" if cell is None else neutralise_cell(cell) for cell in row])
    return response


def _chart_csv(dashboard: FlowDashboard, chart: str, name: str) -> HttpResponse:
    spec = CHARTS[chart]
    frame = getattr(dashboard, spec.frame)
    table = spec.table(frame) if not frame.empty else pd.DataFrame(columns=["no data yet"])
    return _csv_response(table, f"{slugify(name)}-{chart}-{dashboard.grain}.csv")


@require_safe
def value_stream_flow_csv(request: HttpRequest, pk: int, chart: str) -> HttpResponse:
    """The numbers behind one chart of the value-stream page, as CSV (`?grain=week|month`)."""
    value_stream = get_for_user(ValueStream, request.user, pk)
    if chart not in CHARTS:
        raise Http404(f"No chart “{chart}” on this page.")
    teams = list(value_stream.teams.order_by("name"))
    dashboard = value_stream_dashboard(
        value_stream, teams=teams, grain=parse_grain(request.GET.get("grain"))
    )
    return _chart_csv(dashboard, chart, value_stream.name)


@require_safe
def team_flow_csv(request: HttpRequest, pk: int, chart: str) -> HttpResponse:
    """The numbers behind one flow chart of the team page, as CSV (`?grain=week|month`)."""
    team = get_for_user(ProductTeam, request.user, pk)
    if chart not in TEAM_CHARTS:
        raise Http404(f"No chart “{chart}” on this page.")
    dashboard = team_dashboard(team, grain=parse_grain(request.GET.get("grain")))
    return _chart_csv(dashboard, chart, team.name)
