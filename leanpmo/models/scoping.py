"""Who sees which Lean PMO rows: `visible_to(user)` narrows to portfolios whose *money* the user
may see (executives, Lean PMO, administrators, and team members of portfolios with funding
transparency); `editable_by(user)` narrows to portfolios the user runs as Lean PMO (or
administrators).
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q

from portfolio.models import Portfolio, PortfolioMembership


def money_portfolios(user) -> models.QuerySet[Portfolio]:
    """Portfolios whose money `user` may see (the queryset form of portfolio.access.can_see_money)."""
    visible = Portfolio.objects.visible_to(user)
    if not user.is_authenticated or user.is_superuser:
        return visible
    roles = PortfolioMembership.objects.filter(user=user).values("portfolio")
    return visible.filter(Q(pk__in=roles) | Q(funding_transparency=True))


class PortfolioScopedQuerySet(models.QuerySet):
    """`visible_to` / `editable_by` for rows reached from a portfolio through `portfolio_path`."""

    portfolio_path = "portfolio"

    def visible_to(self, user):
        """Rows of portfolios whose money the user may see."""
        return self.filter(**{f"{self.portfolio_path}__in": money_portfolios(user)})

    def readable_portfolio(self, user):
        """Rows of portfolios the user may read at all (money or not): 403 rather than 404 for them."""
        return self.filter(**{f"{self.portfolio_path}__in": Portfolio.objects.visible_to(user)})

    def editable_by(self, user):
        """Rows of portfolios the user runs as Lean PMO (or every portfolio for administrators)."""
        return self.filter(**{f"{self.portfolio_path}__in": Portfolio.objects.editable_by(user)})


class PeriodScopedQuerySet(PortfolioScopedQuerySet):
    portfolio_path = "period__portfolio"
