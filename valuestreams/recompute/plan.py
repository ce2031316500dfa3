"""Planning an incremental recompute: which items to read and which windows of which scopes to
rewrite so that the published rows equal a full recompute's (see :func:`plan_incremental`). What
planning reads of the changed items is kept apart (:class:`~valuestreams.recompute.read.ChangedItems`)
for the run to reuse; the plan itself is decisions: windows, scopes, items and whether the previous
rows are carried forward."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime

import numpy as np
import pandas as pd
from psycopg import sql

from portfolio.models import Portfolio
from valuestreams.models import MetricRun
from valuestreams.recompute import carry, read
from valuestreams.recompute import rows as rr


@dataclass
class Plan:
    """What an incremental run reads and rewrites.

    ``read_items``: items whose histories are read (every item whose influence — from its first
    start to its done/cancel, or open — reaches a rewritten window); ``changed_items``: items whose
    facts are rewritten; ``all_scope_windows``: (grain, window_start) rewritten for every scope
    (windows new since the last run, and those holding the time between the two as_of, where
    every open item's load moved); ``changed_windows``: rewritten only for the teams and value
    streams of the changed items that touch each of them (``window_scopes``: window → (team ids,
    value stream ids)) and the portfolio. ``carry``: the previous rows are carried forward (see
    :mod:`valuestreams.recompute.carry`) and only the changed items' histories are read, those
    planning read (``changed``); ``inserted``: for the changed items whose history is the
    previous one with one row inserted (a late event), the position of that row among the
    item's rows known now (the others' previous history is the first ``history_rows`` rows);
    ``rebuilt``: the previous histories of the changed items whose old rows are not among the
    rows known now, rebuilt from what the previous run read and what was superseded since."""

    previous: MetricRun
    changed_items: np.ndarray
    windows: pd.DataFrame
    changed: read.ChangedItems
    read_items: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=np.int64))
    all_scope_windows: set[tuple[str, pd.Timestamp]] = field(default_factory=set)
    changed_windows: set[tuple[str, pd.Timestamp]] = field(default_factory=set)
    window_scopes: dict[tuple[str, pd.Timestamp], tuple[set[int], set[int]]] = field(
        default_factory=dict
    )
    carry: bool = False
    inserted: pd.Series = field(default_factory=lambda: pd.Series([], dtype=np.int64))
    rebuilt: rr.History | None = None

    @property
    def keys(self) -> set[tuple[str, pd.Timestamp]]:
        """Every (grain, window_start) the run rewrites for some scope."""
        return self.all_scope_windows | self.changed_windows

    @property
    def computed_windows(self) -> pd.DataFrame:
        """The windows the run computes (those of :attr:`keys`), in the run's order."""
        return chosen(self.windows, self.keys)


