"""Budgets: creation, optimistic-concurrency writes, changes under period rules, the grid."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import pghistory
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from leanpmo.guardrails import PlanRow, Result, check_plan, new_breaches
from leanpmo.models import (
    DecisionKind,
    FundingDecision,
    FundingPeriod,
    ValueStreamBudget,
)
from leanpmo.plan_fields import ALLOCATION_FIELD, HORIZON_AMOUNT_FIELD
from leanpmo.selectors.funding import (
    budget_plan_row,
    guardrail_rules,
    period_budgets,
    previous_totals,
)
from leanpmo.services.audit import actor
from leanpmo.services.decisions import DecisionInput, decision_record
from leanpmo.services.money_plans import (
    PlanRowError,
    PlanRowInput,
    VersionConflict,
    plan_clean,
    plan_write,
)
from leanpmo.services.signals import signals_request
from valuestreams.models import ValueStream
from valuestreams.recompute import recompute_request

# what the flow distribution's target depends on: the allocation, weighted by money per portfolio
TARGET_FIELDS = {*ALLOCATION_FIELD.values(), *HORIZON_AMOUNT_FIELD.values()}
RELATED = ("period", "value_stream")
CLEAN_EXCLUDE = ("version", "updated_by")


def _clean_budget(budget: ValueStreamBudget) -> None:
    plan_clean(budget, exclude=CLEAN_EXCLUDE)


def _stored(budget: ValueStreamBudget) -> ValueStreamBudget:
    return ValueStreamBudget.objects.select_related(*RELATED).get(pk=budget.pk)


@transaction.atomic
def budget_create(
    *, period: FundingPeriod, value_stream: ValueStream, user=None, **fields
) -> ValueStreamBudget:
    """Give a value stream a budget in a draft period; raises ValidationError naming the field."""
    if period.status != FundingPeriod.Status.DRAFT:
        raise ValidationError(
            {
                "value_stream": "Budgets are added to draft periods; approved money changes by decision."
            }
        )
    if value_stream.portfolio_id != period.portfolio_id:
        raise ValidationError({"value_stream": "This value stream belongs to another portfolio."})
    budget = ValueStreamBudget(period=period, value_stream=value_stream, updated_by=user, **fields)
    _clean_budget(budget)
    with pghistory.context(**actor(user)):
        budget.save()
    return budget


def budget_apply(
    *, budget: ValueStreamBudget, expected_version: int, user, changes: dict[str, Any]
) -> ValueStreamBudget:
    """Write `changes` if the stored version is still `expected_version`; else raise VersionConflict.

    Validates first (ValidationError naming the field); see plan_write. Changes equal to what is
    stored write nothing. Low level: no period rules (see budget_change).
    """
    with transaction.atomic(), pghistory.context(**actor(user)):
        fresh, changed = plan_write(
            _stored(budget),
            expected_version=expected_version,
            changes=changes,
            exclude=CLEAN_EXCLUDE,
            related=RELATED,
            updated_by=user if user is not None and user.is_authenticated else None,
            updated_at=timezone.now(),
        )
    if changed:
        signals_request(portfolio_id=fresh.period.portfolio_id)
    if TARGET_FIELDS & set(changed) and fresh.period.status != FundingPeriod.Status.DRAFT:
        targets_recompute(period=fresh.period)
    return fresh


def targets_recompute(*, period: FundingPeriod) -> None:
    """Flow rows store the target mix of funded periods: recompute the portfolio when it moves."""
    recompute_request(portfolio=period.portfolio, full=True)


@dataclass
class ChangeResult:
    """What budget_change did: the budget as stored, the decision recorded (if any), and whether the
    change waits for an executive's approval (`pending`)."""

    budget: ValueStreamBudget
    decision: FundingDecision | None = None
    pending: bool = False
    breaches: list[Result] = field(default_factory=list)


def _plan_with(budgets: list[ValueStreamBudget], budget_id: int, changes: dict) -> list[PlanRow]:
    return [
        budget_plan_row(budget.with_values(changes) if budget.pk == budget_id else budget)
        for budget in budgets
    ]


def _proposal_text(changes: dict) -> dict[str, Any]:
    return {
        name: str(value) if isinstance(value, Decimal) else value for name, value in changes.items()
    }


