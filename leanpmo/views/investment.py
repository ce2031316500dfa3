"""The executive portfolio page (investment mix) and the funding downloads."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_safe

from leanpmo import charts
from leanpmo.access import get_money_portfolio
from leanpmo.exports import table_response
from leanpmo.initiative_panels import pyramid_section
from leanpmo.models import FundingPeriod
from leanpmo.selectors import (
    budget_frame,
    current_period,
    decision_log,
    investment_frames,
    period_check,
    themes_by_id,
)
from portfolio.charting import chart_panel
from portfolio.models import Portfolio

CHARTS = {
    # key: (title, figure builder, column names for people)
    "streams": ("Investment by value stream → team", charts.stream_team_chart, ["Value stream", "Team", "Money", "Team cost"]),
    "themes": ("By strategic theme", lambda f: charts.share_bar_chart(f, "theme"), ["Theme", "Money", "Share"]),
    "horizons": ("By horizon", lambda f: charts.share_bar_chart(f, "horizon"), ["Horizon", "Money", "Share"]),
    "work_types": ("By work type: planned allocation vs completed work", charts.work_type_chart, ["Work type", "Planned", "Completed", "Items done"]),
    "actuals": ("Budget vs actual", charts.budget_actual_chart, ["Value stream", "Budget", "Actual", "Variance"]),
    "periods": ("Funding over periods", charts.periods_chart, ["Period", "Starts", "Run", "Grow", "Transform", "Total"]),
    "decisions": ("Decision timeline with review outcomes", charts.decision_timeline_chart, ["Decided", "Value stream", "Decision", "Change", "Review"]),
}  # fmt: skip


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
    panels = {
        key: chart_panel(
            f"chart-{key.replace('_', '-')}",
            title,
            build(frames[key]),
            frames[key],
            columns=columns,
            csv_url=reverse("investment-chart-csv", args=[portfolio.pk, key]) + query,
            note="Planned allocation is weighted by money; completed work is the share of items done."
            if key == "work_types" and frames[key]["completed"].notna().any()
            else "",
        )
        for key, (title, build, columns) in CHARTS.items()
    }
    check = period_check(period) if period else None
    decisions = list(decision_log(portfolio)[:8])
    context = {
        "portfolio": portfolio,
        "role": role,
        "period": period,
        "periods": FundingPeriod.objects.filter(portfolio=portfolio).order_by("starts_on"),
        "charts": panels,
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
    frame.columns = CHARTS[chart][2]
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


def _decision_rows(portfolio: Portfolio):
    import pandas as pd

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
