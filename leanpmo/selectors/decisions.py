"""Reads of funding decisions: the evidence frozen with them, the log, reviews due, their
quality, the timeline and the exception check. Each runs a fixed number of queries whatever the
row count."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pandas as pd
from django.db.models import Prefetch, QuerySet

from leanpmo import plan_text
from leanpmo.guardrails import PlanRow, Result, check_plan, new_breaches
from leanpmo.models import (
    DecisionReview,
    FundingDecision,
    MoneyPlan,
    ReviewOutcome,
    ValueStreamBudget,
)
from leanpmo.plan_fields import MONEY_FIELDS, PLAN_FIELDS
from leanpmo.selectors.funding import (
    budget_plan_row,
    guardrail_rules,
    period_budgets,
    previous_totals,
    themes_by_id,
)
from portfolio.models import Portfolio
from valuestreams.models import DoraMetric, FlowMetric, MetricRun, ScopeKind, ValueStream


def _flow_figures(row: FlowMetric) -> dict[str, Any]:
    days = 86400
    return {
        "velocity": row.velocity,
        "flow_time_p50_days": None
        if row.flow_time_p50_s is None
        else round(row.flow_time_p50_s / days, 1),
        "flow_time_p85_days": None
        if row.flow_time_p85_s is None
        else round(row.flow_time_p85_s / days, 1),
        "flow_efficiency": None if row.flow_efficiency is None else round(row.flow_efficiency, 3),
        "load_mean": None if row.load_mean is None else round(row.load_mean, 1),
        "share": None if row.share is None else round(row.share, 3),
        "target": None if row.target is None else round(row.target, 3),
    }


DORA_FIELDS = (
    "deployments",
    "median_deployment_days_per_week",
    "deployment_frequency_tier",
    "median_lead_time_minutes",
    "lead_time_tier",
    "change_failure_rate",
    "change_failure_rate_tier",
    "median_recovery_time_minutes",
    "recovery_time_tier",
    "deployment_rework_rate",
)


def evidence_snapshot(
    value_stream: ValueStream, *, before: dt.datetime | None = None
) -> dict[str, Any]:
    """The value stream's precomputed figures, as JSON: what deciders see at decision time.

    Keys: `window` (label of the monthly window), `flow` (item type → velocity, flow time p50 / p85
    in days, efficiency 0–1, mean load, share 0–1, target 0–1), `dora` (the month's DORA figures and
    tiers), `caveats` and `as_of` from the latest recompute. With `before`, the latest month that had
    ended by then (a decision or review sees complete months of its own time); without it, the
    latest month. Empty dicts where nothing was computed.
    """
    scope = {"scope_kind": ScopeKind.VALUE_STREAM, "scope_id": value_stream.pk, "grain": "month"}
    if before is not None:
        scope["window_end__lte"] = before
    latest_flow = (
        FlowMetric.objects.filter(**scope).order_by("-window_start").values("window_start").first()
    )
    flow: dict[str, Any] = {}
    window = ""
    if latest_flow:
        for row in FlowMetric.objects.filter(**scope, window_start=latest_flow["window_start"]):
            flow[row.item_type] = _flow_figures(row)
            window = row.label
    dora_row = DoraMetric.objects.filter(**scope).order_by("-window_start").first()
    dora = {field: getattr(dora_row, field) for field in DORA_FIELDS} if dora_row else {}
    if dora_row:
        dora["window"] = dora_row.label
    run = (
        MetricRun.objects.filter(portfolio_id=value_stream.portfolio_id)
        .order_by("-computed_at")
        .first()
    )
    return {
        "value_stream": value_stream.name,
        "window": window,
        "flow": flow,
        "dora": dora,
        "caveats": run.caveats if run else {},
        "as_of": run.as_of.isoformat() if run else None,
    }


def decision_log(portfolio: Portfolio) -> QuerySet[FundingDecision]:
    """The portfolio's decisions, newest first, with what they need for a list (constant queries)."""
    return (
        FundingDecision.objects.filter(portfolio=portfolio)
        .select_related(
            "value_stream", "initiative", "period", "decided_by", "approval", "superseded_by"
        )
        .prefetch_related(
            Prefetch("reviews", queryset=DecisionReview.objects.select_related("reviewed_by"))
        )
        .order_by("-decided_at", "-pk")
    )


def latest_review(decision: FundingDecision) -> DecisionReview | None:
    """The newest review of a decision (from the prefetched reviews)."""
    reviews = list(decision.reviews.all())
    return reviews[-1] if reviews else None


def reviews_due(portfolio: Portfolio, *, today: dt.date) -> list[FundingDecision]:
    """Current decisions whose review is due by `today` and that have no conclusive review yet."""
    due = []
    for decision in decision_log(portfolio).filter(review_due_on__lte=today):
        if hasattr(decision, "superseded_by"):
            continue
        review = latest_review(decision)
        if review is None or review.outcome == ReviewOutcome.TOO_EARLY:
            due.append(decision)
    return sorted(due, key=lambda decision: decision.review_due_on)


@dataclass
class DecisionQuality:
    """Shares 0–1 (None when there is nothing to measure) with the counts behind them."""

    decisions: int
    with_evidence: float | None
    reviewed_on_time: float | None
    held: float | None
    due: int
    reviewed_in_time: int
    conclusive: int
    held_count: int


