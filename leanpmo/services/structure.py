"""Portfolio structure for funding: investment horizons, strategic themes and guardrails."""

from __future__ import annotations

import pghistory
from django.db import transaction

from leanpmo.models import Guardrail, Horizon, InvestmentHorizon, StrategicTheme
from leanpmo.services.audit import actor
from leanpmo.services.signals import signals_request
from portfolio.models import Portfolio


@transaction.atomic
def horizons_ensure(*, portfolio: Portfolio) -> list[InvestmentHorizon]:
    """Create the default Run / Grow / Transform horizons where missing; return all three in order."""
    descriptions = {
        Horizon.RUN: "Keep today's business running well.",
        Horizon.GROW: "Grow and extend what exists.",
        Horizon.TRANSFORM: "New capabilities and bets for the future.",
    }
    for position, code in enumerate(Horizon):
        InvestmentHorizon.objects.get_or_create(
            portfolio=portfolio,
            code=code,
            defaults={"name": code.label, "position": position, "description": descriptions[code]},
        )
    return list(InvestmentHorizon.objects.filter(portfolio=portfolio).order_by("position"))


@transaction.atomic
def theme_create(*, portfolio: Portfolio, name: str, **fields) -> StrategicTheme:
    """Add a strategic theme; raises ValidationError naming the field at fault."""
    theme = StrategicTheme(portfolio=portfolio, name=name, **fields)
    theme.full_clean()
    theme.save()
    return theme


@transaction.atomic
def guardrail_save(
    *, portfolio: Portfolio, user, guardrail: Guardrail | None = None, **fields
) -> Guardrail:
    """Create or change a guardrail of `portfolio`; raises ValidationError naming the field."""
    guardrail = guardrail or Guardrail(portfolio=portfolio)
    for name, value in fields.items():
        setattr(guardrail, name, value)
    guardrail.full_clean()
    with pghistory.context(**actor(user)):
        guardrail.save()
    signals_request(portfolio_id=portfolio.pk)
    return guardrail
