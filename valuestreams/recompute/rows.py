"""The rows a recompute publishes, computed from frames with the pure metrics (no Django, no clock).

Each function returns a DataFrame whose columns are the fields of one precomputed table
(:class:`~valuestreams.models.FlowMetric`, :class:`~valuestreams.models.StatusTime`,
:class:`~valuestreams.models.WorkItemFact`; the DoraMetric rows are
:mod:`valuestreams.recompute.dora`'s), so publishing is a COPY of the frame. Scopes are ``team`` (column ``team_id``), ``value_stream``
(``value_stream_id``) and ``portfolio``; items without a team (scope id -1) count only in the
portfolio.

Flow rows are **sparse**: a (scope, window, item type) row exists when the cell has a completion
or a non-zero load; a missing row means velocity 0 and load 0. That keeps a row's existence a
property of the data in its own window, so an incremental recompute that rewrites only the
windows touched by a change publishes exactly the rows a full recompute would.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np
import pandas as pd

from valuestreams.metrics.flow_completion import completion_cells, distribution_cells
from valuestreams.metrics.flow_facts import (
    FLOW_ITEM_TYPES,
    facts_frame,
    item_arrays,
    status_rows,
)
from valuestreams.metrics.flow_load import load_cells
from valuestreams.metrics.flow_status import time_in_status_by_scope
from valuestreams.metrics.flow_windows import build_grid, period_windows

WEEKS = 104
MONTHS = 24
NO_SCOPE = -1
SCOPES: tuple[tuple[str, str | None], ...] = (
    ("team", "team_id"),
    ("value_stream", "value_stream_id"),
    ("portfolio", None),
)
WINDOW_FIELDS = ["scope_kind", "scope_id", "grain", "window_start", "window_end", "label"]
FLOW_FIELDS = [
    *WINDOW_FIELDS,
    "item_type",
    "velocity",
    "flow_time_p50_s",
    "flow_time_p85_s",
    "flow_time_p95_s",
    "flow_time_mean_s",
    "flow_efficiency",
    "load_mean",
    "load_end",
    "share",
    "target",
]
# the FlowMetric columns computed from the items done in a window
FLOW_COMPLETION = [
    *FLOW_FIELDS[FLOW_FIELDS.index("velocity") : FLOW_FIELDS.index("load_mean")],
    "share",
]
STATUS_FIELDS = [*WINDOW_FIELDS, "status", "flow_state", "items", "time_s", "time_us", "share"]
FACT_FIELDS = [
    "item_id",
    "item_type",
    "state",
    "start",
    "done",
    "canceled_at",
    "flow_time_s",
    "active_s",
    "wait_s",
    "reopen_count",
    "truncated",
    "done_without_start",
    "unmapped_count",
    "unmapped_type_count",
    "team_id",
    "value_stream_id",
    "history_rows",
    "history_digest",
]


@dataclass
class History:
    """Raw status changes as arrays sorted by (item, time, seq): codes index ``statuses``/``types``
    (what :func:`valuestreams.recompute.read.read_history` returns)."""

    item_id: np.ndarray
    at_us: np.ndarray
    seq: np.ndarray
    status: np.ndarray
    source_type: np.ndarray
    blocked: np.ndarray
    statuses: list[str]
    types: list[str]

    def __len__(self) -> int:
        return len(self.item_id)

    def rows(self, keep: np.ndarray) -> History:
        """The rows ``keep`` selects (a mask or positions), with the same codes."""
        return History(
            self.item_id[keep],
            self.at_us[keep],
            self.seq[keep],
            self.status[keep],
            self.source_type[keep],
            self.blocked[keep],
            statuses=self.statuses,
            types=self.types,
        )


def report_windows(
    *, start: datetime | None, as_of: datetime, tz: str, grains: Sequence[str] = ("week", "month")
) -> pd.DataFrame:
    """The windows a recompute stores: the last 104 ISO weeks and 24 calendar months of ``tz`` up
    to ``as_of`` (the last one in progress), none before the week / month holding ``start``.

    Columns ``grain``, ``window`` (label), ``window_start``, ``window_end`` (UTC), weeks first.
    """
    as_of_ts = pd.Timestamp(as_of)
    frames = []
    if start is None or pd.Timestamp(start) > as_of_ts:
        return period_windows(as_of_ts, as_of_ts, grain="week", tz=tz)
    local = as_of_ts.tz_convert(tz)
    earliest = {
        "week": as_of_ts - pd.Timedelta(weeks=WEEKS - 1),
        "month": (local.normalize().replace(day=1) - pd.DateOffset(months=MONTHS - 1)).tz_convert(
            "UTC"
        ),
    }
    for grain in grains:
        first = max(pd.Timestamp(start), earliest[grain])
        frames.append(period_windows(first, as_of_ts + pd.Timedelta(1, "ns"), grain=grain, tz=tz))
    return pd.concat(frames, ignore_index=True)


# --- flow ----------------------------------------------------------------------------------------


@dataclass
class FlowRows:
    """What the flow part of a recompute publishes."""

    facts: pd.DataFrame
    flow: pd.DataFrame
    status: pd.DataFrame
    # per table, the (primary keys, row hashes) of the stored rows the run covers when the run
    # has read them already (publishing then compares against these instead of reading them)
    stored: dict[str, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)


def naive_utc(column: pd.Series) -> np.ndarray:
    return column.dt.tz_convert("UTC").dt.tz_localize(None).to_numpy()


def _window_fields(frame: pd.DataFrame, kind: str, column: str | None, portfolio_id: int):
    scope_id = frame[column].to_numpy(dtype=np.int64) if column else portfolio_id
    return {
        "scope_kind": kind,
        "scope_id": scope_id,
        "grain": frame["grain"].to_numpy(),
        "window_start": naive_utc(frame["window_start"]),
        "window_end": naive_utc(frame["window_end"]),
        "label": frame["window"].to_numpy(),
    }


def flow_rows(
    transitions: pd.DataFrame,
    *,
    windows: pd.DataFrame,
    as_of: datetime,
    tz: str,
    portfolio_id: int,
    digests: pd.DataFrame | None = None,
    scopes: Sequence[tuple[str, str | None]] = SCOPES,
) -> FlowRows:
    """Item facts, flow metrics and time in status of every scope and window, as table rows.

    ``digests`` (see :func:`item_digests`) complete the fact rows. Targets are not known here
    (``target`` is NaN).
    """
    rows = status_rows(transitions, as_of=as_of)
    facts = facts_frame(rows, item_arrays(rows))
    flow_parts = []
    for kind, column in scopes:
        by = [column] if column else []
        grid = build_grid(facts, windows, by, type_names=FLOW_ITEM_TYPES)
        cells = completion_cells(facts, grid)
        cells.update(distribution_cells(cells["velocity"], grid, None))
        cells.update(load_cells(rows, grid, tz=tz))
        frame = grid.frame()
        keep = (cells["velocity"] > 0) | (np.nan_to_num(cells["load_mean"]) > 0)
        keep |= np.nan_to_num(cells["load_end"]) > 0
        if column:
            keep &= frame[column].to_numpy() != NO_SCOPE
        frame = frame[keep]
        flow_parts.append(
            pd.DataFrame(
                {
                    **_window_fields(frame, kind, column, portfolio_id),
                    "item_type": frame["item_type"].astype(str).to_numpy(),
                    **{f: cells[f][keep] for f in FLOW_FIELDS[7:-1] if f in cells},
                    "target": np.nan,
                }
            )
        )
        del grid, cells, frame, keep  # before the next scope's grid is built
    del rows
    # time in status first: its working set peaks while the flow parts are not concatenated yet
    status = status_time_rows(
        transitions, windows=windows, as_of=as_of, portfolio_id=portfolio_id, scopes=scopes
    )
    return FlowRows(
        facts=fact_rows(facts, digests),
        flow=pd.concat(flow_parts, ignore_index=True)[FLOW_FIELDS],
        status=status,
    )


def status_time_rows(
    transitions: pd.DataFrame,
    *,
    windows: pd.DataFrame,
    as_of: datetime,
    portfolio_id: int,
    scopes: Sequence[tuple[str, str | None]] = SCOPES,
) -> pd.DataFrame:
    """StatusTime rows (:data:`STATUS_FIELDS`) of every scope and window: time in each status of
    the items done in the window, all types together."""
    status_parts = []
    by_scope = time_in_status_by_scope(
        transitions,
        windows,
        as_of=as_of,
        scopes=[[column] if column else [] for _, column in scopes],
    )
    for (kind, column), spent in zip(scopes, by_scope, strict=True):
        spent = spent[spent["item_type"] == "All"]
        if column:
            spent = spent[spent[column] != NO_SCOPE]
        status_parts.append(
            pd.DataFrame(
                {
                    **_window_fields(spent, kind, column, portfolio_id),
                    "status": spent["status"].astype(str).to_numpy(),
                    "flow_state": spent["flow_state"].astype(str).to_numpy(),
                    "items": spent["items"].to_numpy(),
                    "time_s": spent["time_s"].to_numpy(),
                    "time_us": spent["time_us"].to_numpy(),
                    "share": spent["share"].to_numpy(),
                }
            )
        )
    return pd.concat(status_parts, ignore_index=True)[STATUS_FIELDS]


def fact_rows(facts: pd.DataFrame, digests: pd.DataFrame | None) -> pd.DataFrame:
    """WorkItemFact rows (:data:`FACT_FIELDS`) of item facts, completed by ``digests``."""
    out = facts.assign(
        item_type=facts["item_type"].astype(str),
        state=facts["state"].astype(str),
        team_id=facts["team_id"].where(facts["team_id"] != NO_SCOPE).astype("Int64"),
        value_stream_id=facts["value_stream_id"]
        .where(facts["value_stream_id"] != NO_SCOPE)
        .astype("Int64"),
    )
    if digests is not None:
        out = out.merge(digests, on="item_id", how="left")
    else:
        out = out.assign(history_rows=0, history_digest=0, unmapped_type_count=0)
    return out[FACT_FIELDS].reset_index(drop=True)


# --- history digests ------------------------------------------------------------------------------

_MASK = np.uint64(0xFFFFFFFFFFFFFFFF)


def name_hashes(names: Sequence[str]) -> np.ndarray:
    return np.array(
        [int.from_bytes(hashlib.blake2b(n.encode(), digest_size=8).digest()) for n in names],
        dtype=np.uint64,
    ).reshape(-1)


def row_hashes(
    at_us: np.ndarray,
    seq: np.ndarray,
    status: np.ndarray,
    source_type: np.ndarray,
    blocked: np.ndarray,
    *,
    statuses: Sequence[str],
    types: Sequence[str],
) -> np.ndarray:
    """A 64-bit hash of each status change's (time, seq, status, type, blocked)."""
    with np.errstate(over="ignore"):
        h = at_us.astype(np.uint64) * np.uint64(0x9E3779B97F4A7C15)
        h ^= seq.astype(np.uint64) * np.uint64(0xC2B2AE3D27D4EB4F)
        if len(h):
            h ^= name_hashes(statuses)[status]
            h ^= name_hashes(types)[source_type] * np.uint64(3)
        h ^= blocked.astype(np.uint64) * np.uint64(0x165667B19E3779F9)
        h ^= h >> np.uint64(29)
        h *= np.uint64(0xBF58476D1CE4E5B9)
        h ^= h >> np.uint64(32)
    return h


