"""Template filters of the Lean PMO pages."""

from __future__ import annotations

from django import template

from leanpmo.models import scenario_portfolios
from portfolio.models import Portfolio

register = template.Library()


@register.filter
def scenarios_readable_by(portfolio: Portfolio, user) -> bool:
    """Whether `user` may read the portfolio's scenarios (executives, Lean PMO, admins; 1 query)."""
    return scenario_portfolios(user).filter(pk=portfolio.pk).exists()
