"""Time in each source status of the items completed in a window ("where work waits")."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import numpy as np
import pandas as pd

from .flow_facts import ACTIVE, FLOW_STATES, item_arrays, next_times, status_rows
from .flow_windows import Grid, build_grid, moments_in_windows

STATUS_COLUMNS: tuple[str, ...] = (
    "item_type",
    "status",
    "flow_state",
    "items",
    "time_s",
    "time_us",
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
    ``items`` (items with a row in it), ``time_s``, ``time_us`` (the same time in whole
    microseconds, summed exactly as integers: a cell's total does not depend on the order its
    items are added in), ``active_s`` (unblocked time in an active state), ``wait_s`` (the
    rest), ``blocked_s`` (time flagged blocked) and ``share`` (of the group-window-type's total
    time). Each row's time is counted in whole microseconds (the resolution of stored
    timestamps). Items done without start contribute nothing.
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
MICROS_PER_S = 1_000_000


def status_shares(time_us: np.ndarray, cell_total_us: np.ndarray) -> np.ndarray:
    """Share of each row's time in its cell's total (NaN where the total is 0)."""
    return np.divide(
        time_us, cell_total_us, out=np.full(len(time_us), np.nan), where=cell_total_us > 0
    )


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
    micros = (next_times(rows, row) - rows.t[row]) // 1000
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
        "time": exact_bincount(codes, micros, n),
        "active": exact_bincount(codes, np.where(working, micros, 0), n),
        "blocked": exact_bincount(codes, np.where(blocked, micros, 0), n),
    }
    return pd.DataFrame({"cell": keys // n_kinds, "kind": keys % n_kinds, **sums})


def _with_all_types(totals: pd.DataFrame, grid: Grid, *, overall_only: bool) -> pd.DataFrame:
    n_types = len(grid.types)
    cell = totals["cell"].to_numpy(dtype=np.int64)
    kind = totals["kind"].to_numpy(dtype=np.int64)
    n_kinds = int(kind.max()) + 1 if len(kind) else 1
    # the "All" cell of each row's group and window, rows of one (cell, kind) summed exactly,
    # ordered by cell and kind
    keys, sums = sums_by_key(
        (cell - cell % n_types + n_types - 1) * n_kinds + kind,
        {
            n: totals[n].to_numpy(dtype=np.int64)
            for n in totals.columns
            if n not in ("cell", "kind")
        },
        sort=True,
    )
    overall = pd.DataFrame({"cell": keys // n_kinds, "kind": keys % n_kinds, **sums})
    if overall_only:
        return overall
    return pd.concat([totals, overall], ignore_index=True)


def exact_bincount(codes: np.ndarray, values: np.ndarray, n: int) -> np.ndarray:
    """int64 sums of non-negative int64 ``values`` per code, exact at any size: ``np.bincount``
    adds in float64, so each value is split into a high and a low 26-bit part whose float sums
    stay below 2**53."""
    values = np.asarray(values, dtype=np.int64)
    low = np.bincount(codes, weights=values & 0x3FFFFFF, minlength=n)
    high = np.bincount(codes, weights=values >> 26, minlength=n)
    return (high.astype(np.int64) << 26) + low.astype(np.int64)


def sums_by_key(
    key: np.ndarray, columns: dict[str, np.ndarray], *, sort: bool = False
) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """The distinct int64 ``key`` values (sorted, or in order of first appearance) and each
    column's exact sum per key (:func:`exact_bincount`: non-negative int64 values)."""
    codes, keys = pd.factorize(key, sort=sort)
    sums = {name: exact_bincount(codes, values, len(keys)) for name, values in columns.items()}
    return np.asarray(keys, dtype=np.int64), sums


def _cell_totals(cell: np.ndarray, time: np.ndarray) -> np.ndarray:
    """Each row's cell total of ``time`` (int64, exact)."""
    if not len(cell):
        return np.zeros(0, dtype=np.int64)
    codes, uniques = pd.factorize(cell)
    return exact_bincount(codes, time, len(uniques))[codes]


def _frame(totals: pd.DataFrame, grid: Grid, names: pd.Index) -> pd.DataFrame:
    cell = totals["cell"].to_numpy(dtype=np.int64)
    kind = totals["kind"].to_numpy(dtype=np.int64)
    time = totals["time"].to_numpy(dtype=np.int64)
    active = totals["active"].to_numpy(dtype=np.int64)
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
            "time_s": time / MICROS_PER_S,
            "time_us": time,
            "active_s": active / MICROS_PER_S,
            "wait_s": (time - active) / MICROS_PER_S,
            "blocked_s": totals["blocked"].to_numpy(dtype=np.int64)[order] / MICROS_PER_S,
            "share": status_shares(time, cell_total),
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
