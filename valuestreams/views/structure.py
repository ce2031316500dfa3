from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.utils import timezone
from django.views.decorators.http import require_safe

from portfolio.access import can_edit_structure, get_for_user, portfolio_role
from portfolio.http import form_status
from portfolio.models import Portfolio
from portfolio.sections import kept
from portfolio.selectors import teams_with_headcount
from teams.panels.dependencies import value_stream_dependencies_section
from teams.panels.outcomes import value_stream_outcomes_section
from teams.panels.realisation import realisation_rows
from valuestreams.forms import ValueStreamForm
from valuestreams.models import ValueStream
from valuestreams.panels import value_stream_flow_section
from valuestreams.services.structure import value_stream_create, value_stream_update


@require_safe
def value_stream_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """A value stream with its teams, its flow over time (`?grain=week|month`) and DORA tiles,
    its realisation metrics, outcomes and dependencies between its teams."""
    value_stream = get_for_user(ValueStream, request.user, pk)
    portfolio = value_stream.portfolio
    role = portfolio_role(request.user, portfolio)
    teams = list(teams_with_headcount().filter(value_stream=value_stream))
    today = timezone.localdate()
    now = timezone.now()
    can_edit = can_edit_structure(role)
    context = {
        "value_stream": value_stream,
        "portfolio": portfolio,
        "teams": teams,
        "can_edit": can_edit,
        **value_stream_flow_section(value_stream, teams, request.GET.get("grain")),
        "sections_html": kept(
            "value-stream",
            (value_stream.pk, today, can_edit),
            lambda: _sections(value_stream, today, can_edit),
            now=now,
        ),
        "dependencies_html": kept(
            "value-stream-dependencies",
            (value_stream.pk, request.user.pk, can_edit),
            lambda: render_to_string(
                "teams/_value_stream_dependencies.html",
                {
                    "value_stream": value_stream,
                    "section": value_stream_dependencies_section(value_stream, request.user),
                    "can_edit": can_edit,
                },
            ),
            now=now,
        ),
    }
    return render(request, "valuestreams/value_stream_detail.html", context)


def _sections(value_stream: ValueStream, today, can_edit: bool) -> str:
    """The value-stream page's realisation metrics, teams and outcomes as markup (kept per data
    version: portfolio.sections)."""
    teams = list(teams_with_headcount().filter(value_stream=value_stream))
    context = {
        "value_stream": value_stream,
        "teams": teams,
        "can_edit": can_edit,
        "realisation_rows": realisation_rows(value_stream, as_of=today),
        "outcomes_section": value_stream_outcomes_section(value_stream, teams, as_of=today),
    }
    return render_to_string("valuestreams/_value_stream_sections.html", context)


def value_stream_create_view(request: HttpRequest, portfolio_pk: int) -> HttpResponse:
    """Lean PMO adds a value stream to a portfolio."""
    portfolio = get_for_user(Portfolio, request.user, portfolio_pk, write=True)
    form = ValueStreamForm(request.POST or None, portfolio=portfolio)
    if request.method == "POST" and form.is_valid():
        try:
            value_stream = value_stream_create(portfolio=portfolio, **form.cleaned_data)
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, f"Value stream “{value_stream}” created.")
            return redirect("value-stream-detail", pk=value_stream.pk)
    context = {"form": form, "portfolio": portfolio, "title": "New value stream"}
    return render(request, "valuestreams/value_stream_form.html", context, status=form_status(form))


def value_stream_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """Lean PMO changes a value stream's name, customer, owner or description."""
    value_stream = get_for_user(ValueStream, request.user, pk, write=True)
    portfolio = value_stream.portfolio
    form = ValueStreamForm(request.POST or None, portfolio=portfolio, instance=value_stream)
    if request.method == "POST" and form.is_valid():
        try:
            value_stream_update(value_stream=value_stream, **form.cleaned_data)
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, f"Value stream “{value_stream}” saved.")
            return redirect("value-stream-detail", pk=value_stream.pk)
    context = {
        "form": form,
        "portfolio": portfolio,
        "value_stream": value_stream,
        "title": f"Edit {value_stream}",
    }
    return render(request, "valuestreams/value_stream_form.html", context, status=form_status(form))
