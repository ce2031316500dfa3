"""Budgets: creation, optimistic-concurrency writes, changes under period rules, the grid."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import pghistory
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from leanpmo.guardrails import PlanRow, Result, check_plan, new_breaches
from leanpmo.models import (
    ALLOCATION_FIELD,
    HORIZON_AMOUNT_FIELD,
    DecisionKind,
    FundingDecision,
    FundingPeriod,
    ValueStreamBudget,
)
from leanpmo.selectors import budget_plan_row, guardrail_rules, period_budgets, previous_totals
from leanpmo.services.audit import actor
from leanpmo.services.decisions import DecisionInput, decision_record
from leanpmo.services.signals import signals_request
from valuestreams.models import ValueStream
from valuestreams.recompute import recompute_request

BUDGET_FIELDS = (
    "amount_run",
    "amount_grow",
    "amount_transform",
    "fixed_scope_amount",
    "alloc_feature",
    "alloc_defect",
    "alloc_risk",
    "alloc_debt",
    "theme_split",
    "notes",
)
MONEY_FIELDS = ("amount_run", "amount_grow", "amount_transform", "fixed_scope_amount")
# what the flow distribution's target depends on: the allocation, weighted by money per portfolio
TARGET_FIELDS = {"alloc_feature", "alloc_defect", "alloc_risk", "alloc_debt", *MONEY_FIELDS[:3]}


class BudgetConflict(Exception):
    """The budget changed since the caller read it: `current` is what is stored now."""

    def __init__(self, current: ValueStreamBudget, expected_version: int):
        self.current = current
        self.expected_version = expected_version
        super().__init__(
            f"{current} was changed by someone else (version {current.version}, "
            f"you edited version {expected_version})."
        )


def _clean_budget(budget: ValueStreamBudget) -> None:
    # money and allocation rules are checked field by field in clean(), so their database
    # constraints (the backstop) are left out here to avoid saying the same thing twice
    budget.full_clean(exclude=["version", "updated_by"], validate_constraints=False)
    budget.validate_constraints(exclude={*BUDGET_FIELDS, "version", "updated_by"})


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
    """Write `changes` if the stored version is still `expected_version`; else raise BudgetConflict.

    The write is one `UPDATE … WHERE version = expected` that also bumps the version, so of two
    concurrent writers exactly one succeeds. Validates first (ValidationError naming the field).
    Changes equal to what is stored write nothing. Low level: no period rules (see budget_change).
    """
    unknown = set(changes) - set(BUDGET_FIELDS)
    if unknown:
        raise TypeError(f"budget_apply got unexpected fields: {sorted(unknown)}")
    changed = {name: value for name, value in changes.items() if getattr(budget, name) != value}
    candidate = ValueStreamBudget.objects.select_related("period", "value_stream").get(pk=budget.pk)
    for name, value in changed.items():
        setattr(candidate, name, value)
    _clean_budget(candidate)
    if not changed:
        if candidate.version != expected_version:
            raise BudgetConflict(candidate, expected_version)
        return candidate
    with transaction.atomic(), pghistory.context(**actor(user)):
        updated = ValueStreamBudget.objects.filter(pk=budget.pk, version=expected_version).update(
            **changed,
            version=F("version") + 1,
            updated_by=user if user is not None and user.is_authenticated else None,
            updated_at=timezone.now(),
        )
    fresh = ValueStreamBudget.objects.select_related("period", "value_stream").get(pk=budget.pk)
    if not updated:
        raise BudgetConflict(fresh, expected_version)
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
    rows = []
    for budget in budgets:
        row = budget_plan_row(budget)
        if budget.pk == budget_id:
            amounts = {
                code: changes.get(name, getattr(budget, name))
                for code, name in HORIZON_AMOUNT_FIELD.items()
            }
            allocation = {
                kind: changes.get(name, getattr(budget, name))
                for kind, name in ALLOCATION_FIELD.items()
            }
            row = PlanRow(
                budget.value_stream_id,
                budget.value_stream.name,
                amounts,
                allocation,
                changes.get("fixed_scope_amount", budget.fixed_scope_amount),
            )
        rows.append(row)
    return rows


def _money_total(budget: ValueStreamBudget, changes: dict) -> Decimal:
    return sum(
        (
            Decimal(changes.get(name, getattr(budget, name)))
            for name in HORIZON_AMOUNT_FIELD.values()
        ),
        Decimal(0),
    )


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
    Raises ValidationError (field-named) or BudgetConflict; on either nothing is written.
    """
    period = budget.period
    if period.status == FundingPeriod.Status.CLOSED:
        raise ValidationError({"period": f"{period} is closed; its money can no longer change."})
    changed = {name: value for name, value in changes.items() if getattr(budget, name) != value}
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
        candidate = ValueStreamBudget.objects.select_related("period", "value_stream").get(
            pk=budget.pk
        )
        if candidate.version != expected_version:
            raise BudgetConflict(candidate, expected_version)
        for name, value in changed.items():
            setattr(candidate, name, value)
        _clean_budget(candidate)
        recorded = decision_record(
            period=period,
            value_stream=budget.value_stream,
            decision=decision,
            amount_before=amount_before,
            amount_after=_money_total(budget, changed),
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


class PlanRowError(Exception):
    """A grid row was refused: `budget` names the row, `error` says why (field-named)."""

    def __init__(self, budget: ValueStreamBudget, error: ValidationError):
        self.budget, self.error = budget, error
        super().__init__(f"{budget}: {error}")


@dataclass
class PlanRowInput:
    """One grid row as submitted: the budget, the version the person edited, the new values."""

    budget: ValueStreamBudget
    expected_version: int
    changes: dict[str, Any]


@transaction.atomic
def plan_save(
    *,
    period: FundingPeriod,
    rows: list[PlanRowInput],
    user,
    decision: DecisionInput | None,
    now: dt.datetime,
) -> list[ChangeResult]:
    """Save a whole grid in one transaction: every row through budget_change, all or nothing."""
    results = []
    plan = period_budgets(period)
    by_id = {budget.pk: budget for budget in plan}
    for row in rows:
        if not any(getattr(row.budget, k) != v for k, v in row.changes.items()):
            if row.budget.version != row.expected_version:
                current = ValueStreamBudget.objects.select_related("period", "value_stream").get(
                    pk=row.budget.pk
                )
                raise BudgetConflict(current, row.expected_version)
            continue
        try:
            result = budget_change(
                budget=row.budget,
                expected_version=row.expected_version,
                user=user,
                changes=row.changes,
                decision=decision,
                now=now,
                plan=plan,
            )
        except ValidationError as exc:
            raise PlanRowError(row.budget, exc) from exc
        if not result.pending:
            by_id[result.budget.pk] = result.budget
            plan = list(by_id.values())
        results.append(result)
    return results
