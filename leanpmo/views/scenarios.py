"""Scenarios: what-if copies of a period's plan, edited in a grid, compared, promoted into decisions."""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_safe

from leanpmo.access import get_money_object, get_scenario_portfolio
from leanpmo.forms.scenarios import PromotionDecisionForm, ScenarioForm
from leanpmo.guardrails import new_breaches
from leanpmo.models import Scenario
from leanpmo.panels.navigation import funding_nav
from leanpmo.panels.scenarios import TABLES, comparison_panels, comparison_table
from leanpmo.selectors.funding import PlanCheck, current_period, period_budgets, period_check
from leanpmo.selectors.scenarios import (
    portfolio_scenarios,
    scenario_comparison,
    scenario_drift,
    scenario_lines,
)
from leanpmo.services.decisions import REVIEW_AFTER_DAYS
from leanpmo.services.money_plans import PlanRowError, VersionConflict
from leanpmo.services.scenarios import (
    ScenarioStale,
    promotion_plan,
    scenario_create,
    scenario_lines_save,
    scenario_promote,
    scenario_refresh,
)
from leanpmo.views.grid import MoneyGrid, plan_summary
from portfolio.downloads import table_response
from portfolio.form_errors import add_service_errors
from portfolio.http import form_status

FIX_BELOW = "Nothing was saved: fix the values marked below."


