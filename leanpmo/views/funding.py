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
from leanpmo.forms import (
    BudgetImportForm,
    BudgetRowFormSet,
    DecisionForm,
    PeriodForm,
    attach_errors,
)
from leanpmo.guardrails import PlanRow, check_plan
from leanpmo.models import (
    ALLOCATION_FIELD,
    HORIZON_AMOUNT_FIELD,
    FundingDecision,
    FundingPeriod,
    ValueStreamBudget,
)
from leanpmo.selectors import (
    budget_history,
    budget_plan_row,
    guardrail_rules,
    period_budgets,
    plan_totals,
    previous_totals,
)
from leanpmo.services import (
    BudgetConflict,
    PlanRowError,
    PlanRowInput,
    budgets_import,
    period_create,
    period_transition,
    plan_save,
)
from portfolio.access import can_edit_structure
from portfolio.http import form_status

DECISION_FIELDS = set(DecisionForm.base_fields) | {"period"}


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


def _grid_rows(formset, budgets: list[ValueStreamBudget]) -> list[dict]:
    by_id = {budget.pk: budget for budget in budgets}
    rows = []
    for form in formset:
        budget = by_id.get(int(form["budget"].value() or 0))
        rows.append({"form": form, "budget": budget})
    return rows


def _initial(budgets: list[ValueStreamBudget]) -> list[dict]:
    fields = [*HORIZON_AMOUNT_FIELD.values(), "fixed_scope_amount", *ALLOCATION_FIELD.values()]
    return [
        {"budget": b.pk, "version": b.version, **{name: getattr(b, name) for name in fields}}
        for b in budgets
    ]


def _summary(portfolio, period, budgets: list[ValueStreamBudget], formset=None) -> dict:
    """Totals and guardrail results of the plan as typed (rows that do not parse keep stored values)."""
    by_id = {budget.pk: budget for budget in budgets}
    rows, row_totals, problems = [], {}, []
    typed: dict[int, dict] = {}
    if formset is not None:
        for form in formset:
            form.is_valid()
            budget = by_id.get(_int(form["budget"].value()))
            if budget is None:
                continue
            if form.errors:
                for field, errors in form.errors.items():
                    label = form.fields[field].label if field in form.fields else field
                    problems.append(f"{budget.value_stream.name} — {label}: {errors[0]}")
                continue
            typed[budget.pk] = form.cleaned_data
    for budget in budgets:
        data = typed.get(budget.pk)
        if data is None:
            row = budget_plan_row(budget)
        else:
            row = PlanRow(
                budget.value_stream_id,
                budget.value_stream.name,
                {code: data[name] for code, name in HORIZON_AMOUNT_FIELD.items()},
                {kind: data[name] for kind, name in ALLOCATION_FIELD.items()},
                data["fixed_scope_amount"],
            )
            allocation = sum(row.allocation.values())
            if allocation != 100:
                problems.append(
                    f"{budget.value_stream.name} — allocation adds up to {allocation} %, not 100 %"
                )
        rows.append(row)
        row_totals[budget.pk] = (row.total, sum(row.allocation.values()))
    results = check_plan(rows, guardrail_rules(portfolio), previous_totals=previous_totals(period))
    return {
        "totals": plan_totals(rows),
        "row_totals": row_totals,
        "results": results,
        "breaches": [result for result in results if not result.ok],
        "problems": problems,
    }


def _int(value) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0


def _editor_context(portfolio, role, period, budgets, formset, decision_form, **extra) -> dict:
    summary = _summary(portfolio, period, budgets, formset if formset.is_bound else None)
    rows = _grid_rows(formset, budgets)
    for row in rows:
        if row["budget"] is not None:
            row["total"], row["allocation"] = summary["row_totals"][row["budget"].pk]
    return {
        "portfolio": portfolio,
        "period": period,
        "periods": FundingPeriod.objects.filter(portfolio=portfolio).order_by("starts_on"),
        "formset": formset,
        "rows": rows,
        "decision_form": decision_form,
        "summary": summary,
        "can_edit": can_edit_structure(role) and period.status != FundingPeriod.Status.CLOSED,
        "needs_decision": period.status == FundingPeriod.Status.APPROVED,
        "pending": FundingDecision.objects.filter(
            period=period, kind="exception", approval__isnull=True
        )
        .exclude(proposal={})
        .select_related("value_stream"),
        **extra,
    }


def funding_editor(request: HttpRequest, pk: int, period_pk: int) -> HttpResponse:
    """One grid per period: value streams × money by horizon and allocation; saved in one transaction."""
    portfolio, role, period = _period_for(request, pk, period_pk, write=request.method == "POST")
    budgets = period_budgets(period)
    if request.method != "POST":
        formset = BudgetRowFormSet(initial=_initial(budgets), prefix="rows")
        context = _editor_context(portfolio, role, period, budgets, formset, DecisionForm())
        return render(request, "leanpmo/funding_editor.html", context)
    formset = BudgetRowFormSet(request.POST, prefix="rows")
    decision_form = DecisionForm(request.POST)
    status, conflict = 400, None
    if formset.is_valid() and decision_form.is_valid():
        by_id = {budget.pk: budget for budget in budgets}
        inputs = []
        for form in formset:
            budget = by_id.get(form.cleaned_data["budget"])
            if budget is None:
                form.add_error(
                    None, "This row names a value stream budget that is not in this period."
                )
                continue
            inputs.append(PlanRowInput(budget, form.cleaned_data["version"], form.changes()))
        if all(form.is_valid() for form in formset):
            try:
                results = plan_save(
                    period=period,
                    rows=inputs,
                    user=request.user,
                    decision=decision_form.decision_input(),
                    now=timezone.now(),
                )
            except BudgetConflict as exc:
                status, conflict = 409, exc
                formset = _with_current_version(request, exc.current)
            except PlanRowError as exc:
                _attach(formset, decision_form, exc)
            else:
                _report(request, results)
                return redirect("funding-editor", pk=portfolio.pk, period_pk=period.pk)
    context = _editor_context(
        portfolio, role, period, budgets, formset, decision_form, conflict=conflict,
        conflict_history=budget_history(conflict.current)[:1] if conflict else [],
    )  # fmt: skip
    return render(request, "leanpmo/funding_editor.html", context, status=status)


def _with_current_version(request: HttpRequest, current: ValueStreamBudget):
    """The submitted grid again, with the conflicting row's version moved to what is stored now."""
    data = request.POST.copy()
    for key, value in request.POST.items():
        if key.endswith("-budget") and _int(value) == current.pk:
            data[key.removesuffix("-budget") + "-version"] = str(current.version)
    formset = BudgetRowFormSet(data, prefix="rows")
    formset.is_valid()
    return formset


def _attach(formset, decision_form, exc: PlanRowError) -> None:
    form = next(f for f in formset if f.cleaned_data.get("budget") == exc.budget.pk)
    for field, errors in exc.error.message_dict.items():
        target = decision_form if field in DECISION_FIELDS else form
        target_field = field if field in target.fields else None
        for error in errors:
            target.add_error(target_field, error)


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
    budgets = period_budgets(period)
    formset = BudgetRowFormSet(request.POST, prefix="rows")
    context = {
        "summary": _summary(portfolio, period, budgets, formset),
        "portfolio": portfolio,
        "oob": True,
    }
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
