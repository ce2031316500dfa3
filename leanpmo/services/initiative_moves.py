"""Initiatives on the portfolio kanban: move them under the strategic WIP cap, and ask an executive
for an exception to the cap (its approval makes the move).

Every move appends an InitiativeTransition; starting (→ implementing) and stopping also record a
funding decision with its evidence frozen. Moves into implementing lock the portfolio's row first
(SELECT … FOR NO KEY UPDATE), so two moves racing for the last free slot run one after the other and
the second sees the first. Services validate first and change nothing when they refuse
(ValidationError naming the field, or CapRefused naming the guardrail).
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from decimal import Decimal

import pghistory
from django.core.exceptions import ValidationError
from django.db import transaction

from leanpmo.metrics import initiatives as metrics
from leanpmo.models import (
    DecisionKind,
    ExceptionApproval,
    FundingDecision,
    Initiative,
    InitiativeState,
    InitiativeTransition,
)
from leanpmo.selectors.funding import current_period
from leanpmo.selectors.initiatives import pending_exception
from leanpmo.services.audit import actor
from leanpmo.services.decisions import DecisionInput, decision_record
from leanpmo.services.initiative_cap import cap_refusal, lock_portfolio
from leanpmo.services.signals import signals_request
from portfolio.models import Portfolio


def _local_day(portfolio: Portfolio, now: dt.datetime) -> dt.date:
    return now.astimezone(zoneinfo.ZoneInfo(portfolio.time_zone)).date()


def _record_decision(
    initiative: Initiative,
    *,
    kind: str,
    rationale: str,
    expected_outcome: str,
    amount_before: Decimal,
    amount_after: Decimal,
    user,
    now: dt.datetime,
    review_due_on: dt.date | None,
    proposal: dict | None = None,
) -> FundingDecision:
    period = current_period(initiative.portfolio, today=_local_day(initiative.portfolio, now))
    if period is None:
        raise ValidationError(
            {
                "to_state": "Starting and stopping a bet are funding decisions of a period: "
                "add a funding period to the portfolio first."
            }
        )
    indicators = "; ".join(kr.metric for kr in initiative.leading_indicators.all())
    measured = initiative.hypothesis_measure.strip()
    return decision_record(
        period=period,
        initiative=initiative,
        decision=DecisionInput(
            kind=kind,
            rationale=rationale,
            expected_outcome=expected_outcome,
            leading_indicators="; ".join(part for part in (measured, indicators) if part),
            review_due_on=review_due_on,
        ),
        amount_before=amount_before,
        amount_after=amount_after,
        user=user,
        now=now,
        proposal=proposal,
    )


def _expected_outcome(initiative: Initiative, given: str) -> str:
    if given.strip():
        return given.strip()
    result = initiative.hypothesis_outcome.strip()
    if not result:
        return ""
    measured = initiative.hypothesis_measure.strip()
    return f"Will result in {result}" + (f", measured by {measured}." if measured else ".")


def _move_errors(initiative: Initiative, to_state: str, reason: str) -> dict[str, str]:
    errors = {}
    problem = metrics.move_error(initiative.state, to_state)
    if problem:
        errors["to_state"] = problem
    if not reason.strip():
        errors["reason"] = (
            "A stop needs its learning: say what you learned and why you stop."
            if to_state == InitiativeState.STOPPED
            else "Say why: every move carries its reason."
        )
    if (
        to_state == InitiativeState.IMPLEMENTING
        and "to_state" not in errors
        and not initiative.teams.exists()
    ):
        errors["to_state"] = "Link the teams who will do the work before starting it."
    return errors


def _approved_exception_error(initiative: Initiative, exception: FundingDecision) -> str | None:
    if exception.initiative_id != initiative.pk or exception.kind != DecisionKind.EXCEPTION:
        return "This is not an exception decision about this initiative."
    if not ExceptionApproval.objects.filter(decision=exception, approved=True).exists():
        return "The exception has not been approved by an executive."
    if InitiativeTransition.objects.filter(decision=exception).exists():
        return "This exception was already used for a move."
    return None


@transaction.atomic
def initiative_move(
    *,
    initiative: Initiative,
    to_state: str,
    reason: str,
    user,
    now: dt.datetime,
    expected_outcome: str = "",
    review_due_on: dt.date | None = None,
    exception: FundingDecision | None = None,
) -> InitiativeTransition:
    """Move an initiative on the kanban, appending its transition.

    - every move needs a reason, and must be allowed from the current state
      (metrics.initiatives.ALLOWED_MOVES);
    - into implementing: the initiative needs teams and an expected outcome (given, or its
      hypothesis' "will result in"); a strategic initiative must fit under the active "max
      strategic initiatives in progress" guardrail, else CapRefused — unless `exception` is an
      executive-approved, unused exception decision about it. A start decision is recorded (or the
      exception is linked);
    - into stopped: the reason is the learning; a stop decision is recorded.
    Raises ValidationError (field-named) or CapRefused; on either nothing is written.
    """
    if to_state == InitiativeState.IMPLEMENTING:
        lock_portfolio(initiative.portfolio_id)
    locked = (
        Initiative.objects.select_for_update(of=("self",))
        .select_related("portfolio")
        .get(pk=initiative.pk)
    )
    errors = _move_errors(locked, to_state, reason)
    if now < locked.state_changed_at:
        errors.setdefault(
            "to_state",
            "A move cannot come before the initiative's last one "
            f"({locked.state_changed_at:%Y-%m-%d %H:%M}).",
        )
    outcome = _expected_outcome(locked, expected_outcome)
    if to_state == InitiativeState.IMPLEMENTING and not outcome and exception is None:
        errors["expected_outcome"] = (
            "Say what the bet should achieve before starting it: fill in the hypothesis "
            "(will result in …) or give the expected outcome."
        )
    if exception is not None and "to_state" not in errors:
        problem = _approved_exception_error(locked, exception)
        if problem:
            errors["to_state"] = problem
    if errors:
        raise ValidationError(errors)
    decision = exception
    if to_state == InitiativeState.IMPLEMENTING and exception is None:
        refusal = cap_refusal(locked, shape=locked.work_shape)
        if refusal is not None:
            raise refusal
        decision = _record_decision(
            locked, kind=DecisionKind.START, rationale=reason.strip(), expected_outcome=outcome,
            amount_before=Decimal(0), amount_after=locked.money, user=user, now=now,
            review_due_on=review_due_on,
        )  # fmt: skip
    elif to_state == InitiativeState.STOPPED:
        was_running = locked.state == InitiativeState.IMPLEMENTING
        decision = _record_decision(
            locked, kind=DecisionKind.STOP, rationale=reason.strip(),
            expected_outcome="The teams' capacity goes back to their missions and what we "
            f"learned is kept: {reason.strip()}",
            amount_before=locked.money if was_running else Decimal(0), amount_after=Decimal(0),
            user=user, now=now, review_due_on=review_due_on,
        )  # fmt: skip
    transition = InitiativeTransition.objects.create(
        initiative=locked,
        from_state=locked.state,
        to_state=to_state,
        reason=reason.strip(),
        moved_by=user,
        moved_at=now,
        decision=decision,
    )
    locked.state, locked.state_changed_at = to_state, now
    with pghistory.context(**actor(user)):
        locked.save(update_fields=["state", "state_changed_at"])
    initiative.state, initiative.state_changed_at = to_state, now
    signals_request(portfolio_id=locked.portfolio_id)  # the pyramid moved
    return transition


@transaction.atomic
def initiative_exception_request(
    *,
    initiative: Initiative,
    reason: str,
    user,
    now: dt.datetime,
    expected_outcome: str = "",
    review_due_on: dt.date | None = None,
) -> FundingDecision:
    """Ask an executive to let a strategic initiative start above the WIP cap.

    Records an exception decision whose proposal is the move; an executive's approval
    (exception_decide) then makes the move, linked to the decision. Refused (ValidationError) when
    the move is not refused by the cap, when one is already waiting, or the move itself is invalid.
    """
    lock_portfolio(initiative.portfolio_id)
    locked = (
        Initiative.objects.select_for_update(of=("self",))
        .select_related("portfolio")
        .get(pk=initiative.pk)
    )
    errors = _move_errors(locked, InitiativeState.IMPLEMENTING, reason)
    outcome = _expected_outcome(locked, expected_outcome)
    if not outcome:
        errors["expected_outcome"] = "Say what the bet should achieve: an exception is reviewed."
    if errors:
        raise ValidationError(errors)
    refusal = cap_refusal(locked, shape=locked.work_shape)
    if refusal is None:
        raise ValidationError(
            {"to_state": "No exception is needed: this start fits under the cap. Move it."}
        )
    if pending_exception(locked) is not None:
        raise ValidationError(
            {"to_state": "An exception for this initiative already waits for an executive."}
        )
    return _record_decision(
        locked,
        kind=DecisionKind.EXCEPTION,
        rationale=f"{reason.strip()}\n\nAbove the cap: {refusal}",
        expected_outcome=outcome,
        amount_before=Decimal(0),
        amount_after=locked.money,
        user=user,
        now=now,
        review_due_on=review_due_on,
        proposal={
            "move": InitiativeState.IMPLEMENTING.value,
            "from": locked.state,
            "reason": reason.strip(),
            "guardrail": refusal.guardrail.describe(),
            "in_progress": [item.title for item in refusal.in_progress],
        },
    )


def initiative_exception_apply(
    *, decision: FundingDecision, user, now: dt.datetime
) -> InitiativeTransition:
    """Make the move an approved exception decision asked for (called by exception_decide)."""
    proposal = decision.proposal
    return initiative_move(
        initiative=decision.initiative,
        to_state=proposal.get("move", InitiativeState.IMPLEMENTING),
        reason=proposal.get("reason") or "Exception approved.",
        user=user,
        now=now,
        exception=decision,
    )
