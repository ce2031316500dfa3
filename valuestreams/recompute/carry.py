"""Carrying a previous run's rows forward: the arithmetic of an incremental run that reads the
histories of the changed items only (pure pandas/numpy: no Django, no clock).

A full run counts every item; an incremental run knows the previous run's published rows and
which items changed since. For the items that did not change, nothing but time moved, so:

- **Flow load** is a sum of integer day-end counts. An unchanged item keeps the state it had at
  the previous ``as_of`` until the new one (it has no status change in between), so a window's
  new sum is the previous sum (``round(load_mean × days)``, exact: the counts are integers) minus
  the changed items' old contributions plus their new ones, and each day added since the
  previous ``as_of`` counts the unchanged items' load at that moment (the previous ``load_end``
  of the window holding it, minus the changed items' old load then). See :func:`carried_rows`.
- **Time in status** sums whole microseconds as integers, so a cell's items and time are the
  previous ones minus the changed items' old contributions plus their new ones, exactly; the
  shares follow from the cells' totals.
- **Velocity, flow time, efficiency and distribution** of a unit (scope, window) are a function
  of the items done in it and their type, flow time and active time (summed in item-id order).
  A unit that no changed item entered, left or changed within (:func:`affected_units`: its
  done, type, flow time, active time or, per scope kind, its scope moved) keeps those items
  and values, so its stored columns are a full run's. Only the affected units (and windows
  the previous run did not publish) are computed, from the facts of the items done in them
  (one stored row per item, no history: the unit's scope's facts, or every item's for a
  portfolio unit), so percentiles and sums are computed from the same values, in the same
  order, as in a full run. A team moved to another value stream moves its items' value-stream
  units only; a late event that moves no done item's flow time moves no completion.

The old contributions come from the changed items' previous histories, counted in the team and
value stream each item had then (its stored facts'): an item moved to another team or value
stream leaves its old scopes and joins its new ones. A previous history is known when the
first ``history_rows`` rows the previous run digested are unchanged (the history grew by
appended rows, or was sent again as it was), or when leaving one row out gives them (a late
event inserted among the old rows), or when the rows the previous run read that are still
stored, with those deleted or updated since as they were then (kept by a trigger in
:class:`~valuestreams.models.SupersededStatusChange`), have the digest it stored (rows inserted,
corrected or deleted in any number; see :func:`valuestreams.recompute.plan.plan_incremental`).
The decision is per item; only an item whose previous history cannot be rebuilt (superseded
rows lost, or the item deleted with its facts) makes the planner read every item reaching the
rewritten windows.

Cells are handled as int64 keys (scope, window, type or status) rather than by joining frames on
their text columns: a day's run carries a few thousand cells, and pandas joins on five text
columns cost more than the arithmetic.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import numpy as np
import pandas as pd

from valuestreams.metrics.flow_completion import (
    completed_pairs,
    completion_cells,
    distribution_cells,
)
from valuestreams.metrics.flow_facts import ALL_TYPES, FLOW_ITEM_TYPES, FLOW_STATES, status_rows
from valuestreams.metrics.flow_load import load_sums, measured_days
from valuestreams.metrics.flow_status import (
    MICROS_PER_S,
    exact_bincount,
    status_shares,
    sums_by_key,
    time_in_status,
)
from valuestreams.metrics.flow_windows import build_grid, moments_in_windows, window_bounds
from valuestreams.recompute.rows import (
    FLOW_COMPLETION,
    FLOW_FIELDS,
    NO_SCOPE,
    SCOPES,
    STATUS_FIELDS,
)

NAT_NS = np.iinfo(np.int64).min  # NaT as int64 ns
KINDS = np.array([kind for kind, _ in SCOPES], dtype=object)  # team, value_stream, portfolio
TYPES = np.array([*FLOW_ITEM_TYPES, ALL_TYPES], dtype=object)
STATES = np.array(FLOW_STATES, dtype=object)
GRAINS = np.array(["week", "month"], dtype=object)
_FINEST = ["team_id", "value_stream_id"]
_COMPLETION = FLOW_COMPLETION


def _codes(values, names: np.ndarray) -> np.ndarray:
    """Positions of ``values`` in ``names`` (all must be present)."""
    codes, uniques = pd.factorize(np.asarray(values, dtype=object))
    lookup = {name: i for i, name in enumerate(names)}
    return np.array([lookup[u] for u in uniques], dtype=np.int64)[codes]


def start_ns(column) -> np.ndarray:
    """Window starts (aware, or naive UTC) as int64 ns."""
    values = pd.Series(pd.to_datetime(column))
    if isinstance(values.dtype, pd.DatetimeTZDtype):
        values = values.dt.tz_convert("UTC").dt.tz_localize(None)
    return values.dt.as_unit("ns").to_numpy().view(np.int64)


def window_positions(own_grain, own_start_ns, grain, start: np.ndarray) -> np.ndarray:
    """Position of each window (``grain``, ``start`` ns) among the windows ``own_grain`` /
    ``own_start_ns``, -1 for one not among them."""
    own = pd.Index(np.asarray(own_start_ns, dtype=np.int64) * 2 + _codes(own_grain, GRAINS))
    return own.get_indexer(np.asarray(start, dtype=np.int64) * 2 + _codes(grain, GRAINS))


def _scope_keys(kind_code: np.ndarray, scope_id: np.ndarray) -> np.ndarray:
    return (np.asarray(kind_code, dtype=np.int64) << 40) | np.asarray(scope_id, dtype=np.int64)


@dataclass(frozen=True)
class _Windows:
    """The rewritten windows: position lookup by (grain, start) and each one's day counts."""

    grain: np.ndarray
    start_ns: np.ndarray
    end_ns: np.ndarray
    label: np.ndarray
    prev_days: np.ndarray
    days: np.ndarray
    open: np.ndarray  # ends after the previous as_of: its days since then are carried

    @classmethod
    def of(cls, windows: pd.DataFrame, *, prev_as_of_ns: int, as_of_ns: int, tz: str):
        starts, ends = window_bounds(windows)
        return cls(
            grain=windows["grain"].to_numpy(dtype=object),
            start_ns=starts,
            end_ns=ends,
            label=windows["window"].to_numpy(dtype=object),
            prev_days=measured_days(windows, as_of_ns=prev_as_of_ns, tz=tz),
            days=measured_days(windows, as_of_ns=as_of_ns, tz=tz),
            open=ends > prev_as_of_ns,
        )

    def positions(self, grain, start: np.ndarray) -> np.ndarray:
        """Position of each (grain, start ns) among these windows, -1 if not one of them."""
        return window_positions(self.grain, self.start_ns, grain, start)


