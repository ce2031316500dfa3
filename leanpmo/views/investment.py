"""The executive portfolio page (investment mix) and the funding downloads."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pandas as pd
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_safe

from leanpmo.access import get_money_portfolio
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
from leanpmo.initiative_panels import pyramid_section
from leanpmo.models import FundingPeriod
from leanpmo.selectors.decisions import decision_log
from leanpmo.selectors.funding import current_period, period_check, themes_by_id
from leanpmo.selectors.investment import budget_frame, investment_frames
from portfolio.charting import chart_panel
from portfolio.downloads import table_response
from portfolio.formatting import nobreak
from portfolio.models import Portfolio


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


def _period(request: HttpRequest, portfolio: Portfolio) -> FundingPeriod | None:
    chosen = request.GET.get("period", "")
    if chosen.isdigit():
        period = FundingPeriod.objects.filter(portfolio=portfolio, pk=int(chosen)).first()
        if period is None:
            raise Http404("No such funding period in this portfolio.")
        return period
    return current_period(portfolio, today=timezone.localdate())


@require_safe
def investment_mix(request: HttpRequest, pk: int) -> HttpResponse:
    """Where the money goes and whether decisions held: the executive's view of a portfolio."""
    portfolio, role = get_money_portfolio(request.user, pk)
    period = _period(request, portfolio)
    frames = investment_frames(portfolio, period)
    query = f"?period={period.pk}" if period else ""
    check = period_check(period) if period else None
    decisions = list(decision_log(portfolio)[:8])
    context = {
        "portfolio": portfolio,
        "role": role,
        "period": period,
        "periods": FundingPeriod.objects.filter(portfolio=portfolio).order_by("starts_on"),
        "charts": chart_panels(
            frames,
            currency=portfolio.currency,
            csv_url=lambda key: reverse("investment-chart-csv", args=[portfolio.pk, key]) + query,
        ),
        "check": check,
        "recent_decisions": decisions,
        "total": check.totals["total"] if check else None,
        "pyramid": pyramid_section(portfolio, period=period, as_of=timezone.now()),
    }
    return render(request, "leanpmo/investment_mix.html", context)


@require_safe
def investment_chart_csv(request: HttpRequest, pk: int, chart: str) -> HttpResponse:
    """The numbers behind one chart of the investment page, as CSV."""
    portfolio, _ = get_money_portfolio(request.user, pk)
    if chart not in CHARTS:
        raise Http404("No such chart.")
    frame = investment_frames(portfolio, _period(request, portfolio))[chart]
    frame.columns = CHARTS[chart].names
    return table_response(frame, name=f"{chart}", fmt="csv")


@require_safe
def funding_export(request: HttpRequest, pk: int, what: str, fmt: str) -> HttpResponse:
    """Budgets, the investment mix or the decisions as CSV or XLSX."""
    portfolio, _ = get_money_portfolio(request.user, pk)
    if fmt not in {"csv", "xlsx"}:
        raise Http404("Downloads come as csv or xlsx.")
    if what == "budgets":
        frame = budget_frame(portfolio)
        if request.GET.get("period", "").isdigit():
            frame = frame[frame["period_id"] == int(request.GET["period"])]
        themes = themes_by_id(portfolio)
        frame = frame.assign(
            themes=frame["theme_split"].map(
                lambda split: "; ".join(
                    f"{themes.get(k, k)} {v}%" for k, v in (split or {}).items()
                )
            )
        ).drop(columns=["period_id", "value_stream_id", "theme_split", "period_start"])
    elif what == "investment-mix":
        frame = investment_frames(portfolio, _period(request, portfolio))["streams"]
    elif what == "decisions":
        frame = _decision_rows(portfolio)
    else:
        raise Http404("Downloads: budgets, investment-mix or decisions.")
    return table_response(frame, name=f"{what}", fmt=fmt)


def _decision_rows(portfolio: Portfolio) -> pd.DataFrame:
    rows = []
    for decision in decision_log(portfolio):
        reviews = list(decision.reviews.all())
        rows.append(
            {
                "decided_at": decision.decided_at.isoformat(),
                "period": decision.period.name,
                "value_stream": decision.value_stream.name if decision.value_stream_id else "",
                "initiative": decision.initiative.title if decision.initiative_id else "",
                "kind": decision.kind,
                "amount_before": decision.amount_before,
                "amount_after": decision.amount_after,
                "rationale": decision.rationale,
                "expected_outcome": decision.expected_outcome,
                "decided_by": decision.decided_by.get_username(),
                "review_due_on": decision.review_due_on.isoformat(),
                "review": reviews[-1].outcome if reviews else "",
                "supersedes": decision.supersedes_id or "",
            }
        )
    return pd.DataFrame(rows)
