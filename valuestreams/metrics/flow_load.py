"""Flow load (work in progress) from state intervals, counted at each local day's end."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import pandas as pd

from .flow_facts import ACTIVE, WAITING, StatusRows
from .flow_windows import Grid, period_windows, window_bounds


def _load_events(rows: StatusRows, grid: Grid) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Row positions, grid type positions and ±1 deltas of every entry into / exit from the load.

    An item is in the load while its row is waiting or active (blocked or not); a type change
    while in the load moves it from one type to the other.
    """
    state, type_code = rows.state, rows.type_code
    in_load = (state == WAITING) | (state == ACTIVE)
    was_in = np.zeros(len(state), dtype=bool)
    was_in[1:] = in_load[:-1]
    was_in[rows.first] = False
    retyped = np.zeros(len(state), dtype=bool)
    retyped[1:] = type_code[1:] != type_code[:-1]
    exits = np.flatnonzero(was_in & (~in_load | retyped))
    entries = np.flatnonzero(in_load & (~was_in | retyped))
    to_grid = grid.type_position(rows.type_names)
    positions = np.concatenate([exits, entries])
    types = to_grid[np.concatenate([type_code[exits - 1], type_code[entries]])]
    deltas = np.concatenate([np.full(len(exits), -1.0), np.ones(len(entries))])
    return positions, types, deltas


@dataclass(frozen=True)
class LoadSums:
    """Day-end load counts summed per grid cell, as exact integers.

    ``total`` and ``end`` have the grid's shape (groups, windows, types): the sum of the day-end
    counts over a window's measured days and the count on its last one (0 where a window has no
    measured day); ``days`` holds each window's number of measured days."""

    total: np.ndarray
    end: np.ndarray
    days: np.ndarray

    def cells(self) -> dict[str, np.ndarray]:
        """``load_mean`` (total ÷ days) and ``load_end`` as flat float arrays, NaN for a window
        without a measured day."""
        has_days = self.days > 0
        with np.errstate(invalid="ignore", divide="ignore"):
            mean = self.total / np.where(has_days, self.days, 1)[None, :, None]
        mean = np.where(has_days[None, :, None], mean, np.nan)
        end = np.where(has_days[None, :, None], self.end.astype(float), np.nan)
        return {"load_mean": mean.reshape(-1), "load_end": end.reshape(-1)}


def measured_days(windows: pd.DataFrame, *, as_of_ns: int, tz: str) -> np.ndarray:
    """Number of local days (``tz``) starting inside each window and before ``as_of_ns``."""
    return _day_grid(windows, as_of_ns, tz)[1]


def _day_grid(windows: pd.DataFrame, as_of_ns: int, tz: str):
    """(the next local midnight after each measured day, days per window, first day of each
    window). A day is measured at its end, the last instant before the next midnight, so a row
    stamped at that midnight is not counted in it (it belongs to the day that starts there)."""
    starts, ends = window_bounds(windows)
    if not len(starts):
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, empty
    day_start, day_end = _local_days(int(starts.min()), int(ends.max()), tz)
    n_days = int(np.searchsorted(day_start, as_of_ns, side="left"))
    first_day = np.minimum(np.searchsorted(day_start, starts, side="left"), n_days)
    stop_day = np.minimum(np.searchsorted(day_start, ends, side="left"), n_days)
    return day_end[:n_days], np.maximum(stop_day - first_day, 0), first_day


@lru_cache(maxsize=16)
def _local_days(start_ns: int, end_ns: int, tz: str) -> tuple[np.ndarray, np.ndarray]:
    """Start and end (int64 ns, read-only) of the local days of ``tz`` overlapping the span;
    the same spans come back within a run (several grids, two as-of times)."""
    days = period_windows(
        pd.Timestamp(start_ns, tz="UTC"), pd.Timestamp(end_ns, tz="UTC"), grain="day", tz=tz
    )
    bounds = window_bounds(days)
    for array in bounds:
        array.setflags(write=False)
    return bounds


def load_sums(rows: StatusRows, grid: Grid, *, tz: str) -> LoadSums:
    """The day-end load counts of every grid cell, summed over each window's days (see
    :func:`load_cells` for the day rules)."""
    n_groups, n_windows, n_types = grid.shape
    total = np.zeros((n_groups, n_windows, n_types), dtype=np.int64)
    end = total.copy()
    next_midnight, days, first_day = _day_grid(grid.windows, rows.as_of_ns, tz)
    n_days = len(next_midnight)
    if not grid.size or not n_days:
        return LoadSums(total, end, days)

    positions, types, deltas = _load_events(rows, grid)
    # the first day whose end comes after the row: days end before their next midnight ([start,
    # end) like every window), and rows are known up to as_of, so the day in progress counts
    # every row up to as_of
    day = np.searchsorted(next_midnight, rows.t[positions], side="right")
    keep = day < n_days
    item = np.searchsorted(rows.first, positions[keep], side="right") - 1
    group = grid.group_of_item[item]
    cell = (group * n_types + types[keep]) * n_days + day[keep]
    changes = np.bincount(cell, weights=deltas[keep], minlength=n_groups * n_types * n_days)
    daily = np.rint(changes).astype(np.int64).reshape(n_groups, n_types, n_days).cumsum(axis=2)
    daily[:, -1, :] = daily[:, :-1, :].sum(axis=1)
    prefix = np.concatenate(
        [np.zeros((n_groups, n_types, 1), dtype=np.int64), daily.cumsum(axis=2)], axis=2
    )
    stop_day = first_day + days
    window_total = prefix[:, :, stop_day] - prefix[:, :, first_day]
    window_end = daily[:, :, np.maximum(stop_day - 1, 0)]
    has_days = days > 0
    total[:, has_days, :] = window_total.transpose(0, 2, 1)[:, has_days, :]
    end[:, has_days, :] = window_end.transpose(0, 2, 1)[:, has_days, :]
    return LoadSums(total, end, days)


def load_cells(rows: StatusRows, grid: Grid, *, tz: str) -> dict[str, np.ndarray]:
    """Dense arrays (one value per grid cell) of ``load_mean`` and ``load_end``.

    The load at an instant counts the items whose latest row at or before it is waiting or
    active. A window's days are the local days (``tz``) starting inside it and before ``as_of``;
    each day is measured at its end (the last instant before the next local midnight: a change
    stamped exactly at midnight counts for the day that starts there), or at ``as_of`` for the
    day in progress. ``load_mean`` is the
    mean over those days and ``load_end`` the value on the last one; NaN for a window with no
    such day (e.g. wholly after ``as_of``).
    """
    return load_sums(rows, grid, tz=tz).cells()
