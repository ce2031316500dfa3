"""Time in each source status of the items completed in a window ("where work waits")."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import numpy as np
import pandas as pd

from .flow_facts import ACTIVE, FLOW_STATES, NS_PER_S, item_arrays, next_times, status_rows
from .flow_windows import Grid, build_grid, moments_in_windows

STATUS_COLUMNS: tuple[str, ...] = (
    "item_type",
    "status",
    "flow_state",
    "items",
    "time_s",
    "active_s",
    "wait_s",
    "blocked_s",
    "share",
)


def time_in_status(
    transitions: pd.DataFrame,
    windows: pd.DataFrame,
    *,
    as_of: datetime | pd.Timestamp,
    by: Sequence[str] = (),
    overall_only: bool = False,
) -> pd.DataFrame:
    """Seconds the items done in each window spent in each source status between their start and
    their final done (so the times of one item add up to its flow time).

    One row per group (``by``) x window x item type (type at done, and "All") x ``status`` x
    ``flow_state`` (its mapped state) that holds any row, largest time first. Columns:
    ``items`` (items with a row in it), ``time_s``, ``active_s`` (unblocked time in an active
    state), ``wait_s`` (the rest), ``blocked_s`` (time flagged blocked) and ``share`` (of the
    group-window-type's total time). Items done without start contribute nothing.
    ``overall_only`` keeps only the "All" rows (the same rows, without building the others).
    """
    rows = status_rows(transitions, as_of=as_of)
    arrays = item_arrays(rows)
    grid = build_grid(
        rows.item_frame([c for c in by if c in rows.extra_columns]),
        windows,
        by,
        type_names=rows.type_names,
    )
    status, names = rows.status_codes()
    totals = _totals(rows, arrays, grid, status, names, overall_only=overall_only)
    return _frame(totals, grid, names)


def time_in_status_by_scope(
    transitions: pd.DataFrame,
    windows: pd.DataFrame,
    *,
    as_of: datetime | pd.Timestamp,
    scopes: Sequence[Sequence[str]],
) -> list[pd.DataFrame]:
    """``time_in_status(..., by=scope, overall_only=True)`` for each scope of ``scopes`` (e.g.
    team, value stream, portfolio), in one pass over the rows: the sums are taken once per
    finest group (the combination of every scope's columns) and each scope's cells are sums of
    its finest groups' cells, added in ascending cell order (so the result depends only on the
    items of each window, as an incremental recompute needs)."""
    rows = status_rows(transitions, as_of=as_of)
    arrays = item_arrays(rows)
    finest = list(dict.fromkeys(c for scope in scopes for c in scope))
    present = [c for c in finest if c in rows.extra_columns]
    items = rows.item_frame(present)
    grid = build_grid(items, windows, finest, type_names=rows.type_names)
    status, names = rows.status_codes()
    totals = _totals(rows, arrays, grid, status, names, overall_only=True)
    totals = totals.sort_values(["cell", "kind"], kind="stable", ignore_index=True)
    _, n_windows, n_types = grid.shape
    group = totals["cell"].to_numpy(dtype=np.int64) // (n_windows * n_types)
    rest = totals["cell"].to_numpy(dtype=np.int64) % (n_windows * n_types)
    out = []
    for scope in scopes:
        scope_grid = build_grid(items, windows, scope, type_names=rows.type_names)
        position = _group_positions(grid.groups, scope_grid.groups, list(scope))
        cell = position[group] * (n_windows * n_types) + rest if len(group) else group
        summed = totals.assign(cell=cell).groupby(["cell", "kind"], as_index=False, sort=True).sum()
        out.append(_frame(summed, scope_grid, names))
    return out


def _group_positions(finest: pd.DataFrame, coarse: pd.DataFrame, by: list[str]) -> np.ndarray:
    """Position in ``coarse`` of each group of ``finest`` (whose columns include ``by``)."""
    if not by:
        return np.zeros(len(finest), dtype=np.int64)
    index = pd.MultiIndex.from_frame(coarse[by]) if len(by) > 1 else pd.Index(coarse[by[0]])
    probe = pd.MultiIndex.from_frame(finest[by]) if len(by) > 1 else pd.Index(finest[by[0]])
    return index.get_indexer(probe).astype(np.int64)


def _totals(rows, arrays, grid: Grid, status, names, *, overall_only: bool) -> pd.DataFrame:
    """Per (cell, status-and-state kind) sums over the items done in each window of ``grid``."""
    items, window_pos = moments_in_windows(arrays.done, grid.windows)
    started = arrays.start_row[items] >= 0
    items, window_pos = items[started], window_pos[started]
    n_kinds = max(len(names), 1) * len(FLOW_STATES)
    # Pairs come sorted by window. They are summed a few windows at a time (each cell lies in one
    # window, so its rows are summed in the same order as all at once: identical results) to
    # bound the working set, which is one entry per pair and row of its flow span.
    length = arrays.run_row[items] - arrays.start_row[items]
    entries_before = np.concatenate(([0], np.cumsum(length)))
    window_first_pair = np.searchsorted(window_pos, np.arange(len(grid.windows) + 1))
    parts, begin = [], 0
    while begin < len(items):
        limit = entries_before[begin] + CHUNK_ENTRIES
        last = np.searchsorted(entries_before[window_first_pair], limit, side="right") - 1
        end = int(window_first_pair[last]) if last >= 0 else begin
        if end <= begin:  # one window larger than a chunk: take it whole
            end = int(window_first_pair[np.searchsorted(window_first_pair, begin, "right")])
        part = _status_totals(
            rows, arrays, grid, items[begin:end], window_pos[begin:end], status, n_kinds
        )
        # a window's "All" cells sum its own type cells, so they can be summed chunk by chunk
        parts.append(_with_all_types(part, grid, overall_only=True) if overall_only else part)
        begin = end
    if not parts:
        empty = _status_totals(rows, arrays, grid, items, window_pos, status, n_kinds)
        parts.append(_with_all_types(empty, grid, overall_only=overall_only))
    elif not overall_only:
        parts = [_with_all_types(pd.concat(parts, ignore_index=True), grid, overall_only=False)]
    return pd.concat(parts, ignore_index=True)


CHUNK_ENTRIES = 250_000  # (pair, row) entries summed at once


def _status_totals(rows, arrays, grid: Grid, items, window_pos, status, n_kinds) -> pd.DataFrame:
    """Per (cell, status-and-state kind) sums of the given (item, window) pairs' flow spans."""
    type_pos = grid.type_position(rows.type_names)[arrays.type_code[items]]
    cell = grid.flat(items, window_pos, type_pos)
    length = arrays.run_row[items] - arrays.start_row[items]

    # One entry per (item, window) pair and row of its flow span: [start row, final done row).
    pair = np.repeat(np.arange(len(items)), length)
    row = np.repeat(arrays.start_row[items] - np.cumsum(length) + length, length)
    row += np.arange(len(row))
    kind = status[row].astype(np.int64) * len(FLOW_STATES) + rows.state[row]
    seconds = (next_times(rows, row) - rows.t[row]) / NS_PER_S
    working = (rows.state[row] == ACTIVE) & ~rows.blocked[row]
    blocked = rows.blocked[row]
    del row
    first_in_pair = pd.unique(pair * n_kinds + kind)
    key = cell[pair] * n_kinds + kind
    del pair, kind
    codes, keys = pd.factorize(key)
    del key
    n = len(keys)
    sums = {
        "items": np.bincount(
            pd.Index(keys).get_indexer(
                cell[first_in_pair // n_kinds] * n_kinds + first_in_pair % n_kinds
            ),
            minlength=n,
        ),
        "time": np.bincount(codes, weights=seconds, minlength=n),
        "active": np.bincount(codes, weights=np.where(working, seconds, 0.0), minlength=n),
        "blocked": np.bincount(codes, weights=np.where(blocked, seconds, 0.0), minlength=n),
    }
    return pd.DataFrame({"cell": keys // n_kinds, "kind": keys % n_kinds, **sums})


def _with_all_types(totals: pd.DataFrame, grid: Grid, *, overall_only: bool) -> pd.DataFrame:
    n_types = len(grid.types)
    all_cell = totals["cell"] - totals["cell"] % n_types + n_types - 1
    overall = totals.assign(cell=all_cell).groupby(["cell", "kind"], as_index=False).sum()
    if overall_only:
        return overall
    return pd.concat([totals, overall], ignore_index=True)


def _cell_totals(cell: np.ndarray, time: np.ndarray) -> np.ndarray:
    """Each row's cell total of ``time``, summed in ascending order of the values: the same
    rows give the same total whatever order they come in (status codes differ between runs
    that read different items, and a float sum depends on its order)."""
    if not len(cell):
        return np.zeros(0)
    order = np.lexsort((time, cell))
    sorted_cell = cell[order]
    starts = np.flatnonzero(np.r_[True, sorted_cell[1:] != sorted_cell[:-1]])
    sums = np.add.reduceat(time[order], starts)
    total = np.empty(len(cell))
    total[order] = np.repeat(sums, np.diff(np.r_[starts, len(cell)]))
    return total


def _frame(totals: pd.DataFrame, grid: Grid, names: pd.Index) -> pd.DataFrame:
    cell = totals["cell"].to_numpy(dtype=np.int64)
    kind = totals["kind"].to_numpy(dtype=np.int64)
    time = totals["time"].to_numpy(dtype=float)
    active = totals["active"].to_numpy(dtype=float)
    _, n_windows, n_types = grid.shape
    cell_total = _cell_totals(cell, time)
    order = np.lexsort((-time, cell))
    cell, kind, time, active, cell_total = (
        a[order] for a in (cell, kind, time, active, cell_total)
    )
    metrics = pd.DataFrame(
        {
            "item_type": pd.Categorical.from_codes(cell % n_types, categories=list(grid.types)),
            "status": pd.Categorical.from_codes(kind // len(FLOW_STATES), categories=names),
            "flow_state": pd.Categorical.from_codes(
                kind % len(FLOW_STATES), categories=FLOW_STATES
            ),
            "items": totals["items"].to_numpy(dtype=np.int64)[order],
            "time_s": time,
            "active_s": active,
            "wait_s": time - active,
            "blocked_s": totals["blocked"].to_numpy(dtype=float)[order],
            "share": np.divide(
                time, cell_total, out=np.full(len(time), np.nan), where=cell_total > 0
            ),
        }
    )
    return pd.concat(
        [
            grid.groups.iloc[cell // (n_windows * n_types)].reset_index(drop=True),
            grid.windows.iloc[cell // n_types % n_windows].reset_index(drop=True),
            metrics,
        ],
        axis=1,
    )
