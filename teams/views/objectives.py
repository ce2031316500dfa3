"""Lean PMO pages for the OKR cascade: the portfolio's outcomes page (read by everyone in the
portfolio) and its objectives and key results (written by Lean PMO)."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_safe

from leanpmo.selectors.funding import theme_money
from portfolio.access import can_edit_structure, can_see_money, get_for_user, portfolio_role
from portfolio.form_errors import add_service_errors
from portfolio.models import Portfolio
from teams.forms.objectives import KeyResultForm, ObjectiveForm
from teams.models import KeyResult, Objective
from teams.panels.outcome_tree import (
    outcome_branch,
    outcome_page_for_readers,
    outcome_page_tree,
)
from teams.selectors import folded_branch_of
from teams.services.objectives import (
    key_result_create,
    key_result_update,
    objective_create,
    objective_update,
)
from teams.views.pmo_form import pmo_form_page


def _outcomes_url(portfolio_id: int, anchor: str = "") -> str:
    """The outcomes page at `anchor`, with the branch that holds it unfolded."""
    url = reverse("portfolio-outcomes", args=[portfolio_id])
    branch = folded_branch_of(anchor) if anchor else None
    return url + (f"?open={branch}" if branch else "") + (f"#{anchor}" if anchor else "")


@require_safe
def portfolio_outcomes_page(request: HttpRequest, pk: int) -> HttpResponse:
    """The portfolio's OKR cascade with each key result's latest value, progress and staleness.

    Value-stream objectives are folded to one line each (their key results and team objectives
    come with htmx when opened), so the page does not grow with the number of teams;
    `?open=<objective id>` unfolds one of them (where an edit returns, and without JavaScript).
    """
    portfolio = get_for_user(Portfolio, request.user, pk)
    role = portfolio_role(request.user, portfolio)
    show_themes = can_see_money(role, portfolio)
    opened = request.GET.get("open", "")
    context = {
        "portfolio": portfolio,
        "show_themes": show_themes,
        "can_edit": can_edit_structure(role),
        "open_branch": int(opened) if opened.isdigit() else None,
    }
    if context["can_edit"] or context["open_branch"] is not None:
        context["tree"] = outcome_page_tree(
            portfolio, show_themes=show_themes, now=timezone.now(), theme_money=theme_money
        )
    else:  # what most people read: kept as its figures and markup
        context["tree"] = outcome_page_for_readers(
            portfolio, show_themes=show_themes, now=timezone.now(), theme_money=theme_money
        )
    return render(request, "teams/portfolio_outcomes.html", {**context, "fold": True})


@require_safe
def objective_branch_view(request: HttpRequest, pk: int, objective_pk: int) -> HttpResponse:
    """A folded value-stream objective of the outcomes page: its key results and team objectives,
    as the fragment htmx puts in place (anyone else goes to the page with it unfolded)."""
    portfolio = get_for_user(Portfolio, request.user, pk)
    try:
        node = outcome_branch(portfolio, objective_pk, as_of=timezone.localdate())
    except Objective.DoesNotExist as exc:
        raise Http404("No such value-stream objective in this portfolio.") from exc
    if not request.htmx:
        url = reverse("portfolio-outcomes", args=[portfolio.pk])
        return redirect(f"{url}?open={objective_pk}#objective-{objective_pk}")
    role = portfolio_role(request.user, portfolio)
    context = {"node": node, "portfolio": portfolio, "can_edit": can_edit_structure(role)}
    return render(request, "teams/_objective_branch.html", context)


def objective_create_view(request: HttpRequest, pk: int) -> HttpResponse:
    """Lean PMO adds an objective at a level (?level=…), optionally under a parent (?parent=…)."""
    portfolio = get_for_user(Portfolio, request.user, pk, write=True)
    level = (request.POST or request.GET).get("level", Objective.Level.PORTFOLIO)
    initial = {"level": level, "parent": request.GET.get("parent")}
    form = ObjectiveForm(request.POST or None, portfolio=portfolio, level=level, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            objective = objective_create(portfolio=portfolio, **form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, f"Objective “{objective}” created.")
            return redirect(_outcomes_url(portfolio.pk, f"objective-{objective.pk}"))
    label = Objective.Level(level).label.lower() if level in Objective.Level.values else ""
    return pmo_form_page(
        request,
        form,
        portfolio=portfolio,
        title=f"New {label} objective",
        cancel_url=_outcomes_url(portfolio.pk),
    )


def objective_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """Lean PMO changes an objective's title, description and place in the chain."""
    objective = get_for_user(Objective, request.user, pk, write=True)
    portfolio = objective.portfolio
    form = ObjectiveForm(
        request.POST or None, portfolio=portfolio, level=objective.level, instance=objective
    )
    if request.method == "POST" and form.is_valid():
        fields = {**form.cleaned_data, "level": objective.level}
        try:
            objective_update(objective=objective, **fields)
        except ValidationError as exc:
            objective.refresh_from_db()
            add_service_errors(form, exc)
        else:
            messages.success(request, f"Objective “{objective}” saved.")
            return redirect(_outcomes_url(portfolio.pk, f"objective-{objective.pk}"))
    return pmo_form_page(
        request,
        form,
        portfolio=portfolio,
        title=f"Edit objective “{objective.title}”",
        cancel_url=_outcomes_url(portfolio.pk, f"objective-{objective.pk}"),
    )


