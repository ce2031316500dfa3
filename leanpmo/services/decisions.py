"""Funding decisions (append-only, evidence frozen when recorded) and their reviews."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

import pghistory
from django.core.exceptions import ValidationError
from django.db import transaction

from leanpmo.models import (
    DecisionKind,
    DecisionReview,
    FundingDecision,
    FundingPeriod,
    Initiative,
    ReviewOutcome,
)
from leanpmo.selectors.decisions import evidence_snapshot
from leanpmo.selectors.initiatives import decision_figures, initiative_evidence
from leanpmo.services.audit import actor
from leanpmo.services.signals import signals_request
from valuestreams.models import ValueStream

REVIEW_AFTER_DAYS = 90


@dataclass
class DecisionInput:
    """What a person says when changing approved money: kind, rationale, expected outcome, review."""

    kind: str
    rationale: str
    expected_outcome: str
    options_considered: str = ""
    leading_indicators: str = ""
    review_due_on: dt.date | None = None

    def errors(self) -> dict[str, str]:
        errors = {}
        if self.kind not in DecisionKind.values:
            errors["decision_kind"] = "Choose what kind of decision this is."
        if not self.rationale.strip():
            errors["rationale"] = "Say why: a decision needs its rationale."
        if not self.expected_outcome.strip():
            errors["expected_outcome"] = "Say what you expect to happen, so it can be reviewed."
        return errors


@transaction.atomic
def decision_record(
    *,
    period: FundingPeriod,
    value_stream: ValueStream | None = None,
    initiative: Initiative | None = None,
    decision: DecisionInput,
    amount_before: Decimal,
    amount_after: Decimal,
    user,
    now: dt.datetime,
    supersedes: FundingDecision | None = None,
    proposal: dict | None = None,
    base_version: int | None = None,
) -> FundingDecision:
    """Record a decision with its evidence frozen now; append-only from here on.

    A decision is about a value stream (its money) or an initiative (its start, stop or an
    exception to the strategic WIP cap): the evidence frozen is the value stream's figures, or the
    initiative's (selectors.initiatives.initiative_evidence). A correction names the decision it
    `supersedes` (which must be current and of the same portfolio).
    """
    errors = decision.errors()
    if value_stream is None and initiative is None:
        errors["value_stream"] = "Name the value stream or the initiative the decision is about."
    if value_stream is not None and value_stream.portfolio_id != period.portfolio_id:
        errors["value_stream"] = "This value stream belongs to another portfolio."
    if initiative is not None and initiative.portfolio_id != period.portfolio_id:
        errors["initiative"] = "This initiative belongs to another portfolio."
    if supersedes is not None:
        if supersedes.portfolio_id != period.portfolio_id:
            errors["supersedes"] = "A decision can only correct one of the same portfolio."
        elif FundingDecision.objects.filter(supersedes=supersedes).exists():
            errors["supersedes"] = "This decision was already corrected; correct the newest one."
    if errors:
        raise ValidationError(errors)
    record = FundingDecision(
        portfolio_id=period.portfolio_id,
        period=period,
        value_stream=value_stream,
        initiative=initiative,
        kind=decision.kind,
        amount_before=amount_before,
        amount_after=amount_after,
        rationale=decision.rationale,
        options_considered=decision.options_considered,
        expected_outcome=decision.expected_outcome,
        leading_indicators=decision.leading_indicators,
        evidence=evidence_snapshot(value_stream, before=now)
        if value_stream is not None
        else initiative_evidence(initiative, before=now),
        proposal=proposal or {},
        base_version=base_version,
        decided_by=user,
        decided_at=now,
        review_due_on=decision.review_due_on or (now.date() + dt.timedelta(days=REVIEW_AFTER_DAYS)),
        supersedes=supersedes,
    )
    record.full_clean(exclude=["supersedes"])
    with pghistory.context(**actor(user)):
        record.save()
    signals_request(portfolio_id=record.portfolio_id)
    return record


@transaction.atomic
def review_record(
    *, decision: FundingDecision, outcome: str, notes: str, user, now: dt.datetime
) -> DecisionReview:
    """Record whether a decision's expected outcome held, with its figures now (the value stream's,
    or the initiative's)."""
    if outcome not in ReviewOutcome.values:
        raise ValidationError({"outcome": "Choose held, partly, did not hold or too early."})
    review = DecisionReview(
        decision=decision,
        outcome=outcome,
        notes=notes,
        figures=decision_figures(decision, before=now),
        reviewed_by=user,
        reviewed_at=now,
    )
    review.full_clean()
    with pghistory.context(**actor(user)):
        review.save()
    signals_request(portfolio_id=decision.portfolio_id)
    return review
