"""Detector 8 (top-heavy pyramid): strategic initiatives above their cap, or the work-shape mix
moving up the pyramid (team missions → product groups → strategic initiatives)."""

from __future__ import annotations

import datetime as dt
from collections import Counter

from leanpmo.detectors.findings import (
    HIGH,
    MEDIUM,
    DetectorResult,
    Evidence,
    Finding,
    key_of,
)
from leanpmo.detectors.inputs import PortfolioInputs, ShapedWork
from leanpmo.detectors.thresholds import Thresholds

TOP_HEAVY = "top_heavy_pyramid"
TEAM_MISSION, PRODUCT_GROUP, STRATEGIC = "team_mission", "product_group", "strategic_initiative"
SHAPES = (TEAM_MISSION, PRODUCT_GROUP, STRATEGIC)
QUARTER = dt.timedelta(days=91)


def in_progress(work: list[ShapedWork], on: dt.date) -> list[ShapedWork]:
    """The work in progress on `on`: started by then and not yet ended."""
    return [
        w
        for w in work
        if w.started_on is not None
        and w.started_on <= on
        and (w.ended_on is None or w.ended_on > on)
    ]


def shape_mix(work: list[ShapedWork]) -> dict[str, float]:
    """Share (0–100) of each shape among `work` (all zero when there is none)."""
    counts = Counter(w.shape for w in work)
    total = sum(counts[shape] for shape in SHAPES)
    return {shape: (counts[shape] * 100 / total if total else 0.0) for shape in SHAPES}


def top_heavy_pyramid(inputs: PortfolioInputs, thresholds: Thresholds) -> DetectorResult:
    """Two findings can come from the portfolio's shaped work (initiatives):

    - more strategic initiatives in progress than the portfolio's cap (`strategic_cap`, from its
      guardrail) — high severity;
    - the share of work in progress above team missions (product groups and strategic
      initiatives) up by at least `pyramid_shift_points` points against a quarter ago — medium.
      With fewer than `pyramid_min_work` pieces in progress at either date: not enough data.
    Without any shaped work the detector has nothing to judge and says so.
    """
    if not inputs.work_shapes:
        return DetectorResult(not_enough_data=["Work shapes: no initiative has started yet"])
    now = in_progress(inputs.work_shapes, inputs.today)
    before = in_progress(inputs.work_shapes, inputs.today - QUARTER)
    result = DetectorResult(checked=len(now))
    strategic = [w for w in now if w.shape == STRATEGIC]
    evidence = (Evidence("The portfolio kanban", "initiative-board", (inputs.portfolio_id,)),)
    if inputs.strategic_cap is not None and len(strategic) > inputs.strategic_cap:
        result.findings.append(
            Finding(
                detector=TOP_HEAVY,
                key=key_of(("portfolio", inputs.portfolio_id), ("cause", "cap")),
                severity=HIGH,
                facts={
                    "cause": "cap",
                    "in_progress": len(strategic),
                    "cap": inputs.strategic_cap,
                    "names": sorted(w.name for w in strategic),
                },
                evidence=evidence,
            )
        )
    if min(len(now), len(before)) < thresholds.pyramid_min_work:
        result.not_enough_data.append(
            f"Work-shape mix: {len(now)} in progress now, {len(before)} a quarter ago"
        )
        return result
    mix_now, mix_before = shape_mix(now), shape_mix(before)
    above_now = 100 - mix_now[TEAM_MISSION]
    above_before = 100 - mix_before[TEAM_MISSION]
    if above_now - above_before >= thresholds.pyramid_shift_points:
        result.findings.append(
            Finding(
                detector=TOP_HEAVY,
                key=key_of(("portfolio", inputs.portfolio_id), ("cause", "shift")),
                severity=MEDIUM,
                facts={
                    "cause": "shift",
                    "above_now": round(above_now, 1),
                    "above_before": round(above_before, 1),
                    "strategic_now": round(mix_now[STRATEGIC], 1),
                    "in_progress": len(now),
                },
                evidence=evidence,
            )
        )
    return result
