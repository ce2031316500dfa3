"""Exception decisions: an executive approves (the proposed change is applied) or rejects."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pghistory
from django.core.exceptions import ValidationError
from django.db import transaction

from leanpmo.models import DecisionKind, ExceptionApproval, FundingDecision, ValueStreamBudget
from leanpmo.plan_fields import MONEY_FIELDS
from leanpmo.services.audit import actor
from leanpmo.services.budgets import budget_apply
from leanpmo.services.initiative_moves import initiative_exception_apply
from leanpmo.services.signals import signals_request
from portfolio.access import portfolio_role
from portfolio.models import Portfolio


def may_approve_exceptions(user, portfolio: Portfolio) -> bool:
    """Executives (and administrators) approve exception decisions; Lean PMO does not."""
    return portfolio_role(user, portfolio) in {"executive", "admin"}


@transaction.atomic
def exception_decide(
    *, decision: FundingDecision, user, approved: bool, note: str, now: dt.datetime
) -> ExceptionApproval:
    """An executive approves (the proposed change is applied) or rejects an exception decision.

    The change is a budget's (applied with its version check) or, for an initiative, the move into
    implementing that the strategic WIP cap refused (made now, linked to this decision).
    Raises PermissionError for people who may not approve, ValidationError when the decision is no
    pending exception, and VersionConflict when the budget changed since the exception was proposed.
    """
    if not may_approve_exceptions(user, decision.portfolio):
        raise PermissionError("Only an executive of the portfolio approves exceptions.")
    if decision.kind != DecisionKind.EXCEPTION or not decision.proposal:
        raise ValidationError({"decision": "Only exception decisions with a change are approved."})
    if ExceptionApproval.objects.filter(decision=decision).exists():
        raise ValidationError({"decision": "This exception was already answered."})
    if approved and decision.initiative_id is None:
        budget = ValueStreamBudget.objects.select_related("period", "value_stream").get(
            period=decision.period, value_stream=decision.value_stream
        )
        changes = {
            name: Decimal(value) if name in MONEY_FIELDS else value
            for name, value in decision.proposal.items()
        }
        budget_apply(
            budget=budget, expected_version=decision.base_version or 0, user=user, changes=changes
        )
    answer = ExceptionApproval(
        decision=decision, approved=approved, note=note, decided_by=user, decided_at=now
    )
    answer.full_clean()
    with pghistory.context(**actor(user)):
        answer.save()
    if approved and decision.initiative_id is not None:
        initiative_exception_apply(decision=decision, user=user, now=now)
    signals_request(portfolio_id=decision.portfolio_id)
    return answer
