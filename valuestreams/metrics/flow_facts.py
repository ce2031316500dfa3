"""Status histories → one row of flow facts per work item (pure pandas/numpy, no loops over rows).

The input contract is described in :mod:`valuestreams.metrics`. Internally the history is
reduced to a few numpy arrays sorted by item and time (:class:`StatusRows`); every per-item
quantity is then a ``searchsorted``/``cumsum`` over the positions of the rows that matter, so
memory stays at a few dozen bytes per status change.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import numpy as np
import pandas as pd

FLOW_STATES: tuple[str, ...] = ("new", "waiting", "active", "done", "canceled")
NEW, WAITING, ACTIVE, DONE, CANCELED = range(5)
FLOW_ITEM_TYPES: tuple[str, ...] = ("Feature", "Defect", "Risk", "Debt")
ALL_TYPES = "All"
UNKNOWN_TYPE = "Unknown"
TRANSITION_COLUMNS: tuple[str, ...] = (
    "item_id",
    "entered_at",
    "status",
    "flow_state",
    "unmapped",
    "blocked",
    "item_type",
)
NAT = np.iinfo(np.int64).min  # the int64 behind NaT
NS_PER_S = 1_000_000_000

FACT_COLUMNS: tuple[str, ...] = (
    "item_id",
    "item_type",
    "state",
    "blocked",
    "start",
    "done",
    "canceled_at",
    "flow_time_s",
    "active_s",
    "wait_s",
    "flow_efficiency",
    "reopen_count",
    "truncated",
    "done_without_start",
    "unmapped_count",
)


def utc_ns(moment: datetime | pd.Timestamp, *, name: str = "as_of") -> int:
    """Nanoseconds since the epoch of an aware moment; naive moments are refused."""
    stamp = pd.Timestamp(moment)
    if stamp.tzinfo is None:
        raise ValueError(f"{name} must be a timezone-aware datetime, got {moment!r}")
    return int(stamp.value)


def ns_to_utc(values: np.ndarray) -> pd.DatetimeIndex:
    """int64 nanoseconds (NaT as int64 min) → aware UTC datetimes."""
    return pd.DatetimeIndex(np.asarray(values, dtype=np.int64).view("M8[ns]"), tz="UTC")


def categorical_codes(values: pd.Series, categories: Sequence[str]) -> np.ndarray:
    """Codes of ``values`` against fixed ``categories`` (-1 for missing or unknown values)."""
    return np.asarray(pd.Categorical(values, categories=list(categories)).codes)


@dataclass(frozen=True)
class StatusRows:
    """Status changes at or before ``as_of``, as arrays sorted by item then time (ties keep input
    order). ``first``/``last`` are the row positions of each item's first and last row; ``order``
    maps a sorted row back to its position in ``frame`` (for columns read lazily, e.g. status)."""

    frame: pd.DataFrame
    order: np.ndarray
    item_id: np.ndarray
    t: np.ndarray
    state: np.ndarray
    blocked: np.ndarray
    unmapped: np.ndarray
    type_code: np.ndarray
    type_names: tuple[str, ...]
    first: np.ndarray
    last: np.ndarray
    as_of_ns: int
    extra_columns: tuple[str, ...]

    def item_frame(self, columns: Sequence[str]) -> pd.DataFrame:
        """The given item-constant columns, one row per item (value at the item's last row)."""
        if not len(self.first):
            return pd.DataFrame({c: self.frame[c].iloc[:0] for c in columns}).reset_index(drop=True)
        return self.frame[list(columns)].iloc[self.order[self.last]].reset_index(drop=True)

    def status_codes(self) -> tuple[np.ndarray, pd.Index]:
        """Source status codes per sorted row, and the status names they index."""
        if not len(self.t):
            return np.empty(0, dtype=np.int32), pd.Index([], dtype=object)
        status = pd.Categorical(self.frame["status"])
        return np.asarray(status.codes)[self.order], status.categories


def _empty_rows(frame: pd.DataFrame, as_of_ns: int) -> StatusRows:
    extra = tuple(c for c in frame.columns if c not in TRANSITION_COLUMNS)
    none = np.empty(0, dtype=np.int64)
    flags = np.empty(0, dtype=bool)
    return StatusRows(
        frame=frame,
        order=none,
        item_id=none,
        t=none,
        state=np.empty(0, dtype=np.int8),
        blocked=flags,
        unmapped=flags,
        type_code=np.empty(0, dtype=np.int8),
        type_names=FLOW_ITEM_TYPES,
        first=none,
        last=none,
        as_of_ns=as_of_ns,
        extra_columns=extra,
    )


def _sort_order(item: np.ndarray, t: np.ndarray, keep: np.ndarray) -> np.ndarray:
    """Positions of the kept rows sorted by (item, time); already-sorted input skips the sort."""
    same_item = item[1:] == item[:-1]
    if bool(np.all((item[1:] > item[:-1]) | (same_item & (t[1:] >= t[:-1])))):
        return np.flatnonzero(keep)
    order = np.lexsort((t, item))
    return order[keep[order]]


def _type_codes(values: pd.Series) -> tuple[np.ndarray, tuple[str, ...]]:
    seen = pd.Categorical(values).categories
    names = list(FLOW_ITEM_TYPES) + sorted(str(x) for x in seen if x not in FLOW_ITEM_TYPES)
    codes = categorical_codes(values, names)
    if (codes < 0).any():
        names.append(UNKNOWN_TYPE)
        codes = np.where(codes < 0, len(names) - 1, codes).astype(codes.dtype)
    return codes, tuple(names)


def status_rows(transitions: pd.DataFrame, *, as_of: datetime | pd.Timestamp) -> StatusRows:
    """Validate ``transitions`` and reduce it to sorted arrays of the rows at or before ``as_of``.

    Raises ``ValueError`` (naming the column) for missing columns, naive times or unknown flow
    states; an empty frame never raises. Rows without a time are ignored.
    """
    as_of_ns = utc_ns(as_of)
    if transitions.empty:
        return _empty_rows(transitions, as_of_ns)
    missing = [c for c in TRANSITION_COLUMNS if c not in transitions.columns]
    if missing:
        raise ValueError(f"transitions lacks column(s): {', '.join(missing)}")
    entered = transitions["entered_at"]
    if not isinstance(entered.dtype, pd.DatetimeTZDtype):
        raise ValueError("entered_at must hold timezone-aware datetimes (UTC)")
    t_all = np.asarray(entered.dt.tz_convert("UTC").dt.as_unit("ns").array.asi8)
    item_all = transitions["item_id"].to_numpy(dtype=np.int64)
    keep = (t_all != NAT) & (t_all <= as_of_ns)
    order = _sort_order(item_all, t_all, keep)

    state_all = categorical_codes(transitions["flow_state"], FLOW_STATES)
    if (state_all < 0).any():
        bad = transitions["flow_state"][state_all < 0].unique()
        raise ValueError(f"flow_state must be one of {FLOW_STATES}, got {list(bad)[:5]}")
    type_all, type_names = _type_codes(transitions["item_type"])
    item = item_all[order]
    n = len(order)
    is_first = np.ones(n, dtype=bool)
    is_first[1:] = item[1:] != item[:-1]
    first = np.flatnonzero(is_first)
    last = np.append(first[1:] - 1, n - 1) if n else first
    return StatusRows(
        frame=transitions,
        order=order,
        item_id=item,
        t=t_all[order],
        state=state_all[order],
        blocked=transitions["blocked"].to_numpy(dtype=bool, na_value=False)[order],
        unmapped=transitions["unmapped"].to_numpy(dtype=bool, na_value=False)[order],
        type_code=type_all[order],
        type_names=type_names,
        first=first,
        last=last,
        as_of_ns=as_of_ns,
        extra_columns=tuple(c for c in transitions.columns if c not in TRANSITION_COLUMNS),
    )


def count_per_item(positions: np.ndarray, rows: StatusRows) -> np.ndarray:
    """How many of the sorted row ``positions`` fall in each item's rows."""
    return np.searchsorted(positions, rows.last, side="right") - np.searchsorted(
        positions, rows.first, side="left"
    )


def _sum_per_item(positions: np.ndarray, values: np.ndarray, rows: StatusRows) -> np.ndarray:
    """Exact int64 sum of ``values`` (one per sorted row position) within each item's rows."""
    cumulative = np.concatenate(([0], np.cumsum(values, dtype=np.int64)))
    hi = np.searchsorted(positions, rows.last, side="right")
    lo = np.searchsorted(positions, rows.first, side="left")
    return cumulative[hi] - cumulative[lo]


def next_times(rows: StatusRows, positions: np.ndarray) -> np.ndarray:
    """When the rows at ``positions`` end: the item's next row, or ``as_of`` for its last row."""
    following = np.minimum(positions + 1, max(len(rows.t) - 1, 0))
    is_last = np.zeros(len(rows.t), dtype=bool)
    is_last[rows.last] = True
    return np.where(is_last[positions], rows.as_of_ns, rows.t[following])


@dataclass(frozen=True)
class ItemArrays:
    """Per-item arrays behind :func:`item_flow_facts` (int64 ns; NaT as int64 min).

    ``start_row`` is the first waiting/active row (-1 if none); ``run_row`` the first row of the
    trailing run of the item's current flow state (its final done/cancel entry)."""

    start_row: np.ndarray
    run_row: np.ndarray
    state: np.ndarray
    start: np.ndarray
    done: np.ndarray
    canceled_at: np.ndarray
    active: np.ndarray
    type_code: np.ndarray


def item_arrays(rows: StatusRows) -> ItemArrays:
    """Compute start, final done/cancel, active time and type at completion for every item."""
    state, t = rows.state, rows.t
    # the first waiting/active row at or after each item's first row; the sentinel past the
    # last row stands for "none", so items that never started (or a frame where none did)
    # need no special case
    started = np.append(np.flatnonzero((state == WAITING) | (state == ACTIVE)), len(t))
    candidate = started[np.searchsorted(started, rows.first, side="left")]
    has_start = candidate <= rows.last
    start_row = np.where(has_start, candidate, -1)

    entered = np.ones(len(t), dtype=bool)
    entered[1:] = state[1:] != state[:-1]
    entered[rows.first] = True
    entries = np.flatnonzero(entered)
    run_row = entries[np.searchsorted(entries, rows.last, side="right") - 1] if len(t) else entries

    now = state[rows.last]
    is_done = now == DONE
    run_t = t[run_row]
    done = np.where(is_done, run_t, NAT)
    canceled_at = np.where(now == CANCELED, run_t, NAT)
    start = np.where(has_start, t[np.maximum(start_row, 0)] if len(t) else start_row, NAT)

    # Active = unblocked active rows; for a done item all of them lie inside [start, done].
    working = np.flatnonzero((state == ACTIVE) & ~rows.blocked)
    active = _sum_per_item(working, next_times(rows, working) - t[working], rows)
    type_code = np.where(is_done, rows.type_code[run_row], rows.type_code[rows.last])
    return ItemArrays(start_row, run_row, now, start, done, canceled_at, active, type_code)


def facts_frame(rows: StatusRows, arrays: ItemArrays) -> pd.DataFrame:
    is_done = arrays.state == DONE
    has_start = arrays.start != NAT
    flow_ns = np.where(is_done & has_start, arrays.done - arrays.start, 0)
    active_ns = np.where(has_start, arrays.active, 0)
    flow_s = np.where(is_done, flow_ns / NS_PER_S, np.nan)
    active_s = np.where(is_done, active_ns / NS_PER_S, np.nan)
    with np.errstate(invalid="ignore", divide="ignore"):
        efficiency = np.where(flow_s > 0, active_s / flow_s, np.nan)
    state = rows.state
    after_done = np.zeros(len(state), dtype=bool)
    after_done[1:] = (state[:-1] == DONE) & (state[1:] <= ACTIVE)
    after_done[rows.first] = False
    columns = {
        "item_id": rows.item_id[rows.first],
        **rows.item_frame(rows.extra_columns).to_dict("series"),
        "item_type": pd.Categorical.from_codes(arrays.type_code, categories=rows.type_names),
        "state": pd.Categorical.from_codes(arrays.state, categories=FLOW_STATES),
        "blocked": rows.blocked[rows.last],
        "start": ns_to_utc(arrays.start),
        "done": ns_to_utc(arrays.done),
        "canceled_at": ns_to_utc(arrays.canceled_at),
        "flow_time_s": flow_s,
        "active_s": active_s,
        "wait_s": flow_s - active_s,
        "flow_efficiency": efficiency,
        "reopen_count": count_per_item(np.flatnonzero(after_done), rows).astype(np.int64),
        # a history starting mid-way; one created straight in done (or canceled) is not
        "truncated": (state[rows.first] == WAITING) | (state[rows.first] == ACTIVE),
        "done_without_start": is_done & ~has_start,
        "unmapped_count": count_per_item(np.flatnonzero(rows.unmapped), rows).astype(np.int64),
    }
    return pd.DataFrame(columns)


def item_flow_facts(transitions: pd.DataFrame, *, as_of: datetime | pd.Timestamp) -> pd.DataFrame:
    """One row per work item with a status change at or before ``as_of`` (rows after it ignored).

    Columns (sorted by ``item_id``):

    - ``item_id`` (int64) and every extra group column of ``transitions`` (e.g. ``team_id``),
      taken from the item's last row;
    - ``item_type`` (category): the type in effect when the item entered its final done, else its
      current type;
    - ``state`` (category of new/waiting/active/done/canceled) and ``blocked`` (bool) as of as_of;
    - ``start`` (datetime64[ns, UTC]): first time it entered waiting or active, NaT if never;
    - ``done``: the LAST time it entered done, only if it is done as of as_of (else NaT);
    - ``canceled_at``: the last time it entered canceled, only if canceled as of as_of;
    - ``flow_time_s``, ``active_s``, ``wait_s`` (float seconds, NaN unless done):
      ``done - start`` split into unblocked active time and the rest (waiting, blocked, back in
      new, in an earlier done before a reopen, canceled in between); done without start → 0;
    - ``flow_efficiency``: ``active_s / flow_time_s`` (NaN when not done or flow time is 0);
    - ``reopen_count`` (int64): times the item left done for new/waiting/active;
    - ``truncated`` (bool): its first known row is waiting or active (history starts mid-way;
      an item created directly in done or canceled is not truncated);
    - ``done_without_start`` (bool): done but never waiting/active (flow time 0);
    - ``unmapped_count`` (int64): its status changes into statuses without a mapping.
    """
    rows = status_rows(transitions, as_of=as_of)
    return facts_frame(rows, item_arrays(rows))