def scenario_list(request: HttpRequest, pk: int) -> HttpResponse:
    """The portfolio's scenarios; the Lean PMO copies a period's plan into a new one."""
    portfolio, role = get_scenario_portfolio(request.user, pk, write=request.method == "POST")
    current = current_period(portfolio, today=timezone.localdate())
    data = request.POST if request.method == "POST" else None
    form = ScenarioForm(data, portfolio=portfolio, current=current)
    if request.method == "POST" and form.is_valid():
        try:
            scenario = scenario_create(user=request.user, now=timezone.now(), **form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(
                request, f"Scenario “{scenario.name}” copies the plan of {scenario.period}."
            )
            return redirect("scenario-detail", pk=scenario.pk)
    context = {
        "portfolio": portfolio,
        "funding_nav": funding_nav(portfolio, request.user),
        "scenarios": portfolio_scenarios(portfolio),
        "form": form,
        "can_edit": role in {"admin", "lean_pmo"},
    }
    return render(request, "leanpmo/scenario_list.html", context, status=form_status(form))


def _can_edit(request: HttpRequest, scenario: Scenario) -> bool:
    return (
        scenario.is_draft
        and scenario.period.status != "closed"
        and Scenario.objects.editable_by(request.user).filter(pk=scenario.pk).exists()
    )


def _summary(scenario: Scenario, grid: MoneyGrid, plan: PlanCheck) -> tuple[list, dict]:
    """The grid's rows and what the summary shows: the scenario as typed, beside the plan's totals
    and guardrails."""
    rows, summary = plan_summary(grid, portfolio=scenario.period.portfolio, period=scenario.period)
    summary.update(
        plan_totals=plan.totals,
        plan_breaches=plan.breaches,
        new_breaches=new_breaches(plan.results, summary["results"]),
    )
    return rows, summary


def scenario_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """A scenario's grid (editable while a draft), its guardrails as typed, and the comparison."""
    scenario = get_money_object(Scenario, request.user, pk, write=request.method == "POST")
    comparison = scenario_comparison(scenario)
    grid = MoneyGrid(
        comparison.lines, request.POST if request.method == "POST" else None, key="line"
    )
    status, problem = 200, ""
    if request.method == "POST":
        status, problem = _save_grid(request, scenario, grid)
        if status == 302:
            return redirect("scenario-detail", pk=scenario.pk)
    plan = PlanCheck(comparison.budgets, comparison.plan_results, comparison.plan_totals)
    rows, summary = _summary(scenario, grid, plan)
    context = {
        "scenario": scenario,
        "portfolio": scenario.period.portfolio,
        "funding_nav": funding_nav(scenario.period.portfolio, request.user),
        "period": scenario.period,
        "comparison": comparison,
        "summary": summary,
        "rows": rows,
        "formset": grid.formset,
        "charts": comparison_panels(scenario, comparison),
        "tables": {
            key: comparison.tables[key].to_dict("records") for key in ("themes", "guardrails")
        },
        "decisions": scenario.decisions.select_related("value_stream", "approval").order_by("pk"),
        "can_edit": _can_edit(request, scenario),
        "problem": problem,
    }
    return render(request, "leanpmo/scenario_detail.html", context, status=status)


def _save_grid(request: HttpRequest, scenario: Scenario, grid: MoneyGrid) -> tuple[int, str]:
    """Save the grid: (302, "") when saved, else the status to answer and what went wrong."""
    if not grid.formset.is_valid():
        return 400, FIX_BELOW
    inputs = grid.inputs(unknown_row="This row names a line that is not in this scenario.")
    if inputs is None:
        return 400, "Nothing was saved: a row does not belong to this scenario."
    try:
        written = scenario_lines_save(scenario=scenario, rows=inputs)
    except VersionConflict as exc:
        return 409, f"{exc} Nothing of yours was saved; reload to see their values."
    except PlanRowError as exc:
        grid.attach(exc)
        return 400, FIX_BELOW
    except ValidationError as exc:
        return 400, " ".join(exc.messages)
    plural = "s" * (written != 1)
    messages.success(request, f"Scenario saved ({written} value stream{plural} changed).")
    return 302, ""


def scenario_preview(request: HttpRequest, pk: int) -> HttpResponse:
    """Totals and guardrails of the scenario grid as typed, beside the plan (htmx; nothing saved)."""
    scenario = get_money_object(Scenario, request.user, pk, write=True)
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    grid = MoneyGrid(scenario_lines(scenario), request.POST, key="line")
    _, summary = _summary(scenario, grid, period_check(scenario.period))
    context = {"summary": summary, "portfolio": scenario.period.portfolio, "oob": True}
    return render(request, "leanpmo/_plan_summary.html", context)


def scenario_promote_view(request: HttpRequest, pk: int) -> HttpResponse:
    """The Lean PMO turns the scenario into one decision per changed value stream."""
    scenario = get_money_object(Scenario, request.user, pk, write=True)
    plans = promotion_plan(scenario) if scenario.is_draft else []
    review_on = timezone.localdate() + dt.timedelta(days=REVIEW_AFTER_DAYS)
    forms = [
        PromotionDecisionForm(
            request.POST if request.method == "POST" else None,
            prefix=f"vs{plan.line.value_stream_id}",
            initial={"decision_kind": plan.kind, "review_due_on": review_on},
        )
        for plan in plans
    ]
    status, problem = 200, ""
    if request.method == "POST":
        status = 400
        if not plans:
            problem = "This scenario changes nothing in the plan; there is nothing to promote."
        elif all(form.is_valid() for form in forms):
            decisions = {
                plan.line.value_stream_id: form.decision_input()
                for plan, form in zip(plans, forms, strict=True)
            }
            try:
                result = scenario_promote(
                    scenario=scenario, decisions=decisions, user=request.user, now=timezone.now()
                )
            except (ScenarioStale, VersionConflict) as exc:
                status, problem = 409, str(exc)
            except PlanRowError as exc:
                index = next(i for i, plan in enumerate(plans) if plan.line.pk == exc.row.pk)
                add_service_errors(forms[index], exc.error)
            except ValidationError as exc:
                problem = " ".join(exc.messages)
            else:
                pending = sum(r.pending for r in result.results)
                messages.success(
                    request,
                    f"Promoted: {len(result.results)} decision{'s' * (len(result.results) != 1)} recorded"
                    + (f", {pending} waiting for an executive's approval." if pending else "."),
                )
                return redirect("scenario-detail", pk=scenario.pk)
    context = {
        "scenario": scenario,
        "portfolio": scenario.period.portfolio,
        "items": list(zip(plans, forms, strict=True)),
        "drift": scenario_drift(scenario_lines(scenario), period_budgets(scenario.period)),
        "problem": problem,
    }
    return render(request, "leanpmo/scenario_promote.html", context, status=status)


def scenario_refresh_view(request: HttpRequest, pk: int) -> HttpResponse:
    """Bring a stale scenario onto the current plan (edited lines keep the scenario's values)."""
    scenario = get_money_object(Scenario, request.user, pk, write=True)
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    try:
        drift = scenario_refresh(scenario=scenario)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        names = ", ".join(item.value_stream for item in drift) or "nothing had changed"
        messages.success(request, f"Scenario refreshed from the plan ({names}).")
    return redirect("scenario-detail", pk=scenario.pk)


@require_safe
def scenario_compare_csv(request: HttpRequest, pk: int, table: str) -> HttpResponse:
    """One comparison table of the scenario (streams, horizons, themes, guardrails) as CSV."""
    scenario = get_money_object(Scenario, request.user, pk)
    if table not in TABLES:
        raise Http404("No such comparison table.")
    frame = comparison_table(scenario_comparison(scenario), table)
    return table_response(frame, name=f"scenario-{scenario.pk}-{table}", fmt="csv")