@transaction.atomic
def budget_change(
    *,
    budget: ValueStreamBudget,
    expected_version: int,
    user,
    changes: dict[str, Any],
    decision: DecisionInput | None = None,
    now: dt.datetime,
    plan: list[ValueStreamBudget] | None = None,
) -> ChangeResult:
    """Change a budget under its period's rules.

    - draft period: applied (guardrail breaches are reported, not blocking);
    - approved period: needs `decision`; a change that causes a new guardrail breach needs a decision
      of kind *exception*, which is recorded with the change as its proposal and applied only when an
      executive approves it (`pending`); other changes are applied and the decision recorded;
    - closed period: refused.
    Raises ValidationError (field-named) or VersionConflict; on either nothing is written.
    """
    period = budget.period
    if period.status == FundingPeriod.Status.CLOSED:
        raise ValidationError({"period": f"{period} is closed; its money can no longer change."})
    changed = budget.changed_values(changes)
    budgets = plan if plan is not None else period_budgets(period)
    rules = guardrail_rules(period.portfolio)
    before_totals = previous_totals(period)
    before = check_plan([budget_plan_row(b) for b in budgets], rules, previous_totals=before_totals)
    after = check_plan(
        _plan_with(budgets, budget.pk, changed), rules, previous_totals=before_totals
    )
    caused = [
        r
        for r in new_breaches(before, after)
        if r.value_stream_id in (None, budget.value_stream_id)
    ]
    if period.status == FundingPeriod.Status.DRAFT or not changed:
        return ChangeResult(
            budget_apply(
                budget=budget, expected_version=expected_version, user=user, changes=changed
            ),
            breaches=caused,
        )
    if decision is None:
        raise ValidationError(
            {"decision_kind": f"{period} is approved: record a decision with this change."}
        )
    errors = decision.errors()
    if caused and decision.kind != DecisionKind.EXCEPTION:
        errors["decision_kind"] = (
            "This change breaches a guardrail ("
            + "; ".join(f"{r.description}: {r.message}" for r in caused)
            + "). Record it as an exception decision for an executive to approve."
        )
    if errors:
        raise ValidationError(errors)
    amount_before = budget.total
    if decision.kind == DecisionKind.EXCEPTION:
        # validate now, apply on approval; the version check guards against changes in between
        stored = _stored(budget)
        if stored.version != expected_version:
            raise VersionConflict(stored, expected_version)
        _clean_budget(stored.with_values(changed))
        recorded = decision_record(
            period=period,
            value_stream=budget.value_stream,
            decision=decision,
            amount_before=amount_before,
            amount_after=budget.with_values(changed).total,
            user=user,
            now=now,
            proposal=_proposal_text(changed),
            base_version=expected_version,
        )
        return ChangeResult(budget, recorded, pending=True, breaches=caused)
    stored = budget_apply(
        budget=budget, expected_version=expected_version, user=user, changes=changed
    )
    recorded = decision_record(
        period=period,
        value_stream=budget.value_stream,
        decision=decision,
        amount_before=amount_before,
        amount_after=stored.total,
        user=user,
        now=now,
    )
    return ChangeResult(stored, recorded, breaches=caused)


@transaction.atomic
def plan_save(
    *,
    period: FundingPeriod,
    rows: list[PlanRowInput],
    user,
    decision: DecisionInput | None,
    now: dt.datetime,
) -> list[ChangeResult]:
    """Save a whole grid in one transaction: every row (a budget) through budget_change, all or
    nothing. Raises PlanRowError (naming the row, field-named) or VersionConflict."""
    results = []
    plan = period_budgets(period)
    by_id = {budget.pk: budget for budget in plan}
    for row in rows:
        if not row.row.changed_values(row.changes):
            if row.row.version != row.expected_version:
                raise VersionConflict(_stored(row.row), row.expected_version)
            continue
        try:
            result = budget_change(
                budget=row.row,
                expected_version=row.expected_version,
                user=user,
                changes=row.changes,
                decision=decision,
                now=now,
                plan=plan,
            )
        except ValidationError as exc:
            raise PlanRowError(row.row, exc) from exc
        if not result.pending:
            by_id[result.budget.pk] = result.budget
            plan = list(by_id.values())
        results.append(result)
    return results
