"""Funding objects for the `org` fixture: one approved period with a budget per value stream."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.utils import timezone

from leanpmo.models import (
    FundingDecision,
    FundingPeriod,
    Guardrail,
    ValueStreamBudget,
)
from leanpmo.services.budgets import budget_create
from leanpmo.services.decisions import DecisionInput, decision_record
from leanpmo.services.periods import period_create, period_transition
from leanpmo.services.structure import guardrail_save

NOW = timezone.make_aware(dt.datetime(2026, 5, 4, 9, 0))


@dataclass
class Funding:
    period: FundingPeriod
    budget: ValueStreamBudget
    decision: FundingDecision


def make_period(org, *, name="2026 Q2", starts=dt.date(2026, 4, 1), ends=dt.date(2026, 6, 30)):
    return period_create(portfolio=org.portfolio, name=name, starts_on=starts, ends_on=ends)


def make_budget(period, value_stream, *, run="600000", grow="300000", transform="100000"):
    return budget_create(
        period=period,
        value_stream=value_stream,
        amount_run=Decimal(run),
        amount_grow=Decimal(grow),
        amount_transform=Decimal(transform),
        alloc_feature=60,
        alloc_defect=15,
        alloc_risk=10,
        alloc_debt=15,
    )


def funding_for(org, *, approved: bool = False) -> Funding:
    """Idempotent: the org's funding period, budget and first decision (creating them if needed)."""
    period = FundingPeriod.objects.filter(portfolio=org.portfolio).first()
    if period is None:
        period = make_period(org)
        make_budget(period, org.value_stream)
        pmo = org.users["pmo"]
        guardrail_save(
            portfolio=org.portfolio,
            user=pmo,
            kind=Guardrail.Kind.HORIZON_SHARE,
            horizon="run",
            min_percent=Decimal(40),
            max_percent=Decimal(70),
        )
        guardrail_save(
            portfolio=org.portfolio,
            user=pmo,
            kind=Guardrail.Kind.MIN_ALLOCATION,
            item_type="Debt",
            min_percent=Decimal(10),
        )
        decision_record(
            period=period,
            value_stream=org.value_stream,
            decision=DecisionInput(
                kind="continue", rationale="Healthy flow.", expected_outcome="Stable flow time."
            ),
            amount_before=Decimal("1000000"),
            amount_after=Decimal("1000000"),
            user=pmo,
            now=NOW,
        )
    if approved and period.status == FundingPeriod.Status.DRAFT:
        period = period_transition(period=period, status="approved", user=org.users["pmo"], now=NOW)
    budget = ValueStreamBudget.objects.select_related("period__portfolio", "value_stream").get(
        period=period, value_stream=org.value_stream
    )
    return Funding(period, budget, FundingDecision.objects.filter(period=period).first())


def grid_post(budgets, **overrides) -> dict:
    """The funding grid's POST data for `budgets`; overrides like {"0-amount_run": "-5"}."""
    data = {
        "rows-TOTAL_FORMS": str(len(budgets)),
        "rows-INITIAL_FORMS": str(len(budgets)),
        "rows-MIN_NUM_FORMS": "0",
        "rows-MAX_NUM_FORMS": "1000",
    }
    for index, budget in enumerate(budgets):
        values = {
            "budget": budget.pk,
            "version": budget.version,
            "amount_run": budget.amount_run,
            "amount_grow": budget.amount_grow,
            "amount_transform": budget.amount_transform,
            "fixed_scope_amount": budget.fixed_scope_amount,
            "alloc_feature": budget.alloc_feature,
            "alloc_defect": budget.alloc_defect,
            "alloc_risk": budget.alloc_risk,
            "alloc_debt": budget.alloc_debt,
        }
        for name, value in values.items():
            data[f"rows-{index}-{name}"] = str(value)
    for key, value in overrides.items():
        data[key if not key[0].isdigit() else f"rows-{key}"] = value
    return data


def review_for(org):
    """Idempotent: a review of the org's first decision."""
    from leanpmo.models import DecisionReview
    from leanpmo.services.decisions import review_record

    decision = funding_for(org).decision
    return DecisionReview.objects.filter(decision=decision).first() or review_record(
        decision=decision, outcome="held", notes="", user=org.users["pmo"], now=NOW
    )


def scenario_for(org):
    """Idempotent: a draft scenario copying the org's funding period."""
    from leanpmo.models import Scenario
    from leanpmo.services.scenarios import scenario_create

    period = funding_for(org).period
    return Scenario.objects.filter(period=period).first() or scenario_create(
        period=period, name="Shift to Transform", user=org.users["pmo"], now=NOW
    )
