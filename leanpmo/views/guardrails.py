"""The portfolio's guardrails: listed with their current status; Lean PMO adds and changes them."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone

from leanpmo.access import get_money_portfolio
from leanpmo.forms.guardrails import GuardrailForm
from leanpmo.models import Guardrail
from leanpmo.panels.navigation import funding_nav
from leanpmo.selectors.funding import current_period, period_check
from leanpmo.selectors.initiatives import strategic_in_progress
from leanpmo.services.structure import guardrail_save
from portfolio.access import can_edit_structure
from portfolio.form_errors import add_service_errors
from portfolio.http import form_status


def guardrail_list(request: HttpRequest, pk: int) -> HttpResponse:
    """Guardrails with their results on the current period; Lean PMO adds one."""
    portfolio, role = get_money_portfolio(request.user, pk, write=request.method == "POST")
    form = GuardrailForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            guardrail_save(portfolio=portfolio, user=request.user, **form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, "Guardrail saved.")
            return redirect("guardrail-list", pk=portfolio.pk)
    period = current_period(portfolio, today=timezone.localdate())
    context = {
        "portfolio": portfolio,
        "funding_nav": funding_nav(portfolio, request.user),
        "guardrails": Guardrail.objects.filter(portfolio=portfolio),
        "period": period,
        "check": period_check(period) if period else None,
        "strategic_now": len(strategic_in_progress(portfolio)),
        "form": form,
        "can_edit": can_edit_structure(role),
    }
    return render(request, "leanpmo/guardrail_list.html", context, status=form_status(form))
