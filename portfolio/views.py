from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.utils import timezone
from django.views.decorators.http import require_safe

from leanpmo.panels.attention import attention
from leanpmo.panels.scorecard import scorecard
from leanpmo.selectors.signals import local_today
from portfolio.access import can_edit_structure, can_see_money, get_for_user, portfolio_role
from portfolio.models import Portfolio
from portfolio.sections import kept
from portfolio.selectors import portfolio_list, portfolio_tree
from teams.panels.outcomes import portfolio_outcomes_section
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
    today = timezone.localdate()
    sort = request.GET.get("sort", "")
    money = can_see_money(role, portfolio)
    context = {
        "attention": attention(request.user, [portfolio], now=now),
        "scorecard_html": kept(
            "scorecard",
            (portfolio.pk, local_today(portfolio, now), money, sort),
            lambda: render_to_string(
                "leanpmo/_scorecard.html",
                {"scorecard": scorecard(portfolio, role=role, sort=sort, now=now)},
            ),
            now=now,
        ),
        **kept("portfolio-tree", (portfolio.pk, today), lambda: _tree(portfolio, today), now=now),
        "portfolio": portfolio,
        "role": role,
        "can_edit": can_edit_structure(role),
        "can_see_money": money,
        "recompute_failure": recompute_failure(portfolio),
    }
    return render(request, "portfolio/portfolio_detail.html", context)


def _tree(portfolio: Portfolio, today) -> dict:
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
