"""Initiatives: the portfolio kanban, an initiative's page, its form, the list with its export, the
kanban's flow and pyramid downloads. Everyone in the portfolio reads; the Lean PMO creates, edits
and moves (403 for the others); outsiders get 404."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_safe

from leanpmo.access import get_chosen_period
from leanpmo.forms.initiatives import (
    ExceptionRequestForm,
    InitiativeFilterForm,
    InitiativeForm,
    MoveForm,
)
from leanpmo.metrics.initiatives import ALLOWED_MOVES, STATE_LABELS
from leanpmo.models import Initiative
from leanpmo.panels.initiatives import (
    FLOW_TABLES,
    PYRAMID_CHARTS,
    kanban_flow_tables,
    kept_board,
    pyramid_tables,
    timeline_section,
)
from leanpmo.panels.navigation import funding_nav
from leanpmo.selectors.initiatives import (
    InitiativeFilters,
    board_initiatives,
    initiative_for_page,
    initiative_frame,
    initiative_history,
    initiative_list,
    pending_exception,
)
from leanpmo.services.exception_approvals import may_approve_exceptions
from leanpmo.services.initiative_cap import CapRefused
from leanpmo.services.initiative_edits import initiative_create, initiative_update
from leanpmo.services.initiative_moves import initiative_exception_request, initiative_move
from portfolio.access import can_edit_structure, can_see_money, get_for_user, portfolio_role
from portfolio.downloads import table_response
from portfolio.form_errors import add_service_errors
from portfolio.http import form_status
from portfolio.models import Portfolio


def _portfolio(
    request: HttpRequest, pk: int, *, write: bool = False
) -> tuple[Portfolio, str | None]:
    """The portfolio and the user's role: 404 for outsiders, 403 to non-editors with `write`."""
    portfolio = get_for_user(Portfolio, request.user, pk)
    role = portfolio_role(request.user, portfolio)
    if write and not can_edit_structure(role):
        raise PermissionDenied("Only the Lean PMO creates, changes and moves initiatives.")
    return portfolio, role


def _initiative(request: HttpRequest, pk: int, *, write: bool = False) -> Initiative:
    initiative = get_for_user(Initiative, request.user, pk)
    if write and not can_edit_structure(portfolio_role(request.user, initiative.portfolio)):
        raise PermissionDenied("Only the Lean PMO creates, changes and moves initiatives.")
    return initiative


def _board_context(
    request: HttpRequest, portfolio: Portfolio, role: str | None, *, page: bool = False, **extra
) -> dict:
    """The board's context; on the whole page (`page`) with the funding navigation, which only
    people who may see money get."""
    show_money = can_see_money(role, portfolio)
    if page and show_money:
        extra = {"funding_nav": funding_nav(portfolio, request.user), **extra}
    now = timezone.now()
    return {
        "portfolio": portfolio,
        "role": role,
        "can_edit": can_edit_structure(role),
        "can_see_money": show_money,
        "can_approve": may_approve_exceptions(request.user, portfolio),
        "board": kept_board(portfolio, now=now),
        **extra,
    }


@require_safe
def initiative_board(request: HttpRequest, pk: int) -> HttpResponse:
    """The portfolio kanban: funnel → reviewing → analysing → ready → implementing → done, and the
    stopped bets with their learning; with the strategic cap and the kanban's own flow."""
    portfolio, role = _portfolio(request, pk)
    return render(
        request,
        "leanpmo/initiative_board.html",
        _board_context(request, portfolio, role, page=True),
    )


def _refused(request, initiative: Initiative, *, origin: str, status: int, **extra) -> HttpResponse:
    """The page a refused move came from, re-rendered with the refusal and the right status."""
    portfolio = initiative.portfolio
    role = portfolio_role(request.user, portfolio)
    extra = {"refused_id": initiative.pk, "refused_title": initiative.title, **extra}
    if origin == "detail":
        return _render_detail(request, initiative, status=status, **extra)
    template = "leanpmo/_initiative_board.html" if request.htmx else "leanpmo/initiative_board.html"
    context = _board_context(request, portfolio, role, page=not request.htmx, **extra)
    return render(request, template, context, status=status)


