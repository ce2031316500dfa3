"""Lean PMO pages for seats: a person joins a team, changes allocation, leaves (by an end date).

Members and executives read a team's people on the team page; these forms answer them 403, and
outsiders 404. A seat that would allocate someone more than 100 % in total is shown with that
warning and saved once the Lean PMO confirms it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone

from portfolio.access import get_for_user
from portfolio.form_errors import add_service_errors
from portfolio.http import form_status
from portfolio.models import Portfolio
from teams import selectors
from teams.confirmation import focus_first_error, warnings_digest, write_when_confirmed
from teams.forms.seats import SeatChangeForm, SeatEndForm, SeatForm
from teams.models import ProductTeam, TeamMembership
from teams.plausibility import PlausibilityWarning, day
from teams.services.seats import team_membership_add, team_membership_change, team_membership_end

MAX_QUERY = 100


def _people_url(team: ProductTeam) -> str:
    return f"{team.get_absolute_url()}#people"


def _name(person) -> str:
    return person.get_full_name() or person.username


def _seat_form_page(
    request: HttpRequest,
    form: SeatForm | SeatChangeForm,
    *,
    team: ProductTeam,
    warnings_for: Callable[[dict[str, Any]], list[PlausibilityWarning]],
    write: Callable[[dict[str, Any]], TeamMembership],
    success: Callable[[TeamMembership], str],
    template: str,
    context: dict[str, Any],
) -> HttpResponse:
    """A seat form whose write may ask to confirm allocation warnings: on a valid POST, the warnings
    for the cleaned data, then `write` (a service call) kept once they are confirmed; a refusal
    names its fields and asks nothing. A kept seat says `success(seat)` and goes back to the team's
    people; otherwise the form is shown again (`context` adds to it) with the warnings to confirm."""
    warnings: list[PlausibilityWarning] = []
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        warnings = warnings_for(data)
        try:
            seat = write_when_confirmed(lambda: write(data), data=request.POST, warnings=warnings)
        except ValidationError as exc:
            add_service_errors(form, exc)
            warnings = []  # refused: nothing to confirm
        else:
            if seat is not None:
                messages.success(request, success(seat))
                return redirect(_people_url(team))
    focus_first_error(form)
    context = {
        "form": form,
        "team": team,
        **context,
        "warnings": warnings,
        "warnings_digest": warnings_digest(warnings),
    }
    return render(request, template, context, status=form_status(form))


def seat_create(request: HttpRequest, pk: int) -> HttpResponse:
    """Lean PMO gives a person a seat in the team; `q` searches people by name."""
    team = get_for_user(ProductTeam, request.user, pk, write=True)
    portfolio = team.value_stream.portfolio
    query = (request.POST or request.GET).get("q", "").strip()[:MAX_QUERY]
    form = SeatForm(
        request.POST or None,
        instance=TeamMembership(team=team),
        candidates=selectors.seat_candidates(portfolio, query=query),
        portfolio_ids=set(Portfolio.objects.visible_to(request.user).values_list("pk", flat=True)),
        initial={"start_date": timezone.localdate(), "allocation_percent": 100},
    )
    return _seat_form_page(
        request,
        form,
        team=team,
        warnings_for=lambda data: selectors.seat_allocation_warnings(
            person=data["person"],
            team=team,
            allocation_percent=data["allocation_percent"],
            start_date=data["start_date"],
            end_date=data["end_date"],
            viewer=request.user,
        ),
        write=lambda data: team_membership_add(team=team, by=request.user, **data),
        success=lambda seat: (
            f"{_name(seat.person)} joins {team.name} at {seat.allocation_percent} % "
            f"from {day(seat.start_date)}."
        ),
        template="teams/seat_form.html",
        context={"portfolio": portfolio, "query": query},
    )


def seat_end(request: HttpRequest, pk: int) -> HttpResponse:
    """Lean PMO ends a seat: the person's last day in the team. The seat stays in the history."""
    seat = get_for_user(TeamMembership, request.user, pk, write=True)
    team = seat.team
    form = SeatEndForm(request.POST or None, initial={"end_date": timezone.localdate()})
    if request.method == "POST" and form.is_valid():
        try:
            team_membership_end(membership=seat, by=request.user, **form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            end = form.cleaned_data["end_date"]
            messages.success(
                request, f"{_name(seat.person)}'s last day in {team.name}: {day(end)}."
            )
            return redirect(_people_url(team))
    focus_first_error(form)
    context = {"form": form, "seat": seat, "team": team, "portfolio": team.value_stream.portfolio}
    return render(request, "teams/seat_end_form.html", context, status=form_status(form))


def seat_change(request: HttpRequest, pk: int) -> HttpResponse:
    """Lean PMO changes a seat's allocation (and role) from a date: the old seat ends the day
    before and a new one starts, so stability keeps the history."""
    seat = get_for_user(TeamMembership, request.user, pk, write=True)
    team = seat.team
    form = SeatChangeForm(
        request.POST or None,
        initial={
            "allocation_percent": seat.allocation_percent,
            "on": max(timezone.localdate(), seat.start_date),
            "role_title": seat.role_title,
        },
    )
    return _seat_form_page(
        request,
        form,
        team=team,
        warnings_for=lambda data: selectors.seat_allocation_warnings(
            person=seat.person,
            team=team,
            allocation_percent=data["allocation_percent"],
            start_date=max(data["on"], seat.start_date),
            end_date=seat.end_date,
            viewer=request.user,
            replaces=seat,
        ),
        write=lambda data: team_membership_change(membership=seat, by=request.user, **data),
        success=lambda new: (
            f"{_name(seat.person)} is in {team.name} at {new.allocation_percent} % "
            f"from {day(new.start_date)}."
        ),
        template="teams/seat_change_form.html",
        context={"seat": seat, "portfolio": team.value_stream.portfolio},
    )
