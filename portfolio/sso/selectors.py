"""Reads for single sign-on: portfolios by name or slug, the mapping as administrators see it, and
the role changes sign-ins made (from the memberships' audit history)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from django.db.models import QuerySet

from portfolio.models import Portfolio, PortfolioMembership
from portfolio.sso.config import MappingRule, portfolio_key


def portfolio_ids_by_key() -> dict[str, int]:
    """`portfolio_key(name)` → portfolio id, leaving out keys two portfolios share (ambiguous)."""
    rows = [(portfolio_key(name), pk) for pk, name in Portfolio.objects.values_list("pk", "name")]
    counts = Counter(key for key, _ in rows)
    return {key: pk for key, pk in rows if counts[key] == 1}


@dataclass(frozen=True)
class MappingRow:
    """One rule of the role mapping with the portfolio it names today (None: no such portfolio)."""

    group: str
    portfolio_reference: str
    role: str
    portfolio: Portfolio | None

    @property
    def role_label(self) -> str:
        return PortfolioMembership.Role(self.role).label


def mapping_rows(rules: tuple[MappingRule, ...]) -> list[MappingRow]:
    """The mapping's rules in order, each with the portfolio it resolves to (two queries)."""
    ids = portfolio_ids_by_key()
    portfolios = Portfolio.objects.in_bulk(list(ids.values()))
    return [
        MappingRow(
            group=rule.group,
            portfolio_reference=rule.grant.portfolio,
            role=rule.grant.role,
            portfolio=portfolios.get(ids.get(portfolio_key(rule.grant.portfolio), -1)),
        )
        for rule in rules
    ]


def sso_role_changes(limit: int = 50) -> QuerySet:
    """The latest membership changes made by sign-ins (newest first), with who, where and when.

    Each event carries `pgh_label` (insert / update / delete), the membership's fields after the
    change (before it, for a delete) and its context's metadata (``via`` = ``"sso"``, ``groups``).
    """
    return (
        PortfolioMembership.pgh_event_model.objects.filter(pgh_context__metadata__via="sso")
        .select_related("user", "portfolio", "pgh_context")
        .order_by("-pgh_id")[:limit]
    )


def sso_granted_count() -> int:
    """How many memberships the identity provider's groups hold right now."""
    return PortfolioMembership.objects.filter(source=PortfolioMembership.Source.SSO).count()
