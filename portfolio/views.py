from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from portfolio.access import can_edit_structure, can_see_money, get_for_user, portfolio_role
from portfolio.models import Portfolio
from portfolio.selectors import portfolio_list, portfolio_tree
from teams.panels import your_teams


def home(request: HttpRequest) -> HttpResponse:
    """The portfolios the person belongs to, and the teams they sit in with their check-ins due."""
    context = {
        "portfolios": portfolio_list(request.user),
        "your_teams": your_teams(request.user, as_of=timezone.localdate()),
    }
    return render(request, "portfolio/home.html", context)


def portfolio_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """Portfolio → value streams → teams, with headcount per team."""
    portfolio = get_for_user(Portfolio, request.user, pk)
    role = portfolio_role(request.user, portfolio)
    value_streams = list(portfolio_tree(portfolio))
    context = {
        "portfolio": portfolio,
        "role": role,
        "value_streams": value_streams,
        "team_count": sum(len(vs.teams.all()) for vs in value_streams),
        "people_count": sum(team.headcount for vs in value_streams for team in vs.teams.all()),
        "can_edit": can_edit_structure(role),
        "can_see_money": can_see_money(role, portfolio),
    }
    return render(request, "portfolio/portfolio_detail.html", context)
