"""The registry of the steward's twelve detectors (SPEC §6): each detector's code, name for people,
SPEC number and function, and `run_detectors`, which runs every detector on a portfolio's inputs.

No Django and no clock in here: `leanpmo.selectors.signals.detector_inputs` gathers a
`PortfolioInputs` (as of a time), `run_detectors` runs every detector on it, and
`leanpmo.services.signals` turns the findings into signals. Each detector takes the inputs and the
portfolio's `Thresholds` and returns a `DetectorResult` (findings, plus the scopes it declined to
judge for lack of data). `wording.explain` builds a signal's sentence when it is shown.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from leanpmo.detectors.data_quality import UNTRUSTED_DATA, untrusted_data
from leanpmo.detectors.decisions import (
    DECISION_WITHOUT_EVIDENCE,
    GUARDRAIL_BREACH,
    REVIEW_OVERDUE,
    decisions_without_evidence,
    guardrail_breaches,
    reviews_overdue,
)
from leanpmo.detectors.findings import DetectorResult
from leanpmo.detectors.flow import FLOW_DEVIATION, flow_deviation
from leanpmo.detectors.funding import (
    MONEY_FLOW,
    PROJECT_ECONOMICS,
    money_flow_disagreement,
    project_economics,
)
from leanpmo.detectors.inputs import PortfolioInputs
from leanpmo.detectors.outcomes import (
    OUTPUT_ONLY_TEAM,
    STALE_OUTCOMES,
    output_only_teams,
    stale_outcomes,
)
from leanpmo.detectors.shape import TOP_HEAVY, top_heavy_pyramid
from leanpmo.detectors.team_health import (
    DEPENDENCY_HOTSPOT,
    UNSTABLE_TEAM,
    dependency_hotspots,
    unstable_teams,
)
from leanpmo.detectors.thresholds import Thresholds

Detector = Callable[[PortfolioInputs, Thresholds], DetectorResult]


@dataclass(frozen=True)
class DetectorInfo:
    """A detector: its code (stored on signals), name for people, SPEC §6 number and function.

    `data_quality` detectors are shown to the Lean PMO, not in an executive's attention list.
    """

    code: str
    label: str
    number: int
    run: Detector
    data_quality: bool = False


DETECTORS: tuple[DetectorInfo, ...] = (
    DetectorInfo(STALE_OUTCOMES, "Stale outcomes", 1, stale_outcomes),
    DetectorInfo(DECISION_WITHOUT_EVIDENCE, "Decision without evidence", 2, decisions_without_evidence),
    DetectorInfo(REVIEW_OVERDUE, "Decision review overdue", 3, reviews_overdue),
    DetectorInfo(GUARDRAIL_BREACH, "Guardrail breach without exception", 4, guardrail_breaches),
    DetectorInfo(PROJECT_ECONOMICS, "Project economics, product language", 5, project_economics),
    DetectorInfo(UNSTABLE_TEAM, "Unstable team", 6, unstable_teams),
    DetectorInfo(OUTPUT_ONLY_TEAM, "Output-only team", 7, output_only_teams),
    DetectorInfo(TOP_HEAVY, "Top-heavy pyramid", 8, top_heavy_pyramid),
    DetectorInfo(FLOW_DEVIATION, "Flow deviation", 9, flow_deviation),
    DetectorInfo(MONEY_FLOW, "Money and flow disagree", 10, money_flow_disagreement),
    DetectorInfo(DEPENDENCY_HOTSPOT, "Dependency hotspot", 11, dependency_hotspots),
    DetectorInfo(UNTRUSTED_DATA, "Data you should not trust yet", 12, untrusted_data, data_quality=True),
)  # fmt: skip
DETECTOR_LABELS = {info.code: info.label for info in DETECTORS}
DATA_QUALITY = frozenset(info.code for info in DETECTORS if info.data_quality)


@dataclass
class DetectorRun:
    """One detector's outcome in an evaluation: its result, or the error that stopped it, and the
    time it took (seconds)."""

    code: str
    result: DetectorResult | None
    error: str = ""
    seconds: float = 0.0


def run_detectors(inputs: PortfolioInputs, thresholds: Thresholds) -> list[DetectorRun]:
    """Run every detector; one that raises is reported with its error and the others still run
    (its signals are then left as they are, neither raised nor resolved)."""
    runs = []
    for info in DETECTORS:
        started = time.perf_counter()
        try:
            run = DetectorRun(info.code, info.run(inputs, thresholds))
        except Exception as error:  # one detector's bad data never stops the others
            run = DetectorRun(info.code, None, f"{type(error).__name__}: {error}"[:500])
        run.seconds = time.perf_counter() - started
        runs.append(run)
    return runs