def plan_incremental(
    portfolio: Portfolio,
    *,
    as_of: datetime,
    item_ids: Iterable[int] = (),
    team_ids: Iterable[int] = (),
) -> Plan | None:
    """The plan of an incremental run, or None when only a full run is right (no previous run,
    as_of earlier than the previous one, or named items that no longer exist).

    Changed items: those named, those of the named teams, those with status changes stored
    since the previous run (id above its watermark) or stamped from its as_of (included: see
    :func:`~valuestreams.recompute.read.items_with_new_rows`) to this one.
    For each, a history that only grew (digest of the old rows unchanged, same team) touches
    the windows from its first new row on plus the windows of its old and new completion; any
    other change touches every window of its old and new span, for its old and new team and
    value stream. The previous rows are carried forward (only the changed items read) when the
    previous history of every changed item that has one is known: it only grew (whatever its
    team did), one row was inserted into it (a late event), or it is rebuilt from the rows the
    previous run read that are still stored and those superseded since (rows inserted, deleted
    or rewritten in any number, the item deleted:
    :func:`~valuestreams.recompute.read.previous_histories`) with the digest stored with the
    item's facts; otherwise every item reaching the rewritten windows is read."""
    previous = MetricRun.objects.filter(portfolio=portfolio).order_by("-computed_at").first()
    if previous is None or previous.as_of > as_of or not previous.windows:
        return None
    item_ids, team_ids = {int(i) for i in item_ids}, [int(t) for t in team_ids]
    present = read.items_of_portfolio(portfolio, sorted(item_ids))
    if present != item_ids:
        return None
    changed = read.changed_item_ids(
        portfolio,
        item_ids=present,
        team_ids=team_ids,
        after_id=previous.last_status_change_id,
        after=previous.as_of,
        until=as_of,
    )
    windows = rr.report_windows(
        start=read.data_start(portfolio, as_of=as_of), as_of=as_of, tz=portfolio.time_zone
    )
    mappings = read.portfolio_mappings(portfolio)
    changes = read.read_changed_items(portfolio, changed, as_of=as_of, mappings=mappings)
    plan = Plan(previous=previous, changed_items=changed, windows=windows, changed=changes)
    plan.all_scope_windows = _windows_new_or_open(windows, previous)
    intervals, unknown, plan.inserted = _changed_intervals(changed, as_of, changes)
    plan.rebuilt, rebuilt = _rebuilt(unknown, previous, as_of, changes)
    known = len(rebuilt) == len(unknown)
    plan.window_scopes = _windows_touching(windows, intervals)
    plan.changed_windows = set(plan.window_scopes)
    plan.carry = previous.exact_sums and known and _windows_known(windows, plan.keys, previous)
    if plan.carry:
        plan.read_items = changed
    else:
        plan.read_items = read.items_reaching(portfolio, merged_spans(windows, plan.keys), changed)
    return plan


def _rebuilt(
    unknown: np.ndarray, previous: MetricRun, as_of: datetime, changes: read.ChangedItems
) -> tuple[rr.History | None, np.ndarray]:
    """For the items whose previous history is not the rows known now: the histories the
    previous run digested, rebuilt from what it read and what was superseded since, of those
    whose rebuilt history has the stored row count and digest (the others stay unknown); and
    their ids."""
    if not len(unknown):
        return None, unknown
    old = changes.old_facts.reindex(unknown)
    rows = old["history_rows"].astype("Int64")
    history = read.previous_histories(
        unknown.tolist(),
        status_change_id=previous.last_status_change_id,
        superseded_after=previous.last_superseded_id,
    )
    digested = rr.digested_history(history, rows, as_of)
    found = rr.history_digests(digested, as_of, changes.mappings.type_is_mapped)
    found = found.set_index("item_id").reindex(unknown)
    expected = rows.to_numpy(dtype=np.int64, na_value=0)
    same = (
        (expected > 0)
        & (found["history_rows"].to_numpy(dtype=np.int64, na_value=-1) == expected)
        & (
            found["history_digest"].to_numpy(dtype=np.int64, na_value=0)
            == old["history_digest"].to_numpy(dtype=np.int64, na_value=0)
        )
    )
    rebuilt = unknown[same]
    return digested.rows(np.isin(digested.item_id, rebuilt)), rebuilt


def _windows_known(windows: pd.DataFrame, keys: set, previous: MetricRun) -> bool:
    """Did the previous run publish every window of ``keys`` that began before its as_of?"""
    begun = pd.Timestamp(previous.as_of)
    for grain, start in keys:
        if start >= begun:
            continue
        first, last = previous.windows.get(grain, [None, None])
        if first is None or not pd.Timestamp(first) <= start <= pd.Timestamp(last):
            return False
    return True


def _window_keys(windows: pd.DataFrame, mask: np.ndarray) -> set[tuple[str, pd.Timestamp]]:
    chosen = windows[mask]
    return set(zip(chosen["grain"], chosen["window_start"], strict=True))


