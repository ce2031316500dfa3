"""Demo scenarios for Harbour Bank: one what-if per portfolio on its current period, left as a
draft. Idempotent."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.db import transaction

from leanpmo.demo.funding import _at
from leanpmo.models import (
    FundingPeriod,
    Scenario,
)
from leanpmo.selectors.funding import current_period
from leanpmo.services.scenarios import scenario_create, scenario_line_change
from portfolio.models import Portfolio

DEMO_SCENARIO = "Shift Run money into the next bet"


def seed_scenarios(*, today: dt.date) -> str:
    """One what-if per portfolio on its current period (idempotent): a tenth of the largest value
    stream's Run money moved to the Transform money of the next largest, left as a draft."""
    pmo = get_user_model().objects.filter(username="pmo").first()
    for portfolio in Portfolio.objects.order_by("name"):
        period = current_period(portfolio, today=today)
        if pmo is None or period is None or period.status == FundingPeriod.Status.CLOSED:
            continue
        if Scenario.objects.filter(period=period, name=DEMO_SCENARIO).exists():
            continue
        _seed_scenario(period, pmo, today)
    return f"Scenarios ready: {Scenario.objects.count()} (drafts beside each portfolio's plan)."


@transaction.atomic
def _seed_scenario(period: FundingPeriod, pmo, today: dt.date) -> None:
    scenario = scenario_create(
        period=period,
        name=DEMO_SCENARIO,
        description="What if we slow the biggest stream's Run work to fund the next bet?",
        user=pmo,
        now=_at(today),
    )
    lines = sorted(scenario.lines.all(), key=lambda line: (-line.total, line.value_stream.name))
    if len(lines) < 2:
        return
    source, target = lines[0], lines[1]
    moved = (source.amount_run / 10).quantize(Decimal("1000"))
    scenario_line_change(
        line=source, expected_version=source.version,
        changes={"amount_run": source.amount_run - moved},
    )  # fmt: skip
    scenario_line_change(
        line=target, expected_version=target.version,
        changes={"amount_transform": target.amount_transform + moved},
    )  # fmt: skip
