"""Running a recompute (read with COPY, compute with the pure metrics) and publishing its rows in
ONE transaction: the delete + insert of every key it covers (for a full run, only of the rows
that differ from the stored ones), the MetricRun and the job's status."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import numpy as np
import pandas as pd
from django.db import connection, transaction
from django.utils import timezone
from psycopg import sql

from portfolio.models import Portfolio
from valuestreams import recompute_diff
from valuestreams import recompute_rows as rr
from valuestreams.models import (
    DoraMetric,
    FlowMetric,
    JobStatus,
    MetricRun,
    MetricSettings,
    RecomputeJob,
    StatusTime,
    WorkItemFact,
)
from valuestreams.recompute_plan import Plan
from valuestreams.selectors import frames


def _publish_checkpoint(step: str) -> None:
    """Called between the writes of a publish; tests replace it to fail a publish half-way."""


def _progress(job: RecomputeJob | None, percent: int) -> None:
    if job is not None:
        RecomputeJob.objects.filter(pk=job.pk).update(progress=percent, heartbeat_at=timezone.now())


def _settings(portfolio: Portfolio) -> tuple[str, pd.Timedelta | None]:
    found = MetricSettings.objects.filter(portfolio=portfolio).first()
    if found is None:
        return "dora-2023", None
    gap = found.incident_max_gap_hours
    return found.dora_benchmark, (pd.Timedelta(hours=gap) if gap is not None else None)


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
    mappings = frames.portfolio_mappings(portfolio)
    tz = portfolio.time_zone
    only = None if plan is None else plan.read_items.tolist()
    history = frames.read_history(portfolio, item_ids=only)
    scopes = frames.item_scopes(portfolio, item_ids=only)
    transitions, _ = frames.transitions_frame(history, scopes, mappings)
    digests = _digests(history, as_of, mappings)
    items_read = len(scopes.item_id)
    del history, scopes
    _progress(job, 20)
    if plan is None:
        windows = rr.report_windows(
            start=frames.data_start(portfolio, as_of=as_of), as_of=as_of, tz=tz
        )
        computed = windows
    else:
        windows = plan.windows
        keys = plan.all_scope_windows | plan.changed_windows
        computed = windows[
            [(g, s) in keys for g, s in zip(windows["grain"], windows["window_start"], strict=True)]
        ]
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
    _progress(job, 60)
    benchmark, max_gap = _settings(portfolio)
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
            "mappings": mappings,
        },
        job=job,
    )


def _digests(history, as_of: datetime, mappings) -> pd.DataFrame:
    as_of_us = int(pd.Timestamp(as_of).value // 1000)
    keep = history.at_us <= as_of_us
    hashes = rr.row_hashes(
        history.at_us[keep],
        history.seq[keep],
        history.status[keep],
        history.source_type[keep],
        history.blocked[keep],
        statuses=history.statuses,
        types=history.types,
    )
    unmapped = np.array([not mappings.type_is_mapped(n) for n in history.types], dtype=bool)
    flags = unmapped[history.source_type[keep]] if len(unmapped) else np.zeros(0, dtype=bool)
    return rr.item_digests(history.item_id[keep], hashes, flags)


def _rewritten(rows: pd.DataFrame, plan: Plan, portfolio_id: int) -> np.ndarray:
    """Rows of the windows rewritten for every scope, or of the changed scopes' windows."""
    key = list(zip(rows["grain"], pd.to_datetime(rows["window_start"], utc=True), strict=True))
    every = np.array([k in plan.all_scope_windows for k in key], dtype=bool)
    touched = np.array([k in plan.changed_windows for k in key], dtype=bool)
    kind, scope = rows["scope_kind"].to_numpy(), rows["scope_id"].to_numpy()
    in_scope = (
        ((kind == "team") & np.isin(scope, list(plan.teams)))
        | ((kind == "value_stream") & np.isin(scope, list(plan.value_streams)))
        | ((kind == "portfolio") & (scope == portfolio_id))
    )
    return every | (touched & in_scope)


COPY_ROWS = 200_000


