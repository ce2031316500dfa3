"""Column names, input schemas and the shared steps on frames: typing and filtering the
inputs, assigning rows to windows, lower medians."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

TIERS = ("elite", "high", "medium", "low")
METRICS = (
    "deployment_frequency",
    "lead_time_for_changes",
    "change_failure_rate",
    "failed_deployment_recovery_time",
    "deployment_rework_rate",
)
WINDOW_COLUMNS = ["label", "window_start", "window_end"]
MEDIAN_DAYS = [f"median_deployment_days_per_{p}" for p in ("week", "month", "six_months")]
FREQUENCY_COLUMNS = ["deployments", "deployment_days", *MEDIAN_DAYS]
LEAD_TIME_COLUMNS = ["changes_deployed", "median_lead_time_minutes", "changes_negative_lead_time"]
FAILURE_RATE_COLUMNS = ["deployments", "failed_deployments", "change_failure_rate"]
RECOVERY_COLUMNS = [
    "incidents_recovered",
    "median_recovery_time_minutes",
    "incidents_negative_recovery",
]
REWORK_COLUMNS = ["deployments", "rework_deployments", "deployment_rework_rate"]
CAVEAT_COLUMNS = ["incidents_unlinked", "changes_negative_lead_time", "incidents_negative_recovery"]
_SUMMARY_VALUES = [
    FREQUENCY_COLUMNS,
    LEAD_TIME_COLUMNS[:2],
    FAILURE_RATE_COLUMNS[1:],
    RECOVERY_COLUMNS[:2],
    REWORK_COLUMNS[1:],
]
SUMMARY_COLUMNS = [
    *WINDOW_COLUMNS,
    *(c for m, cs in zip(METRICS, _SUMMARY_VALUES, strict=True) for c in [*cs, f"{m}_tier"]),
    "benchmark",
    *CAVEAT_COLUMNS,
]
Scope = Sequence[str] | None  # scope columns to group by; None: the whole input is one group
AsOf = pd.Timestamp | None  # ignore records stamped later; None: keep everything
MaxGap = pd.Timedelta | None  # longest deployment -> incident gap for an inferred link

SCOPE_ALL = "_all"  # stand-in scope key when ``by`` is empty
UTC_DTYPE = "datetime64[ns, UTC]"
DEPLOYMENT_SCHEMA = {
    "deployment_id": "int64",
    "finished_at": UTC_DTYPE,
    "successful": "bool",
    "environment": "str",
    "is_rework": "bool",
}
CHANGE_SCHEMA = {"change_id": "int64", "first_commit_at": UTC_DTYPE, "deployment_id": "Int64"}
INCIDENT_SCHEMA = {
    "incident_id": "int64",
    "created_at": UTC_DTYPE,
    "resolved_at": UTC_DTYPE,
    "deployment_id": "Int64",
}
MINUTE_NS = 60_000_000_000


def to_utc(values: pd.Series) -> pd.Series:
    """``values`` as ``datetime64[ns, UTC]`` (naive values read as UTC)."""
    return pd.to_datetime(values, utc=True).dt.as_unit("ns")


def prepare_frame(
    frame: pd.DataFrame, schema: Mapping[str, str], keys: Sequence[str], name: str
) -> pd.DataFrame:
    """Typed copy of ``frame``; an empty frame gets any missing column, a non-empty one must not
    miss any (``KeyError``)."""
    scope = [k for k in keys if k != SCOPE_ALL]
    missing = [c for c in [*schema, *scope] if c not in frame.columns]
    if missing and not frame.empty:
        raise KeyError(f"{name} lacks columns {missing}")
    out = frame.copy(deep=False)  # copy-on-write: columns we set never touch the caller's
    for column in missing:
        out[column] = pd.Series(dtype=schema.get(column, "object"), index=out.index)
    for column, dtype in schema.items():
        if dtype == UTC_DTYPE:
            out[column] = to_utc(out[column])
    if SCOPE_ALL in keys:
        out[SCOPE_ALL] = 0
    return out


def scope_keys(by: Scope) -> list[str]:
    """The columns to group by: ``by``, or the stand-in :data:`SCOPE_ALL` when none."""
    return list(by) if by else [SCOPE_ALL]


def known_deployments(deployments: pd.DataFrame, as_of: AsOf) -> pd.DataFrame:
    """Successful production deployments finished by ``as_of``."""
    environment = deployments["environment"].astype("str").str.lower()
    mask = deployments["successful"].fillna(value=False).astype(bool) & (
        environment == "production"
    )
    mask &= deployments["finished_at"].notna()
    if as_of is not None:
        mask &= deployments["finished_at"] <= pd.Timestamp(as_of)
    return deployments[mask]


def known_incidents(incidents: pd.DataFrame, as_of: AsOf) -> pd.DataFrame:
    """Incidents created by ``as_of``, with resolutions after it erased (unresolved)."""
    if as_of is None:
        return incidents
    as_of = pd.Timestamp(as_of)
    known = incidents[~(incidents["created_at"] > as_of)].copy()
    known.loc[known["resolved_at"] > as_of, "resolved_at"] = pd.NaT
    return known


def prepare_windows(windows: pd.DataFrame, as_of: AsOf) -> pd.DataFrame:
    """Windows with a position ``_w`` and ``_grid_end`` = the end clipped to ``as_of``."""
    schema = {"label": "str", "window_start": UTC_DTYPE, "window_end": UTC_DTYPE}
    win = prepare_frame(windows, schema, [], "windows")
    win = win.reindex(columns=WINDOW_COLUMNS).reset_index(drop=True)
    win["_w"] = np.arange(len(win))
    win["_grid_end"] = win["window_end"]
    if as_of is not None:
        win["_grid_end"] = win["window_end"].clip(upper=to_utc(pd.Series([as_of])).iloc[0])
    return win


def scope_groups(frames: Sequence[pd.DataFrame], keys: list[str]) -> pd.DataFrame:
    """Every distinct combination of the ``keys`` columns found in ``frames``."""
    present = [f[keys] for f in frames if not f.empty]
    if not present:
        return pd.DataFrame(columns=keys)
    return pd.concat(present, ignore_index=True).drop_duplicates(ignore_index=True)


def disjoint_layers(starts: np.ndarray, ends: np.ndarray) -> list[np.ndarray]:
    """Window positions split into layers of pairwise disjoint windows, each sorted by start
    (first fit in start order: as many layers as windows overlap at one instant, e.g. two for
    weeks and months together, one for the windows of one grain)."""
    layers: list[list[int]] = []
    last_end: list[int] = []
    for w in np.argsort(starts, kind="stable"):
        for n, end in enumerate(last_end):
            if starts[w] >= end:
                layers[n].append(int(w))
                last_end[n] = ends[w]
                break
        else:
            layers.append([int(w)])
            last_end.append(ends[w])
    return [np.array(layer, dtype=np.int64) for layer in layers]


def in_windows(frame: pd.DataFrame, column: str, win: pd.DataFrame) -> pd.DataFrame:
    """Rows of ``frame`` repeated once per window whose ``[start, end)`` holds ``column``,
    with the window position in ``_w`` (one binary search per layer of disjoint windows)."""
    times = frame[column].array.asi8
    valid = frame[column].notna().to_numpy()
    starts, ends = win["window_start"].array.asi8, win["window_end"].array.asi8
    if len(starts) == 0 or len(frame) == 0:
        return frame.iloc[[]].assign(_w=np.array([], dtype=np.int64))
    rows, hits = [], []
    for order in disjoint_layers(starts, ends):
        pos = np.searchsorted(starts[order], times, side="right") - 1
        ok = valid & (pos >= 0)
        ok &= times < ends[order][np.clip(pos, 0, None)]
        rows.append(np.flatnonzero(ok))
        hits.append(order[pos[ok]])
    return frame.iloc[np.concatenate(rows)].assign(_w=np.concatenate(hits))


def lower_median(frame: pd.DataFrame, keys: list[str], column: str) -> pd.Series:
    """Lower median of ``column`` per ``keys`` group (always an observed value)."""
    grouped = frame.groupby(keys, dropna=False, sort=False)[column]
    return grouped.quantile(0.5, interpolation="lower").rename(column)
