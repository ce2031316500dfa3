"""The executive portfolio page (investment mix) and the funding downloads."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_safe

from leanpmo.access import get_chosen_period, get_money_portfolio
from leanpmo.models import FundingPeriod
from leanpmo.panels.initiatives import pyramid_section
from leanpmo.panels.investment import CHARTS, chart_panels, chart_table
from leanpmo.panels.navigation import funding_nav
from leanpmo.selectors.decisions import decision_export_frame, decision_log
from leanpmo.selectors.funding import period_check
from leanpmo.selectors.investment import budget_export_frame, investment_frames
from leanpmo.selectors.signals import local_today
from portfolio.downloads import table_response
from portfolio.sections import kept


@require_safe
def investment_mix(request: HttpRequest, pk: int) -> HttpResponse:
    """Where the money goes and whether decisions held: the executive's view of a portfolio."""
    portfolio, role = get_money_portfolio(request.user, pk)
    period = get_chosen_period(request, portfolio)
    now = timezone.now()
    context = {
        "sections_html": kept(
            "investment-mix",
            (portfolio.pk, period.pk, local_today(portfolio, now)),
            lambda: _investment_sections(portfolio, period, now),
            now=now,
        )
        if period
        else "",
        "portfolio": portfolio,
        "funding_nav": funding_nav(portfolio, request.user),
        "role": role,
        "period": period,
        "periods": FundingPeriod.objects.filter(portfolio=portfolio).order_by("starts_on"),
    }
    return render(request, "leanpmo/investment_mix.html", context)


def _investment_sections(portfolio, period: FundingPeriod, now) -> str:
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
