"""Carrying a previous run's rows forward: the arithmetic of an incremental run that reads the
histories of the changed items only (pure pandas/numpy: no Django, no clock).

A full run counts every item; an incremental run knows the previous run's published rows and
which items changed since. For the items that did not change, nothing but time moved, so:

- **Flow load** is a sum of integer day-end counts. An unchanged item keeps the state it had at
  the previous ``as_of`` until the new one (it has no status change in between), so a window's
  new sum is the previous sum (``round(load_mean × days)``, exact: the counts are integers) minus
  the changed items' old contributions plus their new ones, and each day added since the
  previous ``as_of`` counts the unchanged items' load at that moment (the previous ``load_end``
  of the window holding it, minus the changed items' old load then). See :func:`carried_load`.
- **Time in status** sums whole microseconds as integers, so a cell's items and time are the
  previous ones minus the changed items' old contributions plus their new ones, exactly
  (:func:`carried_status`); the shares follow from the cells' totals.
- **Velocity, flow time, efficiency and distribution** of a window need every item done in it;
  their facts (one stored row per item, no history) are read, so percentiles are computed from
  the same values as in a full run (:func:`completion_frame`).

The old contributions come from the changed items' previous histories, which are known only for
items whose history grew by appended rows (the first ``history_rows`` rows the previous run
digested are unchanged): the planner falls back to reading every item reaching the rewritten
windows otherwise.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import numpy as np
import pandas as pd

from valuestreams.metrics.flow_completion import completion_cells, distribution_cells
from valuestreams.metrics.flow_facts import FLOW_ITEM_TYPES, status_rows
from valuestreams.metrics.flow_load import load_sums, measured_days
from valuestreams.metrics.flow_status import MICROS_PER_S, status_shares, time_in_status
from valuestreams.metrics.flow_windows import build_grid, window_bounds
from valuestreams.recompute_rows import FLOW_FIELDS, NO_SCOPE, SCOPES, STATUS_FIELDS

LOAD_KEY = ["scope_kind", "scope_id", "grain", "window_start", "item_type"]
STATUS_KEY = ["scope_kind", "scope_id", "grain", "window_start", "status", "flow_state"]
COMPLETION_FIELDS = [
    "velocity",
    "flow_time_p50_s",
    "flow_time_p85_s",
    "flow_time_p95_s",
    "flow_time_mean_s",
    "flow_efficiency",
    "share",
]


def _naive_ns(column: pd.Series) -> np.ndarray:
    """Aware or naive-UTC datetimes as naive datetime64[ns] (UTC)."""
    values = pd.to_datetime(column)
    if isinstance(values.dtype, pd.DatetimeTZDtype):
        values = values.dt.tz_convert("UTC").dt.tz_localize(None)
    return values.dt.as_unit("ns").to_numpy()


def _scope_frame(grid, kind: str, column: str | None, portfolio_id: int) -> pd.DataFrame:
    """The key columns of every cell of ``grid`` (flat order), for one scope kind."""
    frame = grid.frame()
    return pd.DataFrame(
        {
            "scope_kind": kind,
            "scope_id": frame[column].to_numpy(dtype=np.int64) if column else portfolio_id,
            "grain": frame["grain"].to_numpy(dtype=object),
            "window_start": _naive_ns(frame["window_start"]),
            "item_type": frame["item_type"].astype(str).to_numpy(dtype=object),
        }
    )


def scope_load(
    transitions: pd.DataFrame,
    windows: pd.DataFrame,
    *,
    as_of: datetime,
    tz: str,
    portfolio_id: int,
) -> pd.DataFrame:
    """The load the items of ``transitions`` contribute to each scope (team, value stream,
    portfolio), window and type (and "All"): :data:`LOAD_KEY` columns, ``total`` (sum of
    day-end counts over the window's measured days) and ``end`` (the count on its last one),
    integers; only non-zero cells. Counted once per team and summed up (integers: exact)."""
    rows = status_rows(transitions, as_of=as_of)
    finest = ["team_id", "value_stream_id"]
    items = rows.item_frame([c for c in finest if c in rows.extra_columns])
    grid = build_grid(items, windows, finest, type_names=FLOW_ITEM_TYPES)
    if not grid.size:
        return _empty(LOAD_KEY, {"total": np.int64, "end": np.int64})
    sums = load_sums(rows, grid, tz=tz)
    _, n_windows, n_types = grid.shape
    total, end = sums.total.reshape(-1), sums.end.reshape(-1)
    cell = np.flatnonzero((total != 0) | (end != 0))
    group, window, kind = cell // (n_windows * n_types), cell // n_types % n_windows, cell % n_types
    cells = pd.DataFrame(
        {
            "team_id": grid.groups["team_id"].to_numpy(dtype=np.int64)[group],
            "value_stream_id": grid.groups["value_stream_id"].to_numpy(dtype=np.int64)[group],
            "grain": grid.windows["grain"].to_numpy(dtype=object)[window],
            "window_start": _naive_ns(grid.windows["window_start"])[window],
            "item_type": np.array(grid.types, dtype=object)[kind],
            "total": total[cell],
            "end": end[cell],
        }
    )
    parts = []
    for scope_kind, column in SCOPES:
        keys = [column, "grain", "window_start", "item_type"] if column else LOAD_KEY[2:]
        chosen = cells[cells[column] != NO_SCOPE] if column else cells
        summed = chosen.groupby(keys, as_index=False, sort=False)[["total", "end"]].sum()
        summed = summed.rename(columns={column: "scope_id"}) if column else summed
        parts.append(
            summed.assign(scope_kind=scope_kind, scope_id=summed.get("scope_id", portfolio_id))
        )
    return pd.concat(parts, ignore_index=True)[[*LOAD_KEY, "total", "end"]].astype(
        {"scope_id": np.int64}
    )


def scope_status(
    transitions: pd.DataFrame,
    windows: pd.DataFrame,
    *,
    as_of: datetime,
    portfolio_id: int,
) -> pd.DataFrame:
    """Time in status the items of ``transitions`` contribute: :data:`STATUS_KEY` columns,
    ``items`` and ``time_us`` (integers), counted once per team and summed up (exact)."""
    finest = ["team_id", "value_stream_id"]
    spent = time_in_status(transitions, windows, as_of=as_of, by=finest, overall_only=True)
    spent = spent[spent["item_type"] == "All"]
    cells = pd.DataFrame(
        {
            "team_id": spent["team_id"].to_numpy(dtype=np.int64),
            "value_stream_id": spent["value_stream_id"].to_numpy(dtype=np.int64),
            "grain": spent["grain"].to_numpy(dtype=object),
            "window_start": _naive_ns(spent["window_start"]),
            "status": spent["status"].astype(str).to_numpy(dtype=object),
            "flow_state": spent["flow_state"].astype(str).to_numpy(dtype=object),
            "items": spent["items"].to_numpy(dtype=np.int64),
            "time_us": spent["time_us"].to_numpy(dtype=np.int64),
        }
    )
    parts = []
    for scope_kind, column in SCOPES:
        keys = [column, *STATUS_KEY[2:]] if column else STATUS_KEY[2:]
        chosen = cells[cells[column] != NO_SCOPE] if column else cells
        summed = chosen.groupby(keys, as_index=False, sort=False)[["items", "time_us"]].sum()
        summed = summed.rename(columns={column: "scope_id"}) if column else summed
        parts.append(
            summed.assign(scope_kind=scope_kind, scope_id=summed.get("scope_id", portfolio_id))
        )
    return pd.concat(parts, ignore_index=True)[[*STATUS_KEY, "items", "time_us"]].astype(
        {"scope_id": np.int64}
    )


def _empty(key: Sequence[str], values: dict) -> pd.DataFrame:
    columns = {c: pd.Series([], dtype=object) for c in key}
    columns["scope_id"] = pd.Series([], dtype=np.int64)
    columns["window_start"] = pd.Series([], dtype="datetime64[ns]")
    columns.update({name: pd.Series([], dtype=dtype) for name, dtype in values.items()})
    return pd.DataFrame(columns)


def _window_table(windows: pd.DataFrame, *, prev_as_of_ns: int, as_of_ns: int, tz: str):
    """Per window (grain, naive start): days measured at the previous and the new as_of, and
    whether the window ends after the previous as_of (its days since then are carried)."""
    _, ends = window_bounds(windows)
    return pd.DataFrame(
        {
            "grain": windows["grain"].to_numpy(dtype=object),
            "window_start": _naive_ns(windows["window_start"]),
            "window_end": _naive_ns(windows["window_end"]),
            "label": windows["window"].to_numpy(dtype=object),
            "prev_days": measured_days(windows, as_of_ns=prev_as_of_ns, tz=tz),
            "days": measured_days(windows, as_of_ns=as_of_ns, tz=tz),
            "open": ends > prev_as_of_ns,
        }
    )


def carried_load(
    *,
    previous: pd.DataFrame,
    old: pd.DataFrame,
    new: pd.DataFrame,
    previous_at: pd.DataFrame,
    old_at: pd.DataFrame,
    windows: pd.DataFrame,
    prev_as_of: datetime,
    as_of: datetime,
    tz: str,
) -> pd.DataFrame:
    """``load_mean`` and ``load_end`` of every scope, window of ``windows`` and type, as a full
    run at ``as_of`` computes them.

    ``previous``: the previous run's rows of these windows (:data:`LOAD_KEY`, ``load_mean``,
    ``load_end``); ``old`` and ``new``: :func:`scope_load` of the changed items' previous
    histories at ``prev_as_of`` and of their histories now at ``as_of``; ``previous_at`` and
    ``old_at``: the load at ``prev_as_of`` per scope and type (``scope_kind``, ``scope_id``,
    ``item_type``, ``end``), of every item as the previous run counted it and of the changed
    items' previous histories. For a window with ``p`` days measured then and ``n`` now::

        sum = prev_sum - old_sum + new_sum + (n - p) × (prev_end - old_end)
        end = prev_end - old_end + new_end

    where the ends are at the window's last day for a window that was over, and at
    ``prev_as_of`` for one still open then (or new since). Returns :data:`LOAD_KEY` columns,
    ``load_mean`` and ``load_end`` (NaN for a window without a measured day), cells whose
    carried load is 0 included only where an input row named them."""
    table = _window_table(
        windows,
        prev_as_of_ns=pd.Timestamp(prev_as_of).value,
        as_of_ns=pd.Timestamp(as_of).value,
        tz=tz,
    )
    previous = previous.assign(window_start=_naive_ns(previous["window_start"])).merge(
        table[["grain", "window_start", "prev_days"]], on=["grain", "window_start"], how="inner"
    )
    previous = previous.assign(
        prev_sum=np.rint(
            previous["load_mean"].fillna(0).to_numpy(dtype=float)
            * previous["prev_days"].to_numpy(dtype=float)
        ).astype(np.int64),
        prev_end=previous["load_end"].fillna(0).to_numpy(dtype=float).astype(np.int64),
    )[[*LOAD_KEY, "prev_sum", "prev_end"]]
    old = old.rename(columns={"total": "old_sum", "end": "old_end"})
    new = new.rename(columns={"total": "new_sum", "end": "new_end"})
    scope_type = ["scope_kind", "scope_id", "item_type"]
    at_prev = previous_at.rename(columns={"end": "prev_at"})[[*scope_type, "prev_at"]]
    at_old = old_at.rename(columns={"end": "old_at"})[[*scope_type, "old_at"]]
    # every scope and type in the load at prev_as_of reaches the windows open since then
    open_windows = table.loc[table["open"], ["grain", "window_start"]]
    carried_keys = (
        pd.concat([at_prev[scope_type], at_old[scope_type]])
        .drop_duplicates()
        .merge(open_windows, how="cross")
    )
    keys = (
        pd.concat(
            [frame[LOAD_KEY] for frame in (previous, old, new, carried_keys)], ignore_index=True
        )
        .drop_duplicates()
        .merge(table, on=["grain", "window_start"], how="inner")
    )
    cells = keys.merge(previous, on=LOAD_KEY, how="left")
    cells = cells.merge(old, on=LOAD_KEY, how="left").merge(new, on=LOAD_KEY, how="left")
    cells = cells.merge(at_prev, on=scope_type, how="left").merge(at_old, on=scope_type, how="left")
    value = {
        c: cells[c].fillna(0).to_numpy(dtype=np.int64)
        for c in ("prev_sum", "prev_end", "old_sum", "old_end", "new_sum", "new_end")
    }
    is_open = cells["open"].to_numpy(dtype=bool)
    prev_end = np.where(is_open, cells["prev_at"].fillna(0).to_numpy(np.int64), value["prev_end"])
    old_end = np.where(is_open, cells["old_at"].fillna(0).to_numpy(np.int64), value["old_end"])
    days = cells["days"].to_numpy(dtype=np.int64)
    extra_days = days - cells["prev_days"].to_numpy(dtype=np.int64)
    total = (
        value["prev_sum"] - value["old_sum"] + value["new_sum"] + extra_days * (prev_end - old_end)
    )
    end = prev_end - old_end + value["new_end"]
    has_days = days > 0
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = total / np.where(has_days, days, 1)
    return cells[LOAD_KEY].assign(
        load_mean=np.where(has_days, mean, np.nan),
        load_end=np.where(has_days, end.astype(float), np.nan),
    )


def carried_status(*, previous: pd.DataFrame, old: pd.DataFrame, new: pd.DataFrame) -> pd.DataFrame:
    """Time-in-status rows (:data:`STATUS_KEY`, ``items``, ``time_s``, ``time_us``, ``share``):
    the previous rows minus the changed items' old contributions plus their new ones (all
    :func:`scope_status` frames; ``previous`` holds every row of each cell it covers). Rows
    left with no item are gone; shares are recomputed from each cell's total."""
    parts = [
        previous.assign(window_start=_naive_ns(previous["window_start"]))[
            [*STATUS_KEY, "items", "time_us"]
        ],
        old[[*STATUS_KEY, "items", "time_us"]].assign(
            items=lambda f: -f["items"], time_us=lambda f: -f["time_us"]
        ),
        new[[*STATUS_KEY, "items", "time_us"]],
    ]
    combined = pd.concat(parts, ignore_index=True).astype({"items": np.int64, "time_us": np.int64})
    summed = combined.groupby(STATUS_KEY, as_index=False, sort=False, dropna=False).sum()
    summed = summed[summed["items"] > 0].reset_index(drop=True)
    cell = ["scope_kind", "scope_id", "grain", "window_start"]
    totals = summed.groupby(cell, sort=False)["time_us"].transform("sum").to_numpy(np.int64)
    time_us = summed["time_us"].to_numpy(dtype=np.int64)
    return summed.assign(time_s=time_us / MICROS_PER_S, share=status_shares(time_us, totals))


