"""The portfolio page's own sections (the scorecard and the attention list come from leanpmo)."""

from __future__ import annotations

import datetime as dt

from django.template.loader import render_to_string
from django.utils import timezone

from portfolio.models import Portfolio
from portfolio.sections import kept
from portfolio.selectors import portfolio_tree
from teams.panels.outcomes import portfolio_outcomes_section


def tree_section(portfolio: Portfolio, *, now: dt.datetime) -> dict:
    """The tree of value streams and teams with its counts, and the outcome check-ins per value
    stream, kept per data version and (server) date: portfolio.sections."""
    today = timezone.localdate(now)
    return kept("portfolio-tree", (portfolio.pk, today), lambda: _tree(portfolio, today), now=now)


def _tree(portfolio: Portfolio, today: dt.date) -> dict:
    """The portfolio page's tree of value streams and teams with its counts, and its outcome
    check-ins per value stream, as markup (kept per data version: portfolio.sections)."""
    value_streams = list(portfolio_tree(portfolio))
    return {
        "value_stream_count": len(value_streams),
        "team_count": sum(len(vs.teams.all()) for vs in value_streams),
        "people_count": sum(team.headcount for vs in value_streams for team in vs.teams.all()),
        "tree_html": render_to_string("portfolio/_tree.html", {"value_streams": value_streams}),
        "outcomes_html": render_to_string(
            "teams/_portfolio_outcomes.html",
            {
                "portfolio": portfolio,
                "section": portfolio_outcomes_section(portfolio, as_of=today),
            },
        ),
    }
