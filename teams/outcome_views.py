"""Pages where a team's members write: check-ins, experiments, the not-doing list, the pulse."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone

from portfolio.access import get_for_user
from portfolio.http import form_status
from teams.access import get_team_for_outcomes
from teams.forms import ExperimentForm, NotDoingForm, OutcomeUpdateForm, PulseAnswerForm
from teams.models import Experiment, PulseRound
from teams.services import (
    experiment_create,
    experiment_update,
    not_doing_record,
    outcome_update_post,
    pulse_answer,
)


def outcome_update_create(request: HttpRequest, pk: int) -> HttpResponse:
    """A team member posts a check-in on one of the team's key results (or corrects one)."""
    team = get_team_for_outcomes(request.user, pk, write=True)
    initial = {"key_result": request.GET.get("key_result"), "corrects": request.GET.get("corrects")}
    form = OutcomeUpdateForm(request.POST or None, team=team, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            update = outcome_update_post(
                posted_by=request.user, posted_at=timezone.now(), **form.cleaned_data
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, f"Check-in on “{update.key_result}” posted.")
            return redirect(f"{team.get_absolute_url()}#key-result-{update.key_result_id}")
    context = {"form": form, "team": team, "portfolio": team.value_stream.portfolio}
    return render(request, "teams/outcome_update_form.html", context, status=form_status(form))


def experiment_create_view(request: HttpRequest, pk: int) -> HttpResponse:
    """A team member records a new experiment."""
    team = get_team_for_outcomes(request.user, pk, write=True)
    form = ExperimentForm(
        request.POST or None,
        team=team,
        instance=Experiment(team=team),
        initial={"started_on": timezone.localdate()},
    )
    if request.method == "POST" and form.is_valid():
        try:
            experiment_create(team=team, created_by=request.user, **form.cleaned_data)
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, "Experiment recorded.")
            return redirect(f"{team.get_absolute_url()}#experiments")
    context = {"form": form, "team": team, "title": "New experiment"}
    return render(request, "teams/team_record_form.html", context, status=form_status(form))


def experiment_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """A team member updates an experiment, typically with its result and what was learned."""
    experiment = get_for_user(Experiment, request.user, pk, write=True)
    team = experiment.team
    form = ExperimentForm(request.POST or None, team=team, instance=experiment)
    if request.method == "POST" and form.is_valid():
        try:
            experiment_update(experiment=experiment, **form.cleaned_data)
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, "Experiment saved.")
            return redirect(f"{team.get_absolute_url()}#experiments")
    context = {"form": form, "team": team, "title": "Edit experiment"}
    return render(request, "teams/team_record_form.html", context, status=form_status(form))


def not_doing_create(request: HttpRequest, pk: int) -> HttpResponse:
    """A team member adds to the team's not-doing list."""
    team = get_team_for_outcomes(request.user, pk, write=True)
    form = NotDoingForm(request.POST or None, initial={"decided_on": timezone.localdate()})
    if request.method == "POST" and form.is_valid():
        try:
            not_doing_record(team=team, recorded_by=request.user, **form.cleaned_data)
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, "Added to the not-doing list.")
            return redirect(f"{team.get_absolute_url()}#not-doing")
    context = {"form": form, "team": team, "title": "Decide not to do something"}
    return render(request, "teams/team_record_form.html", context, status=form_status(form))


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