def unpublished(windows: pd.DataFrame, previous: MetricRun) -> np.ndarray:
    """Which ``windows`` the previous run did not publish (outside its span of the grain)."""
    mask = np.zeros(len(windows), dtype=bool)
    for grain in ("week", "month"):
        first, last = previous.windows.get(grain, [None, None])
        rows = (windows["grain"] == grain).to_numpy()
        if first is None:
            mask |= rows
            continue
        starts = windows["window_start"]
        mask |= rows & ((starts < pd.Timestamp(first)) | (starts > pd.Timestamp(last))).to_numpy()
    return mask


def _windows_new_or_open(windows: pd.DataFrame, previous: MetricRun) -> set:
    mask = windows["window_end"].array.asi8 > pd.Timestamp(previous.as_of).value
    return _window_keys(windows, mask | unpublished(windows, previous))


def _changed_intervals(
    changed: np.ndarray, as_of: datetime, changes: read.ChangedItems
) -> tuple[np.ndarray, bool, pd.Series]:
    """The closed ns intervals the changed items touch, with the team and value stream of each
    (rows of begin, end, team, value stream; _MISSING for none); those with old facts whose
    previous history is not the rows known now (neither its old rows unchanged, nor all but
    one row inserted since); and, for those with a row inserted, its position (by item id)."""
    old, history = changes.old_facts, changes.history
    new = changes.new_facts.set_index("item_id")
    index = pd.Index(changed)
    has_new, has_old = index.isin(new.index), index.isin(old.index)
    now = new.reindex(index)
    was = old.reindex(index)
    now_team = _scope_ids(now["team_id"].where(now["team_id"] != rr.NO_SCOPE))
    now_stream = _scope_ids(now["value_stream_id"].where(now["value_stream_id"] != rr.NO_SCOPE))
    was_team, was_stream = _scope_ids(was["team_id"]), _scope_ids(was["value_stream_id"])

    growth = _history_growth(history, as_of, old["history_rows"], old["history_digest"]).reindex(
        index
    )
    prefix = growth["prefix_digest"].to_numpy(dtype=np.int64, na_value=0)
    old_digest = was["history_digest"].to_numpy(dtype=np.int64, na_value=0)
    appended = (
        has_old
        & has_new
        & growth["enough"].to_numpy(dtype=bool, na_value=False)
        & (prefix == old_digest)
    )
    inserted = growth["inserted"].to_numpy(dtype=np.int64, na_value=-1)
    with_insert = has_old & has_new & ~appended & (inserted >= 0)
    grown = appended & (now_team == was_team) & (now_stream == was_stream)
    first_new = growth["first_new_ns"].to_numpy(dtype=np.int64, na_value=-1)
    was_done, now_done = _ns_array(was["done"]), _ns_array(now["done"])
    # each interval with the scopes it touches: a grown item kept its team and value stream; any
    # other change touches its old and its new ones
    never = np.full(len(index), _NEVER)
    parts = [np.column_stack([first_new, never, now_team, now_stream])[grown & (first_new >= 0)]]
    for done in (was_done, now_done):
        hit = grown & (done != _NAT)
        parts.append(np.column_stack([done, done, now_team, now_stream])[hit])
    for fact, present in ((was, has_old), (now, has_new)):
        begin, end = _influence(fact)
        moved = ~grown & present & (begin != _NAT)
        for team, stream in ((was_team, was_stream), (now_team, now_stream)):
            parts.append(np.column_stack([begin, end, team, stream])[moved])
    return (
        np.concatenate(parts),
        changed[has_old & ~(appended | with_insert)],
        pd.Series(inserted[with_insert], index=changed[with_insert], dtype=np.int64),
    )


_NEVER = np.iinfo(np.int64).max
_NAT = np.iinfo(np.int64).min  # NaT as int64 nanoseconds
_MISSING = np.iinfo(np.int64).min  # no team / value stream


def _scope_ids(values: pd.Series) -> np.ndarray:
    """Team / value-stream ids as int64 (_MISSING where there is none)."""
    return pd.to_numeric(values).astype("Int64").to_numpy(dtype=np.int64, na_value=_MISSING)


