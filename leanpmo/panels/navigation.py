"""The funding pages' navigation (templates/leanpmo/_funding_nav.html): which of its links the
person may follow, decided in the view so that the template only formats."""

from __future__ import annotations

from dataclasses import dataclass

from leanpmo.selectors.scenarios import scenarios_readable
from portfolio.models import Portfolio


@dataclass(frozen=True)
class FundingNav:
    """`show_scenarios`: whether the person may read the portfolio's scenarios (the link shows)."""

    show_scenarios: bool


def funding_nav(portfolio: Portfolio, user) -> FundingNav:
    """The funding navigation of `portfolio` for `user` (1 query)."""
    return FundingNav(show_scenarios=scenarios_readable(portfolio, user))
