"""Pages where a team's members write their outcome records: check-ins, experiments and the
not-doing list."""

from __future__ import annotations

import zoneinfo

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone

from portfolio.access import get_for_user
from portfolio.http import form_status
from teams import selectors
from teams.access import get_team_for_outcomes
from teams.confirmation import focus_first_error, warnings_digest, write_when_confirmed
from teams.forms.outcomes import ExperimentForm, NotDoingForm, OutcomeUpdateForm
from teams.models import Experiment, OutcomeUpdate
from teams.plausibility import plain_number
from teams.services.outcomes import (
    experiment_create,
    experiment_update,
    not_doing_record,
    outcome_update_post,
)


def _check_in_initial(request: HttpRequest, team) -> tuple[dict, OutcomeUpdate | None]:
    """The form's first values: the key result asked for, or for a correction (?corrects=) the
    corrected check-in's own values, so only what was wrong needs typing."""
    corrected = selectors.correctable_update(team, (request.POST or request.GET).get("corrects"))
    if corrected is None:
        return {"key_result": request.GET.get("key_result")}, None
    return {
        "key_result": corrected.key_result_id,
        "value": plain_number(corrected.value),
        "confidence": corrected.confidence,
        "status": corrected.status,
        "learned": corrected.learned,
        "blockers": corrected.blockers,
        "corrects": corrected.pk,
    }, corrected


def outcome_update_create(request: HttpRequest, pk: int) -> HttpResponse:
    """A team member posts a check-in on one of the team's key results (or corrects one).

    A check-in that looks implausible (teams.plausibility) is shown again with its warnings and
    posted only once the member confirms them."""
    team = get_team_for_outcomes(request.user, pk, write=True)
    initial, corrected = _check_in_initial(request, team)
    form = OutcomeUpdateForm(request.POST or None, team=team, initial=initial)
    time_zone = team.value_stream.portfolio.time_zone
    now = timezone.now()
    warnings = []
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        warnings = selectors.check_in_warnings_for(
            key_result=data["key_result"],
            value=data["value"],
            status=data["status"],
            on=timezone.localdate(now, zoneinfo.ZoneInfo(time_zone)),
            time_zone=time_zone,
            corrects=data["corrects"],
        )
        try:
            update = write_when_confirmed(
                lambda: outcome_update_post(posted_by=request.user, posted_at=now, **data),
                data=request.POST,
                warnings=warnings,
            )
        except ValidationError as exc:
            form.add_error(None, exc)
            warnings = []  # refused: nothing to confirm
        else:
            if update is not None:
                messages.success(request, f"Check-in on “{update.key_result}” posted.")
                return redirect(f"{team.get_absolute_url()}#key-result-{update.key_result_id}")
    focus_first_error(form)
    context = {
        "form": form,
        "team": team,
        "portfolio": team.value_stream.portfolio,
        "corrected": corrected,
        "warnings": warnings,
        "warnings_digest": warnings_digest(warnings),
    }
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
