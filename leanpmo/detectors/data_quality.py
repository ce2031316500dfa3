"""Detector 12 (data you should not trust yet): the latest recompute's caveats above thresholds,
or metrics too old to describe today."""

from __future__ import annotations

from leanpmo.detectors.findings import (
    EDITORS,
    EVERYONE,
    HIGH,
    MEDIUM,
    DetectorResult,
    Evidence,
    Finding,
    key_of,
)
from leanpmo.detectors.inputs import PortfolioInputs
from leanpmo.detectors.thresholds import Thresholds

UNTRUSTED_DATA = "untrusted_data"

# caveat → (count in the run's caveats, what it counts against, how the mapping page helps)
CAVEATS = {
    "unmapped": ("unmapped_items", "items"),
    "truncated": ("truncated_histories", "items"),
    "done_without_start": ("done_without_start", "items"),
    "incidents_unlinked": ("incidents_unlinked", "incidents"),
}


def _count(caveats: dict, name: str) -> int:
    value = caveats.get(name)
    return int(value) if isinstance(value, int | float) and not isinstance(value, bool) else 0


def untrusted_data(inputs: PortfolioInputs, thresholds: Thresholds) -> DetectorResult:
    """Findings per caveat whose share is above `caveat_share_max` % (high at four times that):
    items with an unmapped status, truncated histories, items done without a start (each out of the
    portfolio's items) and incidents not linked to a deployment (out of its incidents); and metrics
    last computed more than `metrics_stale_days` days before `as_of`. Fewer than `min_items` items
    (or incidents, for their caveat) is not enough data."""
    result = DetectorResult()
    run = inputs.run
    if run is None:
        if inputs.work_items:
            result.checked = 1
            result.findings.append(_finding(inputs, "never_computed", MEDIUM, {}))
        else:
            result.not_enough_data.append("No delivery data yet")
        return result
    caveats = {**run.caveats, "unmapped_items": run.unmapped_items}
    age_days = (inputs.as_of - run.as_of).total_seconds() / 86400
    result.checked = 1 + len(CAVEATS)
    if age_days > thresholds.metrics_stale_days:
        result.findings.append(
            _finding(
                inputs,
                "stale_metrics",
                HIGH if age_days > 4 * thresholds.metrics_stale_days else MEDIUM,
                {"age_days": round(age_days, 1), "max_days": thresholds.metrics_stale_days},
            )
        )
    for cause, (count_name, base_name) in CAVEATS.items():
        count, base = _count(caveats, count_name), _count(caveats, base_name)
        if base < thresholds.min_items:
            if count:
                result.not_enough_data.append(f"{cause.replace('_', ' ')}: {base} {base_name}")
            continue
        share = count * 100 / base
        if share <= thresholds.caveat_share_max:
            continue
        facts = {"count": count, "base": base, "share": round(share, 1)}
        if cause == "unmapped":
            facts["statuses"] = list(run.caveats.get("unmapped_statuses") or [])
        facts["max_share"] = thresholds.caveat_share_max
        severity = HIGH if share >= 4 * thresholds.caveat_share_max else MEDIUM
        result.findings.append(_finding(inputs, cause, severity, facts))
    return result


def _finding(inputs: PortfolioInputs, cause: str, severity: int, facts: dict) -> Finding:
    evidence = [
        Evidence("Status mappings", "mapping-page", (inputs.portfolio_id,), audience=EVERYONE)
    ]
    if cause in {"stale_metrics", "never_computed"}:
        evidence = [Evidence("Imports", "import-list", (inputs.portfolio_id,), audience=EDITORS)]
    return Finding(
        detector=UNTRUSTED_DATA,
        key=key_of(("portfolio", inputs.portfolio_id), ("caveat", cause)),
        severity=severity,
        facts={"cause": cause, **facts},
        evidence=tuple(evidence),
    )