def _csv_column(column: pd.Series) -> pd.Series:
    """Datetimes as UTC text (vectorised; pandas' own formatting is slow), NaT as empty."""
    if not (
        isinstance(column.dtype, pd.DatetimeTZDtype) or pd.api.types.is_datetime64_dtype(column)
    ):
        return column
    values = column.dt.tz_convert("UTC") if isinstance(column.dtype, pd.DatetimeTZDtype) else column
    raw = values.dt.tz_localize(None) if isinstance(values.dtype, pd.DatetimeTZDtype) else values
    micro = raw.to_numpy().astype("M8[us]")
    text = np.char.add(np.datetime_as_string(micro, unit="us"), "+00")
    return pd.Series(np.where(np.isnat(micro), "", text), index=column.index, dtype=object)


def _copy_into(model, frame: pd.DataFrame, *, portfolio_id: int) -> None:
    """COPY ``frame`` (columns = field names) into the model's table with ``portfolio_id``, in
    chunks so the CSV text never holds more than COPY_ROWS rows."""
    if frame.empty:
        return
    columns = ["portfolio_id", *frame.columns]
    text = [
        f.column
        for f in model._meta.concrete_fields
        if f.column in columns and f.get_internal_type() in {"CharField", "TextField"}
    ]
    statement = sql.SQL("COPY {} ({}) FROM STDIN (FORMAT csv{})").format(
        sql.Identifier(model._meta.db_table),
        sql.SQL(", ").join(map(sql.Identifier, columns)),
        sql.SQL(", FORCE_NOT_NULL ({})").format(sql.SQL(", ").join(map(sql.Identifier, text)))
        if text
        else sql.SQL(""),
    )
    with connection.connection.cursor() as cursor, cursor.copy(statement) as copy:
        for begin in range(0, len(frame), COPY_ROWS):
            chunk = frame.iloc[begin : begin + COPY_ROWS]
            out = pd.DataFrame({name: _csv_column(chunk[name]) for name in chunk.columns})
            out.insert(0, "portfolio_id", portfolio_id)
            copy.write(out.to_csv(index=False, header=False).encode())
            del out