def known_rows(history: History, as_of: datetime) -> tuple[History, np.ndarray]:
    """The rows of ``history`` stamped at or before ``as_of``, and the :func:`row_hashes` of each."""
    known = history.rows(history.at_us <= int(pd.Timestamp(as_of).value // 1000))
    hashes = row_hashes(
        known.at_us,
        known.seq,
        known.status,
        known.source_type,
        known.blocked,
        statuses=known.statuses,
        types=known.types,
    )
    return known, hashes


def item_runs(item_id: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For rows sorted by item (non-empty): the position of each item's first row, each item's
    row count, and each row's position within its item."""
    first = np.flatnonzero(np.r_[True, item_id[1:] != item_id[:-1]])
    counts = np.diff(np.r_[first, len(item_id)])
    return first, counts, np.arange(len(item_id)) - np.repeat(first, counts)


def prefix_digests(hashes: np.ndarray, position: np.ndarray) -> np.ndarray:
    """Per-row contribution to an item's order-sensitive digest (position = index within item)."""
    with np.errstate(over="ignore"):
        mixed = (hashes + position.astype(np.uint64) * np.uint64(0x94D049BB133111EB)) & _MASK
        mixed ^= mixed >> np.uint64(31)
    return mixed


def item_digests(
    item_id: np.ndarray, hashes: np.ndarray, unmapped_type: np.ndarray
) -> pd.DataFrame:
    """``item_id``, ``history_rows``, ``history_digest`` (int64) and ``unmapped_type_count`` of
    rows sorted by item (``unmapped_type``: the row's source type has no mapping)."""
    columns = ["item_id", "history_rows", "history_digest", "unmapped_type_count"]
    if not len(item_id):
        return pd.DataFrame({c: [] for c in columns}, dtype=np.int64)
    first, counts, position = item_runs(item_id)
    mixed = prefix_digests(hashes, position)
    with np.errstate(over="ignore"):
        sums = np.add.reduceat(mixed, first)
    return pd.DataFrame(
        {
            "item_id": item_id[first],
            "history_rows": counts.astype(np.int64),
            "history_digest": sums.view(np.int64),
            "unmapped_type_count": np.add.reduceat(unmapped_type.astype(np.int64), first),
        }
    )


def history_digests(
    history: History, as_of: datetime, type_is_mapped: Callable[[str], bool]
) -> pd.DataFrame:
    """:func:`item_digests` of the rows of ``history`` known at ``as_of`` (a source type is
    unmapped where ``type_is_mapped`` says so): what a run stores with each item's facts."""
    known, hashes = known_rows(history, as_of)
    unmapped = np.array([not type_is_mapped(n) for n in known.types], dtype=bool)
    flags = unmapped[known.source_type] if len(unmapped) else np.zeros(0, dtype=bool)
    return item_digests(known.item_id, hashes, flags)


def digested_history(
    history: History,
    history_rows: pd.Series,
    as_of: datetime,
    inserted: pd.Series | None = None,
) -> History:
    """The histories a previous run digested: of each item's rows known at ``as_of``, the first
    ``history_rows`` (by item id; none for an item without), leaving out, for the items in
    ``inserted``, the row at the position it gives (a row inserted since). Only right for the
    histories the planner checked: those that grew by appended rows (for them, the rows known
    at any as_of since the previous run's begin with the ones it digested) and those whose
    digest, without the inserted row, is the previous one."""
    known = history.rows(history.at_us <= int(pd.Timestamp(as_of).value // 1000))
    item = known.item_id
    if not len(item):
        return known
    first, counts, position = item_runs(item)
    limit = history_rows.reindex(item[first]).fillna(0).to_numpy(dtype=np.int64)
    skip = np.full(len(first), -1, dtype=np.int64)
    if inserted is not None and len(inserted):
        skip = inserted.reindex(item[first]).fillna(-1).to_numpy(dtype=np.int64)
    row_skip = np.repeat(skip, counts)
    keep = (position < np.repeat(limit, counts) + (row_skip >= 0)) & (position != row_skip)
    return known.rows(keep)


def merged_histories(a: History, b: History) -> History:
    """The rows of two histories of different items as one, sorted by (item, time, seq): the
    codes of ``b`` are translated into ``a``'s (its names extended by ``b``'s new ones)."""
    statuses, types = list(a.statuses), list(a.types)
    translated = []
    for names, codes in ((statuses, b.statuses), (types, b.types)):
        lookup = {n: i for i, n in enumerate(names)}
        for name in codes:
            if name not in lookup:
                lookup[name] = len(names)
                names.append(name)
        translated.append(np.array([lookup[n] for n in codes], dtype=np.int32))
    status_b = translated[0][b.status] if len(b.status) else b.status
    type_b = translated[1][b.source_type] if len(b.source_type) else b.source_type
    item = np.concatenate([a.item_id, b.item_id])
    at_us = np.concatenate([a.at_us, b.at_us])
    seq = np.concatenate([a.seq, b.seq])
    merged = History(
        item,
        at_us,
        seq,
        np.concatenate([a.status, status_b.astype(a.status.dtype)]),
        np.concatenate([a.source_type, type_b.astype(a.source_type.dtype)]),
        np.concatenate([a.blocked, b.blocked]),
        statuses=statuses,
        types=types,
    )
    return merged.rows(np.lexsort((seq, at_us, item)))


def with_targets(
    flow: pd.DataFrame, targets: pd.DataFrame, team_streams: pd.Series
) -> pd.DataFrame:
    """Fill ``target`` of flow rows from the funding allocation of the period holding each window.

    ``targets``: one row per funded value stream, period and flow-item type with
    ``value_stream_id``, ``period_start`` / ``period_end`` (naive UTC, end exclusive), ``item_type``,
    ``target`` (0..1) and ``money`` (the value stream's budget in that period). ``team_streams``
    maps team id → value stream id. Team rows take their value stream's target, portfolio rows the
    money-weighted mean over the value streams funded in that period; "All" rows and windows that
    start outside every funded period keep NaN.
    """
    if flow.empty or targets.empty:
        return flow
    kind = flow["scope_kind"].to_numpy()
    scope = flow["scope_id"].to_numpy(dtype=np.int64)
    start = flow["window_start"].to_numpy()
    item_type = flow["item_type"].to_numpy()
    stream = np.where(kind == "value_stream", scope, NO_SCOPE)
    is_team = kind == "team"
    stream[is_team] = (
        pd.Series(scope[is_team]).map(team_streams).fillna(NO_SCOPE).to_numpy(dtype=np.int64)
    )
    target = flow["target"].to_numpy(dtype=float, copy=True)
    for row in targets.itertuples(index=False):
        inside = (
            (start >= row.period_start) & (start < row.period_end) & (item_type == row.item_type)
        )
        target[inside & (stream == row.value_stream_id)] = row.target
    weighted = targets.assign(weighted=targets["target"] * targets["money"])
    portfolio_rows = kind == "portfolio"
    for (begins, ends, name), group in weighted.groupby(
        ["period_start", "period_end", "item_type"], sort=False
    ):
        money = group["money"].sum()
        if money > 0:
            inside = (start >= begins) & (start < ends) & (item_type == name)
            target[portfolio_rows & inside] = group["weighted"].sum() / money
    return flow.assign(target=target)
