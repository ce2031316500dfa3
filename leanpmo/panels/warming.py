"""Build a portfolio's costliest page sections right after its data changed, so that the first
person to open them does not wait for the build (portfolio.sections shares what one process
builds with the others through Redis)."""

from __future__ import annotations

import datetime as dt
import logging

from django.db import connection
from django.utils import timezone

from leanpmo.panels.initiatives import kept_board
from leanpmo.panels.investment import investment_section
from leanpmo.panels.scorecard import scorecard_section
from leanpmo.selectors.funding import current_period, theme_money
from portfolio.models import Portfolio
from portfolio.panels import tree_section
from teams.panels.outcome_tree import outcome_page_for_readers

logger = logging.getLogger(__name__)


def warm_portfolio_pages(portfolio: Portfolio, *, now: dt.datetime) -> None:
    """The portfolio page's scorecard (as those who see money and those who do not, in its first
    sort) and tree, the investment page of the current period, the kanban and the outcomes page's
    cascade as its readers see it (with and without the themes' money), for the data as it is now. A failure is logged and left to the page, which builds the section itself. Inside a
    transaction nothing would be kept (portfolio.sections), so nothing is built."""
    if connection.in_atomic_block:
        return
    try:
        for role in ("executive", "member"):
            scorecard_section(portfolio, role=role, sort="", now=now)
        tree_section(portfolio, now=now)
        period = current_period(portfolio, today=timezone.localdate(now))
        if period is not None:
            investment_section(portfolio, period, now=now)
        kept_board(portfolio, now=now)
        for show_themes in (True, False):
            outcome_page_for_readers(
                portfolio, show_themes=show_themes, now=now, theme_money=theme_money
            )
    except Exception:
        logger.exception("warming the pages of portfolio %s failed", portfolio.pk)
