"""The team pulse: Lean PMO opens a round with its questions; a team member answers it (only
aggregates are ever shown)."""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone

from portfolio.access import get_for_user
from portfolio.form_errors import add_service_errors
from portfolio.http import form_status
from teams.forms.pulse import PulseAnswerForm, PulseRoundForm
from teams.models import ProductTeam, PulseRound
from teams.services.pulse import pulse_answer, pulse_round_open
from teams.views.pmo_form import pmo_form_page


def pulse_round_create(request: HttpRequest, pk: int) -> HttpResponse:
    """Lean PMO opens a pulse round for a team, with its questions."""
    team = get_for_user(ProductTeam, request.user, pk, write=True)
    today = timezone.localdate()
    form = PulseRoundForm(
        request.POST or None,
        initial={"opens_on": today, "closes_on": today + dt.timedelta(days=13)},
    )
    if request.method == "POST" and form.is_valid():
        try:
            pulse_round = pulse_round_open(team=team, **form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(
                request,
                f"Pulse round open from {pulse_round.opens_on:%d %b} to "
                f"{pulse_round.closes_on:%d %b %Y} with {pulse_round.questions.count()} questions.",
            )
            return redirect(f"{team.get_absolute_url()}#pulse")
    return pmo_form_page(
        request,
        form,
        portfolio=team.value_stream.portfolio,
        title=f"Open a pulse round for {team.name}",
        cancel_url=f"{team.get_absolute_url()}#pulse",
        crumbs=[(team.get_absolute_url(), team.name)],
    )


def pulse_answer_view(request: HttpRequest, pk: int) -> HttpResponse:
    """A team member answers an open pulse round; only aggregates are ever shown."""
    pulse_round = get_for_user(PulseRound, request.user, pk, write=True)
    team = pulse_round.team
    form = PulseAnswerForm(request.POST or None, pulse_round=pulse_round)
    if request.method == "POST" and form.is_valid():
        try:
            pulse_answer(
                pulse_round=pulse_round,
                respondent=request.user,
                scores=form.scores(),
                on=timezone.localdate(),
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, "Thank you: your answers are in, without your name.")
            return redirect(f"{team.get_absolute_url()}#pulse")
    context = {"form": form, "team": team, "title": "Team pulse", "pulse_round": pulse_round}
    return render(request, "teams/team_record_form.html", context, status=form_status(form))
