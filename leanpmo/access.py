"""Who may see and change money: outsiders get 404, readers without money 403, non-editors 403."""

from __future__ import annotations

from typing import TypeVar

from django.core.exceptions import PermissionDenied
from django.db import models
from django.http import Http404, HttpRequest
from django.utils import timezone

from leanpmo.models import FundingPeriod
from leanpmo.selectors.funding import current_period
from portfolio.access import can_edit_structure, can_see_money, get_for_user, portfolio_role
from portfolio.models import Portfolio

M = TypeVar("M", bound=models.Model)


def get_money_portfolio(user, pk: int, *, write: bool = False) -> tuple[Portfolio, str | None]:
    """The portfolio and the user's role, if the user may see its money (and, with `write`, edit it).

    404 for outsiders, 403 for team members without funding transparency and for non-editors.
    """
    portfolio = get_for_user(Portfolio, user, pk)
    role = portfolio_role(user, portfolio)
    if not can_see_money(role, portfolio):
        raise PermissionDenied("Money figures of this portfolio are not shared with team members.")
    if write and not can_edit_structure(role):
        raise PermissionDenied("Only the Lean PMO changes funding.")
    return portfolio, role


def get_money_object(model: type[M], user, pk: int, *, write: bool = False) -> M:
    """A funding object the user may see (404 outside their portfolios, 403 without money/edit right)."""
    manager = model.objects  # type: ignore[attr-defined]
    try:
        obj = manager.readable_portfolio(user).get(pk=pk)
    except model.DoesNotExist as exc:
        raise Http404(f"No {model._meta.verbose_name} {pk} here.") from exc
    if not manager.visible_to(user).filter(pk=pk).exists():
        raise PermissionDenied("Money figures of this portfolio are not shared with team members.")
    if write and not manager.editable_by(user).filter(pk=pk).exists():
        raise PermissionDenied("Only the Lean PMO changes funding.")
    return obj


def get_scenario_portfolio(user, pk: int, *, write: bool = False) -> tuple[Portfolio, str | None]:
    """The portfolio and role, if the user may read its scenarios (and, with `write`, make them).

    404 for outsiders; 403 for team members (scenarios are the Lean PMO's drafts, funding
    transparency or not) and, with `write`, for executives.
    """
    portfolio = get_for_user(Portfolio, user, pk)
    role = portfolio_role(user, portfolio)
    if role not in {"admin", "lean_pmo", "executive"}:
        raise PermissionDenied("Scenarios are shared with executives and the Lean PMO only.")
    if write and not can_edit_structure(role):
        raise PermissionDenied("Only the Lean PMO makes scenarios.")
    return portfolio, role


def get_signals_portfolio(user, pk: int, *, write: bool = False) -> tuple[Portfolio, str | None]:
    """The portfolio and role if the user may read its signals (everyone in it) and, with `write`,
    acknowledge them and set their thresholds (Lean PMO, administrators): 404 for outsiders, 403
    for readers who may not write."""
    portfolio = get_for_user(Portfolio, user, pk)
    role = portfolio_role(user, portfolio)
    if write and not can_edit_structure(role):
        raise PermissionDenied("Only the Lean PMO acknowledges signals and sets their thresholds.")
    return portfolio, role


def get_chosen_period(request: HttpRequest, portfolio: Portfolio) -> FundingPeriod | None:
    """The funding period `?period=` names (404 when it is not one of the portfolio's), else the
    current one (None when there is none)."""
    chosen = request.GET.get("period", "")
    if chosen.isdigit():
        period = FundingPeriod.objects.filter(portfolio=portfolio, pk=int(chosen)).first()
        if period is None:
            raise Http404("No such funding period in this portfolio.")
        return period
    return current_period(portfolio, today=timezone.localdate())