def decision_quality(decisions: list[FundingDecision], *, today: dt.date) -> DecisionQuality:
    """Share of decisions with evidence, share of due ones reviewed by their date, share that held.

    Superseded decisions are left out. “Held” counts a partly-held review as half.
    A review counts as on time when the first conclusive review came on or before the due date.
    """
    current = [decision for decision in decisions if not hasattr(decision, "superseded_by")]
    due = [decision for decision in current if decision.review_due_on <= today]
    in_time = conclusive = 0
    held_score = 0.0
    held_count = 0
    for decision in current:
        reviews = [r for r in decision.reviews.all() if r.outcome != ReviewOutcome.TOO_EARLY]
        if not reviews:
            continue
        first, last = reviews[0], reviews[-1]
        if decision.review_due_on <= today and first.reviewed_at.date() <= decision.review_due_on:
            in_time += 1
        conclusive += 1
        held_score += {"held": 1.0, "partly": 0.5}.get(last.outcome, 0.0)
        held_count += last.outcome == ReviewOutcome.HELD
    evidence = sum(decision.has_evidence for decision in current)
    return DecisionQuality(
        decisions=len(current),
        with_evidence=evidence / len(current) if current else None,
        reviewed_on_time=in_time / len(due) if due else None,
        held=held_score / conclusive if conclusive else None,
        due=len(due),
        reviewed_in_time=in_time,
        conclusive=conclusive,
        held_count=held_count,
    )


def decisions_by_stream(decisions: list[FundingDecision]) -> dict[int, list[FundingDecision]]:
    """Group decisions by value stream id (no queries)."""
    grouped: dict[int, list[FundingDecision]] = defaultdict(list)
    for decision in decisions:
        grouped[decision.value_stream_id].append(decision)
    return grouped


def decision_timeline_frame(decisions: list[FundingDecision]) -> pd.DataFrame:
    """decided_at, value_stream, kind, change (Decimal), outcome (latest review, or "Not reviewed")."""
    rows = []
    for decision in decisions:
        review = latest_review(decision)
        rows.append(
            (
                decision.decided_at,
                decision.subject,
                decision.get_kind_display(),
                decision.change,
                review.get_outcome_display() if review else "Not reviewed",
            )
        )
    return pd.DataFrame(rows, columns=["decided_at", "value_stream", "kind", "change", "outcome"])


@dataclass
class ExceptionCheck:
    """What an exception decision about a budget asks, for the executive who answers it.

    `changes`: each proposed field, from its value when the exception was asked to the proposal;
    `before` / `after`: the value stream's money then and with the change; `breaches`: the
    guardrail breaches the change causes (against the plan as it is now, with this budget as it
    was when asked); `stale`: the budget changed since, so approving would be refused.
    """

    budget: ValueStreamBudget
    changes: list[plan_text.Change]
    before: Decimal
    after: Decimal
    breaches: list[Result]
    stale: bool

    @property
    def change(self) -> Decimal:
        return self.after - self.before

    @property
    def change_percent(self) -> Decimal | None:
        return self.change * 100 / self.before if self.before else None


def exception_check(decision: FundingDecision) -> ExceptionCheck | None:
    """The budget change an exception decision asks and the guardrails it breaches (a constant
    number of queries); None for decisions that propose no budget change."""
    if decision.kind != "exception" or not decision.proposal or decision.value_stream_id is None:
        return None
    budgets = period_budgets(decision.period)
    budget = next((b for b in budgets if b.value_stream_id == decision.value_stream_id), None)
    if budget is None:
        return None
    asked = budget.events.filter(version=decision.base_version).order_by("-pgh_id").first()
    base = budget.with_values({name: getattr(asked, name) for name in PLAN_FIELDS} if asked else {})
    proposal = {
        name: Decimal(str(value)) if name in MONEY_FIELDS else value
        for name, value in decision.proposal.items()
        if name in PLAN_FIELDS
    }
    changed = base.with_values(proposal)
    portfolio = decision.period.portfolio
    words = {"themes": themes_by_id(portfolio)}  # the table names the currency once
    rules = guardrail_rules(portfolio)
    before_totals = previous_totals(decision.period)

    def plan_with(row: MoneyPlan) -> list[PlanRow]:
        return [budget_plan_row(row if b.pk == budget.pk else b) for b in budgets]

    caused = new_breaches(
        check_plan(plan_with(base), rules, previous_totals=before_totals),
        check_plan(plan_with(changed), rules, previous_totals=before_totals),
    )
    return ExceptionCheck(
        budget=budget,
        changes=[
            plan_text.change(name, getattr(base, name), value, **words)
            for name, value in proposal.items()
        ],
        before=base.total,
        after=changed.total,
        breaches=[r for r in caused if r.value_stream_id in (None, decision.value_stream_id)],
        stale=decision.base_version is not None and budget.version != decision.base_version,
    )


def decision_export_frame(portfolio: Portfolio) -> pd.DataFrame:
    """Every decision of the portfolio as a row for the download: when, period, value stream or
    initiative, kind, money before and after, rationale, expected outcome, who, review due, the
    latest review's outcome and the decision it supersedes."""
    rows = []
    for decision in decision_log(portfolio):
        reviews = list(decision.reviews.all())
        rows.append(
            {
                "decided_at": decision.decided_at.isoformat(),
                "period": decision.period.name,
                "value_stream": decision.value_stream.name if decision.value_stream_id else "",
                "initiative": decision.initiative.title if decision.initiative_id else "",
                "kind": decision.kind,
                "amount_before": decision.amount_before,
                "amount_after": decision.amount_after,
                "rationale": decision.rationale,
                "expected_outcome": decision.expected_outcome,
                "decided_by": decision.decided_by.get_username(),
                "review_due_on": decision.review_due_on.isoformat(),
                "review": reviews[-1].outcome if reviews else "",
                "supersedes": decision.supersedes_id or "",
            }
        )
    return pd.DataFrame(rows)
