"""Detectors 2 (decision without evidence), 3 (decision review overdue) and 4 (guardrail breach
without an approved exception)."""

from __future__ import annotations

import datetime as dt

from leanpmo.detectors.findings import (
    EDITORS,
    HIGH,
    MEDIUM,
    MONEY,
    DetectorResult,
    Evidence,
    Finding,
    key_of,
)
from leanpmo.detectors.inputs import PortfolioInputs
from leanpmo.detectors.thresholds import Thresholds

DECISION_WITHOUT_EVIDENCE = "decision_without_evidence"
REVIEW_OVERDUE = "review_overdue"
GUARDRAIL_BREACH = "guardrail_breach"
EXCEPTION = "exception"


def decisions_without_evidence(inputs: PortfolioInputs, thresholds: Thresholds) -> DetectorResult:
    """Current decisions of the last `decision_lookback_days` recorded without an evidence snapshot
    (no flow or DORA figures were frozen) or without an expected outcome. Exceptions — which
    step over a guardrail — are high severity."""
    since = inputs.today - dt.timedelta(days=thresholds.decision_lookback_days)
    recent = [d for d in inputs.decisions if d.decided_on >= since]
    result = DetectorResult(checked=len(recent))
    for decision in sorted(recent, key=lambda d: (d.decided_on, d.id)):
        missing = []
        if not decision.has_evidence_snapshot:
            missing.append("evidence")
        if not decision.has_expected_outcome:
            missing.append("expected_outcome")
        if not missing:
            continue
        result.findings.append(
            Finding(
                detector=DECISION_WITHOUT_EVIDENCE,
                key=key_of(("decision", decision.id)),
                severity=HIGH if decision.kind == EXCEPTION else MEDIUM,
                facts={
                    "kind": decision.kind_label,
                    "value_stream": inputs.value_streams.get(decision.value_stream_id)
                    or decision.initiative,
                    "decided_on": decision.decided_on.isoformat(),
                    "missing": missing,
                },
                value_stream_id=decision.value_stream_id,
                evidence=(
                    Evidence("The decision", "decision-detail", (decision.id,), audience=MONEY),
                ),
            )
        )
    return result


def reviews_overdue(inputs: PortfolioInputs, thresholds: Thresholds) -> DetectorResult:
    """Current decisions whose review date has passed without a conclusive review (a “too early”
    review does not count). High severity past `review_overdue_high_days`."""
    result = DetectorResult(checked=len(inputs.decisions))
    for decision in sorted(inputs.decisions, key=lambda d: (d.review_due_on, d.id)):
        if decision.reviewed or decision.review_due_on >= inputs.today:
            continue
        overdue = (inputs.today - decision.review_due_on).days
        result.findings.append(
            Finding(
                detector=REVIEW_OVERDUE,
                key=key_of(("decision", decision.id)),
                severity=HIGH if overdue > thresholds.review_overdue_high_days else MEDIUM,
                facts={
                    "kind": decision.kind_label,
                    "value_stream": inputs.value_streams.get(decision.value_stream_id)
                    or decision.initiative,
                    "decided_on": decision.decided_on.isoformat(),
                    "due_on": decision.review_due_on.isoformat(),
                    "overdue_days": overdue,
                },
                value_stream_id=decision.value_stream_id,
                evidence=(
                    Evidence("The decision", "decision-detail", (decision.id,), audience=MONEY),
                    Evidence(
                        "Record the review", "decision-review", (decision.id,), audience=EDITORS
                    ),
                ),
            )
        )
    return result


def guardrail_breaches(inputs: PortfolioInputs, thresholds: Thresholds) -> DetectorResult:
    """Guardrails the current period's plan breaches with no approved exception decision behind the
    breach: for a value stream's breach, an approved exception for that value stream in the period;
    for a portfolio-wide breach (a horizon's share, fixed-scope share), any approved exception of
    the period (it was approved with the plan's breaches in view)."""
    check = inputs.guardrails
    if check is None:
        return DetectorResult(not_enough_data=["No funding period is in force"])
    result = DetectorResult(checked=len(check.results))
    for breach in check.results:
        if breach.ok:
            continue
        stream = breach.value_stream_id
        excused = stream in check.excused_streams if stream else check.any_exception
        if excused:
            continue
        parts = [("guardrail", breach.rule_id)]
        if stream:
            parts.append(("value_stream", stream))
        result.findings.append(
            Finding(
                detector=GUARDRAIL_BREACH,
                key=key_of(*parts),
                severity=HIGH,
                facts={
                    "rule": breach.description,
                    "scope": breach.scope,
                    "message": breach.message,
                    "period": check.period_name,
                    "value": None if breach.value is None else float(breach.value),
                },
                value_stream_id=stream,
                evidence=(
                    Evidence(
                        "The period's plan",
                        "funding-editor",
                        (inputs.portfolio_id, check.period_id),
                        audience=MONEY,
                    ),
                    Evidence(
                        "Guardrails", "guardrail-list", (inputs.portfolio_id,), audience=MONEY
                    ),
                ),
            )
        )
    return result
