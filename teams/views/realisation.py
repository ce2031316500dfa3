"""The realisation metrics page of a value stream: read by its readers, written by Lean PMO."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_safe

from portfolio.access import can_edit_structure, get_for_user, portfolio_role
from teams.forms.realisation import (
    RealisationImportForm,
    RealisationMetricForm,
    RealisationPointForm,
)
from teams.panels.realisation import realisation_panels
from teams.selectors import realisation_metrics
from teams.services.realisation import (
    realisation_import_csv,
    realisation_metric_create,
    realisation_point_record,
)
from valuestreams.models import ValueStream


def _page(
    request: HttpRequest, value_stream: ValueStream, *, status: int = 200, **bound: forms.BaseForm
) -> HttpResponse:
    role = portfolio_role(request.user, value_stream.portfolio)
    context = {
        "value_stream": value_stream,
        "portfolio": value_stream.portfolio,
        "metrics": realisation_metrics(value_stream),
        "charts": realisation_panels(value_stream),
        "can_edit": can_edit_structure(role),
        "point_form": bound.get("point_form") or RealisationPointForm(value_stream=value_stream),
        "metric_form": bound.get("metric_form") or RealisationMetricForm(),
        "import_form": bound.get("import_form") or RealisationImportForm(),
        "import_errors": bound.get("import_errors", []),
    }
    return render(request, "teams/realisation.html", context, status=status)


@require_safe
def realisation_page(request: HttpRequest, pk: int) -> HttpResponse:
    """A value stream's realisation metrics: chart, numbers, and for Lean PMO the entry forms."""
    return _page(request, get_for_user(ValueStream, request.user, pk))


def realisation_point_create(request: HttpRequest, pk: int) -> HttpResponse:
    """Lean PMO records one value of a metric (a second value on a date replaces the first)."""
    value_stream = get_for_user(ValueStream, request.user, pk, write=True)
    if request.method != "POST":
        return redirect("realisation-metrics", pk=value_stream.pk)
    form = RealisationPointForm(request.POST, value_stream=value_stream)
    if form.is_valid():
        try:
            point = realisation_point_record(**form.cleaned_data)
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, f"{point.metric.name} on {point.on:%d %b %Y} recorded.")
            return redirect("realisation-metrics", pk=value_stream.pk)
    return _page(request, value_stream, status=400, point_form=form)


def realisation_metric_create_view(request: HttpRequest, pk: int) -> HttpResponse:
    """Lean PMO adds a realisation metric to the value stream."""
    value_stream = get_for_user(ValueStream, request.user, pk, write=True)
    if request.method != "POST":
        return redirect("realisation-metrics", pk=value_stream.pk)
    form = RealisationMetricForm(request.POST)
    if form.is_valid():
        try:
            metric = realisation_metric_create(value_stream=value_stream, **form.cleaned_data)
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, f"Metric “{metric.name}” added.")
            return redirect("realisation-metrics", pk=value_stream.pk)
    return _page(request, value_stream, status=400, metric_form=form)


def realisation_import(request: HttpRequest, pk: int) -> HttpResponse:
    """Lean PMO imports points from a CSV file: all rows or none."""
    value_stream = get_for_user(ValueStream, request.user, pk, write=True)
    if request.method != "POST":
        return redirect("realisation-metrics", pk=value_stream.pk)
    form = RealisationImportForm(request.POST, request.FILES)
    if not form.is_valid():
        return _page(request, value_stream, status=400, import_form=form)
    result = realisation_import_csv(value_stream=value_stream, text=form.cleaned_data["file"])
    if result.errors:
        return _page(request, value_stream, status=400, import_errors=result.errors)
    messages.success(
        request,
        f"Imported {result.recorded_points} values"
        + (f" and {result.created_metrics} new metrics." if result.created_metrics else "."),
    )
    return redirect("realisation-metrics", pk=value_stream.pk)
