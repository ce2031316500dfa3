from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_safe

from leanpmo.panels.attention import attention
from leanpmo.panels.scorecard import scorecard_section
from portfolio.access import can_edit_structure, can_see_money, get_for_user, portfolio_role
from portfolio.models import Portfolio
from portfolio.panels import tree_section
from portfolio.selectors import portfolio_list
from teams.panels.your_teams import your_teams
from valuestreams.selectors.recompute_state import recompute_failure

HOME_ATTENTION_LIMIT = 5  # per portfolio; its own page shows everything


@require_safe
def home(request: HttpRequest) -> HttpResponse:
    """What needs the person first, then the portfolios they belong to and the teams they sit in
    with their check-ins due."""
    portfolios = list(portfolio_list(request.user))
    context = {
        "portfolios": portfolios,
        "attention": attention(
            request.user, portfolios, now=timezone.now(), limit=HOME_ATTENTION_LIMIT
        ),
        "your_teams": your_teams(request.user, as_of=timezone.localdate()),
    }
    return render(request, "portfolio/home.html", context)


@require_safe
def portfolio_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """Portfolio → value streams → teams, with headcount per team (and the failure of the latest
    metrics recompute, while there is one), and its outcome check-ins per value stream."""
    portfolio = get_for_user(Portfolio, request.user, pk)
    role = portfolio_role(request.user, portfolio)
    now = timezone.now()
    sort = request.GET.get("sort", "")
    money = can_see_money(role, portfolio)
    context = {
        "attention": attention(request.user, [portfolio], now=now),
        "scorecard_html": scorecard_section(portfolio, role=role, sort=sort, now=now),
        **tree_section(portfolio, now=now),
        "portfolio": portfolio,
        "role": role,
        "can_edit": can_edit_structure(role),
        "can_see_money": money,
        "recompute_failure": recompute_failure(portfolio),
    }
    return render(request, "portfolio/portfolio_detail.html", context)