def initiative_move_view(request: HttpRequest, pk: int) -> HttpResponse:
    """Lean PMO moves a card (htmx from the board, or a plain form); a move the strategic cap
    refuses answers 409 naming the guardrail, a bad move 400 with the reason."""
    initiative = _initiative(request, pk, write=True)
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    form = MoveForm(request.POST)
    origin = request.POST.get("origin") if request.POST.get("origin") == "detail" else "board"
    if not form.is_valid():
        errors = [f"{name}: {' '.join(errs)}" for name, errs in form.errors.items()]
        return _refused(request, initiative, origin=origin, status=400, move_errors=errors)
    data = form.cleaned_data
    try:
        transition = initiative_move(
            initiative=initiative, to_state=data["to_state"], reason=data["reason"],
            expected_outcome=data["expected_outcome"], review_due_on=data["review_due_on"],
            user=request.user, now=timezone.now(),
        )  # fmt: skip
    except CapRefused as exc:
        return _refused(
            request, initiative, origin=origin, status=409, refusal=exc,
            exception_form=ExceptionRequestForm(initial={"reason": data["reason"]}),
        )  # fmt: skip
    except ValidationError as exc:
        return _refused(request, initiative, origin=origin, status=400, move_errors=exc.messages)
    note = f"{initiative.title} moved to {transition.get_to_state_display()}."
    if transition.decision_id:
        note += f" Recorded as a {transition.decision.get_kind_display().lower()} decision."
    messages.success(request, note)
    if request.htmx:
        portfolio = initiative.portfolio
        context = _board_context(request, portfolio, portfolio_role(request.user, portfolio))
        return render(request, "leanpmo/_initiative_board.html", context)
    if origin == "detail":
        return redirect("initiative-detail", pk=initiative.pk)
    return redirect("initiative-board", pk=initiative.portfolio_id)


def initiative_exception_view(request: HttpRequest, pk: int) -> HttpResponse:
    """Lean PMO asks an executive to let a strategic initiative start above the cap."""
    initiative = _initiative(request, pk, write=True)
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    form = ExceptionRequestForm(request.POST)
    origin = request.POST.get("origin") if request.POST.get("origin") == "detail" else "board"
    try:
        if not form.is_valid():
            raise ValidationError(form.errors.as_text())
        decision = initiative_exception_request(
            initiative=initiative, user=request.user, now=timezone.now(), **form.cleaned_data
        )
    except ValidationError as exc:
        return _refused(
            request, initiative, origin=origin, status=400, move_errors=exc.messages,
            exception_form=form,
        )  # fmt: skip
    messages.success(
        request,
        f"Exception for {initiative.title} recorded; it starts when an executive approves it.",
    )
    return redirect("decision-detail", pk=decision.pk)


def _render_detail(request, initiative: Initiative, *, status: int = 200, **extra) -> HttpResponse:
    initiative = initiative_for_page(initiative)
    role = portfolio_role(request.user, initiative.portfolio)
    show_money = can_see_money(role, initiative.portfolio)
    context = {
        "initiative": initiative,
        "portfolio": initiative.portfolio,
        "role": role,
        "can_edit": can_edit_structure(role),
        "can_see_money": show_money,
        "timeline": timeline_section(initiative, as_of=timezone.now()),
        "history": initiative_history(initiative, show_money=show_money),
        "pending": pending_exception(initiative),
        "moves": [(state, STATE_LABELS[state]) for state in ALLOWED_MOVES[initiative.state]],
        "move_form": MoveForm(initial={"origin": "detail"}),
        **extra,
    }
    return render(request, "leanpmo/initiative_detail.html", context, status=status)


@require_safe
def initiative_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """An initiative: hypothesis, business case, links, WSJF with its inputs, its moves with the
    time in each state, and who changed what."""
    return _render_detail(request, _initiative(request, pk))


def _save_form(request, portfolio: Portfolio, form: InitiativeForm, initiative: Initiative | None):
    """Run the service for a valid form; the initiative, or None with the errors on the form."""
    values = form.service_kwargs()
    try:
        if initiative is None:
            return initiative_create(
                portfolio=portfolio, user=request.user, now=timezone.now(), **values
            )
        return initiative_update(initiative=initiative, user=request.user, **values)
    except CapRefused as exc:
        form.add_error("teams", str(exc))
    except ValidationError as exc:
        add_service_errors(form, exc)
    return None


