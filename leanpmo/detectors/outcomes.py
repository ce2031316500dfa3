"""Detectors 1 (stale outcomes) and 7 (output-only team)."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

import pandas as pd

from leanpmo.detectors.findings import (
    HIGH,
    MEDIUM,
    DetectorResult,
    Evidence,
    Finding,
    key_of,
)
from leanpmo.detectors.inputs import KeyResultInfo, PortfolioInputs
from leanpmo.detectors.thresholds import Thresholds
from teams.metrics import STALE_AFTER_CADENCES, is_stale

STALE_OUTCOMES = "stale_outcomes"
OUTPUT_ONLY_TEAM = "output_only_team"
OUTPUT_WEEKS = 12


def _days_without(kr: KeyResultInfo, today: dt.date) -> int:
    return (today - (kr.last_check_in or kr.starts_on)).days


def stale_outcomes(inputs: PortfolioInputs, thresholds: Thresholds) -> DetectorResult:
    """Key results with no check-in for more than twice their cadence (the teams app's staleness
    rule), rolled up: one finding per team, per value stream (its own key results) and for the
    portfolio's key results. High severity when at least `stale_share_high` % of the group's open
    key results are stale."""
    groups: dict[tuple[str, int], list[KeyResultInfo]] = defaultdict(list)
    for kr in inputs.key_results:
        if kr.level == "team" and kr.team_id is not None:
            groups["team", kr.team_id].append(kr)
        elif kr.level == "value_stream" and kr.value_stream_id is not None:
            groups["value_stream", kr.value_stream_id].append(kr)
        else:
            groups["portfolio", inputs.portfolio_id].append(kr)
    teams = {team.id: team for team in inputs.teams}
    result = DetectorResult(checked=len(groups))
    for (scope, scope_id), key_results in sorted(groups.items()):
        stale = [
            kr
            for kr in key_results
            if is_stale(
                last_check_in=kr.last_check_in,
                starts_on=kr.starts_on,
                cadence_days=kr.cadence_days,
                as_of=inputs.today,
            )
        ]
        if not stale:
            continue
        stale.sort(key=lambda kr: (-_days_without(kr, inputs.today), kr.metric))
        oldest = stale[0]
        share = len(stale) / len(key_results)
        if scope == "team":
            team = teams.get(scope_id)
            name = team.name if team else "A team"
            value_stream_id = team.value_stream_id if team else None
            # the team page, where its members post the check-in (their attention list links
            # straight to the form)
            evidence = (
                Evidence("Key results", "team-detail", (scope_id,), f"key-result-{oldest.id}"),
            )
        elif scope == "value_stream":
            name = inputs.value_streams.get(scope_id, "A value stream")
            value_stream_id = scope_id
            evidence = (Evidence("Outcomes", "portfolio-outcomes", (inputs.portfolio_id,)),)
        else:
            name, value_stream_id = inputs.portfolio, None
            evidence = (Evidence("Outcomes", "portfolio-outcomes", (inputs.portfolio_id,)),)
        result.findings.append(
            Finding(
                detector=STALE_OUTCOMES,
                key=key_of((scope, scope_id)),
                severity=HIGH if share * 100 >= thresholds.stale_share_high else MEDIUM,
                facts={
                    "scope": scope,
                    "name": name,
                    "stale": len(stale),
                    "open": len(key_results),
                    "oldest_metric": oldest.metric,
                    "oldest_days": _days_without(oldest, inputs.today),
                    "oldest_cadence": oldest.cadence_days,
                    "cadences": STALE_AFTER_CADENCES,
                    "key_results": [kr.id for kr in stale],
                },
                value_stream_id=value_stream_id,
                team_id=scope_id if scope == "team" else None,
                evidence=evidence,
            )
        )
    return result


def _recent_team_velocity(flow: pd.DataFrame, as_of: dt.datetime, weeks: int) -> dict[int, int]:
    """Items each team completed in the last `weeks` weekly windows (those ending after
    `as_of` − `weeks`; the frame holds windows that ended by `as_of`)."""
    if flow.empty:
        return {}
    since = pd.Timestamp(as_of) - pd.Timedelta(weeks=weeks)
    rows = flow[
        (flow["scope_kind"] == "team") & (flow["item_type"] == "All") & (flow["window_end"] > since)
    ]
    totals = rows.groupby("scope_id")["velocity"].sum()
    return {int(team): int(done) for team, done in totals.items()}


def output_only_teams(inputs: PortfolioInputs, thresholds: Thresholds) -> DetectorResult:
    """Teams that completed work in the last twelve weeks (they have flow metrics) but own no open
    outcome key result: their output is measured, their outcome is not."""
    done = _recent_team_velocity(inputs.flow_weeks, inputs.as_of, OUTPUT_WEEKS)
    with_outcomes = {
        kr.team_id for kr in inputs.key_results if kr.level == "team" and kr.team_id is not None
    }
    result = DetectorResult(checked=len(inputs.teams))
    for team in sorted(inputs.teams, key=lambda t: t.name):
        items = done.get(team.id, 0)
        if items == 0 or team.id in with_outcomes:
            continue
        result.findings.append(
            Finding(
                detector=OUTPUT_ONLY_TEAM,
                key=key_of(("team", team.id)),
                severity=MEDIUM,
                facts={"name": team.name, "items": items, "weeks": OUTPUT_WEEKS},
                value_stream_id=team.value_stream_id,
                team_id=team.id,
                evidence=(
                    Evidence("Team page", "team-detail", (team.id,), "outcomes"),
                    Evidence("Outcomes", "portfolio-outcomes", (inputs.portfolio_id,)),
                ),
            )
        )
    return result
