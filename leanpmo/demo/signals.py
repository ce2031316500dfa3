"""The last demo step: two situations the steward should call out, then every portfolio's signals
evaluated. Idempotent."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.utils import timezone

from leanpmo.models import (
    Guardrail,
    SignalEvaluation,
)
from leanpmo.services.structure import guardrail_save
from portfolio.models import Portfolio
from teams.models import ProductTeam


def seed_signals(*, today: dt.date) -> str:
    """The last demo step: two situations the steward should call out, then every portfolio's
    signals evaluated as of now (idempotent: each change is made only where it is missing, and an
    evaluation that finds the same things changes nothing).

    - Everyday Banking's Lean PMO tightened the Risk guardrail to 10 % after the quarter was
      approved, and Mobile & Online Banking still plans 5 %: a breach without an exception;
    - Card Issuing came to wait on Payment Rails for scheme settlement files, so three teams now
      depend on Payment Rails: a dependency hotspot.

    On a first seed the portfolio is also evaluated as of each of the last twelve weeks, as if the
    steward had been watching (the inbox's trend, signals first seen weeks ago, some resolved).
    """
    from leanpmo.services.signals import signals_evaluate
    from teams.models import TeamInteraction

    pmo = get_user_model().objects.filter(username="pmo").first()
    risk = Guardrail.objects.filter(
        portfolio__name="Everyday Banking", kind=Guardrail.Kind.MIN_ALLOCATION, item_type="Risk"
    ).first()
    if pmo is not None and risk is not None and (risk.min_percent or 0) < 10:
        guardrail_save(portfolio=risk.portfolio, user=pmo, guardrail=risk, min_percent=Decimal(10))
    teams = {
        team.name: team
        for team in ProductTeam.objects.filter(
            value_stream__portfolio__name="Everyday Banking",
            name__in=["Card Issuing", "Payment Rails"],
        )
    }
    if len(teams) == 2:
        TeamInteraction.objects.get_or_create(
            team=teams["Card Issuing"],
            depends_on=teams["Payment Rails"],
            defaults={
                "mode": TeamInteraction.Mode.X_AS_A_SERVICE,
                "blocking": True,
                "note": "Scheme settlement files for card payments",
            },
        )
    now = timezone.now()
    found = []
    for portfolio in Portfolio.objects.order_by("name"):
        if not SignalEvaluation.objects.filter(
            portfolio=portfolio, evaluated_at__isnull=False
        ).exists():
            # a first seed: as if the steward had watched the last twelve weeks (the trend)
            for weeks in range(12, 0, -1):
                signals_evaluate(portfolio=portfolio, as_of=now - dt.timedelta(weeks=weeks))
        signals_evaluate(portfolio=portfolio, as_of=now)
        found.append(portfolio.signals.filter(state="open").count())
    return f"Signals evaluated: {sum(found)} open in {len(found)} portfolios."
