"""Metrics over the items completed in a window: velocity, flow time, efficiency, distribution.

All functions take the item facts of :func:`item_flow_facts` and a windows frame (columns
``window_start``/``window_end``, aware, half-open; other columns such as ``grain`` and ``window``
are kept) and return one row per group (``by`` columns) x window x item type, plus the item type
"All" for every type together. Groups are those of the items known as of the facts' ``as_of``;
cells without completions are present with velocity 0 and NaN statistics. Canceled items are
never done, so they never count here.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from .flow_windows import Grid, moments_in_windows

PERCENTILES: dict[str, float] = {"p50": 0.50, "p85": 0.85, "p95": 0.95}
COMPLETION_COLUMNS: tuple[str, ...] = (
    "velocity",
    "flow_time_p50_s",
    "flow_time_p85_s",
    "flow_time_p95_s",
    "flow_time_mean_s",
    "active_s",
    "wait_s",
    "flow_efficiency",
)
Target = Mapping[str, float] | pd.Series | pd.DataFrame | None


def _done_ns(facts: pd.DataFrame) -> np.ndarray:
    if facts.empty:
        return np.empty(0, dtype=np.int64)
    return np.asarray(facts["done"].dt.as_unit("ns").array.asi8)


def completed_pairs(facts: pd.DataFrame, grid: Grid) -> tuple[np.ndarray, ...]:
    """(item position, window position, grid type position) of each item done in each window
    of ``grid``: the same for every grid of the same windows and types."""
    items, window_pos = moments_in_windows(_done_ns(facts), grid.windows)
    kinds = pd.Categorical(facts["item_type"].iloc[items])
    type_pos = grid.type_position(kinds.categories)[kinds.codes] if len(items) else items
    return items, window_pos, type_pos


def completion_cells(
    facts: pd.DataFrame, grid: Grid, pairs: tuple[np.ndarray, ...] | None = None
) -> dict[str, np.ndarray]:
    """Dense arrays (one value per grid cell, flat order) of :data:`COMPLETION_COLUMNS`
    (``pairs``: :func:`completed_pairs` of the facts, when already known)."""
    items, window_pos, type_pos = pairs if pairs is not None else completed_pairs(facts, grid)
    all_pos = np.full(len(items), len(grid.types) - 1)
    cell = np.concatenate(
        [grid.flat(items, window_pos, type_pos), grid.flat(items, window_pos, all_pos)]
    )
    both = np.concatenate([items, items])
    flow = facts["flow_time_s"].to_numpy(dtype=float)[both]
    active = facts["active_s"].to_numpy(dtype=float)[both]
    size = grid.size
    velocity = np.bincount(cell, minlength=size)
    out: dict[str, np.ndarray] = {"velocity": velocity.astype(np.int64)}
    # every percentile in one pass: rows of (cell, percentile), cells in order of appearance
    found = pd.Series(flow).groupby(cell, sort=False).quantile(list(PERCENTILES.values()))
    cells = found.index.get_level_values(0).to_numpy(dtype=np.int64)[:: len(PERCENTILES)]
    values = found.to_numpy(dtype=float).reshape(-1, len(PERCENTILES))
    for k, name in enumerate(PERCENTILES):
        dense = np.full(size, np.nan)
        dense[cells] = values[:, k]
        out[f"flow_time_{name}_s"] = dense
    flow_sum = np.bincount(cell, weights=flow, minlength=size)
    active_sum = np.bincount(cell, weights=active, minlength=size)
    with np.errstate(invalid="ignore", divide="ignore"):
        out["flow_time_mean_s"] = np.where(velocity > 0, flow_sum / velocity, np.nan)
        efficiency = np.where(flow_sum > 0, active_sum / flow_sum, np.nan)
    out["active_s"] = active_sum
    out["wait_s"] = flow_sum - active_sum
    out["flow_efficiency"] = efficiency
    return out


def target_cells(grid: Grid, target: Target) -> np.ndarray:
    """Target share (fraction) of each grid cell; NaN for "All" and where no target is known.

    ``target`` is a mapping/Series type → share (same for every group; types it omits get 0) or
    a DataFrame with some ``by`` columns, ``item_type`` and ``target`` (types omitted for a group
    that has targets get 0, groups without any target get NaN).
    """
    n_groups, n_windows, n_types = grid.shape
    dense = np.full((n_groups, n_windows, n_types), np.nan)
    if target is None or not grid.size:
        return dense.reshape(-1)
    if isinstance(target, pd.DataFrame):
        keys = [c for c in grid.by if c in target.columns]
        per_type = target.pivot_table(
            index=keys or None, columns="item_type", values="target", aggfunc="sum", observed=True
        )
        per_type = per_type.reindex(columns=list(grid.types[:-1])).fillna(0.0)
        if keys:
            merged = grid.groups.merge(per_type.reset_index(), on=keys, how="left")
            values = merged[list(grid.types[:-1])].to_numpy(dtype=float)
        else:
            values = np.tile(per_type.to_numpy(dtype=float)[:1], (n_groups, 1))
    else:
        shares = pd.Series(target, dtype=float).reindex(list(grid.types[:-1])).fillna(0.0)
        values = np.tile(shares.to_numpy(), (n_groups, 1))
    dense[:, :, :-1] = values[:, None, :]
    return dense.reshape(-1)


def distribution_cells(velocity: np.ndarray, grid: Grid, target: Target) -> dict[str, np.ndarray]:
    """``share`` of each type among the items done in the cell's window, ``target`` and
    ``gap`` = share - target (fractions; NaN for "All" and for windows without completions)."""
    n_groups, n_windows, n_types = grid.shape
    counts = velocity.reshape(n_groups, n_windows, n_types).astype(float)
    with np.errstate(invalid="ignore", divide="ignore"):
        share = counts / counts[:, :, -1:]
    share[:, :, -1] = np.nan
    share = share.reshape(-1)
    targets = target_cells(grid, target)
    return {"share": share, "target": targets, "gap": share - targets}