def completion_frame(
    facts: pd.DataFrame,
    windows: pd.DataFrame,
    *,
    portfolio_id: int,
    scopes: Sequence[tuple[str, str | None]] = SCOPES,
) -> pd.DataFrame:
    """Velocity, flow time, efficiency and distribution share of every scope with an item done
    in ``windows`` (dense: each of those scopes' windows and types), from item facts
    (``item_id``, ``item_type``, ``done``, ``flow_time_s``, ``active_s``, ``team_id``,
    ``value_stream_id``; a full run's facts give the same numbers when sorted by item id)."""
    facts = facts.sort_values("item_id", kind="stable", ignore_index=True)
    parts = []
    for kind, column in scopes:
        by = [column] if column else []
        grid = build_grid(facts, windows, by, type_names=FLOW_ITEM_TYPES)
        if not grid.size:
            continue
        cells = completion_cells(facts, grid)
        cells.update(distribution_cells(cells["velocity"], grid, None))
        frame = _scope_frame(grid, kind, column, portfolio_id)
        for name in COMPLETION_FIELDS:
            frame[name] = cells[name]
        if column:
            frame = frame[frame["scope_id"] != NO_SCOPE]
        parts.append(frame)
    if not parts:
        return _empty(LOAD_KEY, {"velocity": np.int64})
    return pd.concat(parts, ignore_index=True)


