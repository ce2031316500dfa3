"""The CSV of each chart of the flow sections on the value-stream and team pages (the sections
themselves are built by `valuestreams.panels`)."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.utils.text import slugify
from django.views.decorators.http import require_safe

from portfolio.access import get_for_user
from portfolio.downloads import table_response
from teams.models import ProductTeam
from valuestreams.models import ValueStream
from valuestreams.panels import CHARTS, TEAM_CHARTS, chart_table
from valuestreams.selectors.dashboard import (
    FlowDashboard,
    parse_grain,
    team_dashboard,
    value_stream_dashboard,
)


def _chart_csv(dashboard: FlowDashboard, chart: str, name: str) -> HttpResponse:
    table = chart_table(dashboard, chart)
    return table_response(table, name=f"{slugify(name)}-{chart}-{dashboard.grain}", fmt="csv")


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
