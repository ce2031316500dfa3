"""Lean PMO pages for outcomes: the portfolio's OKR cascade (read by everyone in the portfolio),
objectives and key results, dependencies between teams and pulse rounds (written by Lean PMO)."""

from __future__ import annotations

import datetime as dt

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
from portfolio.http import form_status
from portfolio.models import Portfolio
from teams.forms import KeyResultForm, ObjectiveForm, PulseRoundForm, TeamInteractionForm
from teams.models import KeyResult, Objective, ProductTeam, TeamInteraction
from teams.panels import outcome_branch, outcome_tree
from teams.selectors import value_stream_interactions_for_editing
from teams.services import (
    key_result_create,
    key_result_update,
    objective_create,
    objective_update,
    pulse_round_open,
    team_interaction_record,
    team_interaction_update,
)
from valuestreams.models import ValueStream


def _branch_of(anchor: str) -> int | None:
    """The value-stream objective whose folded branch holds `anchor` ("objective-12",
    "key-result-7") on the outcomes page; None when it is not in a folded branch."""
    kind, _, number = anchor.rpartition("-")
    if not number.isdigit():
        return None
    objectives = Objective.objects.filter(
        **({"pk": number} if kind == "objective" else {"key_results": number})
    )
    found = objectives.values_list("level", "pk", "parent_id").first()
    if found is None:
        return None
    level, objective_id, parent_id = found
    if level == Objective.Level.VALUE_STREAM:
        return objective_id
    return parent_id if level == Objective.Level.TEAM else None


def _outcomes_url(portfolio_id: int, anchor: str = "") -> str:
    """The outcomes page at `anchor`, with the branch that holds it unfolded."""
    url = reverse("portfolio-outcomes", args=[portfolio_id])
    branch = _branch_of(anchor) if anchor else None
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
    themes = list(portfolio.themes.order_by("position", "name")) if show_themes else []
    if themes:
        money = theme_money(portfolio, today=timezone.localdate())
        for theme in themes:
            theme.money = money.get(theme.pk)
    opened = request.GET.get("open", "")
    context = {
        "portfolio": portfolio,
        "tree": outcome_tree(
            portfolio, as_of=timezone.localdate(), show_themes=show_themes, themes=themes
        ),
        "show_themes": show_themes,
        "can_edit": can_edit_structure(role),
        "fold": True,
        "open_branch": int(opened) if opened.isdigit() else None,
    }
    return render(request, "teams/portfolio_outcomes.html", context)


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


def _pmo_form_page(request, form, *, portfolio, title: str, cancel_url: str, crumbs=()):
    context = {
        "form": form,
        "portfolio": portfolio,
        "title": title,
        "cancel_url": cancel_url,
        "crumbs": crumbs,
    }
    return render(request, "teams/pmo_form.html", context, status=form_status(form))


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
    return _pmo_form_page(
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
    return _pmo_form_page(
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
    return _pmo_form_page(
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
    return _pmo_form_page(
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


def dependencies_page(request: HttpRequest, pk: int) -> HttpResponse:
    """Lean PMO records dependencies of a value stream's teams and sees those recorded."""
    value_stream = get_for_user(ValueStream, request.user, pk, write=True)
    form = TeamInteractionForm(request.POST or None, value_stream=value_stream)
    if request.method == "POST" and form.is_valid():
        try:
            interaction = team_interaction_record(**form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, f"Dependency “{interaction}” recorded.")
            return redirect("team-interactions", pk=value_stream.pk)
    context = {
        "form": form,
        "value_stream": value_stream,
        "portfolio": value_stream.portfolio,
        "interactions": list(value_stream_interactions_for_editing(value_stream)),
    }
    return render(request, "teams/dependencies.html", context, status=form_status(form))


def dependency_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """Lean PMO changes a dependency's interaction mode, blocking flag or what it is for."""
    interaction = get_for_user(TeamInteraction, request.user, pk, write=True)
    value_stream = interaction.team.value_stream
    form = TeamInteractionForm(
        request.POST or None, value_stream=value_stream, instance=interaction
    )
    if request.method == "POST" and form.is_valid():
        try:
            team_interaction_update(interaction=interaction, **form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, f"Dependency “{interaction}” saved.")
            return redirect("team-interactions", pk=value_stream.pk)
    dependencies_url = reverse("team-interactions", args=[value_stream.pk])
    return _pmo_form_page(
        request,
        form,
        portfolio=value_stream.portfolio,
        title=f"{interaction.team} depends on {interaction.depends_on}",
        cancel_url=dependencies_url,
        crumbs=[(dependencies_url, f"Dependencies in {value_stream.name}")],
    )


def pulse_round_create(request: HttpRequest, pk: int) -> HttpResponse:
    """Lean PMO opens a pulse round for a team, with its questions."""
    team = get_for_user(ProductTeam, request.user, pk, write=True)
    today = timezone.localdate()
    form = PulseRoundForm(
        request.POST or None,
        initial={"opens_on": today, "closes_on": today + dt.timedelta(days=13)},
    )
    if request.method == "POST" and form.is_valid():
        try:
            pulse_round = pulse_round_open(team=team, **form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(
                request,
                f"Pulse round open from {pulse_round.opens_on:%d %b} to "
                f"{pulse_round.closes_on:%d %b %Y} with {pulse_round.questions.count()} questions.",
            )
            return redirect(f"{team.get_absolute_url()}#pulse")
    return _pmo_form_page(
        request,
        form,
        portfolio=team.value_stream.portfolio,
        title=f"Open a pulse round for {team.name}",
        cancel_url=f"{team.get_absolute_url()}#pulse",
        crumbs=[(team.get_absolute_url(), team.name)],
    )