def key_result_create_view(request: HttpRequest, pk: int) -> HttpResponse:
    """Lean PMO adds a key result to an objective."""
    objective = get_for_user(Objective, request.user, pk, write=True)
    form = KeyResultForm(
        request.POST or None,
        instance=KeyResult(objective=objective),
        initial={"starts_on": timezone.localdate()},
    )
    if request.method == "POST" and form.is_valid():
        try:
            key_result = key_result_create(objective=objective, **form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, f"Key result “{key_result}” added to “{objective}”.")
            return redirect(_outcomes_url(objective.portfolio_id, f"key-result-{key_result.pk}"))
    return pmo_form_page(
        request,
        form,
        portfolio=objective.portfolio,
        title=f"New key result for “{objective.title}”",
        cancel_url=_outcomes_url(objective.portfolio_id, f"objective-{objective.pk}"),
    )


def key_result_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """Lean PMO changes a key result's definition."""
    key_result = get_for_user(KeyResult, request.user, pk, write=True)
    portfolio = Portfolio.objects.get(objectives__key_results=key_result)
    form = KeyResultForm(request.POST or None, instance=key_result)
    if request.method == "POST" and form.is_valid():
        try:
            key_result_update(key_result=key_result, **form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, f"Key result “{key_result}” saved.")
            return redirect(_outcomes_url(portfolio.pk, f"key-result-{key_result.pk}"))
    return pmo_form_page(
        request,
        form,
        portfolio=portfolio,
        title="Edit key result",
        cancel_url=_outcomes_url(portfolio.pk, f"key-result-{key_result.pk}"),
    )


def key_result_closing(request: HttpRequest, pk: int) -> HttpResponse:
    """Lean PMO closes a key result (it takes no more check-ins) or reopens it. POST only,
    with `closed` = "true" or "false"."""
    key_result = get_for_user(KeyResult, request.user, pk, write=True)
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    closed = request.POST.get("closed")
    portfolio_id = Objective.objects.values_list("portfolio_id", flat=True).get(
        key_results=key_result
    )
    if closed not in {"true", "false"}:
        return HttpResponse('Send closed = "true" or "false".', status=400)
    key_result_update(key_result=key_result, closed=closed == "true")
    verb = "closed: it takes no more check-ins" if closed == "true" else "reopened"
    messages.success(request, f"Key result “{key_result}” {verb}.")
    return redirect(_outcomes_url(portfolio_id, f"key-result-{key_result.pk}"))
