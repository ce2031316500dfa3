"""The funding editor: periods, the grid of value streams × money and allocation, live guardrails."""

from __future__ import annotations

from decimal import Decimal

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_safe

from leanpmo.access import get_money_object, get_money_portfolio
from leanpmo.forms import BudgetImportForm, DecisionForm, PeriodForm, attach_errors
from leanpmo.models import FundingDecision, FundingPeriod, ValueStreamBudget
from leanpmo.selectors import budget_history, period_budgets
from leanpmo.services import (
    PlanRowError,
    VersionConflict,
    budgets_import,
    period_create,
    period_transition,
    plan_save,
)
from leanpmo.views.grid import MoneyGrid, plan_summary
from portfolio.access import can_edit_structure
from portfolio.http import form_status

UNKNOWN_ROW = "This row names a value stream budget that is not in this period."


def _period_for(request: HttpRequest, pk: int, period_pk: int, *, write: bool = False):
    portfolio, role = get_money_portfolio(request.user, pk, write=write)
    period = FundingPeriod.objects.filter(portfolio=portfolio, pk=period_pk).first()
    if period is None:
        raise Http404("No such funding period in this portfolio.")
    return portfolio, role, period


def funding_periods(request: HttpRequest, pk: int) -> HttpResponse:
    """The portfolio's funding periods; Lean PMO adds one (periods may not overlap)."""
    portfolio, role = get_money_portfolio(request.user, pk, write=request.method == "POST")
    form = PeriodForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            period = period_create(portfolio=portfolio, user=request.user, **form.cleaned_data)
        except ValidationError as exc:
            attach_errors(form, exc)
        else:
            messages.success(request, f"Period “{period}” created as a draft.")
            return redirect("funding-editor", pk=portfolio.pk, period_pk=period.pk)
    periods = FundingPeriod.objects.filter(portfolio=portfolio).order_by("-starts_on")
    context = {
        "portfolio": portfolio,
        "periods": periods,
        "form": form,
        "can_edit": can_edit_structure(role),
    }
    return render(request, "leanpmo/funding_periods.html", context, status=form_status(form))


def _editor_context(portfolio, role, period, grid: MoneyGrid, decision_form, **extra) -> dict:
    rows, summary = plan_summary(grid, portfolio=portfolio, period=period)
    return {
        "portfolio": portfolio,
        "period": period,
        "periods": FundingPeriod.objects.filter(portfolio=portfolio).order_by("starts_on"),
        "formset": grid.formset,
        "rows": rows,
        "decision_form": decision_form,
        "summary": summary,
        "can_edit": can_edit_structure(role) and period.status != FundingPeriod.Status.CLOSED,
        "needs_decision": period.status == FundingPeriod.Status.APPROVED,
        "pending": FundingDecision.objects.filter(
            period=period, kind="exception", approval__isnull=True, value_stream__isnull=False
        )
        .exclude(proposal={})
        .select_related("value_stream"),
        **extra,
    }


def funding_editor(request: HttpRequest, pk: int, period_pk: int) -> HttpResponse:
    """One grid per period: value streams × money by horizon and allocation; saved in one transaction."""
    portfolio, role, period = _period_for(request, pk, period_pk, write=request.method == "POST")
    data = request.POST if request.method == "POST" else None
    grid = MoneyGrid(period_budgets(period), data, key="budget")
    if request.method != "POST":
        context = _editor_context(portfolio, role, period, grid, DecisionForm())
        return render(request, "leanpmo/funding_editor.html", context)
    decision_form = DecisionForm(request.POST)
    status, conflict = 400, None
    valid = grid.formset.is_valid() and decision_form.is_valid()
    inputs = grid.inputs(unknown_row=UNKNOWN_ROW) if valid else None
    if inputs is not None:
        try:
            results = plan_save(
                period=period, rows=inputs, user=request.user,
                decision=decision_form.decision_input(), now=timezone.now(),
            )  # fmt: skip
        except VersionConflict as exc:
            status, conflict = 409, exc
            grid = grid.rebased(exc.current)
        except PlanRowError as exc:
            grid.attach(exc, decision_form=decision_form)
        else:
            _report(request, results)
            return redirect("funding-editor", pk=portfolio.pk, period_pk=period.pk)
    context = _editor_context(
        portfolio, role, period, grid, decision_form, conflict=conflict,
        conflict_history=budget_history(conflict.current)[:1] if conflict else [],
    )  # fmt: skip
    return render(request, "leanpmo/funding_editor.html", context, status=status)


