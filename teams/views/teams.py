from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_safe

from portfolio.access import can_edit_structure, can_see_money, get_for_user, portfolio_role
from portfolio.http import form_status
from portfolio.sections import kept
from teams.access import may_write_outcomes
from teams.forms.outcomes import OutcomeUpdateForm
from teams.forms.teams import ProductTeamForm
from teams.models import ProductTeam
from teams.panels.team import team_outcomes, team_people
from teams.selectors import open_pulse_round_for
from teams.services.teams import team_create, team_update
from valuestreams.models import ValueStream
from valuestreams.panels import team_flow_section


@require_safe
def team_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """A team: mission, topology, who is in it, its outcomes, experiments, not-doing list,
    stability and pulse; its cost only to those who may see money. Members get the check-in form."""
    team = get_for_user(ProductTeam, request.user, pk)
    portfolio = team.value_stream.portfolio
    role = portfolio_role(request.user, portfolio)
    can_write = may_write_outcomes(request.user, team)
    today = timezone.localdate()
    people = team_people(team, as_of=today)
    roster = people.current
    context = {
        "team": team,
        "portfolio": portfolio,
        "people": people,
        "roster": roster,
        "seated_fte": people.seated_fte,
        "yearly_cost": team.capacity_fte * team.loaded_cost_per_fte,
        "can_edit": can_edit_structure(role),
        "can_see_money": can_see_money(role, portfolio),
        "is_my_team": any(seat.person_id == request.user.pk for seat in roster),
        "outcomes": kept(
            "team-outcomes",
            (team.pk, today),
            lambda: team_outcomes(team, team_people(team, as_of=today).current, as_of=today),
            now=timezone.now(),
        ),
        "can_write_outcomes": can_write,
        "update_form": OutcomeUpdateForm(team=team) if can_write else None,
        "open_pulse": open_pulse_round_for(team, request.user, as_of=today) if can_write else None,
        **team_flow_section(team, request.GET.get("grain")),
    }
    return render(request, "teams/team_detail.html", context)


def team_create_view(request: HttpRequest, value_stream_pk: int) -> HttpResponse:
    """Lean PMO adds a team to a value stream."""
    value_stream = get_for_user(ValueStream, request.user, value_stream_pk, write=True)
    portfolio = value_stream.portfolio
    form = ProductTeamForm(
        request.POST or None, portfolio=portfolio, initial={"value_stream": value_stream}
    )
    if request.method == "POST" and form.is_valid():
        try:
            team = team_create(**form.cleaned_data)
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, f"Team “{team}” created.")
            return redirect("team-detail", pk=team.pk)
    context = {
        "form": form,
        "portfolio": portfolio,
        "value_stream": value_stream,
        "title": "New team",
    }
    return render(request, "teams/team_form.html", context, status=form_status(form))


def team_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """Lean PMO changes a team's definition (and may move it within the portfolio)."""
    team = get_for_user(ProductTeam, request.user, pk, write=True)
    portfolio = team.value_stream.portfolio
    form = ProductTeamForm(request.POST or None, portfolio=portfolio, instance=team)
    if request.method == "POST" and form.is_valid():
        try:
            team_update(team=team, **form.cleaned_data)
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, f"Team “{team}” saved.")
            return redirect("team-detail", pk=team.pk)
    context = {"form": form, "portfolio": portfolio, "team": team, "title": f"Edit {team}"}
    return render(request, "teams/team_form.html", context, status=form_status(form))
