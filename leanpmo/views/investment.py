"""The executive portfolio page (investment mix) and the funding downloads."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_safe

from leanpmo.access import get_chosen_period, get_money_portfolio
from leanpmo.models import FundingPeriod
from leanpmo.panels.investment import CHARTS, chart_table, investment_section
from leanpmo.panels.navigation import funding_nav
from leanpmo.selectors.decisions import decision_export_frame
from leanpmo.selectors.investment import budget_export_frame, investment_frames
from portfolio.downloads import table_response


@require_safe
def investment_mix(request: HttpRequest, pk: int) -> HttpResponse:
    """Where the money goes and whether decisions held: the executive's view of a portfolio."""
    portfolio, role = get_money_portfolio(request.user, pk)
    period = get_chosen_period(request, portfolio)
    now = timezone.now()
    context = {
        "sections_html": investment_section(portfolio, period, now=now) if period else "",
        "portfolio": portfolio,
        "funding_nav": funding_nav(portfolio, request.user),
        "role": role,
        "period": period,
        "periods": FundingPeriod.objects.filter(portfolio=portfolio).order_by("starts_on"),
    }
    return render(request, "leanpmo/investment_mix.html", context)


@require_safe
def investment_chart_csv(request: HttpRequest, pk: int, chart: str) -> HttpResponse:
    """The numbers behind one chart of the investment page, as CSV."""
    portfolio, _ = get_money_portfolio(request.user, pk)
    if chart not in CHARTS:
        raise Http404("No such chart.")
    frame = chart_table(investment_frames(portfolio, get_chosen_period(request, portfolio)), chart)
    return table_response(frame, name=f"{chart}", fmt="csv")


@require_safe
def funding_export(request: HttpRequest, pk: int, what: str, fmt: str) -> HttpResponse:
    """Budgets, the investment mix or the decisions as CSV or XLSX."""
    portfolio, _ = get_money_portfolio(request.user, pk)
    if fmt not in {"csv", "xlsx"}:
        raise Http404("Downloads come as csv or xlsx.")
    if what == "budgets":
        chosen = request.GET.get("period", "")
        frame = budget_export_frame(portfolio, period_id=int(chosen) if chosen.isdigit() else None)
    elif what == "investment-mix":
        frame = investment_frames(portfolio, get_chosen_period(request, portfolio))["streams"]
    elif what == "decisions":
        frame = decision_export_frame(portfolio)
    else:
        raise Http404("Downloads: budgets, investment-mix or decisions.")
    return table_response(frame, name=f"{what}", fmt=fmt)
