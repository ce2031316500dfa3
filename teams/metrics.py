"""Pure arithmetic for outcomes, stability and pulse: plain values and DataFrames in, results out.

No Django, no clock: every function that depends on time takes `as_of`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

import pandas as pd

STALE_AFTER_CADENCES = 2


def key_result_progress(
    *, baseline: Decimal, target: Decimal, value: Decimal | None
) -> float | None:
    """Share of the way from baseline to target that `value` has come (0 = baseline, 1 = target).

    Direction-aware by construction: for a decreasing key result the target lies below the
    baseline, so a falling value is progress. Not clipped: below 0 went the wrong way, above 1
    beat the target. None without a value or when baseline equals target.
    """
    if value is None or baseline == target:
        return None
    return float((Decimal(value) - Decimal(baseline)) / (Decimal(target) - Decimal(baseline)))


def is_stale(
    *, last_check_in: dt.date | None, starts_on: dt.date, cadence_days: int, as_of: dt.date
) -> bool:
    """True when no check-in came for more than twice the cadence (counting from `starts_on`
    when there never was one). A key result that has not started yet is never stale."""
    since = last_check_in or starts_on
    return (as_of - since).days > STALE_AFTER_CADENCES * cadence_days


def check_in_due_on(
    *, last_check_in: dt.date | None, starts_on: dt.date, cadence_days: int
) -> dt.date:
    """The day the next check-in is due: one cadence after the last check-in, or the start day
    when there never was one."""
    if last_check_in is None:
        return starts_on
    return last_check_in + dt.timedelta(days=cadence_days)


def staleness_rollup(key_results: pd.DataFrame, *, by: str, as_of: dt.date) -> pd.DataFrame:
    """Open and stale key results per group.

    `key_results` columns: `by` (the group label), `last_check_in` (date or None), `starts_on`
    (date), `cadence_days` (int); one row per open key result. Returns columns `by`, `open`,
    `stale`, `stale_share` (0–1), one row per group, sorted by most stale first; empty in, empty out.
    """
    columns = [by, "open", "stale", "stale_share"]
    if key_results.empty:
        return pd.DataFrame(columns=columns)
    stale = [
        is_stale(
            last_check_in=None if pd.isna(row.last_check_in) else row.last_check_in,
            starts_on=row.starts_on,
            cadence_days=int(row.cadence_days),
            as_of=as_of,
        )
        for row in key_results.itertuples(index=False)
    ]
    frame = key_results.assign(stale=stale)
    grouped = frame.groupby(by, sort=True).agg(open=("stale", "size"), stale=("stale", "sum"))
    grouped["stale"] = grouped["stale"].astype(int)
    grouped["stale_share"] = grouped["stale"] / grouped["open"]
    return (
        grouped.reset_index()
        .sort_values(["stale", by], ascending=[False, True], kind="stable")
        .reset_index(drop=True)[columns]
    )


@dataclass(frozen=True)
class TeamStability:
    """How stable a team is as of a date.

    `churn` has one row per calendar quarter (oldest first) with columns `quarter` ("2025 Q3"),
    `headcount_start`, `headcount_end`, `joined`, `left` and `churn` (a share, None for a quarter
    that started and ended with nobody). `spread_people` are the team's current members who hold
    seats in more than two teams.
    """

    age_days: int
    headcount: int
    churn: pd.DataFrame
    spread_people: list[int]

    @property
    def latest_churn(self) -> float | None:
        if self.churn.empty:
            return None
        value = self.churn["churn"].iloc[-1]
        return None if value is None or pd.isna(value) else float(value)


Seat = tuple[int, int, dt.date, dt.date | None]  # team, person, start, end (None: open-ended)


def _seats(memberships: pd.DataFrame) -> list[Seat]:
    """The frame's rows as plain tuples: a team has a handful of seats, and set arithmetic on
    tuples costs microseconds where pandas costs a tenth of a millisecond per operation."""
    if memberships.empty:
        return []
    ends = [None if pd.isna(end) else end for end in memberships["end_date"]]
    return list(
        zip(
            memberships["team_id"].tolist(),
            memberships["person_id"].tolist(),
            memberships["start_date"].tolist(),
            ends,
            strict=True,
        )
    )


def _seated(seats: list[Seat], on: dt.date) -> set[int]:
    """The people holding one of `seats` on the day `on`."""
    return {person for _, person, start, end in seats if start <= on and (end is None or end >= on)}


def _quarter_start(day: dt.date) -> dt.date:
    return dt.date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)


def _previous_quarter_start(start: dt.date) -> dt.date:
    return (
        dt.date(start.year - 1, 10, 1) if start.month == 1 else start.replace(month=start.month - 3)
    )


def team_stability(
    memberships: pd.DataFrame,
    *,
    team_id: int,
    formed_on: dt.date,
    as_of: dt.date,
    quarters: int = 4,
) -> TeamStability:
    """Team age, churn per quarter for the last `quarters` calendar quarters (the current one,
    up to `as_of`, included) and people spread over more than two teams.

    `memberships` columns: `team_id`, `person_id`, `start_date`, `end_date` (None = open-ended).
    It must hold the team's seats and every seat of its members (for the spread); seats of other
    people are ignored. Churn of a quarter = (people who joined + people who left) ÷ 2 ÷ the mean
    of the headcount at its start and at its end (or `as_of`): replacing one person in a team of
    six is a churn of 1/6.
    """
    empty_churn = pd.DataFrame(
        columns=["quarter", "headcount_start", "headcount_end", "joined", "left", "churn"]
    )
    age_days = max((as_of - formed_on).days, 0)
    every_seat = _seats(memberships)
    seats = [seat for seat in every_seat if seat[0] == team_id]
    if not seats:
        return TeamStability(age_days, 0, empty_churn, [])
    members = _seated(seats, as_of)
    starts = [_quarter_start(as_of)]
    for _ in range(quarters - 1):
        starts.insert(0, _previous_quarter_start(starts[0]))
    rows = []
    for start in starts:
        end = min(_quarter_start(start + dt.timedelta(days=100)) - dt.timedelta(days=1), as_of)
        eve = start - dt.timedelta(days=1)
        before = _seated(seats, eve)
        after = _seated(seats, end)
        joined = {person for _, person, begun, _ in seats if start <= begun <= end} - before
        left = {
            person for _, person, _, ended in seats if ended is not None and eve <= ended < end
        } - after
        mean_headcount = (len(before) + len(after)) / 2
        churn = (len(joined) + len(left)) / 2 / mean_headcount if mean_headcount else None
        rows.append(
            {
                "quarter": f"{start.year} Q{(start.month - 1) // 3 + 1}",
                "headcount_start": len(before),
                "headcount_end": len(after),
                "joined": len(joined),
                "left": len(left),
                "churn": churn,
            }
        )
    teams_of: dict[int, set[int]] = {}
    for team, person, begun, ended in every_seat:
        if person in members and begun <= as_of and (ended is None or ended >= as_of):
            teams_of.setdefault(person, set()).add(team)
    spread = sorted(int(person) for person, teams in teams_of.items() if len(teams) > 2)
    churn = pd.DataFrame(rows, columns=empty_churn.columns).astype(object)
    return TeamStability(age_days, len(members), churn.where(churn.notna(), None), spread)


@dataclass(frozen=True)
class PulseSummary:
    """Aggregates of one pulse round; `questions` is None when too few people answered to show any.

    `questions` columns: `question` (text), `mean` (1–5, one decimal), `answers` (count).
    """

    responses: int
    questions: pd.DataFrame | None

    @property
    def shown(self) -> bool:
        return self.questions is not None


def pulse_summary(answers: pd.DataFrame, *, responses: int, minimum: int) -> PulseSummary:
    """Mean score per question, only when at least `minimum` people answered the round.

    `answers` columns: `position`, `question` (text), `score` (1–5); one row per answer.
    Below the minimum nothing but the number of responses is returned, so no single answer
    can be inferred.
    """
    if responses < minimum or answers.empty:
        return PulseSummary(responses, None)
    grouped = (
        answers.groupby(["position", "question"], sort=True)["score"]
        .agg(mean="mean", answers="size")
        .reset_index()
    )
    grouped["mean"] = grouped["mean"].astype(float).round(1)
    return PulseSummary(responses, grouped[["question", "mean", "answers"]])


def dependency_counts(dependencies: pd.DataFrame) -> pd.DataFrame:
    """How many teams depend on each team and how many of those dependencies block.

    `dependencies` columns: `team` (the team depended on, any hashable), `blocking` (bool); one
    row per dependency. Returns columns `team`, `dependents`, `blocking`, most dependents first
    (then most blocking); empty in, empty out.
    """
    if dependencies.empty:
        return pd.DataFrame(columns=["team", "dependents", "blocking"])
    counts = (
        dependencies.groupby("team", sort=False)
        .agg(dependents=("blocking", "size"), blocking=("blocking", "sum"))
        .reset_index()
    )
    counts["blocking"] = counts["blocking"].astype(int)
    return counts.sort_values(
        ["dependents", "blocking"], ascending=False, kind="stable"
    ).reset_index(drop=True)


def realisation_summary(points: pd.DataFrame, *, as_of: dt.date) -> pd.DataFrame:
    """Latest value of each realisation metric and how it changed over a quarter and a year.

    `points` columns: `metric`, `on` (date), `value` (float). Only points on or before `as_of`
    count. Returns columns `metric`, `latest` (value), `on` (its date), `quarter_change` and
    `year_change` (relative change against the latest point at least 90 / 365 days older, None
    when there is none or it was 0); one row per metric, sorted by metric.
    """
    columns = ["metric", "latest", "on", "quarter_change", "year_change"]
    if points.empty:
        return pd.DataFrame(columns=columns)
    known = points[points["on"] <= as_of]
    series: dict = {}
    for metric, on, value in zip(known["metric"], known["on"], known["value"], strict=True):
        series.setdefault(metric, []).append((on, value))
    rows = []
    for metric in sorted(series):  # plain lists: a frame per metric cost ~6 ms each
        ordered = sorted(series[metric], key=lambda point: point[0])
        last_on, last_value = ordered[-1]

        def change(days: int, ordered=ordered, last_on=last_on, last_value=last_value):
            cutoff = last_on - dt.timedelta(days=days)
            older = [value for on, value in ordered if on <= cutoff]
            if not older or older[-1] == 0:
                return None
            return float(last_value / older[-1] - 1)

        rows.append((metric, float(last_value), last_on, change(90), change(365)))
    summary = pd.DataFrame(rows, columns=columns).astype(object)
    return summary.where(summary.notna(), None)
