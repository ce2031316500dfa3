"""Planning an incremental recompute: which items to read and which windows of which scopes to
rewrite so that the published rows equal a full recompute's (see :func:`plan_incremental`)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np
import pandas as pd
from django.db import connection
from django.db.models import Q
from psycopg import sql

from portfolio.models import Portfolio
from valuestreams import recompute_rows as rr
from valuestreams.metrics.flow_facts import item_flow_facts
from valuestreams.models import MetricRun, StatusChange, WorkItem, WorkItemFact
from valuestreams.selectors import frames


@dataclass
class Plan:
    """What an incremental run reads and rewrites.

    ``read_items``: items whose histories are read (every item whose influence — from its first
    start to its done/cancel, or open — reaches a rewritten window); ``changed_items``: items whose
    facts are rewritten; ``all_scope_windows``: (grain, window_start) rewritten for every scope
    (windows new since the last run, and those holding the time between the two as_of, where
    every open item's load moved); ``changed_windows``: rewritten only for ``teams``,
    ``value_streams`` and the portfolio."""

    previous: MetricRun
    changed_items: np.ndarray
    read_items: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=np.int64))
    all_scope_windows: set[tuple[str, pd.Timestamp]] = field(default_factory=set)
    changed_windows: set[tuple[str, pd.Timestamp]] = field(default_factory=set)
    teams: set[int] = field(default_factory=set)
    value_streams: set[int] = field(default_factory=set)
    windows: pd.DataFrame | None = None


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
    since the previous run (id above its watermark) or stamped between its as_of and this one.
    For each, a history that only grew (digest of the old rows unchanged, same team) touches
    the windows from its first new row on plus the windows of its old and new completion; any
    other change touches every window of its old and new span."""
    previous = MetricRun.objects.filter(portfolio=portfolio).order_by("-computed_at").first()
    if previous is None or previous.as_of > as_of or not previous.windows:
        return None
    item_ids, team_ids = {int(i) for i in item_ids}, [int(t) for t in team_ids]
    present = set(
        WorkItem.objects.filter(portfolio=portfolio, pk__in=item_ids).values_list("pk", flat=True)
    )
    if present != item_ids:
        return None
    changed = _changed_items(portfolio, previous, as_of, present, team_ids)
    windows = rr.report_windows(
        start=frames.data_start(portfolio, as_of=as_of), as_of=as_of, tz=portfolio.time_zone
    )
    plan = Plan(previous=previous, changed_items=changed, windows=windows)
    plan.all_scope_windows = _windows_new_or_open(windows, previous)
    intervals, plan.teams, plan.value_streams = _changed_intervals(portfolio, changed, as_of)
    plan.changed_windows = _windows_touching(windows, intervals)
    plan.read_items = _items_reaching(
        portfolio, windows, plan.all_scope_windows | plan.changed_windows, changed
    )
    return plan


def _changed_items(
    portfolio: Portfolio, previous: MetricRun, as_of: datetime, item_ids: set[int], team_ids
) -> np.ndarray:
    changed = set(item_ids)
    if team_ids:
        changed |= set(
            WorkItem.objects.filter(portfolio=portfolio, team_id__in=team_ids).values_list(
                "pk", flat=True
            )
        )
        changed |= set(
            WorkItemFact.objects.filter(portfolio=portfolio, team_id__in=team_ids).values_list(
                "item_id", flat=True
            )
        )
    recent = StatusChange.objects.filter(item__portfolio=portfolio).filter(
        _new_rows(previous, as_of)
    )
    changed |= set(recent.values_list("item_id", flat=True).distinct())
    return np.array(sorted(changed), dtype=np.int64)


def _new_rows(previous: MetricRun, as_of: datetime) -> Q:
    """Status changes stored after the previous run or stamped between its as_of and ``as_of``."""
    return Q(pk__gt=previous.last_status_change_id) | Q(at__gt=previous.as_of, at__lte=as_of)


def _window_keys(windows: pd.DataFrame, mask: np.ndarray) -> set[tuple[str, pd.Timestamp]]:
    chosen = windows[mask]
    return set(zip(chosen["grain"], chosen["window_start"], strict=True))


def _windows_new_or_open(windows: pd.DataFrame, previous: MetricRun) -> set:
    span = previous.windows
    mask = windows["window_end"].array.asi8 > pd.Timestamp(previous.as_of).value
    for grain in ("week", "month"):
        first, last = span.get(grain, [None, None])
        rows = (windows["grain"] == grain).to_numpy()
        if first is None:
            mask |= rows
            continue
        starts = windows["window_start"]
        mask |= rows & ((starts < pd.Timestamp(first)) | (starts > pd.Timestamp(last))).to_numpy()
    return _window_keys(windows, mask)


def _changed_intervals(
    portfolio: Portfolio, changed: np.ndarray, as_of: datetime
) -> tuple[list[tuple[int, int]], set[int], set[int]]:
    """Closed ns intervals touched by the changed items, and their old and new teams / streams."""
    if not len(changed):
        return [], set(), set()
    ids = changed.tolist()
    history = frames.read_history(portfolio, item_ids=ids)
    scopes = frames.item_scopes(portfolio, item_ids=ids)
    transitions, _ = frames.transitions_frame(history, scopes, frames.portfolio_mappings(portfolio))
    new = item_flow_facts(transitions, as_of=as_of).set_index("item_id")
    new_scope = {
        "team_id": new["team_id"].where(new["team_id"] != rr.NO_SCOPE),
        "value_stream_id": new["value_stream_id"].where(new["value_stream_id"] != rr.NO_SCOPE),
    }
    old = pd.DataFrame.from_records(
        list(WorkItemFact.objects.filter(item_id__in=ids).values_list(*_OLD_FACT)),
        columns=list(_OLD_FACT),
    ).set_index("item_id")
    growth = _history_growth(history, as_of, old["history_rows"])
    intervals: list[tuple[int, int]] = []
    teams: set[int] = set()
    streams: set[int] = set()
    for item in ids:
        now_fact = new.loc[item] if item in new.index else None
        was = old.loc[item] if item in old.index else None
        now_team = new_scope["team_id"].get(item) if now_fact is not None else None
        now_stream = new_scope["value_stream_id"].get(item) if now_fact is not None else None
        for value, bucket in (
            (now_team, teams),
            (now_stream, streams),
            (was["team_id"] if was is not None else None, teams),
            (was["value_stream_id"] if was is not None else None, streams),
        ):
            if value is not None and pd.notna(value):
                bucket.add(int(value))
        grown = (
            was is not None
            and now_fact is not None
            and _same(was["team_id"], now_team)
            and _same(was["value_stream_id"], now_stream)
            and item in growth.index
            and growth.loc[item, "prefix_digest"] == int(was["history_digest"])
        )
        if grown:
            first_new = int(growth.loc[item, "first_new_ns"])
            if first_new >= 0:
                intervals.append((first_new, _NEVER))
            for fact in (was, now_fact):
                done = _ns(fact["done"])
                if done is not None:
                    intervals.append((done, done))
            continue
        for fact in (was, now_fact):
            if fact is not None:
                span = _influence(fact)
                if span is not None:
                    intervals.append(span)
    return intervals, teams, streams


_OLD_FACT = (
    "item_id",
    "start",
    "done",
    "canceled_at",
    "team_id",
    "value_stream_id",
    "history_rows",
    "history_digest",
)
_NEVER = np.iinfo(np.int64).max


def _same(a, b) -> bool:
    a_missing, b_missing = a is None or pd.isna(a), b is None or pd.isna(b)
    return (a_missing and b_missing) or (not a_missing and not b_missing and int(a) == int(b))


def _ns(value) -> int | None:
    if value is None or pd.isna(value):
        return None
    return int(pd.Timestamp(value).value)


def _influence(fact) -> tuple[int, int] | None:
    """From the first start (or a done without start) to done / cancel, or open-ended."""
    begin = _ns(fact["start"])
    begin = begin if begin is not None else _ns(fact["done"])
    if begin is None:
        return None
    end = _ns(fact["done"])
    end = end if end is not None else _ns(fact["canceled_at"])
    return begin, end if end is not None else _NEVER


def _history_growth(history, as_of: datetime, old_rows: pd.Series) -> pd.DataFrame:
    """Per item (rows at or before ``as_of``): ``prefix_digest`` of its first ``old_rows`` rows
    (None when it has fewer now) and ``first_new_ns``, the time of the first row beyond them
    (-1 if none)."""
    as_of_us = int(pd.Timestamp(as_of).value // 1000)
    keep = history.at_us <= as_of_us
    item = history.item_id[keep]
    if not len(item):
        return pd.DataFrame({"prefix_digest": [], "first_new_ns": []})
    hashes = rr.row_hashes(
        history.at_us[keep],
        history.seq[keep],
        history.status[keep],
        history.source_type[keep],
        history.blocked[keep],
        statuses=history.statuses,
        types=history.types,
    )
    first = np.flatnonzero(np.r_[True, item[1:] != item[:-1]])
    counts = np.diff(np.r_[first, len(item)])
    position = np.arange(len(item)) - np.repeat(first, counts)
    limit = old_rows.reindex(item[first]).fillna(-1).to_numpy(dtype=np.int64)
    within = position < np.repeat(limit, counts)
    mixed = np.where(within, rr.prefix_digests(hashes, position), np.uint64(0))
    with np.errstate(over="ignore"):
        sums = np.add.reduceat(mixed, first).view(np.int64)
    at_ns = history.at_us[keep] * 1000
    has_new = (limit >= 0) & (limit < counts)
    first_new = np.where(
        has_new, at_ns[np.minimum(first + np.maximum(limit, 0), len(item) - 1)], -1
    )
    enough = (limit >= 0) & (counts >= limit)
    return pd.DataFrame(
        {
            "prefix_digest": pd.array(np.where(enough, sums, 0), dtype="Int64").astype(object),
            "first_new_ns": first_new,
        },
        index=item[first],
    ).assign(prefix_digest=lambda f: f["prefix_digest"].where(enough, None))


def _windows_touching(windows: pd.DataFrame, intervals: list[tuple[int, int]]) -> set:
    if not intervals or windows.empty:
        return set()
    starts = windows["window_start"].array.asi8
    ends = windows["window_end"].array.asi8
    mask = np.zeros(len(windows), dtype=bool)
    for begin, end in intervals:
        mask |= (starts <= end) & (ends >= begin)
    return _window_keys(windows, mask)


def _merged_spans(windows: pd.DataFrame, keys: set) -> list[tuple[pd.Timestamp, pd.Timestamp]]:
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


def _items_reaching(portfolio: Portfolio, windows: pd.DataFrame, keys: set, changed) -> np.ndarray:
    """Changed items plus every item whose stored influence (first start or done without start,
    to done / cancel, or open) meets one of the chosen windows (closed bounds)."""
    spans = _merged_spans(windows, keys)
    found: set[int] = set(changed.tolist())
    if spans:
        condition = sql.SQL(" OR ").join(
            sql.SQL(
                "(coalesce(start, done) <= {} AND coalesce(done, canceled_at, 'infinity') >= {})"
            ).format(sql.Literal(b.to_pydatetime()), sql.Literal(a.to_pydatetime()))
            for a, b in spans
        )
        query = sql.SQL(
            "SELECT item_id FROM valuestreams_workitemfact WHERE portfolio_id = {} AND ({})"
        ).format(sql.Literal(portfolio.pk), condition)
        connection.ensure_connection()
        with connection.connection.cursor() as cursor:
            cursor.execute(query)
            found.update(row[0] for row in cursor.fetchall())
    return np.array(sorted(found), dtype=np.int64)
