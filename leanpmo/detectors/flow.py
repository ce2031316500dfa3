"""Detector 9 (flow deviation): a scope's latest week outside its own recent control band.

The rule, for each value stream and team and each of flow time p85, flow efficiency and flow load
(the weekly rows of all item types that the recompute stored):

- the latest week is the last weekly window that ended by `as_of` (and ended within a week of it:
  a scope with no recent week is not judged); the band is built from the `flow_band_weeks` weeks
  before the week preceding it (so a deviation that lasts two weeks is judged against the same
  band), from the weeks that have a value;
- band = mean ± `flow_band_sigmas` × sample standard deviation, its half-width at least 10 % of the
  mean (a flat history is not a band of zero width);
- only the worsening side is a signal: flow time or load above the band, efficiency below it;
- the latest week outside the band is medium severity; the latest two weeks outside it, high;
- fewer than `min_weekly_points` weeks with a value in the band, or (for flow time and efficiency,
  which describe completed items) fewer than `min_items` items completed in the band's weeks, is
  “not enough data”.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

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

FLOW_DEVIATION = "flow_deviation"
MIN_HALF_WIDTH = 0.10  # of the mean


@dataclass(frozen=True)
class FlowMeasure:
    """A weekly flow measure: its column, its name for people, and which way is worse."""

    column: str
    label: str
    worse: str  # "up" or "down"
    completed: bool  # describes completed items (needs min_items in the band)


MEASURES = (
    FlowMeasure("flow_time_p85_s", "flow time p85", "up", True),
    FlowMeasure("flow_efficiency", "flow efficiency", "down", True),
    FlowMeasure("load_mean", "flow load", "up", False),
)


@dataclass(frozen=True)
class Band:
    """A control band: mean, lower and upper limits, and the weeks it was built from."""

    mean: float
    low: float
    high: float
    points: int


def control_band(values: pd.Series, *, sigmas: float) -> Band:
    """mean ± sigmas × sd of `values` (sample sd; half-width at least 10 % of |mean|)."""
    mean = float(values.mean())
    sd = float(values.std(ddof=1)) if len(values) > 1 else 0.0
    half = max(sigmas * (0.0 if math.isnan(sd) else sd), MIN_HALF_WIDTH * abs(mean))
    return Band(mean, mean - half, mean + half, len(values))


def _outside(value: float, band: Band, worse: str) -> bool:
    return value > band.high if worse == "up" else value < band.low


def flow_deviation(inputs: PortfolioInputs, thresholds: Thresholds) -> DetectorResult:
    """See the module docstring for the rule."""
    result = DetectorResult()
    flow = inputs.flow_weeks
    if flow.empty:
        result.not_enough_data.append("No weekly flow metrics yet")
        return result
    as_of = pd.Timestamp(inputs.as_of)
    rows = flow[(flow["item_type"] == "All") & (flow["window_end"] <= as_of)]
    names = {
        "value_stream": inputs.value_streams,
        "team": {team.id: team.name for team in inputs.teams},
    }
    streams = {team.id: team.value_stream_id for team in inputs.teams}
    for (kind, scope_id), scope_rows in rows.groupby(["scope_kind", "scope_id"], sort=True):
        name = names.get(kind, {}).get(int(scope_id))
        if name is None:
            continue
        weeks = scope_rows.sort_values("window_start")
        latest = weeks.iloc[-1]
        if latest["window_end"] < as_of - pd.Timedelta(days=7):
            continue  # no recent week: nothing current to judge
        result.checked += 1
        previous_start = latest["window_start"] - pd.Timedelta(weeks=1)
        band_start = previous_start - pd.Timedelta(weeks=thresholds.flow_band_weeks)
        in_band = weeks[
            (weeks["window_start"] >= band_start) & (weeks["window_start"] < previous_start)
        ]
        previous = weeks[weeks["window_start"] == previous_start]
        for measure in MEASURES:
            values = in_band[measure.column].dropna()
            value = latest[measure.column]
            if value is None or pd.isna(value):
                continue
            items = int(in_band["velocity"].sum())
            if len(values) < thresholds.min_weekly_points or (
                measure.completed and items < thresholds.min_items
            ):
                result.not_enough_data.append(
                    f"{name}: {measure.label} ({len(values)} weeks, {items} items)"
                )
                continue
            band = control_band(values, sigmas=thresholds.flow_band_sigmas)
            band = Band(  # no measure goes below 0, and efficiency not above 100 %
                band.mean,
                max(band.low, 0.0),
                min(band.high, 1.0) if measure.column == "flow_efficiency" else band.high,
                band.points,
            )
            if not _outside(float(value), band, measure.worse):
                continue
            before = previous[measure.column].dropna()
            lasting = not before.empty and _outside(float(before.iloc[0]), band, measure.worse)
            scope_key = "value_stream" if kind == "value_stream" else "team"
            result.findings.append(
                Finding(
                    detector=FLOW_DEVIATION,
                    key=key_of((scope_key, int(scope_id)), ("measure", measure.column)),
                    severity=HIGH if lasting else MEDIUM,
                    facts={
                        "scope": scope_key,
                        "name": name,
                        "measure": measure.column,
                        "label": measure.label,
                        "week": str(latest["label"]),
                        "value": float(value),
                        "low": band.low,
                        "high": band.high,
                        "mean": band.mean,
                        "weeks": band.points,
                        "lasting": lasting,
                    },
                    value_stream_id=int(scope_id)
                    if scope_key == "value_stream"
                    else streams.get(int(scope_id)),
                    team_id=int(scope_id) if scope_key == "team" else None,
                    evidence=(
                        Evidence(
                            "Flow charts",
                            "value-stream-detail" if scope_key == "value_stream" else "team-detail",
                            (int(scope_id),),
                            "flow",
                        ),
                    ),
                )
            )
    return result
