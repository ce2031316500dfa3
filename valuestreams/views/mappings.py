"""The mapping page: how each source status and type of a portfolio counts in the flow metrics."""

from itertools import zip_longest

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from portfolio.access import can_edit_structure, get_for_user, portfolio_role
from portfolio.models import Portfolio
from valuestreams.forms import StateMappingFormSet, TypeMappingFormSet, mapping_formset
from valuestreams.selectors.mappings import MappingRow, mapping_overview
from valuestreams.services.mappings import mappings_save


def _default_labels(rows: list[MappingRow], fallback: str) -> list[str]:
    return [
        f"Default: {row.default_value}" if row.default_value else f"Unmapped → {fallback}"
        for row in rows
    ]


def _formset(kind, rows: list[MappingRow], data, prefix: str, fallback: str):
    return mapping_formset(kind)(
        data,
        prefix=prefix,
        initial=[{"name": row.name, "value": row.explicit_value or ""} for row in rows],
        default_labels=_default_labels(rows, fallback),
    )


def mapping_page(request: HttpRequest, pk: int) -> HttpResponse:
    """Every status and type seen, what it maps to and why; the Lean PMO edits the mapping."""
    portfolio = get_for_user(Portfolio, request.user, pk, write=request.method == "POST")
    overview = mapping_overview(portfolio)
    data = request.POST if request.method == "POST" else None
    states = _formset(StateMappingFormSet, overview.statuses, data, "states", "waiting")
    types = _formset(TypeMappingFormSet, overview.types, data, "types", "Feature")
    if data is not None and states.is_valid() and types.is_valid():
        try:
            changed = mappings_save(
                portfolio=portfolio,
                states=states.wanted(),
                types=types.wanted(),
                requested_by=request.user,
            )
        except ValidationError as exc:
            states._non_form_errors = states.error_class(exc.messages)
        else:
            messages.success(
                request,
                f"Saved {changed} change(s); the metrics are being recomputed."
                if changed
                else "Nothing changed.",
            )
            return redirect("mapping-page", pk=portfolio.pk)
    context = {
        "portfolio": portfolio,
        "overview": overview,
        "can_edit": can_edit_structure(portfolio_role(request.user, portfolio)),
        "states": states,
        "types": types,
        "status_rows": list(zip_longest(overview.statuses, states.forms)),
        "type_rows": list(zip_longest(overview.types, types.forms)),
    }
    invalid = data is not None
    return render(request, "valuestreams/mapping.html", context, status=400 if invalid else 200)
