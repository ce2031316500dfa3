"""Detectors 6 (unstable team) and 11 (dependency hotspot).

No signal here ever reads experiments, pulse answers or stopped work: learning is never a mark
against a team.
"""

from __future__ import annotations

import pandas as pd

from leanpmo.detectors.findings import (
    HIGH,
    MEDIUM,
    DetectorResult,
    Evidence,
    Finding,
    key_of,
)
from leanpmo.detectors.inputs import PortfolioInputs
from leanpmo.detectors.thresholds import Thresholds
from teams.metrics import dependency_counts, team_stability

UNSTABLE_TEAM = "unstable_team"
DEPENDENCY_HOTSPOT = "dependency_hotspot"


def _worst_churn(churn: pd.DataFrame, min_size: int) -> tuple[str, float] | None:
    """The highest churn among the last full quarter and the current one, among quarters whose
    mean headcount reached `min_size` (churn of a tiny team is not judged)."""
    if churn.empty:
        return None
    recent = churn.tail(2)
    judged = recent[(recent["headcount_start"] + recent["headcount_end"]) / 2 >= min_size]
    values = [
        (str(row.quarter), float(row.churn))
        for row in judged.itertuples(index=False)
        if row.churn is not None
    ]
    return max(values, key=lambda pair: pair[1]) if values else None


def unstable_teams(inputs: PortfolioInputs, thresholds: Thresholds) -> DetectorResult:
    """Teams whose membership churn in the last full or the current quarter is above
    `churn_max_percent` (computed as on the team page: (joined + left) ÷ 2 ÷ mean headcount), funded
    teams younger than `young_team_days`, and teams with people seated in more than
    `max_teams_per_person` teams. One finding per team with every reason; high severity with two
    reasons or more, or churn at twice the threshold."""
    seated = _seated(inputs.memberships, inputs.today)
    teams_of = seated.groupby("person_id")["team_id"].nunique() if not seated.empty else {}
    # each team's own seats, split once (the people spread over teams are counted above)
    by_team = dict(tuple(inputs.memberships.groupby("team_id"))) if len(inputs.memberships) else {}
    empty = inputs.memberships.iloc[0:0]
    result = DetectorResult(checked=len(inputs.teams))
    for team in sorted(inputs.teams, key=lambda t: t.name):
        stability = team_stability(
            by_team.get(team.id, empty),
            team_id=team.id,
            formed_on=team.formed_on,
            as_of=inputs.today,
            quarters=2,  # the last full quarter and the current one
        )
        facts: dict = {"name": team.name, "reasons": []}
        churn = _worst_churn(stability.churn, thresholds.min_team_size)
        if churn is None and stability.headcount < thresholds.min_team_size:
            result.not_enough_data.append(f"{team.name}: {stability.headcount} people")
        if churn is not None and churn[1] * 100 > thresholds.churn_max_percent:
            facts["reasons"].append("churn")
            facts["quarter"], facts["churn"] = churn[0], round(churn[1] * 100, 1)
        if team.funded and stability.age_days < thresholds.young_team_days:
            facts["reasons"].append("young")
            facts["age_days"] = stability.age_days
        members = sorted(set(seated.loc[seated["team_id"] == team.id, "person_id"]))
        spread = [p for p in members if teams_of[p] > thresholds.max_teams_per_person]
        if spread:
            facts["reasons"].append("spread")
            facts["spread"] = [inputs.people.get(person, "someone") for person in spread]
            facts["max_teams"] = thresholds.max_teams_per_person
        if not facts["reasons"]:
            continue
        facts["churn_max"] = thresholds.churn_max_percent
        doubled = "churn" in facts["reasons"] and facts["churn"] >= 2 * thresholds.churn_max_percent
        result.findings.append(
            Finding(
                detector=UNSTABLE_TEAM,
                key=key_of(("team", team.id)),
                severity=HIGH if len(facts["reasons"]) > 1 or doubled else MEDIUM,
                facts=facts,
                value_stream_id=team.value_stream_id,
                team_id=team.id,
                evidence=(Evidence("Stability on the team page", "team-detail", (team.id,)),),
            )
        )
    return result


def _seated(memberships: pd.DataFrame, today) -> pd.DataFrame:
    """Seats held on `today`."""
    if memberships.empty:
        return memberships
    ends = memberships["end_date"]
    return memberships[(memberships["start_date"] <= today) & (ends.isna() | (ends >= today))]


def dependency_hotspots(inputs: PortfolioInputs, thresholds: Thresholds) -> DetectorResult:
    """Teams many others wait on (at least `hotspot_min_dependents` teams depend on them; high
    severity when two or more of those dependencies block), and teams whose work in progress was
    blocked for at least `hotspot_blocked_percent` % of its time over the last weeks (high at
    twice that). A team with fewer than `min_items` items in progress in that time is not judged
    on blocked time."""
    teams = {team.id: team for team in inputs.teams}
    result = DetectorResult(checked=len(teams))
    depended = inputs.interactions.rename(columns={"depends_on_id": "team"})[["team", "blocking"]]
    for row in dependency_counts(depended).itertuples(index=False):
        team = teams.get(int(row.team))
        if team is None or row.dependents < thresholds.hotspot_min_dependents:
            continue
        result.findings.append(
            Finding(
                detector=DEPENDENCY_HOTSPOT,
                key=key_of(("team", team.id), ("cause", "dependents")),
                severity=HIGH if row.blocking >= 2 else MEDIUM,
                facts={
                    "name": team.name,
                    "cause": "dependents",
                    "dependents": int(row.dependents),
                    "blocking": int(row.blocking),
                },
                value_stream_id=team.value_stream_id,
                team_id=team.id,
                evidence=(
                    Evidence(
                        "Dependencies of the value stream",
                        "value-stream-detail",
                        (team.value_stream_id,),
                        "dependencies",
                    ),
                ),
            )
        )
    for row in inputs.blocked.itertuples(index=False):
        team = teams.get(int(row.team_id))
        if team is None:
            continue
        if row.items < thresholds.min_items:
            result.not_enough_data.append(f"{team.name}: {int(row.items)} items in progress")
            continue
        if not row.in_progress_s:
            continue
        share = row.blocked_s / row.in_progress_s * 100
        if share < thresholds.hotspot_blocked_percent:
            continue
        result.findings.append(
            Finding(
                detector=DEPENDENCY_HOTSPOT,
                key=key_of(("team", team.id), ("cause", "blocked")),
                severity=HIGH if share >= 2 * thresholds.hotspot_blocked_percent else MEDIUM,
                facts={
                    "name": team.name,
                    "cause": "blocked",
                    "blocked_share": round(share, 1),
                    "items": int(row.items),
                    "weeks": thresholds.flow_band_weeks,
                },
                value_stream_id=team.value_stream_id,
                team_id=team.id,
                evidence=(Evidence("Flow of the team", "team-detail", (team.id,), "flow"),),
            )
        )
    return result
