"""Lead time for changes and failed deployment recovery time."""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd

from valuestreams.metrics.dora.inputs import Inputs, group_counts, window_rows
from valuestreams.metrics.dora.preparation import (
    LEAD_TIME_COLUMNS,
    MINUTE_NS,
    RECOVERY_COLUMNS,
    in_windows,
    lower_median,
)


def _durations(
    i: Inputs, frame: pd.DataFrame, at: str, columns: list[str], minutes: Callable
) -> pd.DataFrame:
    """Count, lower median in minutes and dropped negatives of ``_span`` by the window of ``at``."""
    hits = in_windows(frame, at, i.win)
    kept = hits[hits["_span"] >= 0]
    kept = kept.assign(**{columns[1]: minutes(kept["_span"])})
    parts = [
        group_counts(kept, i.keys, columns[0]),
        lower_median(kept, [*i.keys, "_w"], columns[1]),
        group_counts(hits[hits["_span"] < 0], i.keys, columns[2]),
    ]
    return window_rows(i, parts, columns, [columns[0], columns[2]])


def lead_time_of(i: Inputs) -> pd.DataFrame:
    """Lead time for changes on prepared inputs (see :func:`lead_time_for_changes`)."""

    def ceil_minutes(span: pd.Series) -> pd.Series:
        return -(-span // MINUTE_NS)

    return _durations(i, i.first, "finished_at", LEAD_TIME_COLUMNS, ceil_minutes)


def recovery_of(i: Inputs) -> pd.DataFrame:
    """Failed deployment recovery time on prepared inputs (see :func:`failed_deployment_recovery_time`)."""
    done = i.linked[i.linked["resolved_at"].notna() & i.linked["linked_deployment_id"].notna()]
    span = done["resolved_at"].array.asi8 - done["linked_deployment_finished_at"].array.asi8
    done = done.assign(_span=span)
    return _durations(i, done, "resolved_at", RECOVERY_COLUMNS, lambda span: span / MINUTE_NS)