def _report(request: HttpRequest, results) -> None:
    applied = [r for r in results if not r.pending]
    pending = [r for r in results if r.pending]
    if applied:
        names = ", ".join(r.budget.value_stream.name for r in applied)
        messages.success(request, f"Saved: {names}.")
    for result in pending:
        messages.warning(
            request,
            f"{result.budget.value_stream.name}: recorded as an exception decision; "
            "the change waits for an executive's approval.",
        )
    if not results:
        messages.info(request, "Nothing changed.")


def funding_preview(request: HttpRequest, pk: int, period_pk: int) -> HttpResponse:
    """The totals and guardrail results of the grid as typed (htmx fragment; nothing is saved)."""
    portfolio, _, period = _period_for(request, pk, period_pk, write=True)
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    grid = MoneyGrid(period_budgets(period), request.POST, key="budget")
    _, summary = plan_summary(grid, portfolio=portfolio, period=period)
    context = {"summary": summary, "portfolio": portfolio, "oob": True}
    return render(request, "leanpmo/_plan_summary.html", context)


def period_status(request: HttpRequest, pk: int, period_pk: int) -> HttpResponse:
    """Lean PMO approves a draft period or closes an approved one."""
    portfolio, _, period = _period_for(request, pk, period_pk, write=True)
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    try:
        period_transition(
            period=period,
            status=request.POST.get("status", ""),
            user=request.user,
            now=timezone.now(),
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        response = redirect("funding-editor", pk=portfolio.pk, period_pk=period.pk)
        response.status_code = 303
        return response
    messages.success(request, f"{period} is now {request.POST['status']}.")
    return redirect("funding-editor", pk=portfolio.pk, period_pk=period.pk)


def budget_import_view(request: HttpRequest, pk: int, period_pk: int) -> HttpResponse:
    """Lean PMO uploads a CSV of budgets for a draft period (all or nothing)."""
    portfolio, _, period = _period_for(request, pk, period_pk, write=True)
    form = BudgetImportForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            written = budgets_import(period=period, csv_text=form.text(), user=request.user)
        except (ValidationError, UnicodeDecodeError) as exc:
            attach_errors(
                form,
                exc
                if isinstance(exc, ValidationError)
                else ValidationError("The file is not UTF-8 text."),
            )
        else:
            messages.success(request, f"Imported {written} budgets.")
            return redirect("funding-editor", pk=portfolio.pk, period_pk=period.pk)
    context = {"portfolio": portfolio, "period": period, "form": form}
    return render(request, "leanpmo/budget_import.html", context, status=form_status(form))


@require_safe
def budget_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """A budget with its audit history (who, when, old → new) and the decisions about it."""
    budget = get_money_object(ValueStreamBudget, request.user, pk)
    if budget.period.portfolio_id is None:  # pragma: no cover - guarded by the FK
        raise PermissionDenied
    decisions = FundingDecision.objects.filter(
        period=budget.period, value_stream=budget.value_stream
    ).select_related("decided_by", "approval")
    context = {
        "budget": budget,
        "portfolio": budget.period.portfolio,
        "history": budget_history(budget),
        "decisions": decisions,
        "actual": budget.period.actuals.filter(value_stream=budget.value_stream).first(),
        "total": budget.total,
        "zero": Decimal(0),
    }
    return render(request, "leanpmo/budget_detail.html", context)