def carried_flow_rows(
    completion: pd.DataFrame, load: pd.DataFrame, windows: pd.DataFrame, *, as_of: datetime, tz: str
) -> pd.DataFrame:
    """FlowMetric rows (:data:`FLOW_FIELDS`, ``target`` NaN) from :func:`completion_frame` and
    :func:`carried_load`, kept as a full run keeps them: with a completion or a non-zero load."""
    as_of_ns = pd.Timestamp(as_of).value
    table = _window_table(windows, prev_as_of_ns=as_of_ns, as_of_ns=as_of_ns, tz=tz)
    rows = completion.merge(load, on=LOAD_KEY, how="outer")
    rows = rows.merge(table[["grain", "window_start", "window_end", "label", "days"]], how="left")
    no_load = np.where(rows["days"].to_numpy(dtype=np.int64) > 0, 0.0, np.nan)
    rows["velocity"] = rows["velocity"].fillna(0).astype(np.int64)
    for name in ("load_mean", "load_end"):
        rows[name] = rows[name].fillna(pd.Series(no_load, index=rows.index))
    keep = (rows["velocity"] > 0) | (np.nan_to_num(rows["load_mean"].to_numpy(float)) > 0)
    keep |= np.nan_to_num(rows["load_end"].to_numpy(float)) > 0
    rows = rows[keep].reset_index(drop=True)
    return rows.assign(target=np.nan)[FLOW_FIELDS]


def status_fields(rows: pd.DataFrame, windows: pd.DataFrame) -> pd.DataFrame:
    """:func:`carried_status` rows with their window's end and label (:data:`STATUS_FIELDS`)."""
    table = pd.DataFrame(
        {
            "grain": windows["grain"].to_numpy(dtype=object),
            "window_start": _naive_ns(windows["window_start"]),
            "window_end": _naive_ns(windows["window_end"]),
            "label": windows["window"].to_numpy(dtype=object),
        }
    )
    return rows.merge(table, on=["grain", "window_start"], how="left")[STATUS_FIELDS]
