"""Who may do what: helpers that pages and API share, built on each model's `visible_to` / `editable_by`."""

from __future__ import annotations

from typing import Protocol, TypeVar

from django.core.exceptions import PermissionDenied
from django.db import models
from django.http import Http404

from portfolio.models import Portfolio, PortfolioMembership

M = TypeVar("M", bound=models.Model)


class Restricted(Protocol):
    def visible_to(self, user) -> models.QuerySet: ...
    def editable_by(self, user) -> models.QuerySet: ...


def get_for_user(model: type[M], user, pk: int, *, write: bool = False) -> M:
    """Return the object if `user` may read it (else 404) and, with `write`, change it (else 403).

    Outsiders learn nothing, not even that the object exists; readers who may not write get 403.
    """
    manager: Restricted = model.objects  # type: ignore[assignment]
    try:
        obj = manager.visible_to(user).get(pk=pk)
    except model.DoesNotExist as exc:
        raise Http404(f"No {model._meta.verbose_name} {pk} here.") from exc
    if write and not manager.editable_by(user).filter(pk=pk).exists():
        raise PermissionDenied(f"You may read this {model._meta.verbose_name} but not change it.")
    return obj


def portfolio_role(user, portfolio: Portfolio) -> str | None:
    """The user's strongest role in the portfolio: "admin", "lean_pmo", "executive", "member" or None."""
    if not user.is_authenticated:
        return None
    if user.is_superuser:
        return "admin"
    role = (
        PortfolioMembership.objects.filter(user=user, portfolio=portfolio)
        .values_list("role", flat=True)
        .first()
    )
    if role:
        return role
    return "member" if Portfolio.objects.visible_to(user).filter(pk=portfolio.pk).exists() else None


def can_see_money(role: str | None, portfolio: Portfolio) -> bool:
    """Money is shown to executives, Lean PMO and admins; to team members only with funding transparency."""
    if role in {"admin", "lean_pmo", "executive"}:
        return True
    return role == "member" and portfolio.funding_transparency


def can_edit_structure(role: str | None) -> bool:
    """Lean PMO and administrators edit value streams and teams."""
    return role in {"admin", "lean_pmo"}


def money_portfolio_ids(user) -> set[int]:
    """Ids of the portfolios whose money the user may see (the API's batch form of `can_see_money`)."""
    visible = Portfolio.objects.visible_to(user)
    if user.is_superuser:
        return set(visible.values_list("pk", flat=True))
    with_role = PortfolioMembership.objects.filter(user=user).values_list("portfolio_id", flat=True)
    transparent = visible.filter(funding_transparency=True).values_list("pk", flat=True)
    return set(with_role) | set(transparent)
