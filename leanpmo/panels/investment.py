"""The executive investment page's chart panels: each chart's figure, finding, table for people and
CSV link, built from the investment frames (leanpmo.selectors.investment.investment_frames)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

import pandas as pd
from django.template.loader import render_to_string
from django.urls import reverse

from leanpmo.charts.decisions import decision_timeline_chart, decision_timeline_title
from leanpmo.charts.investment import (
    budget_actual_chart,
    budget_actual_title,
    periods_chart,
    periods_title,
    share_bar_chart,
    share_title,
    stream_team_chart,
    stream_team_title,
    work_type_chart,
    work_type_title,
)
from leanpmo.charts.tables import people_table
from leanpmo.models import FundingPeriod
from leanpmo.panels.initiatives import pyramid_section
from leanpmo.selectors.decisions import decision_log
from leanpmo.selectors.funding import period_check
from leanpmo.selectors.investment import investment_frames
from leanpmo.selectors.signals import local_today
from portfolio.charting import chart_panel
from portfolio.formatting import nobreak
from portfolio.models import Portfolio
from portfolio.sections import kept


@dataclass(frozen=True)
class Chart:
    """One chart of the investment page: its name, its figure and its finding (both from the table
    and the currency), and its table's columns for people with the kind each is written as."""

    name: str
    figure: Callable[[pd.DataFrame, str], dict]
    finding: Callable[[pd.DataFrame, str], str]
    columns: dict[str, tuple[str, str]]  # frame column → (name for people, kind)

    @property
    def names(self) -> list[str]:
        return [column for column, _ in self.columns.values()]


CHARTS = {
    "streams": Chart(
        "By value stream",
        stream_team_chart,
        stream_team_title,
        {"value_stream": ("Value stream", "text"), "team": ("Team", "text"),
         "amount": ("Money", "money"), "team_cost": ("Team cost", "money")},
    ),
    "themes": Chart(
        "By strategic theme",
        lambda f, c: share_bar_chart(f, "theme", c),
        lambda f, c: share_title(f, "theme", c, verb="gets"),
        {"theme": ("Theme", "text"), "amount": ("Money", "money"), "share": ("Share", "share")},
    ),
    "horizons": Chart(
        "By horizon",
        lambda f, c: share_bar_chart(f, "horizon", c),
        lambda f, c: share_title(f, "horizon", c),
        {"horizon": ("Horizon", "text"), "amount": ("Money", "money"), "share": ("Share", "share")},
    ),
    "work_types": Chart(
        "By work type: planned capacity and work finished",
        lambda f, c: work_type_chart(f),
        lambda f, c: work_type_title(f),
        {"item_type": ("Work type", "text"), "planned": ("Planned", "share"),
         "completed": ("Completed", "share"), "done": ("Items done", "count")},
    ),
    "actuals": Chart(
        "Budget and actual spend",
        budget_actual_chart,
        budget_actual_title,
        {"value_stream": ("Value stream", "text"), "budget": ("Budget", "money"),
         "actual": ("Actual", "money"), "variance": ("Variance", "change")},
    ),
    "periods": Chart(
        "Money over the periods",
        periods_chart,
        periods_title,
        {"period": ("Period", "text"), "period_start": ("Starts", "date"), "Run": ("Run", "money"),
         "Grow": ("Grow", "money"), "Transform": ("Transform", "money"),
         "total": ("Total", "money")},
    ),
    "decisions": Chart(
        "Decisions and how they held",
        decision_timeline_chart,
        lambda f, c: decision_timeline_title(f),
        {"decided_at": ("Decided", "date"), "value_stream": ("Value stream", "text"),
         "kind": ("Decision", "text"), "change": ("Change", "change"),
         "outcome": ("Review", "text")},
    ),
}  # fmt: skip
NOTES = {
    "work_types": "Planned capacity is weighted by money; work finished is the share of items "
    "done in the period's months.",
    "streams": "Each stream's money is split over its teams by team cost: hover a bar, or see "
    "the numbers below.",
}


def chart_panels(
    frames: dict[str, pd.DataFrame], *, currency: str, csv_url: Callable[[str], str]
) -> dict[str, dict]:
    """The investment page's chart panels: each chart's figure, finding, table for people and
    CSV link."""
    panels = {}
    for key, chart in CHARTS.items():
        frame = frames[key]
        kinds = {column: kind for column, (_, kind) in chart.columns.items()}
        panels[key] = chart_panel(
            f"chart-{key.replace('_', '-')}",
            chart.name,
            chart.figure(frame, currency),
            people_table(frame, kinds, currency=currency),
            columns=chart.names,
            csv_url=csv_url(key),
            note=NOTES.get(key, "")
            if key != "work_types" or frame["completed"].notna().any()
            else "",
            finding=nobreak(chart.finding(frame, currency)),
        )
    return panels


def chart_table(frames: dict[str, pd.DataFrame], chart: str) -> pd.DataFrame:
    """The numbers behind one chart of the investment page, its columns named for people."""
    frame = frames[chart]
    frame.columns = CHARTS[chart].names
    return frame


def investment_section(portfolio: Portfolio, period: FundingPeriod, *, now: dt.datetime) -> str:
    """The investment page's figures, charts, guardrails, decisions and pyramid for `period`, as
    markup kept per data version and local date (portfolio.sections)."""
    return kept(
        "investment-mix",
        (portfolio.pk, period.pk, local_today(portfolio, now)),
        lambda: _investment_sections(portfolio, period, now),
        now=now,
    )


def _investment_sections(portfolio: Portfolio, period: FundingPeriod, now: dt.datetime) -> str:
    """The investment page's figures, charts, guardrail check, recent decisions and pyramid for
    a period, as markup (kept per data version: portfolio.sections)."""
    decisions = list(decision_log(portfolio))
    frames = investment_frames(portfolio, period, decisions=decisions)
    query = f"?period={period.pk}"
    check = period_check(period)
    context = {
        "portfolio": portfolio,
        "period": period,
        "charts": chart_panels(
            frames,
            currency=portfolio.currency,
            csv_url=lambda key: reverse("investment-chart-csv", args=[portfolio.pk, key]) + query,
        ),
        "check": check,
        "recent_decisions": decisions[:8],
        "total": check.totals["total"],
        "pyramid": pyramid_section(portfolio, period=period, as_of=now),
    }
    return render_to_string("leanpmo/_investment_sections.html", context)