def _delete_rewritten(
    model, portfolio: Portfolio, plan: Plan | None, windows: pd.DataFrame
) -> None:
    table = sql.Identifier(model._meta.db_table)
    where = [sql.SQL("portfolio_id = {}").format(sql.Literal(portfolio.pk))]
    if plan is not None:
        keys = []
        for grain in ("week", "month"):
            every = [s.to_pydatetime() for g, s in plan.all_scope_windows if g == grain]
            touched = [s.to_pydatetime() for g, s in plan.changed_windows if g == grain]
            first = windows.loc[windows["grain"] == grain, "window_start"].min()
            grain_sql = sql.SQL("grain = {}").format(sql.Literal(grain))
            keys.append(
                sql.SQL("({} AND (window_start = ANY({}) OR window_start < {}))").format(
                    grain_sql,
                    sql.Literal(every),
                    sql.Literal(
                        first.to_pydatetime()
                        if pd.notna(first)
                        else datetime.max.replace(tzinfo=UTC)
                    ),
                )
            )
            keys.append(
                sql.SQL(
                    "({} AND window_start = ANY({}) AND ((scope_kind = 'team' AND scope_id ="
                    " ANY({})) OR (scope_kind = 'value_stream' AND scope_id = ANY({})) OR"
                    " scope_kind = 'portfolio'))"
                ).format(
                    grain_sql,
                    sql.Literal(touched),
                    sql.Literal(sorted(plan.teams)),
                    sql.Literal(sorted(plan.value_streams)),
                )
            )
        where.append(sql.SQL("({})").format(sql.SQL(" OR ").join(keys)))
    statement = sql.SQL("DELETE FROM {} WHERE {}").format(table, sql.SQL(" AND ").join(where))
    with connection.connection.cursor() as cursor:
        cursor.execute(statement)


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
        if plan is None:
            _publish_full_as_diff(portfolio, flow)
        else:
            with connection.connection.cursor() as cursor:
                cursor.execute(
                    "DELETE FROM valuestreams_workitemfact WHERE item_id = ANY(%s)",
                    [plan.changed_items.tolist()],
                )
            _copy_into(WorkItemFact, flow.facts, portfolio_id=portfolio.pk)
            _publish_checkpoint("facts")
            _delete_rewritten(FlowMetric, portfolio, plan, windows)
            _copy_into(FlowMetric, flow.flow, portfolio_id=portfolio.pk)
            _publish_checkpoint("flow")
            _delete_rewritten(StatusTime, portfolio, plan, windows)
            _copy_into(StatusTime, flow.status, portfolio_id=portfolio.pk)
            _publish_checkpoint("status")
        DoraMetric.objects.filter(portfolio=portfolio).delete()
        _copy_into(DoraMetric, dora_rows, portfolio_id=portfolio.pk)
        _publish_checkpoint("dora")
        run = MetricRun.objects.create(
            portfolio=portfolio,
            kind=MetricRun.Kind.FULL if plan is None else MetricRun.Kind.INCREMENTAL,
            as_of=as_of,
            caveats=_caveats(portfolio, as_of, extra),
            last_status_change_id=extra["watermark"],
            items_read=extra["items_read"],
            windows=_window_span(windows),
            duration_s=round(time.monotonic() - extra["started"], 3),
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


_TABLE_KEYS = (
    ("facts", WorkItemFact, ["item_id"]),
    ("flow", FlowMetric, ["scope_kind", "scope_id", "grain", "window_start", "item_type"]),
    ("status", StatusTime, ["scope_kind", "scope_id", "grain", "window_start", "status"]),
)


def _publish_full_as_diff(portfolio: Portfolio, flow: rr.FlowRows) -> None:
    """A full run's flow tables, written as a diff against the stored rows (inside the caller's
    transaction): only new, changed and gone rows are touched (see
    :mod:`valuestreams.recompute_diff`)."""
    for step, model, key in _TABLE_KEYS:
        diff = recompute_diff.diff_rows(
            model, getattr(flow, step), key=key, portfolio_id=portfolio.pk
        )
        setattr(flow, step, None)  # the computed rows are no longer needed
        recompute_diff.apply_deletes(model, diff, portfolio_id=portfolio.pk)
        _copy_into(model, diff.insert, portfolio_id=portfolio.pk)
        del diff
        _publish_checkpoint(step)


def _window_span(windows: pd.DataFrame) -> dict[str, list[str]]:
    span = {}
    for grain, starts in windows.groupby("grain")["window_start"]:
        span[str(grain)] = [starts.min().isoformat(), starts.max().isoformat()]
    return span


def _caveats(portfolio: Portfolio, as_of: datetime, extra: dict) -> dict:
    """Data-quality caveats of the portfolio, summed from the stored facts (so a full and an
    incremental run report the same), plus the DORA ones."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*), coalesce(sum(unmapped_count), 0), coalesce(sum(unmapped_type_count), 0),"
            " count(*) FILTER (WHERE truncated), count(*) FILTER (WHERE done_without_start),"
            " count(*) FILTER (WHERE reopen_count > 0)"
            " FROM valuestreams_workitemfact WHERE portfolio_id = %s",
            [portfolio.pk],
        )
        items, unmapped, unmapped_types, truncated, without_start, reopened = cursor.fetchone()
        cursor.execute(
            "SELECT DISTINCT sc.status FROM valuestreams_statuschange sc"
            " JOIN valuestreams_workitemfact f ON f.item_id = sc.item_id"
            " WHERE f.portfolio_id = %s AND f.unmapped_count > 0 AND sc.at <= %s",
            [portfolio.pk, as_of],
        )
        names = sorted(
            {row[0] for row in cursor.fetchall() if extra["mappings"].state_of(row[0]) is None}
        )
    return {
        "items": items,
        "unmapped_status_changes": unmapped,
        "unmapped_statuses": names,
        "unmapped_type_changes": unmapped_types,
        "truncated_histories": truncated,
        "done_without_start": without_start,
        "reopened_items": reopened,
        **extra["dora_caveats"],
        "benchmark": extra["benchmark"],
    }
