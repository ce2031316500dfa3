"""Detectors 5 (project economics in product language) and 10 (money and flow disagree)."""

from __future__ import annotations

from collections import Counter
from decimal import Decimal

import pandas as pd

from leanpmo.detectors.findings import (
    HIGH,
    MEDIUM,
    MONEY,
    DetectorResult,
    Evidence,
    Finding,
    key_of,
)
from leanpmo.detectors.inputs import FixedScopeInitiative, PortfolioInputs
from leanpmo.detectors.thresholds import Thresholds

PROJECT_ECONOMICS = "project_economics"
MONEY_FLOW = "money_flow_disagree"
WORK_TYPES = ("Feature", "Defect", "Risk", "Debt")


def _outcome_counts(inputs: PortfolioInputs) -> Counter:
    """Open key results per value stream: its own and its teams'."""
    stream_of_team = {team.id: team.value_stream_id for team in inputs.teams}
    counts: Counter = Counter()
    for kr in inputs.key_results:
        stream = kr.value_stream_id or stream_of_team.get(kr.team_id or 0)
        if stream:
            counts[stream] += 1
    return counts


def project_economics(inputs: PortfolioInputs, thresholds: Thresholds) -> DetectorResult:
    """Money tied to fixed-scope projects in a value stream expected to move outcomes (it has open
    key results): the budget speaks of projects while the work is judged by outcomes. High
    severity at `fixed_scope_high_percent` % of the stream's budget or more.

    Reads the current period's budgets (their fixed-scope money), and the same finding at
    initiative level: an initiative funded as a fixed-scope project (scope budget and end date)
    whose leading indicators are open key results; high severity once it is implementing (the
    money is committed), medium while it is still planned.
    """
    outcomes = _outcome_counts(inputs)
    result = DetectorResult(checked=len(inputs.budgets))
    for budget in sorted(inputs.budgets, key=lambda b: b.value_stream_id):
        key_results = outcomes.get(budget.value_stream_id, 0)
        if budget.fixed_scope <= 0 or key_results == 0:
            continue
        share = float(budget.fixed_scope / budget.total * 100) if budget.total else 100.0
        result.findings.append(
            Finding(
                detector=PROJECT_ECONOMICS,
                key=key_of(("value_stream", budget.value_stream_id)),
                severity=HIGH if share >= thresholds.fixed_scope_high_percent else MEDIUM,
                facts={
                    "value_stream": inputs.value_streams.get(budget.value_stream_id, ""),
                    "period": budget.period_name,
                    "fixed_scope": str(budget.fixed_scope),
                    "total": str(budget.total),
                    "share": round(share, 1),
                    "key_results": key_results,
                },
                value_stream_id=budget.value_stream_id,
                evidence=(
                    Evidence("The budget", "budget-detail", (budget.id,), audience=MONEY),
                    Evidence(
                        "Outcomes of the value stream",
                        "value-stream-detail",
                        (budget.value_stream_id,),
                        "outcomes",
                    ),
                ),
            )
        )
    for initiative in inputs.fixed_scope_initiatives:
        if initiative.key_results:
            result.findings.append(_initiative_finding(inputs, initiative))
    result.checked += len(inputs.fixed_scope_initiatives)
    return result


def _initiative_finding(inputs: PortfolioInputs, initiative: FixedScopeInitiative) -> Finding:
    streams = [
        inputs.value_streams[pk] for pk in initiative.value_stream_ids if pk in inputs.value_streams
    ]
    return Finding(
        detector=PROJECT_ECONOMICS,
        key=key_of(("initiative", initiative.id)),
        severity=HIGH if initiative.implementing else MEDIUM,
        facts={
            "initiative": initiative.title,
            "state": initiative.state,
            "scope_budget": str(initiative.scope_budget),
            "end_date": initiative.end_date.isoformat(),
            "key_results": initiative.key_results,
            "value_streams": streams,
        },
        value_stream_id=initiative.value_stream_ids[0]
        if len(initiative.value_stream_ids) == 1
        else None,
        evidence=(Evidence("The initiative", "initiative-detail", (initiative.id,)),),
    )


def completed_mix(flow: pd.DataFrame, *, since: pd.Timestamp) -> pd.DataFrame:
    """Items completed per value stream and work type in the weekly windows ending after `since`:
    columns value_stream_id, item_type, done (int)."""
    if flow.empty:
        return pd.DataFrame(columns=["value_stream_id", "item_type", "done"])
    rows = flow[
        (flow["scope_kind"] == "value_stream")
        & (flow["item_type"] != "All")
        & (flow["window_end"] > since)
    ]
    done = rows.groupby(["scope_id", "item_type"])["velocity"].sum().reset_index()
    done.columns = ["value_stream_id", "item_type", "done"]
    return done


def money_flow_disagreement(inputs: PortfolioInputs, thresholds: Thresholds) -> DetectorResult:
    """A value stream whose completed work (its flow distribution over the last
    `distribution_weeks` weeks) differs from its budget's target allocation by at least
    `allocation_gap_points` percentage points for some work type. One finding per value stream,
    naming the type with the widest gap; high severity at twice the threshold. Fewer than
    `min_items` completed items: not enough data."""
    since = pd.Timestamp(inputs.as_of) - pd.Timedelta(weeks=thresholds.distribution_weeks)
    mix = completed_mix(inputs.flow_weeks, since=since)
    result = DetectorResult(checked=len(inputs.budgets))
    for budget in sorted(inputs.budgets, key=lambda b: b.value_stream_id):
        name = inputs.value_streams.get(budget.value_stream_id, "")
        rows = mix[mix["value_stream_id"] == budget.value_stream_id]
        done = {str(t): int(n) for t, n in zip(rows["item_type"], rows["done"], strict=True)}
        total = sum(done.values())
        if total < thresholds.min_items:
            result.not_enough_data.append(f"{name}: {total} completed items")
            continue
        gaps = {
            kind: budget.allocation.get(kind, 0) - done.get(kind, 0) * 100 / total
            for kind in WORK_TYPES
        }
        kind = max(WORK_TYPES, key=lambda t: (abs(gaps[t]), t))
        gap = gaps[kind]
        if abs(gap) < thresholds.allocation_gap_points:
            continue
        target = budget.allocation.get(kind, 0)
        result.findings.append(
            Finding(
                detector=MONEY_FLOW,
                key=key_of(("value_stream", budget.value_stream_id)),
                severity=HIGH if abs(gap) >= 2 * thresholds.allocation_gap_points else MEDIUM,
                facts={
                    "value_stream": name,
                    "period": budget.period_name,
                    "item_type": kind,
                    "target": target,
                    "done_share": round(done.get(kind, 0) * 100 / total, 1),
                    "done": done.get(kind, 0),
                    "items": total,
                    "weeks": thresholds.distribution_weeks,
                    "gap": round(gap, 1),
                    "money": str((budget.total * Decimal(target) / 100).quantize(Decimal(1))),
                    "total": str(budget.total),
                },
                value_stream_id=budget.value_stream_id,
                evidence=(
                    Evidence(
                        "Flow distribution",
                        "value-stream-detail",
                        (budget.value_stream_id,),
                        "flow",
                    ),
                    Evidence(
                        "Planned vs completed work",
                        "investment-mix",
                        (inputs.portfolio_id,),
                        audience=MONEY,
                    ),
                ),
            )
        )
    return result
