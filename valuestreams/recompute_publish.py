"""Running a recompute (read with COPY, compute with the pure metrics) and publishing its rows in
ONE transaction: of the stored rows the run covers (all of the portfolio's for a full run, the
rewritten windows and changed items for an incremental one) only those that differ from the
computed rows are deleted and the computed rows not stored yet inserted; then the MetricRun and
the job's status."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import numpy as np
import pandas as pd
from django.db import connection, transaction
from django.utils import timezone
from psycopg import sql

from portfolio.models import Portfolio
from valuestreams import recompute_carry as carry
from valuestreams import recompute_caveats, recompute_diff
from valuestreams import recompute_rows as rr
from valuestreams.metrics.flow_windows import period_windows
from valuestreams.models import (
    DoraMetric,
    FlowMetric,
    JobStatus,
    MetricRun,
    RecomputeJob,
    StatusTime,
    WorkItemFact,
)
from valuestreams.recompute_plan import Plan, merged_spans
from valuestreams.selectors import carried, dated_outside, frames


def _publish_checkpoint(step: str) -> None:
    """Called between the writes of a publish; tests replace it to fail a publish half-way."""


def _progress(job: RecomputeJob | None, percent: int) -> None:
    if job is not None:
        RecomputeJob.objects.filter(pk=job.pk).update(progress=percent, heartbeat_at=timezone.now())


def _status_change_watermark() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT coalesce(max(id), 0) FROM valuestreams_statuschange")
        return int(cursor.fetchone()[0])


def recompute_run(
    portfolio: Portfolio, *, as_of: datetime, plan: Plan | None, job: RecomputeJob | None = None
) -> MetricRun:
    """Recompute ``portfolio`` as of ``as_of`` — everything, or what ``plan`` covers — and
    publish it (the caller holds the portfolio's recompute lock)."""
    started = time.monotonic()
    watermark = _status_change_watermark()
    mappings = plan.mappings if plan is not None else frames.portfolio_mappings(portfolio)
    tz = portfolio.time_zone
    if plan is not None and plan.carry:
        flow = _carried(portfolio, plan, as_of=as_of, mappings=mappings)
        windows, items_read = plan.windows, len(plan.read_items)
    else:
        flow, windows, items_read = _recomputed(portfolio, plan, as_of=as_of, mappings=mappings)
    _progress(job, 60)
    settings = frames.dora_settings(portfolio)
    benchmark, max_gap = settings.benchmark, settings.max_gap
    deployments = frames.deployments_frame(portfolio)
    incidents = frames.incidents_frame(portfolio)
    dora_rows = rr.dora_rows(
        deployments,
        frames.changes_frame(portfolio),
        incidents,
        windows=windows,
        as_of=as_of,
        tz=tz,
        portfolio_id=portfolio.pk,
        benchmark=benchmark,
        max_gap=max_gap,
    )
    dora_caveats = rr.dora_caveats(deployments, incidents, as_of=as_of, max_gap=max_gap)
    _progress(job, 80)
    return _publish(
        portfolio,
        as_of=as_of,
        plan=plan,
        flow=flow,
        dora_rows=dora_rows,
        windows=windows,
        extra={
            "watermark": watermark,
            "items_read": items_read,
            "started": started,
            "dora_caveats": dora_caveats,
            "benchmark": benchmark,
            "settings_ignored": list(settings.ignored),
            "mappings": mappings,
        },
        job=job,
    )


def _recomputed(
    portfolio: Portfolio, plan: Plan | None, *, as_of: datetime, mappings
) -> tuple[rr.FlowRows, pd.DataFrame, int]:
    """The rows of a full run, or of an incremental one that reads every item reaching the
    rewritten windows; with the run's windows and the number of items read."""
    tz = portfolio.time_zone
    only = None if plan is None else plan.read_items.tolist()
    history = frames.read_history(portfolio, item_ids=only)
    scopes = frames.item_scopes(portfolio, item_ids=only)
    transitions, _ = frames.transitions_frame(history, scopes, mappings)
    digests = _digests(history, as_of, mappings)
    items_read = len(scopes.item_id)
    del history, scopes
    if plan is None:
        windows = rr.report_windows(
            start=frames.data_start(portfolio, as_of=as_of), as_of=as_of, tz=tz
        )
        computed = windows
    else:
        windows = plan.windows
        computed = _chosen(windows, plan.keys)
    flow = rr.flow_rows(
        transitions,
        windows=computed.reset_index(drop=True),
        as_of=as_of,
        tz=tz,
        portfolio_id=portfolio.pk,
        digests=digests,
    )
    del transitions
    flow.flow = rr.with_targets(
        flow.flow, frames.allocation_targets(portfolio), frames.team_streams(portfolio)
    )
    if plan is not None:
        flow.facts = flow.facts[flow.facts["item_id"].isin(plan.changed_items)]
        flow.flow = flow.flow[_rewritten(flow.flow, plan, portfolio.pk)]
        flow.status = flow.status[_rewritten(flow.status, plan, portfolio.pk)]
    return flow, windows, items_read


def _chosen(windows: pd.DataFrame, keys: set) -> pd.DataFrame:
    """The windows whose (grain, window_start) is in ``keys``."""
    chosen = [
        (g, s) in keys for g, s in zip(windows["grain"], windows["window_start"], strict=True)
    ]
    return windows[chosen].reset_index(drop=True)


def _carried(portfolio: Portfolio, plan: Plan, *, as_of: datetime, mappings) -> rr.FlowRows:
    """The rows of an incremental run that carries the previous rows forward (see
    :mod:`valuestreams.recompute_carry`): it reads the changed items' histories (kept from
    planning), the stored facts of the items done in the rewritten windows and the previous
    rows of those windows, never the histories of unchanged items."""
    tz, prev_as_of = portfolio.time_zone, plan.previous.as_of
    computed = _chosen(plan.windows, plan.keys)
    new_tr, facts = plan.transitions, plan.new_facts
    old_tr, _ = frames.transitions_frame(
        _old_history(plan.history, plan.old_facts, as_of), plan.scopes, mappings
    )
    spans = [(a.to_pydatetime(), b.to_pydatetime()) for a, b in merged_spans(computed, plan.keys)]
    done = carried.done_facts(portfolio, spans=spans, exclude=plan.changed_items.tolist())
    changed_done = facts.loc[
        facts["done"].notna(),
        ["item_id", "item_type", "done", "flow_time_s", "active_s", "team_id", "value_stream_id"],
    ].astype({"item_type": str})
    # the stored rows this run replaces (the same condition publishing uses): those of the
    # rewritten windows are carried forward, and all of them are diffed against by hash
    where = _rewritten_condition(portfolio, plan, plan.windows)
    stored_flow = carried.stored_load_rows(where)
    stored_status = carried.stored_status_rows(where)
    # the week holding the previous as_of: its rows give every scope's load at that moment
    anchor = period_windows(
        pd.Timestamp(prev_as_of) - pd.Timedelta(1, "ns"), prev_as_of, grain="week", tz=tz
    )
    anchor_start = anchor["window_start"].iloc[0]
    carried_from = stored_flow
    if ("week", anchor_start) not in plan.all_scope_windows:  # not every scope's row read yet
        carried_from = pd.concat(
            [
                stored_flow,
                carried.stored_load_rows(
                    sql.SQL("portfolio_id = {} AND grain = 'week' AND window_start = {}").format(
                        sql.Literal(portfolio.pk), sql.Literal(anchor_start.to_pydatetime())
                    )
                ),
            ],
            ignore_index=True,
        ).drop_duplicates("id")
    flow, status = carry.carried_rows(
        windows=computed,
        anchor=anchor,
        stored_flow=carried_from,
        stored_status=stored_status,
        old_transitions=old_tr,
        new_transitions=new_tr,
        done_facts=pd.concat([done, changed_done], ignore_index=True),
        prev_as_of=prev_as_of,
        as_of=as_of,
        tz=tz,
        portfolio_id=portfolio.pk,
    )
    flow = rr.with_targets(
        flow, frames.allocation_targets(portfolio), frames.team_streams(portfolio)
    )
    return rr.FlowRows(
        facts=rr.fact_rows(facts, _digests(plan.history, as_of, mappings)),
        flow=flow[_rewritten(flow, plan, portfolio.pk)],
        status=status[_rewritten(status, plan, portfolio.pk)],
        stored={
            "flow": (stored_flow["id"].to_numpy(), stored_flow["row_hash"].to_numpy()),
            "status": (stored_status["id"].to_numpy(), stored_status["row_hash"].to_numpy()),
        },
    )


def _old_history(history: frames.History, old_facts: pd.DataFrame, as_of: datetime):
    """The histories the previous run digested: of each item's rows known at ``as_of``, the
    first ``history_rows`` of its stored facts (none for an item without facts). Only right
    for histories that grew by appended rows, which the planner checked."""
    known = history.rows(history.at_us <= int(pd.Timestamp(as_of).value // 1000))
    item = known.item_id
    if not len(item):
        return known
    first, counts, position = rr.item_runs(item)
    limit = old_facts["history_rows"].reindex(item[first]).fillna(0).to_numpy(dtype=np.int64)
    return known.rows(position < np.repeat(limit, counts))


def _digests(history, as_of: datetime, mappings) -> pd.DataFrame:
    known, hashes = rr.known_rows(history, as_of)
    unmapped = np.array([not mappings.type_is_mapped(n) for n in known.types], dtype=bool)
    flags = unmapped[known.source_type] if len(unmapped) else np.zeros(0, dtype=bool)
    return rr.item_digests(known.item_id, hashes, flags)


def _window_positions(rows: pd.DataFrame, keys: list) -> np.ndarray:
    """Position in ``keys`` ((grain, window_start) pairs) of each row's window, -1 if none."""
    starts = np.array([pd.Timestamp(s).value for _, s in keys], dtype=np.int64)
    return carry.window_positions(
        [g for g, _ in keys], starts, rows["grain"], carry.start_ns(rows["window_start"])
    )


def _in_windows(rows: pd.DataFrame, keys: set) -> np.ndarray:
    """Which rows lie in one of the windows ``keys`` ((grain, window_start) pairs)."""
    return _window_positions(rows, list(keys)) >= 0


def _rewritten(rows: pd.DataFrame, plan: Plan, portfolio_id: int) -> np.ndarray:
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


def _rewritten_condition(portfolio: Portfolio, plan: Plan, windows: pd.DataFrame) -> sql.Composed:
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
        first = windows.loc[windows["grain"] == grain, "window_start"].min()
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
        sql.Literal(portfolio.pk), sql.SQL(") OR (").join(arms)
    )


def _publish(
    portfolio: Portfolio,
    *,
    as_of: datetime,
    plan: Plan | None,
    flow: rr.FlowRows,
    dora_rows: pd.DataFrame,
    windows: pd.DataFrame,
    extra: dict,
    job: RecomputeJob | None,
) -> MetricRun:
    """Replace the covered rows and record the run, all in ONE transaction."""
    with transaction.atomic():
        connection.ensure_connection()
        _commit_without_waiting_for_disk()
        if plan is not None:  # an incremental run updates the caveat counts by these
            extra["new_facts"] = flow.facts[list(recompute_caveats.CAVEAT_FACT_FIELDS)]
        _publish_as_diff(portfolio, flow, _covered(portfolio, plan, windows))
        DoraMetric.objects.filter(portfolio=portfolio).delete()
        recompute_diff.copy_rows(DoraMetric, dora_rows, portfolio_id=portfolio.pk)
        _publish_checkpoint("dora")
        run = MetricRun.objects.create(
            portfolio=portfolio,
            kind=MetricRun.Kind.FULL if plan is None else MetricRun.Kind.INCREMENTAL,
            as_of=as_of,
            caveats=_caveats(portfolio, as_of, plan, extra),
            last_status_change_id=extra["watermark"],
            items_read=extra["items_read"],
            windows=_window_span(windows),
            duration_s=round(time.monotonic() - extra["started"], 3),
            # a full run writes every row exactly; an incremental one only some of them
            exact_sums=plan is None or plan.previous.exact_sums,
        )
        if job is not None:
            RecomputeJob.objects.filter(pk=job.pk).update(
                status=JobStatus.SUCCEEDED,
                progress=100,
                run=run,
                finished_at=timezone.now(),
                error="",
            )
    return run


def _commit_without_waiting_for_disk() -> None:
    """An asynchronous commit for this transaction only: it returns before its WAL reaches the
    disk (written within a fraction of a second; see "Asynchronous Commit" in the PostgreSQL
    manual). A daily run changes pages last changed long ago, so it logs their full images,
    a few megabytes, and waiting for them to be flushed cost it more than its computing on a
    busy disk. Safe here: the rows are derived and atomic either way — a server crash just after
    the commit can lose the whole run, never part of it, and the job then still reads "running"
    (claimed in an earlier, durable transaction) and is run again by the sweep."""
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL synchronous_commit = off")


_DIFFED = (("facts", WorkItemFact), ("flow", FlowMetric), ("status", StatusTime))


def _covered(portfolio: Portfolio, plan: Plan | None, windows: pd.DataFrame) -> dict:
    """Per published table, the condition selecting the stored rows the run replaces."""
    everything = sql.SQL("portfolio_id = {}").format(sql.Literal(portfolio.pk))
    if plan is None:
        return dict.fromkeys(("facts", "flow", "status"), everything)
    rewritten = _rewritten_condition(portfolio, plan, windows)
    return {
        # the changed items are the portfolio's (the item is the table's unique key; naming the
        # portfolio too would let PostgreSQL intersect with its whole portfolio index)
        "facts": sql.SQL("item_id = ANY({})").format(frames.id_array(plan.changed_items.tolist())),
        "flow": rewritten,
        "status": rewritten,
    }


def _publish_as_diff(portfolio: Portfolio, flow: rr.FlowRows, covered: dict) -> None:
    """Write the flow tables (inside the caller's transaction) as a diff against the stored rows
    the run covers: only new, changed and gone rows are touched (see
    :mod:`valuestreams.recompute_diff`)."""
    for step, model in _DIFFED:
        hashed = recompute_diff.with_row_hash(model, getattr(flow, step))
        setattr(flow, step, None)  # the computed rows are no longer needed
        diff = recompute_diff.diff_rows(
            model, hashed, where=covered[step], stored=flow.stored.get(step)
        )
        del hashed
        diff.insert = _in_window_order(diff.insert)
        recompute_diff.apply(model, diff, where=covered[step], portfolio_id=portfolio.pk)
        del diff
        _publish_checkpoint(step)


def _in_window_order(rows: pd.DataFrame) -> pd.DataFrame:
    """Metric rows ordered by grain and window, so each window's rows lie on neighbouring pages:
    an incremental run rewrites the recent windows of every scope, and then reads a few pages
    instead of one page per scope. (A scope's page reads one row per window either way.)"""
    if "window_start" not in rows.columns or len(rows) < 2:
        return rows
    return rows.sort_values(["grain", "window_start"], kind="stable", ignore_index=True)


def _window_span(windows: pd.DataFrame) -> dict[str, list[str]]:
    span = {}
    for grain, starts in windows.groupby("grain")["window_start"]:
        span[str(grain)] = [starts.min().isoformat(), starts.max().isoformat()]
    return span


def _caveats(portfolio: Portfolio, as_of: datetime, plan: Plan | None, extra: dict) -> dict:
    """Data-quality caveats of the portfolio, counted over the stored facts (an incremental run
    updates the previous run's counts by its changed items, which gives the same numbers), the
    records and funding periods left out for their dates, the settings that could not be used,
    plus the DORA ones."""
    counts = None
    if plan is not None and plan.old_facts is not None:
        counts = recompute_caveats.updated_counts(
            plan.previous.caveats, plan.old_facts, extra["new_facts"]
        )
    if counts is None:
        counts = recompute_caveats.stored_counts(portfolio.pk)
    names = []
    if counts["unmapped_status_changes"]:
        names = recompute_caveats.unmapped_statuses(portfolio.pk, as_of, extra["mappings"])
    if plan is None:
        out_of_range = dated_outside.dates_out_of_range(portfolio)
    else:  # such rows predate the checks at the entry points: the nightly full run recounts
        previous = plan.previous.caveats
        out_of_range = {k: int(previous.get(k) or 0) for k in dated_outside.OUT_OF_RANGE_CAVEATS}
    return {
        **counts,
        "unmapped_statuses": names,
        **out_of_range,
        "funding_periods_out_of_range": dated_outside.funding_periods_out_of_range(portfolio),
        "settings_ignored": extra["settings_ignored"],
        **extra["dora_caveats"],
        "benchmark": extra["benchmark"],
    }
