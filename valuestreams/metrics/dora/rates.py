"""Change failure rate and deployment rework rate: shares of production deployments."""

from __future__ import annotations

import pandas as pd

from valuestreams.metrics.dora.inputs import Inputs, group_counts, window_rows
from valuestreams.metrics.dora.preparation import (
    FAILURE_RATE_COLUMNS,
    REWORK_COLUMNS,
    in_windows,
)


def _share(i: Inputs, flags: pd.Series, columns: list[str]) -> pd.DataFrame:
    """Deployments in the window, how many are flagged, and the flagged share (NaN if none)."""
    total, flagged, share = columns
    prod = i.prod[[*i.keys, "finished_at"]].assign(_flag=flags)
    hits = in_windows(prod, "finished_at", i.win)
    counted = hits.groupby([*i.keys, "_w"], dropna=False)["_flag"].sum().rename(flagged)
    out = window_rows(
        i, [group_counts(hits, i.keys, total), counted], [total, flagged], [total, flagged]
    )
    return out.assign(**{share: out[flagged] / out[total].where(out[total] > 0)})


def failure_rate_of(i: Inputs) -> pd.DataFrame:
    """Change failure rate on prepared inputs (see :func:`change_failure_rate`)."""
    failed = i.prod["deployment_id"].isin(i.linked["linked_deployment_id"].dropna().unique())
    return _share(i, failed, FAILURE_RATE_COLUMNS)


def rework_of(i: Inputs) -> pd.DataFrame:
    """Deployment rework rate on prepared inputs (see :func:`deployment_rework_rate`)."""
    return _share(i, i.prod["is_rework"].fillna(value=False).astype(bool), REWORK_COLUMNS)
