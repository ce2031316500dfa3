"""The funding editor: periods, the grid of value streams × money and allocation, live guardrails."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_safe

from leanpmo import plan_text
from leanpmo.access import get_money_object, get_money_portfolio
from leanpmo.forms.decisions import DecisionForm
from leanpmo.forms.funding import BudgetImportForm, PeriodForm, PeriodStepForm
from leanpmo.models import FundingDecision, FundingPeriod, ValueStreamBudget
from leanpmo.panels.navigation import funding_nav
from leanpmo.selectors.audit import budget_history
from leanpmo.selectors.funding import (
    period_budgets,
    period_check,
    period_lines,
    previous_period,
    previous_totals,
    themes_by_id,
)
from leanpmo.services.budgets import plan_save
from leanpmo.services.imports import budgets_import
from leanpmo.services.money_plans import PlanRowError, VersionConflict
from leanpmo.services.periods import period_create, period_transition
from leanpmo.views.grid import MoneyGrid, plan_summary
from portfolio.access import can_edit_structure
from portfolio.form_errors import add_service_errors
from portfolio.formatting import money, money_change, plural
from portfolio.http import form_status
from portfolio.sections import kept

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
    form = PeriodForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            period = period_create(portfolio=portfolio, user=request.user, **form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, f"Period “{period}” created as a draft.")
            return redirect("funding-editor", pk=portfolio.pk, period_pk=period.pk)
    context = {
        "portfolio": portfolio,
        "funding_nav": funding_nav(portfolio, request.user),
        "lines": period_lines(portfolio),
        "form": form,
        "can_edit": can_edit_structure(role),
    }
    return render(request, "leanpmo/funding_periods.html", context, status=form_status(form))


def _editable(role, period: FundingPeriod) -> bool:
    return can_edit_structure(role) and period.status != FundingPeriod.Status.CLOSED


def _grid_markup(portfolio, period: FundingPeriod, can_edit: bool) -> str:
    """The period's grid as stored, with its summary, as markup: what every GET of the editor
    shows (kept per data version: portfolio.sections)."""
    grid = MoneyGrid(period_budgets(period), None, key="budget")
    rows, summary = plan_summary(grid, portfolio=portfolio, period=period)
    importable = can_edit and period.status == FundingPeriod.Status.DRAFT
    return render_to_string(
        "leanpmo/_money_grid.html",
        {
            "portfolio": portfolio,
            "period": period,
            "formset": grid.formset,
            "rows": rows,
            "summary": summary,
            "can_edit": can_edit,
            "empty": "No budgets in this period yet",
            "empty_url": reverse("budget-import", args=[portfolio.pk, period.pk])
            if importable
            else "",
            "empty_link": "import them from CSV",
        },
    )


def _editor_context(
    portfolio, role, period, grid: MoneyGrid | None, decision_form, *, user, **extra
) -> dict:
    """The editor's context; without a `grid` (a GET), the grid as stored comes as `grid_html`
    in `extra`."""
    rows, summary = plan_summary(grid, portfolio=portfolio, period=period) if grid else ([], {})
    return {
        "portfolio": portfolio,
        "funding_nav": funding_nav(portfolio, user),
        "period": period,
        "periods": FundingPeriod.objects.filter(portfolio=portfolio).order_by("starts_on"),
        "formset": grid.formset if grid else None,
        "rows": rows,
        "decision_form": decision_form,
        "summary": summary,
        "can_edit": _editable(role, period),
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
    if request.method != "POST":
        can_edit = _editable(role, period)
        grid_html = kept(
            "funding-grid",
            (period.pk, can_edit),
            lambda: _grid_markup(portfolio, period, can_edit),
            now=timezone.now(),
        )
        context = _editor_context(
            portfolio, role, period, None, DecisionForm(), user=request.user, grid_html=grid_html
        )
        return render(request, "leanpmo/funding_editor.html", context)
    grid = MoneyGrid(period_budgets(period), request.POST, key="budget")
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
            _report(request, results, portfolio.currency)
            return redirect("funding-editor", pk=portfolio.pk, period_pk=period.pk)
    context = _editor_context(
        portfolio, role, period, grid, decision_form, user=request.user, conflict=conflict,
        conflict_history=budget_history(conflict.current)[:1] if conflict else [],
    )  # fmt: skip
    return render(request, "leanpmo/funding_editor.html", context, status=status)


def _decision_link(decision: FundingDecision, text: str) -> str:
    return format_html('<a href="{}">{}</a>', reverse("decision-detail", args=[decision.pk]), text)


def _report(request: HttpRequest, results, currency: str) -> None:
    """Say what a save did, linking each decision it recorded (the message is HTML, escaped)."""
    applied = [r for r in results if not r.pending]
    pending = [r for r in results if r.pending]
    if applied:
        names = ", ".join(r.budget.value_stream.name for r in applied)
        links = [
            _decision_link(
                r.decision,
                f"{r.decision.get_kind_display()} {r.decision.subject} "
                f"({money_change(r.decision.change, currency)})",
            )
            for r in applied
            if r.decision is not None
        ]
        recorded = (
            format_html(" Decision recorded: {}.", mark_safe(", ".join(links))) if links else ""
        )
        messages.success(request, format_html("Saved: {}.{}", names, recorded))
    for result in pending:
        messages.warning(
            request,
            format_html(
                "{}: recorded as an {}; the change waits for an executive's approval.",
                result.budget.value_stream.name,
                _decision_link(result.decision, "exception decision"),
            ),
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


NEXT_STEP = {
    FundingPeriod.Status.DRAFT: FundingPeriod.Status.APPROVED,
    FundingPeriod.Status.APPROVED: FundingPeriod.Status.CLOSED,
}


def period_status(request: HttpRequest, pk: int, period_pk: int) -> HttpResponse:
    """Lean PMO approves a draft period or closes an approved one, after a confirmation step: the
    page shows what the step means and the plan it fixes, and the step happens only with its box
    ticked (a POST without it changes nothing and answers 400)."""
    portfolio, _, period = _period_for(request, pk, period_pk, write=True)
    step = NEXT_STEP.get(period.status)
    if step is None:
        messages.error(request, f"{period} is closed: it has no next step.")
        return redirect("funding-editor", pk=portfolio.pk, period_pk=period.pk)
    check = period_check(period)
    words = (
        f"{plural(len(check.budgets), 'value stream')}, "
        f"{money(check.totals['total'], portfolio.currency)}, "
        + (
            plural(len(check.breaches), "guardrail breach", "guardrail breaches")
            if check.breaches
            else "all guardrails within"
        )
        + "."
    )
    form = PeriodStepForm(
        request.POST if request.method == "POST" else None, period=period, step=step, summary=words
    )
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                period_transition(
                    period=period,
                    status=form.cleaned_data["status"],
                    user=request.user,
                    now=timezone.now(),
                )
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                messages.success(request, f"{period} is now {STEP_WORDS[step]}")
                return redirect("funding-editor", pk=portfolio.pk, period_pk=period.pk)
    context = {"portfolio": portfolio, "period": period, "step": step, "check": check, "form": form}
    return render(request, "leanpmo/period_confirm.html", context, status=status)


STEP_WORDS = {
    FundingPeriod.Status.APPROVED: "approved: its money changes only through recorded decisions.",
    FundingPeriod.Status.CLOSED: "closed: its money can no longer change.",
}


def budget_import_view(request: HttpRequest, pk: int, period_pk: int) -> HttpResponse:
    """Lean PMO uploads a CSV of budgets for a draft period (all or nothing)."""
    portfolio, _, period = _period_for(request, pk, period_pk, write=True)
    form = BudgetImportForm(
        request.POST if request.method == "POST" else None,
        request.FILES if request.method == "POST" else None,
    )
    if request.method == "POST" and form.is_valid():
        try:
            written = budgets_import(period=period, csv_text=form.text(), user=request.user)
        except (ValidationError, UnicodeDecodeError) as exc:
            add_service_errors(
                form,
                exc
                if isinstance(exc, ValidationError)
                else ValidationError("The file is not UTF-8 text."),
            )
        else:
            messages.success(request, f"Imported {plural(written, 'budget')}.")
            return redirect("funding-editor", pk=portfolio.pk, period_pk=period.pk)
    context = {"portfolio": portfolio, "period": period, "form": form}
    return render(request, "leanpmo/budget_import.html", context, status=form_status(form))


@require_safe
def budget_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """A budget with its audit history (who, when, old → new) and the decisions about it."""
    budget = get_money_object(ValueStreamBudget, request.user, pk)
    portfolio = budget.period.portfolio
    decisions = FundingDecision.objects.filter(
        period=budget.period, value_stream=budget.value_stream
    ).select_related("decided_by", "approval")
    before = previous_period(budget.period)
    previous_total = previous_totals(budget.period).get(budget.value_stream_id)
    context = {
        "budget": budget,
        "portfolio": portfolio,
        "history": budget_history(budget),
        "decisions": decisions,
        "actual": budget.period.actuals.filter(value_stream=budget.value_stream).first(),
        "total": budget.total,
        "previous_period": before,
        "previous_total": previous_total,
        "previous_change": (budget.total - previous_total) * 100 / previous_total
        if previous_total
        else None,
        "themes": plan_text.value_text(
            "theme_split", budget.theme_split, themes=themes_by_id(portfolio)
        ),
    }
    return render(request, "leanpmo/budget_detail.html", context)