def initiative_create_view(request: HttpRequest, pk: int) -> HttpResponse:
    """Lean PMO adds an initiative to the funnel."""
    portfolio, _ = _portfolio(request, pk, write=True)
    data = request.POST if request.method == "POST" else None
    form = InitiativeForm(data, portfolio=portfolio)
    if request.method == "POST" and form.is_valid():
        saved = _save_form(request, portfolio, form, None)
        if saved is not None:
            messages.success(request, f"{saved.title} is in the funnel.")
            return redirect("initiative-detail", pk=saved.pk)
    context = {"portfolio": portfolio, "form": form, "initiative": None}
    return render(request, "leanpmo/initiative_form.html", context, status=form_status(form))


def initiative_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """Lean PMO changes an initiative's fields, links and WSJF inputs (moves are separate)."""
    initiative = _initiative(request, pk, write=True)
    portfolio = initiative.portfolio
    form = InitiativeForm(
        request.POST if request.method == "POST" else None,
        portfolio=portfolio,
        initial=InitiativeForm.initial_for(initiative),
    )
    if request.method == "POST" and form.is_valid():
        saved = _save_form(request, portfolio, form, initiative)
        if saved is not None:
            messages.success(request, f"{saved.title} saved.")
            return redirect("initiative-detail", pk=saved.pk)
    context = {"portfolio": portfolio, "form": form, "initiative": initiative}
    return render(request, "leanpmo/initiative_form.html", context, status=form_status(form))


@require_safe
def initiative_list_view(request: HttpRequest, pk: int) -> HttpResponse:
    """Every initiative with its WSJF inputs, filtered; downloads as CSV or XLSX."""
    portfolio, role = _portfolio(request, pk)
    form = InitiativeFilterForm(request.GET or None, portfolio=portfolio)
    filters = form.filters() if form.is_bound else InitiativeFilters()
    initiatives = initiative_list(portfolio, filters) if filters is not None else []
    context = {
        "portfolio": portfolio,
        "form": form,
        "initiatives": initiatives,
        "can_edit": can_edit_structure(role),
        "can_see_money": can_see_money(role, portfolio),
        "query": request.GET.urlencode(),
        "now": timezone.now(),
    }
    return render(request, "leanpmo/initiative_list.html", context, status=form_status(form))


@require_safe
def initiative_export(request: HttpRequest, pk: int, fmt: str) -> HttpResponse:
    """The filtered list as CSV or XLSX, with the WSJF inputs and score (money only for those who
    may see it; formula cells neutralised)."""
    portfolio, role = _portfolio(request, pk)
    if fmt not in {"csv", "xlsx"}:
        raise Http404("Downloads come as csv or xlsx.")
    form = InitiativeFilterForm(request.GET or None, portfolio=portfolio)
    filters = form.filters() if form.is_bound else InitiativeFilters()
    initiatives = initiative_list(portfolio, filters) if filters is not None else []
    frame = initiative_frame(
        initiatives, show_money=can_see_money(role, portfolio), now=timezone.now()
    )
    return table_response(frame, name="initiatives", fmt=fmt)


@require_safe
def initiative_flow_csv(request: HttpRequest, pk: int, table: str) -> HttpResponse:
    """The numbers behind the kanban's flow: lead times, age in analysis, days per state."""
    portfolio, _ = _portfolio(request, pk)
    if table not in FLOW_TABLES:
        raise Http404("No such table.")
    by_id = {initiative.pk: initiative for initiative in board_initiatives(portfolio)}
    _, tables = kanban_flow_tables(portfolio, as_of=timezone.now(), initiatives=by_id)
    frame = tables[table]
    frame.columns = FLOW_TABLES[table][1]
    return table_response(frame, name=table, fmt="csv")


@require_safe
def initiative_pyramid_csv(request: HttpRequest, pk: int, chart: str) -> HttpResponse:
    """The numbers behind the pyramid charts of the investment page (money: executives, Lean PMO,
    and members of portfolios with funding transparency)."""
    portfolio, role = _portfolio(request, pk)
    if not can_see_money(role, portfolio):
        raise PermissionDenied("Money figures of this portfolio are not shared with team members.")
    if chart not in PYRAMID_CHARTS:
        raise Http404("No such chart.")
    _, tables, _ = pyramid_tables(
        portfolio, period=get_chosen_period(request, portfolio), as_of=timezone.now()
    )
    frame = tables[chart].copy()
    frame.columns = PYRAMID_CHARTS[chart][1]
    return table_response(frame, name=f"pyramid-{chart}", fmt="csv")
