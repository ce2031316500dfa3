"""Lean PMO pages for dependencies between teams: record them for a value stream's teams, see
those recorded, change one."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse

from portfolio.access import get_for_user
from portfolio.form_errors import add_service_errors
from portfolio.http import form_status
from teams.forms.dependencies import TeamInteractionForm
from teams.models import TeamInteraction
from teams.selectors import value_stream_interactions_for_editing
from teams.services.dependencies import team_interaction_record, team_interaction_update
from teams.views.pmo_form import pmo_form_page
from valuestreams.models import ValueStream


def dependencies_page(request: HttpRequest, pk: int) -> HttpResponse:
    """Lean PMO records dependencies of a value stream's teams and sees those recorded."""
    value_stream = get_for_user(ValueStream, request.user, pk, write=True)
    form = TeamInteractionForm(request.POST or None, value_stream=value_stream)
    if request.method == "POST" and form.is_valid():
        try:
            interaction = team_interaction_record(**form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, f"Dependency “{interaction}” recorded.")
            return redirect("team-interactions", pk=value_stream.pk)
    context = {
        "form": form,
        "value_stream": value_stream,
        "portfolio": value_stream.portfolio,
        "interactions": list(value_stream_interactions_for_editing(value_stream)),
    }
    return render(request, "teams/dependencies.html", context, status=form_status(form))


def dependency_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """Lean PMO changes a dependency's interaction mode, blocking flag or what it is for."""
    interaction = get_for_user(TeamInteraction, request.user, pk, write=True)
    value_stream = interaction.team.value_stream
    form = TeamInteractionForm(
        request.POST or None, value_stream=value_stream, instance=interaction
    )
    if request.method == "POST" and form.is_valid():
        try:
            team_interaction_update(interaction=interaction, **form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, f"Dependency “{interaction}” saved.")
            return redirect("team-interactions", pk=value_stream.pk)
    dependencies_url = reverse("team-interactions", args=[value_stream.pk])
    return pmo_form_page(
        request,
        form,
        portfolio=value_stream.portfolio,
        title=f"{interaction.team} depends on {interaction.depends_on}",
        cancel_url=dependencies_url,
        crumbs=[(dependencies_url, f"Dependencies in {value_stream.name}")],
    )