def _ns_array(values: pd.Series) -> np.ndarray:
    """Datetimes as int64 ns since the epoch (NaT as _NAT)."""
    stamps = pd.to_datetime(values, utc=True).dt.as_unit("ns")
    return stamps.dt.tz_localize(None).to_numpy().view(np.int64)


def _influence(facts: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """From the first start (or a done without start) to done / cancel, or open-ended (begin is
    _NAT where an item has neither start nor done)."""
    start, done, canceled = (_ns_array(facts[c]) for c in ("start", "done", "canceled_at"))
    begin = np.where(start != _NAT, start, done)
    end = np.where(done != _NAT, done, np.where(canceled != _NAT, canceled, _NEVER))
    return begin, end


def _history_growth(
    history: rr.History, as_of: datetime, old_rows: pd.Series, old_digests: pd.Series
) -> pd.DataFrame:
    """Per item (rows at or before ``as_of``): ``enough`` (it has at least ``old_rows`` rows
    now), ``prefix_digest`` of its first ``old_rows`` rows (0 when not enough),
    ``first_new_ns``, the time of the first row beyond them (-1 if none), and ``inserted``: the
    first position whose row, left out, leaves ``old_rows`` rows ahead of the rest with the
    digest ``old_digests`` (one row inserted among the old ones: a late event; -1 if none)."""
    known, hashes = rr.known_rows(history, as_of)
    item = known.item_id
    dtypes = {"enough": "boolean", "prefix_digest": "Int64", "first_new_ns": "Int64"}
    dtypes["inserted"] = "Int64"
    if not len(item):
        return pd.DataFrame({c: np.zeros(0, dtype=np.int64) for c in dtypes}).astype(dtypes)
    first, counts, position = rr.item_runs(item)
    limit = old_rows.reindex(item[first]).fillna(-1).to_numpy(dtype=np.int64)
    row_limit = np.repeat(limit, counts)
    within = position < row_limit
    at_own = rr.prefix_digests(hashes, position)  # a row's part at its own position
    mixed = np.where(within, at_own, np.uint64(0))
    with np.errstate(over="ignore"):
        sums = np.add.reduceat(mixed, first).view(np.int64)
    at_ns = known.at_us * 1000
    has_new = (limit >= 0) & (limit < counts)
    first_new = np.where(
        has_new, at_ns[np.minimum(first + np.maximum(limit, 0), len(item) - 1)], -1
    )
    enough = (limit >= 0) & (counts >= limit)
    return pd.DataFrame(
        {
            "enough": enough,
            "prefix_digest": np.where(enough, sums, 0),
            "first_new_ns": first_new,
            "inserted": _inserted_row(
                hashes, first, counts, position, limit, old_digests.reindex(item[first]), at_own
            ),
        },
        index=item[first],
    ).astype(dtypes)


def _inserted_row(
    hashes: np.ndarray,
    first: np.ndarray,
    counts: np.ndarray,
    position: np.ndarray,
    limit: np.ndarray,
    old_digest: pd.Series,
    at_own: np.ndarray,
) -> np.ndarray:
    """Per item: the first position ``i`` < ``limit`` such that the item's rows without row
    ``i``, first ``limit`` of them, have the digest ``old_digest``; -1 if none (or fewer than
    ``limit + 1`` rows). Digests are position-sensitive sums, so leaving row ``i`` out is the
    rows before it at their own positions plus rows ``i + 1 .. limit`` one position down:
    prefix sums give every candidate at once."""
    with np.errstate(over="ignore"):
        one_down = rr.prefix_digests(hashes, np.maximum(position - 1, 0))
        own_sum = np.cumsum(at_own, dtype=np.uint64)
        down_sum = np.cumsum(one_down, dtype=np.uint64)
        starts = np.repeat(first, counts)
        own_before = own_sum - at_own - (own_sum[starts] - at_own[starts])  # rows j < i
        down_to = down_sum - down_sum[starts]  # rows 1 .. i, one position down
        row_limit = np.repeat(limit, counts)
        room = np.repeat((limit >= 0) & (counts >= limit + 1), counts)
        last = np.where(room, starts + row_limit, 0)  # the row at position ``limit``
        candidate = own_before + (down_to[last] - down_to)
    target = np.repeat(old_digest.to_numpy(dtype=np.int64, na_value=0), counts)
    match = room & (position < row_limit) & (candidate.view(np.int64) == target)
    found = np.full(len(first), -1, dtype=np.int64)
    rows = np.flatnonzero(match)
    item_of_row = np.repeat(np.arange(len(first)), counts)[rows]
    # the first match of each item: matches are in row order, keep each item's first
    keep = np.r_[True, item_of_row[1:] != item_of_row[:-1]] if len(rows) else rows.astype(bool)
    found[item_of_row[keep]] = position[rows[keep]]
    return found


def _windows_touching(windows: pd.DataFrame, intervals: np.ndarray) -> dict:
    """(grain, window_start) → (team ids, value stream ids) of the intervals (rows of begin,
    end, team, value stream; _MISSING for none) that meet each window."""
    if not len(intervals) or windows.empty:
        return {}
    starts = windows["window_start"].array.asi8
    ends = windows["window_end"].array.asi8
    pairs = []
    for begin in range(0, len(intervals), 4096):  # bounded (intervals x windows) working set
        chunk = intervals[begin : begin + 4096]
        row, window = np.nonzero((starts <= chunk[:, 1:2]) & (ends >= chunk[:, 0:1]))
        pairs.append(np.unique(np.column_stack([window, chunk[row, 2], chunk[row, 3]]), axis=0))
    found = np.unique(np.concatenate(pairs), axis=0)  # sorted by window
    keys = list(zip(windows["grain"], windows["window_start"], strict=True))
    bounds = np.searchsorted(found[:, 0], np.arange(len(windows) + 1))
    touched: dict = {}
    for window in np.flatnonzero(np.diff(bounds)):
        of_window = found[bounds[window] : bounds[window + 1]]
        touched[keys[window]] = (
            {int(t) for t in np.unique(of_window[:, 1]) if t != _MISSING},
            {int(v) for v in np.unique(of_window[:, 2]) if v != _MISSING},
        )
    return touched


def merged_spans(windows: pd.DataFrame, keys: set) -> list[tuple[pd.Timestamp, pd.Timestamp]]:
    """The chosen windows as few closed [start, end] spans (touching windows merged)."""
    chosen = windows[
        [(g, s) in keys for g, s in zip(windows["grain"], windows["window_start"], strict=True)]
    ]
    spans: list[list[pd.Timestamp]] = []
    for start, end in sorted(zip(chosen["window_start"], chosen["window_end"], strict=True)):
        if spans and start <= spans[-1][1]:
            spans[-1][1] = max(spans[-1][1], end)
        else:
            spans.append([start, end])
    return [(a, b) for a, b in spans]


def chosen(windows: pd.DataFrame, keys: set) -> pd.DataFrame:
    """The windows whose (grain, window_start) is in ``keys``."""
    picked = [
        (g, s) in keys for g, s in zip(windows["grain"], windows["window_start"], strict=True)
    ]
    return windows[picked].reset_index(drop=True)


def _window_positions(rows: pd.DataFrame, keys: list) -> np.ndarray:
    """Position in ``keys`` ((grain, window_start) pairs) of each row's window, -1 if none."""
    starts = np.array([pd.Timestamp(s).value for _, s in keys], dtype=np.int64)
    return carry.window_positions(
        [g for g, _ in keys], starts, rows["grain"], carry.start_ns(rows["window_start"])
    )


def _in_windows(rows: pd.DataFrame, keys: set) -> np.ndarray:
    """Which rows lie in one of the windows ``keys`` ((grain, window_start) pairs)."""
    return _window_positions(rows, list(keys)) >= 0


def rewritten(rows: pd.DataFrame, plan: Plan, portfolio_id: int) -> np.ndarray:
    """Rows of the windows rewritten for every scope, and rows of a changed window whose scope
    a change touched there (the portfolio always)."""
    kind, scope = rows["scope_kind"].to_numpy(), rows["scope_id"].to_numpy(dtype=np.int64)
    changed = sorted(plan.window_scopes)
    window = _window_positions(rows, changed)
    allowed = [
        (n << 42) | (code << 40) | scope_id
        for n, key in enumerate(changed)
        for code, ids in enumerate(plan.window_scopes[key])
        for scope_id in ids
    ]
    code = np.select([kind == "team", kind == "value_stream"], [0, 1], 2).astype(np.int64)
    key = (np.maximum(window, 0).astype(np.int64) << 42) | (code << 40) | scope
    in_scope = (kind == "portfolio") & (scope == portfolio_id)
    in_scope |= pd.Series(key).isin(allowed).to_numpy()
    return _in_windows(rows, plan.all_scope_windows) | ((window >= 0) & in_scope)


def rewritten_condition(portfolio_id: int, plan: Plan) -> sql.Composed:
    """The stored flow / status-time rows an incremental run replaces: every scope's rows of the
    windows rewritten for all scopes (and of windows before the first one kept), and in each
    changed window the rows of the teams and value streams a change touched there and of the
    portfolio. Each arm of the
    condition names scope kind, grain and window start, so PostgreSQL finds the rows through the
    index on (portfolio, scope_kind, grain, window_start) instead of reading every row of the
    portfolio."""
    every_kind = sql.Literal(["team", "value_stream", "portfolio"])
    arms = []
    for grain in ("week", "month"):
        every = [s.to_pydatetime() for g, s in plan.all_scope_windows if g == grain]
        touched = {
            key: scopes
            for key, scopes in plan.window_scopes.items()
            if key[0] == grain and key not in plan.all_scope_windows
        }
        first = plan.windows.loc[plan.windows["grain"] == grain, "window_start"].min()
        first = first.to_pydatetime() if pd.notna(first) else datetime.max.replace(tzinfo=UTC)
        same_grain = sql.SQL("grain = {}").format(sql.Literal(grain))
        arms.append(
            sql.SQL("scope_kind = ANY({}) AND {} AND window_start < {}").format(
                every_kind, same_grain, sql.Literal(first)
            )
        )
        if every:
            arms.append(
                sql.SQL("scope_kind = ANY({}) AND {} AND window_start = ANY({})").format(
                    every_kind, same_grain, sql.Literal(every)
                )
            )
        if not touched:
            continue
        # the teams and value streams a change touched in each window, windows of the same
        # scopes in one arm
        for code, kind in enumerate(("team", "value_stream")):
            by_scopes: dict[frozenset, list] = {}
            for (_, start), scopes in touched.items():
                if scopes[code]:
                    by_scopes.setdefault(frozenset(scopes[code]), []).append(start.to_pydatetime())
            for ids, starts in by_scopes.items():
                arms.append(
                    sql.SQL(
                        "scope_kind = {} AND {} AND window_start = ANY({}) AND scope_id = ANY({})"
                    ).format(
                        sql.Literal(kind),
                        same_grain,
                        sql.Literal(sorted(starts)),
                        sql.Literal(sorted(ids)),
                    )
                )
        arms.append(
            sql.SQL("scope_kind = 'portfolio' AND {} AND window_start = ANY({})").format(
                same_grain, sql.Literal(sorted(s.to_pydatetime() for _, s in touched))
            )
        )
    return sql.SQL("portfolio_id = {} AND (({}))").format(
        sql.Literal(portfolio_id), sql.SQL(") OR (").join(arms)
    )
