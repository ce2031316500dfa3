"""Outcome sections that other apps' pages include with one line each, e.g.
`{% load teams_outcomes %}{% value_stream_outcomes value_stream %}`. Each renders a partial from
templates/teams/ and runs a fixed number of queries."""

from __future__ import annotations

from django import template
from django.utils import timezone

from portfolio.access import can_edit_structure, portfolio_role
from teams import panels, selectors
from teams.models import ProductTeam

register = template.Library()


def _teams_of(context, value_stream) -> list[ProductTeam]:
    """The value stream's teams: the page's own list when it has one (no second query)."""
    teams = context.get("teams")
    if teams is None:
        teams = ProductTeam.objects.filter(value_stream=value_stream)
    return sorted(teams, key=lambda team: team.name)


def _can_edit(context, value_stream) -> bool:
    """Whether the viewer edits the value stream: the page's own `can_edit` when it has one."""
    if "can_edit" in context:
        return bool(context["can_edit"])
    role = portfolio_role(context["request"].user, value_stream.portfolio)
    return can_edit_structure(role)


@register.inclusion_tag("teams/_value_stream_outcomes.html", takes_context=True)
def value_stream_outcomes(context, value_stream) -> dict:
    """Value-stream objectives with their key results, stale key results per team, and stability."""
    as_of = timezone.localdate()
    teams = _teams_of(context, value_stream)
    objectives = list(selectors.value_stream_objectives(value_stream))
    key_results = [kr for objective in objectives for kr in objective.key_results.all()]
    rows = panels.key_result_rows(
        key_results, as_of=as_of, time_zone=value_stream.portfolio.time_zone
    )
    for row in rows:
        row.key_result.row = row
    return {
        "value_stream": value_stream,
        "objectives": objectives,
        "staleness": panels.value_stream_staleness(value_stream, as_of=as_of).to_dict("records"),
        "stability": panels.value_stream_stability(teams, as_of=as_of),
    }


@register.inclusion_tag("teams/_value_stream_dependencies.html", takes_context=True)
def value_stream_dependencies(context, value_stream) -> dict:
    """Who depends on whom among the value stream's teams, and the teams most waited on."""
    interactions = list(selectors.value_stream_interactions(value_stream, context["request"].user))
    return {
        "value_stream": value_stream,
        "interactions": interactions,
        "hotspots": panels.dependency_hotspots(interactions),
        "can_edit": _can_edit(context, value_stream),
    }


@register.inclusion_tag("teams/_value_stream_realisation.html", takes_context=True)
def value_stream_realisation(context, value_stream) -> dict:
    """The value stream's realisation metrics: latest values and their change."""
    return {
        "value_stream": value_stream,
        "rows": panels.realisation_rows(value_stream, as_of=timezone.localdate()),
        "can_edit": _can_edit(context, value_stream),
    }


@register.inclusion_tag("teams/_portfolio_outcomes.html")
def portfolio_outcomes(portfolio) -> dict:
    """Stale key results rolled up per value stream of the portfolio."""
    rollup = panels.portfolio_staleness(portfolio, as_of=timezone.localdate())
    return {
        "portfolio": portfolio,
        "staleness": rollup.to_dict("records"),
        "open_total": int(rollup["open"].sum()) if not rollup.empty else 0,
        "stale_total": int(rollup["stale"].sum()) if not rollup.empty else 0,
    }


@register.filter
def measure(value) -> str:
    """A measured value for people: at most two decimals, no trailing zeros (94.5, 91, 11.72)."""
    if value is None or value == "":
        return "—"
    text = f"{float(value):,.2f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text
