"""All five DORA metrics with their tiers and data-quality caveats, one row per group x window."""

from __future__ import annotations

import pandas as pd

from valuestreams.metrics.dora.durations import lead_time_of, recovery_of
from valuestreams.metrics.dora.frequency import frequency_of
from valuestreams.metrics.dora.inputs import Inputs, group_counts, prepare_inputs, window_rows
from valuestreams.metrics.dora.preparation import (
    FAILURE_RATE_COLUMNS,
    LEAD_TIME_COLUMNS,
    METRICS,
    RECOVERY_COLUMNS,
    REWORK_COLUMNS,
    SCOPE_ALL,
    SUMMARY_COLUMNS,
    WINDOW_COLUMNS,
    AsOf,
    MaxGap,
    Scope,
    in_windows,
    prepare_windows,
)
from valuestreams.metrics.dora.rates import failure_rate_of, rework_of
from valuestreams.metrics.dora.tiers import load_benchmark, tier_series


def _unlinked(i: Inputs) -> pd.DataFrame:
    orphans = i.linked[i.linked["linked_deployment_id"].isna()]
    counts = group_counts(in_windows(orphans, "created_at", i.win), i.keys, "incidents_unlinked")
    return window_rows(i, [counts], ["incidents_unlinked"], ["incidents_unlinked"])


def dora_summary(
    deployments: pd.DataFrame,
    changes: pd.DataFrame,
    incidents: pd.DataFrame,
    *,
    windows: pd.DataFrame,
    tz: str,
    by: Scope = None,
    benchmark: str = "dora-2023",
    max_gap: MaxGap = None,
    as_of: AsOf = None,
    inputs: Inputs | None = None,
) -> pd.DataFrame:
    """All five DORA metrics, their tiers under ``benchmark`` and the data-quality caveats, one
    tidy row per scope group x window (groups found in any of the three inputs).

    Columns: the ``by`` columns, then :data:`SUMMARY_COLUMNS`. Tiers are ``None`` where the value
    is missing or the benchmark has no tiers for the metric. Caveats: ``incidents_unlinked``
    (incidents created in the window that no deployment could be linked to),
    ``changes_negative_lead_time`` and ``incidents_negative_recovery`` (spans dropped).
    ``inputs``: the three frames already prepared for ``by`` and ``as_of`` (:func:`prepare_inputs`,
    over any windows: only ``windows`` are computed), when the caller prepared them for another
    use (preparing and linking costs more than the metrics of a few windows).
    """
    load_benchmark(benchmark)  # fail fast on an unknown version
    if inputs is None:
        i = prepare_inputs(deployments, windows, by, as_of, changes, incidents, max_gap)
    else:
        i = inputs._replace(win=prepare_windows(windows, as_of))
    scope = [k for k in i.keys if k != SCOPE_ALL]
    on = [*scope, *WINDOW_COLUMNS]
    out = frequency_of(i, tz)
    for part, columns in [
        (lead_time_of(i), LEAD_TIME_COLUMNS),
        (failure_rate_of(i), FAILURE_RATE_COLUMNS[1:]),
        (recovery_of(i), RECOVERY_COLUMNS),
        (rework_of(i), REWORK_COLUMNS[1:]),
        (_unlinked(i), ["incidents_unlinked"]),
    ]:
        out = out.merge(part[[*on, *columns]], on=on, how="left")
    for metric in METRICS:
        out[f"{metric}_tier"] = tier_series(metric, out, benchmark)
    return out.assign(benchmark=benchmark)[[*scope, *SUMMARY_COLUMNS]]