# --- contributions of a set of items -------------------------------------------------------------


def _finest_to_scopes(groups: pd.DataFrame, portfolio_id: int):
    """For each finest (team, value stream) group: its team, value-stream and portfolio scope
    keys (-1 where it has no team / value stream)."""
    team = groups["team_id"].to_numpy(dtype=np.int64)
    stream = groups["value_stream_id"].to_numpy(dtype=np.int64)
    return [
        np.where(team != NO_SCOPE, _scope_keys(np.zeros_like(team), team), -1),
        np.where(stream != NO_SCOPE, _scope_keys(np.ones_like(stream), stream), -1),
        np.full(len(team), int(_scope_keys(np.array([2]), np.array([portfolio_id]))[0])),
    ]


def _rolled_up(scope_of_group: list[np.ndarray], group: np.ndarray):
    """Rows of finest groups repeated once per scope they belong to: (scope key, row index)."""
    keys, rows = [], []
    for scope in scope_of_group:
        key = scope[group]
        has = key >= 0
        keys.append(key[has])
        rows.append(np.flatnonzero(has))
    return np.concatenate(keys), np.concatenate(rows)


def load_contribution(
    transitions: pd.DataFrame,
    windows: pd.DataFrame,
    *,
    as_of: datetime,
    tz: str,
    portfolio_id: int,
) -> pd.DataFrame:
    """The load the items of ``transitions`` add to each scope, window and type (and "All"):
    ``scope``, ``window`` (position in ``windows``), ``type`` (position in :data:`TYPES`),
    ``total`` (sum of day-end counts over the window's measured days) and ``end`` (the count on
    its last one), non-zero cells only, summed over scopes' teams as integers (exact)."""
    rows = status_rows(transitions, as_of=as_of)
    items = rows.item_frame([c for c in _FINEST if c in rows.extra_columns])
    grid = build_grid(items, windows, _FINEST, type_names=FLOW_ITEM_TYPES)
    columns = ["scope", "window", "type", "total", "end"]
    if not grid.size:
        return pd.DataFrame({c: np.zeros(0, dtype=np.int64) for c in columns})
    sums = load_sums(rows, grid, tz=tz)
    _, n_windows, n_types = grid.shape
    total, end = sums.total.reshape(-1), sums.end.reshape(-1)
    cell = np.flatnonzero((total != 0) | (end != 0))
    group = cell // (n_windows * n_types)
    scope, row = _rolled_up(_finest_to_scopes(grid.groups, portfolio_id), group)
    cell = cell[row]
    keys, sums = sums_by_key(
        _cell(scope, cell // n_types % n_windows, cell % n_types),
        {"total": total[cell], "end": end[cell]},
    )
    scope, window, kind = _split(keys)
    return pd.DataFrame({"scope": scope, "window": window, "type": kind, **sums})


def status_contribution(
    transitions: pd.DataFrame, windows: pd.DataFrame, *, as_of: datetime, portfolio_id: int
) -> pd.DataFrame:
    """The time in status the items of ``transitions`` add: ``scope``, ``window`` (position in
    ``windows``), ``status`` (name), ``state`` (position in :data:`STATES`), ``items`` and
    ``time_us``, summed over scopes' teams as integers (exact)."""
    spent = time_in_status(transitions, windows, as_of=as_of, by=_FINEST, overall_only=True)
    spent = spent[spent["item_type"] == ALL_TYPES]
    columns = ["scope", "window", "state", "items", "time_us"]
    if spent.empty:
        empty = pd.DataFrame({c: np.zeros(0, dtype=np.int64) for c in columns})
        return empty.assign(status=pd.Series([], dtype=object))
    groups = spent[_FINEST].astype(np.int64)
    scope_of_row = _finest_to_scopes(groups, portfolio_id)
    scope, row = _rolled_up(scope_of_row, np.arange(len(spent)))
    window = window_positions(
        windows["grain"],
        start_ns(windows["window_start"]),
        spent["grain"],
        start_ns(spent["window_start"]),
    )
    status_code, statuses = pd.factorize(spent["status"].astype(str).to_numpy(dtype=object)[row])
    state = _codes(spent["flow_state"].astype(str), STATES)[row]
    # one int64 per (scope, window, status, state): the scope key below bit 42, the window
    # below 16 bits, the status below 17, the state below 3
    scope_code, scopes = pd.factorize(scope)
    key = ((scope_code.astype(np.int64) << 16 | window[row]) << 17 | status_code) << 3 | state
    keys, sums = sums_by_key(
        key, {name: spent[name].to_numpy(np.int64)[row] for name in ("items", "time_us")}
    )
    return pd.DataFrame(
        {
            "scope": np.asarray(scopes, dtype=np.int64)[keys >> 36],
            "window": (keys >> 20) & 0xFFFF,
            "status": np.asarray(statuses, dtype=object)[(keys >> 3) & 0x1FFFF],
            "state": keys & 7,
            **sums,
        }
    )


# --- the carried rows -----------------------------------------------------------------------------


def _cell(scope: np.ndarray, window: np.ndarray, kind: np.ndarray) -> np.ndarray:
    """A load / completion cell as one int64: scope key, window position, type position."""
    return ((np.asarray(scope, np.int64) << 16) | np.asarray(window, np.int64)) << 3 | np.asarray(
        kind, np.int64
    )


def _split(cell: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    return cell >> 19, (cell >> 3) & 0xFFFF, cell & 7


def _scatter(index: pd.Index, keys: np.ndarray, values: np.ndarray, fill=0) -> np.ndarray:
    out = np.full(len(index), fill, dtype=np.asarray(values).dtype)
    out[index.get_indexer(keys)] = values
    return out


def _stored_scope(rows: pd.DataFrame) -> np.ndarray:
    return _scope_keys(_codes(rows["scope_kind"], KINDS), rows["scope_id"].to_numpy(np.int64))


def _frame_cells(frame: pd.DataFrame) -> np.ndarray:
    return _cell(frame["scope"], frame["window"], frame["type"])


def _load_cells(
    table: _Windows, stored: pd.DataFrame, old: pd.DataFrame, new: pd.DataFrame, *, anchor: int
) -> pd.DataFrame:
    """``cell``, ``load_mean`` and ``load_end`` of every carried load cell.

    For a window with ``p`` days measured at the previous as_of and ``n`` now::

        sum = prev_sum - old_sum + new_sum + (n - p) × (prev_end - old_end)
        end = prev_end - old_end + new_end

    where the ends are at the window's last day for a window that was over, and at the
    previous as_of for one still open then (or new since): the load at that moment is the
    ``anchor`` window's end (position in ``table``: the week holding the previous as_of)."""
    window = table.positions(stored["grain"], start_ns(stored["window_start"]))
    known = window >= 0
    stored_cell = _cell(
        _stored_scope(stored)[known], window[known], _codes(stored["item_type"], TYPES)[known]
    )
    prev_sum = np.rint(
        stored["load_mean"].fillna(0).to_numpy(float)[known] * table.prev_days[window[known]]
    ).astype(np.int64)
    prev_end = stored["load_end"].fillna(0).to_numpy(float)[known].astype(np.int64)
    old_cell, new_cell = _frame_cells(old), _frame_cells(new)
    # every scope and type in the load at the previous as_of reaches the windows open since
    at_anchor = np.concatenate(
        [stored_cell[_split(stored_cell)[1] == anchor], old_cell[_split(old_cell)[1] == anchor]]
    )
    scope, _, kind = _split(np.unique(at_anchor))
    open_windows = np.flatnonzero(table.open)
    carried = _cell(scope[:, None], open_windows[None, :], kind[:, None]).reshape(-1)
    index = pd.Index(np.unique(np.concatenate([stored_cell, old_cell, new_cell, carried])))
    value = {
        "prev_sum": _scatter(index, stored_cell, prev_sum),
        "prev_end": _scatter(index, stored_cell, prev_end),
        "old_sum": _scatter(index, old_cell, old["total"].to_numpy(np.int64)),
        "old_end": _scatter(index, old_cell, old["end"].to_numpy(np.int64)),
        "new_sum": _scatter(index, new_cell, new["total"].to_numpy(np.int64)),
        "new_end": _scatter(index, new_cell, new["end"].to_numpy(np.int64)),
    }
    key = index.to_numpy()
    scope, window, kind = _split(key)
    found = index.get_indexer(_cell(scope, np.full(len(key), anchor), kind))
    at = np.maximum(found, 0)
    is_open = table.open[window]
    prev_end = np.where(is_open, np.where(found >= 0, value["prev_end"][at], 0), value["prev_end"])
    old_end = np.where(is_open, np.where(found >= 0, value["old_end"][at], 0), value["old_end"])
    days = table.days[window]
    total = (
        value["prev_sum"]
        - value["old_sum"]
        + value["new_sum"]
        + (days - table.prev_days[window]) * (prev_end - old_end)
    )
    end = prev_end - old_end + value["new_end"]
    has_days = days > 0
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = total / np.where(has_days, days, 1)
    return pd.DataFrame(
        {
            "cell": key,
            "load_mean": np.where(has_days, mean, np.nan),
            "load_end": np.where(has_days, end.astype(float), np.nan),
        }
    )


def _completion_cells(facts: pd.DataFrame, windows: pd.DataFrame, portfolio_id: int):
    """``cell`` and the completion columns of every scope with an item done in ``windows``
    (dense over those scopes' windows and types), from item facts (``item_id``, ``item_type``,
    ``done``, ``flow_time_s``, ``active_s``, ``team_id``, ``value_stream_id``; sorted by item
    id, a full run's facts give the same numbers)."""
    facts = facts.sort_values("item_id", kind="stable", ignore_index=True)
    parts, pairs = [], None
    for code, (_, column) in enumerate(SCOPES):
        by = [column] if column else []
        grid = build_grid(facts, windows, by, type_names=FLOW_ITEM_TYPES)
        if not grid.size:
            continue
        pairs = pairs or completed_pairs(facts, grid)  # the same windows and types each time
        values = completion_cells(facts, grid, pairs)
        values.update(distribution_cells(values["velocity"], grid, None))
        _, n_windows, n_types = grid.shape
        flat = np.arange(grid.size)
        group = flat // (n_windows * n_types)
        if column:
            ids = grid.groups[column].to_numpy(dtype=np.int64)[group]
        else:
            ids = np.full(grid.size, portfolio_id, dtype=np.int64)
        keep = ids != NO_SCOPE
        scope = _scope_keys(np.full(grid.size, code), ids)
        parts.append(
            pd.DataFrame(
                {
                    "cell": _cell(scope, flat // n_types % n_windows, flat % n_types)[keep],
                    **{name: values[name][keep] for name in _COMPLETION},
                }
            )
        )
    if not parts:  # nothing done in these windows
        empty = {name: np.zeros(0) for name in _COMPLETION}
        return pd.DataFrame({"cell": np.zeros(0, dtype=np.int64), **empty}).astype(
            {"velocity": np.int64}
        )
    return pd.concat(parts, ignore_index=True)


def _done_ns(column) -> np.ndarray:
    values = pd.to_datetime(pd.Series(column), utc=True).dt.tz_localize(None)
    return values.dt.as_unit("ns").to_numpy().view(np.int64)


def _same_floats(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return (a == b) | (np.isnan(a) & np.isnan(b))


def affected_units(
    old: pd.DataFrame, new: pd.DataFrame, windows: pd.DataFrame, *, portfolio_id: int
) -> np.ndarray:
    """The units (``scope key << 16 | window position`` in ``windows``) whose completion columns
    the changed items can move: for an item whose done, type, flow time or active time changed,
    every scope of its old and its new facts in the windows holding its old and its new done;
    for any other, the scopes of a kind whose id it changed (a team moved to another value
    stream moves its items' value-stream units only). ``old``: the stored facts (indexed by item
    id; ``item_type``, ``done``, ``flow_time_s``, ``active_s``, ``team_id``, ``value_stream_id``,
    missing ids nullable); ``new``: the facts now (``item_id`` and the same columns, NO_SCOPE
    for none). Every other unit keeps the items it had with the values they had: the previous
    run's completion columns are still right there."""
    ids = np.union1d(old.index.to_numpy(np.int64), new["item_id"].to_numpy(np.int64))
    was = old.reindex(ids)
    now = new.set_index("item_id").reindex(ids)
    was_done, now_done = _done_ns(was["done"]), _done_ns(now["done"])
    same = (
        (was_done == now_done)
        & (was["item_type"].astype(object).to_numpy() == now["item_type"].astype(object).to_numpy())
        & _same_floats(
            was["flow_time_s"].to_numpy(float, na_value=np.nan),
            now["flow_time_s"].to_numpy(float, na_value=np.nan),
        )
        & _same_floats(
            was["active_s"].to_numpy(float, na_value=np.nan),
            now["active_s"].to_numpy(float, na_value=np.nan),
        )
    )
    units = [np.zeros(0, dtype=np.int64)]
    for code, (_, column) in enumerate(SCOPES):
        if column:
            was_id, now_id = (
                pd.to_numeric(frame[column])
                .astype("Int64")
                .fillna(NO_SCOPE)
                .to_numpy(dtype=np.int64, na_value=NO_SCOPE)
                for frame in (was, now)
            )
        else:
            was_id = now_id = np.full(len(ids), portfolio_id, dtype=np.int64)
        moved = ~same | (was_id != now_id)
        for done, scope_id in ((was_done, was_id), (now_done, now_id)):
            rows = np.flatnonzero(moved & (done != NAT_NS) & (scope_id != NO_SCOPE))
            item, window = moments_in_windows(done[rows], windows)
            scope = _scope_keys(np.full(len(item), code), scope_id[rows][item])
            units.append(scope << 16 | window)
    return np.unique(np.concatenate(units))


def unit_spans(
    units: np.ndarray, fresh: np.ndarray, windows: pd.DataFrame
) -> tuple[list, list[tuple[str, list[int], list]]]:
    """Where the facts of ``units`` (and of every scope in the windows ``fresh``: positions in
    ``windows``) are: the closed spans where every item done counts (windows of a portfolio
    unit or fresh), and arms (``team_id`` / ``value_stream_id``, ids, spans) for the teams and
    value streams of the other units, those with the same windows in one arm."""
    starts, ends = window_bounds(windows)
    scope, window = units >> 16, units & 0xFFFF
    kind = scope >> 40

    def spans(positions) -> list:
        merged: list[list[int]] = []
        for start, end in sorted({(int(starts[w]), int(ends[w])) for w in positions}):
            if merged and start <= merged[-1][1]:
                merged[-1][1] = max(merged[-1][1], end)
            else:
                merged.append([start, end])
        return [
            (pd.Timestamp(a, tz="UTC").to_pydatetime(), pd.Timestamp(b, tz="UTC").to_pydatetime())
            for a, b in merged
        ]

    everything = set(window[kind == 2].tolist()) | set(np.asarray(fresh).tolist())
    arms = []
    for code, (_, column) in enumerate(SCOPES[:2]):
        by_windows: dict[tuple, list[int]] = {}
        mine = (kind == code) & ~np.isin(window, list(everything))
        for scope_id in np.unique(scope[mine]):
            held = tuple(sorted(set(window[mine & (scope == scope_id)].tolist())))
            by_windows.setdefault(held, []).append(int(scope_id & ((1 << 40) - 1)))
        arms += [(str(column), ids, spans(held)) for held, ids in by_windows.items()]
    return spans(everything), arms


def _carried_completion(
    table: _Windows, stored: pd.DataFrame, *, skip: np.ndarray, n_windows: int
) -> pd.DataFrame:
    """``cell`` and the completion columns of every type of each unit (scope, window among the
    first ``n_windows``) with a stored row, but those of the units ``skip``: the stored values
    (a type without a row has none done: velocity 0, share 0 where the unit has completions)."""
    window = table.positions(stored["grain"], start_ns(stored["window_start"]))
    unit = np.where(window >= 0, _stored_scope(stored) << 16 | np.maximum(window, 0), -1)
    keep = (window >= 0) & (window < n_windows) & ~np.isin(unit, skip)
    rows = stored[keep]
    cell = unit[keep] << 3 | _codes(rows["item_type"], TYPES)
    cell, first = np.unique(cell, return_index=True)
    rows = rows.iloc[first]
    units = np.unique(cell >> 3)
    dense = (units[:, None] << 3 | np.arange(len(TYPES))[None, :]).reshape(-1)
    index = pd.Index(cell)
    found = index.get_indexer(dense)
    at = np.maximum(found, 0)
    out: dict[str, np.ndarray] = {"cell": dense}
    velocity = rows["velocity"].to_numpy(np.int64)
    out["velocity"] = np.where(found >= 0, velocity[at], 0)
    for name in _COMPLETION[1:]:
        values = rows[name].to_numpy(float)
        out[name] = np.where(found >= 0, values[at], np.nan)
    all_velocity = out["velocity"].reshape(-1, len(TYPES))[:, -1]
    share = out["share"].reshape(-1, len(TYPES))
    missing = (found < 0).reshape(-1, len(TYPES))
    fill = np.where(all_velocity > 0, 0.0, np.nan)[:, None]
    share[missing] = np.broadcast_to(fill, share.shape)[missing]
    share[:, -1] = np.nan
    return pd.DataFrame(out)


def _window_columns(table: _Windows, scope: np.ndarray, window: np.ndarray) -> dict:
    return {
        "scope_kind": KINDS[scope >> 40],
        "scope_id": scope & ((1 << 40) - 1),
        "grain": table.grain[window],
        "window_start": table.start_ns[window].view("M8[ns]"),
        "window_end": table.end_ns[window].view("M8[ns]"),
        "label": table.label[window],
    }


def _flow_rows(table: _Windows, completion: pd.DataFrame, load: pd.DataFrame, n_out: int):
    """FlowMetric rows (:data:`FLOW_FIELDS`, ``target`` NaN) kept as a full run keeps them:
    with a completion or a non-zero load."""
    cells = np.unique(np.concatenate([completion["cell"], load["cell"]]))
    index = pd.Index(cells)
    scope, window, kind = _split(cells)
    no_load = np.where(table.days[window] > 0, 0.0, np.nan)
    found = index.get_indexer(load["cell"].to_numpy())
    load_mean, load_end = no_load.copy(), no_load.copy()
    load_mean[found] = load["load_mean"].to_numpy()
    load_end[found] = load["load_end"].to_numpy()
    rows = {
        name: _scatter(index, completion["cell"].to_numpy(), completion[name].to_numpy(), np.nan)
        for name in _COMPLETION[1:]
    }
    velocity = _scatter(index, completion["cell"].to_numpy(), completion["velocity"].to_numpy())
    keep = (velocity > 0) | (np.nan_to_num(load_mean) > 0) | (np.nan_to_num(load_end) > 0)
    keep &= window < n_out
    frame = pd.DataFrame(
        {
            **_window_columns(table, scope, window),
            "item_type": TYPES[kind],
            "velocity": velocity.astype(np.int64),
            **rows,
            "load_mean": load_mean,
            "load_end": load_end,
            "target": np.nan,
        }
    )
    return frame[keep].reset_index(drop=True)[FLOW_FIELDS]


def _status_rows(
    table: _Windows, stored: pd.DataFrame, old: pd.DataFrame, new: pd.DataFrame
) -> pd.DataFrame:
    """StatusTime rows (:data:`STATUS_FIELDS`): the stored rows minus the changed items' old
    contributions plus their new ones (stored holds every row of each cell it covers); rows
    left with no item are gone, shares come from each cell's total."""
    window = table.positions(stored["grain"], start_ns(stored["window_start"]))
    known = window >= 0
    parts = [
        pd.DataFrame(
            {
                "scope": _stored_scope(stored)[known],
                "window": window[known],
                "status": stored["status"].to_numpy(dtype=object)[known],
                "state": _codes(stored["flow_state"], STATES)[known],
                "items": stored["items"].to_numpy(np.int64)[known],
                "time_us": stored["time_us"].to_numpy(np.int64)[known],
            }
        ),
        old,
        new,
    ]
    sign = np.repeat([1, -1, 1], [len(p) for p in parts])
    rows = pd.concat(parts, ignore_index=True)
    scope_pos, scopes = pd.factorize(rows["scope"].to_numpy(np.int64))
    status_pos, statuses = pd.factorize(rows["status"].to_numpy(dtype=object))
    key = (
        (scope_pos.astype(np.int64) << 16 | rows["window"].to_numpy(np.int64)) << 20
        | status_pos.astype(np.int64) << 3
        | rows["state"].to_numpy(np.int64)
    )
    unique, inverse = np.unique(key, return_inverse=True)
    sums = {}
    for name in ("items", "time_us"):
        values = rows[name].to_numpy(np.int64)
        plus = exact_bincount(inverse[sign > 0], values[sign > 0], len(unique))
        minus = exact_bincount(inverse[sign < 0], values[sign < 0], len(unique))
        sums[name] = plus - minus
    keep = sums["items"] > 0
    unique, items, time_us = unique[keep], sums["items"][keep], sums["time_us"][keep]
    cell_codes, _ = pd.factorize(unique >> 20)
    totals = exact_bincount(cell_codes, time_us, cell_codes.max() + 1 if len(cell_codes) else 0)
    scope = np.asarray(scopes, dtype=np.int64)[unique >> 36]
    window = (unique >> 20) & 0xFFFF
    return pd.DataFrame(
        {
            **_window_columns(table, scope, window),
            "status": np.asarray(statuses, dtype=object)[(unique >> 3) & 0x1FFFF],
            "flow_state": STATES[unique & 7],
            "items": items,
            "time_s": time_us / MICROS_PER_S,
            "time_us": time_us,
            "share": status_shares(time_us, totals[cell_codes]),
        }
    )[STATUS_FIELDS]


def carried_rows(
    *,
    windows: pd.DataFrame,
    anchor: pd.DataFrame,
    stored_flow: pd.DataFrame,
    stored_status: pd.DataFrame,
    old_transitions: pd.DataFrame,
    new_transitions: pd.DataFrame,
    done_facts: pd.DataFrame,
    affected: np.ndarray,
    fresh: np.ndarray,
    prev_as_of: datetime,
    as_of: datetime,
    tz: str,
    portfolio_id: int,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The FlowMetric and StatusTime rows (``target`` NaN) of every scope in the rewritten
    ``windows``, as a full run at ``as_of`` computes them.

    ``anchor``: the week window holding ``prev_as_of``; ``stored_flow``: the previous run's
    FlowMetric rows (scope_kind, scope_id, grain, window_start, item_type, load_mean, load_end)
    of ``windows`` and ``anchor``; ``stored_status``: its StatusTime rows (…, status,
    flow_state, items, time_us) of ``windows``; ``old_transitions`` and ``new_transitions``: the
    changed items' histories as the previous run digested them and now; ``done_facts``: the
    facts now (unchanged items' stored ones, changed items' new ones) of every item done in
    each unit of ``affected`` (:func:`affected_units`) and in the windows ``fresh`` (positions
    in ``windows``: not published by the previous run), whose completion columns are computed;
    every other unit's are the stored ones (``stored_flow`` with its completion columns)."""
    both = pd.concat([windows, anchor], ignore_index=True)
    both = both.drop_duplicates(["grain", "window_start"], ignore_index=True)
    prev_ns, now_ns = pd.Timestamp(prev_as_of).value, pd.Timestamp(as_of).value
    table = _Windows.of(both, prev_as_of_ns=prev_ns, as_of_ns=now_ns, tz=tz)
    anchor_at = int(table.positions(anchor["grain"], start_ns(anchor["window_start"]))[0])
    old = load_contribution(
        old_transitions, both, as_of=prev_as_of, tz=tz, portfolio_id=portfolio_id
    )
    new = load_contribution(new_transitions, windows, as_of=as_of, tz=tz, portfolio_id=portfolio_id)
    load = _load_cells(table, stored_flow, old, new, anchor=anchor_at)
    computed = _completion_cells(done_facts, windows, portfolio_id)
    unit = computed["cell"].to_numpy() >> 3
    computed = computed[np.isin(unit, affected) | np.isin(unit & 0xFFFF, fresh)]
    skip = np.union1d(np.unique(computed["cell"].to_numpy() >> 3), affected)
    carried = _carried_completion(table, stored_flow, skip=skip, n_windows=len(windows))
    carried = carried[~np.isin(carried["cell"].to_numpy() >> 3 & 0xFFFF, fresh)]
    completion = pd.concat([computed, carried], ignore_index=True)
    flow = _flow_rows(table, completion, load, len(windows))
    status = _status_rows(
        table,
        stored_status,
        status_contribution(old_transitions, windows, as_of=prev_as_of, portfolio_id=portfolio_id),
        status_contribution(new_transitions, windows, as_of=as_of, portfolio_id=portfolio_id),
    )
    return flow, status
