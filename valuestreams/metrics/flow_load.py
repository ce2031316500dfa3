"""Flow load (work in progress) from state intervals, counted at each local day's end."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import numpy as np
import pandas as pd

from .flow_facts import ACTIVE, WAITING, StatusRows, status_rows
from .flow_windows import Grid, build_grid, period_windows, window_bounds

LOAD_COLUMNS: tuple[str, ...] = ("load_mean", "load_end")


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


def load_cells(rows: StatusRows, grid: Grid, *, tz: str) -> dict[str, np.ndarray]:
    """Dense arrays (one value per grid cell) of ``load_mean`` and ``load_end``.

    The load at an instant counts the items whose latest row at or before it is waiting or
    active. A window's days are the local days (``tz``) starting inside it and before ``as_of``;
    each day is measured at its end, or at ``as_of`` for the day in progress. ``load_mean`` is the
    mean over those days and ``load_end`` the value on the last one; NaN for a window with no
    such day (e.g. wholly after ``as_of``).
    """
    n_groups, n_windows, n_types = grid.shape
    mean = np.full((n_groups, n_windows, n_types), np.nan)
    end = mean.copy()
    starts, ends = window_bounds(grid.windows)
    if not grid.size:
        return {"load_mean": mean.reshape(-1), "load_end": end.reshape(-1)}
    days = period_windows(
        pd.Timestamp(starts.min(), tz="UTC"), pd.Timestamp(ends.max(), tz="UTC"), grain="day", tz=tz
    )
    day_start, day_end = window_bounds(days)
    n_days = int(np.searchsorted(day_start, rows.as_of_ns, side="left"))
    measured_at = np.minimum(day_end[:n_days], rows.as_of_ns)

    positions, types, deltas = _load_events(rows, grid)
    day = np.searchsorted(measured_at, rows.t[positions], side="left")
    keep = day < n_days
    item = np.searchsorted(rows.first, positions[keep], side="right") - 1
    group = grid.group_of_item[item]
    cell = (group * n_types + types[keep]) * n_days + day[keep]
    changes = np.bincount(cell, weights=deltas[keep], minlength=n_groups * n_types * n_days)
    daily = np.rint(changes).reshape(n_groups, n_types, n_days).cumsum(axis=2)
    daily[:, -1, :] = daily[:, :-1, :].sum(axis=1)
    prefix = np.concatenate([np.zeros((n_groups, n_types, 1)), daily.cumsum(axis=2)], axis=2)

    first_day = np.minimum(np.searchsorted(day_start, starts, side="left"), n_days)
    stop_day = np.minimum(np.searchsorted(day_start, ends, side="left"), n_days)
    has_days = stop_day > first_day
    span = np.where(has_days, stop_day - first_day, 1)
    window_mean = (prefix[:, :, stop_day] - prefix[:, :, first_day]) / span
    window_end = daily[:, :, np.maximum(stop_day - 1, 0)] if n_days else window_mean
    mean[:, has_days, :] = window_mean.transpose(0, 2, 1)[:, has_days, :]
    end[:, has_days, :] = window_end.transpose(0, 2, 1)[:, has_days, :]
    return {"load_mean": mean.reshape(-1), "load_end": end.reshape(-1)}


def flow_load(
    transitions: pd.DataFrame,
    windows: pd.DataFrame,
    *,
    as_of: datetime | pd.Timestamp,
    tz: str,
    by: Sequence[str] = (),
) -> pd.DataFrame:
    """Flow load per group (``by``) x window x item type (type in effect at the time) and "All".

    Columns: the ``by`` columns, the window columns, ``item_type``, ``load_mean`` (float: mean of
    the day-end counts of items in waiting or active, days in the portfolio time zone ``tz``) and
    ``load_end`` (the count at the window's end, or at ``as_of`` for a window in progress).
    Built from state intervals, so a reopened item comes back into the load and a canceled or
    done item leaves it. See :func:`load_cells` for the day rules.
    """
    rows = status_rows(transitions, as_of=as_of)
    grid = build_grid(
        rows.item_frame([c for c in by if c in rows.extra_columns]),
        windows,
        by,
        type_names=rows.type_names,
    )
    return grid.frame().assign(**load_cells(rows, grid, tz=tz))
