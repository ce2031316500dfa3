"""Publishing a run in ONE transaction: the facts, flow and time-in-status rows as a diff against
the stored rows the run covers, the DORA rows, the run record with its caveats, and the job's
status — so a killed worker leaves the previous results, and readers see the previous results
until the commit.

**Diff by row hash.** From one run to the next almost all rows come out the same (a nightly run
after a day of changes alters a few thousand of millions). So a run does not delete and re-insert
everything, and it does not read every stored value back either: every derived row is stored with
``row_hash``, a 64-bit hash of all its published values (:func:`row_hashes`, computed from the
frame that is written, by every run, full or incremental). Inside the publishing transaction a run
reads only the stored (primary key, row_hash) pairs of the rows it covers (all of the portfolio's
for a full run, the rewritten windows and changed items for an incremental one) — two binary
strings aggregated by PostgreSQL, no per-row round trip —, keeps the stored rows whose hash it
computed again, deletes the others and inserts the computed rows whose hash is not stored. The
result is the same as a delete + insert of every row: values are hashed exactly as they are stored
(datetimes as integer microseconds, floats by their bits with one NaN, NULL as its own value), so
equal hashes mean equal rows unless two different rows collide in 64 bits (about one chance in
10^19 per changed row). A row without a hash (written before hashes existed) never matches and is
rewritten.

**Writing a diff** (:func:`apply`): a changed row is updated in place, keeping its primary key (an
upsert on the table's natural key from a staged copy of the rows), rows whose key is new are
inserted and rows whose key is gone deleted. Most rows that change do so every day (the open
windows' load and time in status of every scope) and change no indexed column, so with room on
their page (the metric tables keep half of each page free) PostgreSQL stores the new version
beside the old one and touches no index — about three times cheaper than a delete and an
insert, whose index entries cost most of a row's write. A rewrite of many rows at once (a
first run, a mapping change) is written as deletes and one COPY.

**Binary COPY** (:func:`binary_copy_chunks`): formatting rows as CSV text costs about a
microsecond per value in pandas (floats are printed one by one), which made writing a few thousand
metric rows slower than PostgreSQL storing them. PostgreSQL's binary format needs no printing:
each field is its length and its bytes in network order, so a column becomes one numpy array and
the rows are assembled by scattering those arrays into one buffer. Floats travel as their exact
bits. See "COPY — Binary Format" in the PostgreSQL manual.

**Caveats** are counts over the portfolio's stored item facts. A full run sums them over every
stored fact (one query). An incremental run rewrites the facts of a few items only, so it takes
the previous run's counts and adds what its changed items' new facts count minus what their old
facts counted: every count is a sum over facts, so the result is the same number a full sum gives
(tested: incremental runs report what full runs report). Records dated outside the accepted range
(:mod:`portfolio.date_range`) are counted by a full run; an incremental run keeps the previous
counts (such rows predate the checks at the entry points, and the nightly full run recounts).
"""

from __future__ import annotations

import hashlib
import itertools
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np
import pandas as pd
import psycopg
from django.apps import apps
from django.db import connection, models, transaction
from django.db.models import Q
from psycopg import sql

from portfolio.date_range import EARLIEST_DATE, EARLIEST_MOMENT, END_MOMENT, LATEST_DATE
from portfolio.models import Portfolio
from valuestreams.metrics.flow_facts import NAT
from valuestreams.models import (
    DoraMetric,
    FlowMetric,
    MetricRun,
    RecomputeJob,
    StatusTime,
    WorkItemFact,
)
from valuestreams.recompute import jobs, read
from valuestreams.recompute import plan as planning
from valuestreams.recompute import rows as rr


@dataclass(frozen=True)
class RunRecord:
    """What a run learnt while reading and computing, for its :class:`MetricRun`: the status-change
    watermark it read up to, how many items it read, when it started (``time.monotonic``), the
    DORA benchmark used and its caveats, the settings it could not use, and the mappings (to name
    unmapped statuses)."""

    watermark: int
    items_read: int
    started: float
    benchmark: str
    settings_ignored: tuple[str, ...]
    dora_caveats: dict[str, int]
    mappings: read.Mappings
    superseded: int = 0  # the superseded status changes' id it read up to
    # the DeliveryChange rows the run took into account (deleted when it is published), and the
    # DORA settings it computed with (MetricRun.dora_settings)
    delivery_log: np.ndarray = field(default_factory=lambda: np.zeros((0, 2), dtype=np.int64))
    dora_settings: str = ""


def _publish_checkpoint(step: str) -> None:
    """Called between the writes of a publish; tests replace it to fail a publish half-way."""


def publish(
    portfolio: Portfolio,
    *,
    as_of: datetime,
    plan: planning.Plan | None,
    flow: rr.FlowRows,
    dora: DoraRows,
    windows: pd.DataFrame,
    record: RunRecord,
    job: RecomputeJob | None,
) -> MetricRun:
    """Replace the covered rows and record the run, all in ONE transaction."""
    with transaction.atomic():
        connection.ensure_connection()
        _commit_without_waiting_for_disk()
        # an incremental run updates the caveat counts by its changed items' new facts
        new_facts = flow.facts[list(CAVEAT_FACT_FIELDS)] if plan is not None else None
        _publish_as_diff(portfolio, flow, _covered(portfolio, plan))
        _publish_dora(portfolio, dora)
        _publish_checkpoint("dora")
        run = MetricRun.objects.create(
            portfolio=portfolio,
            kind=MetricRun.Kind.FULL if plan is None else MetricRun.Kind.INCREMENTAL,
            as_of=as_of,
            caveats=_caveats(portfolio, as_of, plan, record, new_facts),
            last_status_change_id=record.watermark,
            last_superseded_id=record.superseded,
            items_read=record.items_read,
            windows=window_span(windows),
            duration_s=round(time.monotonic() - record.started, 3),
            # a full run writes every row exactly; an incremental one only some of them
            exact_sums=plan is None or plan.previous.exact_sums,
            dora_settings=record.dora_settings,
            delivery_log=record.delivery_log.tolist(),
        )
        _forget_superseded(portfolio, plan, run)
        _forget_delivery_changes(portfolio, plan, run)
        jobs.succeeded(job, run)
    return run


def _built_on(
    portfolio: Portfolio, plan: planning.Plan | None, run: MetricRun, field: str
) -> MetricRun | None:
    """The run `run` builds on: the plan's previous run, or for a full run the latest before it
    (with `field` loaded)."""
    if plan is not None and plan.previous is not None:
        return plan.previous
    return (
        MetricRun.objects.filter(portfolio=portfolio)
        .exclude(pk=run.pk)
        .order_by("-computed_at", "-pk")
        .only(field)
        .first()
    )


def _forget_superseded(portfolio: Portfolio, plan: planning.Plan | None, run: MetricRun) -> None:
    """Delete the portfolio's superseded status changes that the run this one builds on (the
    latest before it, for a full run) had already seen: every later run builds on a run at
    least as recent, so none reads them again."""
    previous = _built_on(portfolio, plan, run, "last_superseded_id")
    if previous is None or not previous.last_superseded_id:
        return
    with connection.cursor() as cursor:
        cursor.execute(
            "DELETE FROM valuestreams_supersededstatuschange WHERE portfolio_id = %s AND id <= %s",
            [portfolio.pk, previous.last_superseded_id],
        )


def _forget_delivery_changes(portfolio: Portfolio, plan: planning.Plan | None, run: MetricRun):
    """Delete the delivery changes that the run this one builds on (the latest before it, for
    a full run) had read: every later run builds on a run at least as recent, and reads only
    those its own previous run had not (deleted by id, not up to a watermark: a lower id may
    commit later)."""
    previous = _built_on(portfolio, plan, run, "delivery_log")
    if previous is None or not previous.delivery_log:
        return
    runs = np.array(previous.delivery_log, dtype=np.int64).reshape(-1, 2)
    with connection.cursor() as cursor:
        cursor.execute(
            sql.SQL(
                "DELETE FROM valuestreams_deliverychange l WHERE l.portfolio_id = {} AND {}"
            ).format(sql.Literal(portfolio.pk), read.log_rows(runs))
        )


@dataclass
class DoraRows:
    """The DORA rows a run publishes: ``rows`` (DoraMetric fields with ``input_hash``) replace
    every stored row of the portfolio, or only the stored rows ``replaced`` names (their
    primary keys and row hashes) when given (an incremental run)."""

    rows: pd.DataFrame
    replaced: tuple[np.ndarray, np.ndarray] | None = None


def _publish_dora(portfolio: Portfolio, dora: DoraRows) -> None:
    """Write the DORA rows (inside the caller's transaction) as a diff by row hash against the
    stored rows they replace, like the flow tables."""
    if dora.replaced is None:
        where = sql.SQL("portfolio_id = {}").format(sql.Literal(portfolio.pk))
    else:
        where = sql.SQL("id = ANY({})").format(read.id_array(dora.replaced[0].tolist()))
    hashed = with_row_hash(DoraMetric, dora.rows)
    diff = diff_rows(DoraMetric, hashed, where=where, stored=dora.replaced)
    diff.insert = _in_window_order(diff.insert)
    apply(DoraMetric, diff, where=where, portfolio_id=portfolio.pk)


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


def _covered(portfolio: Portfolio, plan: planning.Plan | None) -> dict:
    """Per published table, the condition selecting the stored rows the run replaces."""
    everything = sql.SQL("portfolio_id = {}").format(sql.Literal(portfolio.pk))
    if plan is None:
        return dict.fromkeys(("facts", "flow", "status"), everything)
    rewritten = planning.rewritten_condition(portfolio.pk, plan)
    return {
        # the changed items are the portfolio's (the item is the table's unique key; naming the
        # portfolio too would let PostgreSQL intersect with its whole portfolio index)
        "facts": sql.SQL("item_id = ANY({})").format(read.id_array(plan.changed_items.tolist())),
        "flow": rewritten,
        "status": rewritten,
    }


def _publish_as_diff(portfolio: Portfolio, flow: rr.FlowRows, covered: dict) -> None:
    """Write the flow tables (inside the caller's transaction) as a diff against the stored rows
    the run covers: only new, changed and gone rows are touched (see
    the module's docstring)."""
    for step, model in _DIFFED:
        hashed = with_row_hash(model, getattr(flow, step))
        setattr(flow, step, None)  # the computed rows are no longer needed
        diff = diff_rows(model, hashed, where=covered[step], stored=flow.stored.get(step))
        del hashed
        diff.insert = _in_window_order(diff.insert)
        apply(model, diff, where=covered[step], portfolio_id=portfolio.pk)
        del diff
        _publish_checkpoint(step)


def _in_window_order(rows: pd.DataFrame) -> pd.DataFrame:
    """Metric rows ordered by grain and window, so each window's rows lie on neighbouring pages:
    an incremental run rewrites the recent windows of every scope, and then reads a few pages
    instead of one page per scope. (A scope's page reads one row per window either way.)"""
    if "window_start" not in rows.columns or len(rows) < 2:
        return rows
    return rows.sort_values(["grain", "window_start"], kind="stable", ignore_index=True)


def window_span(windows: pd.DataFrame) -> dict[str, list[str]]:
    span = {}
    for grain, starts in windows.groupby("grain")["window_start"]:
        span[str(grain)] = [starts.min().isoformat(), starts.max().isoformat()]
    return span


def _caveats(
    portfolio: Portfolio,
    as_of: datetime,
    plan: planning.Plan | None,
    record: RunRecord,
    new_facts: pd.DataFrame | None,
) -> dict:
    """Data-quality caveats of the portfolio, counted over the stored facts (an incremental run
    updates the previous run's counts by its changed items, which gives the same numbers), the
    records and funding periods left out for their dates, the settings that could not be used,
    plus the DORA ones."""
    counts = None
    if plan is not None and new_facts is not None:
        counts = updated_counts(plan.previous.caveats, plan.changed.old_facts, new_facts)
    if counts is None:
        counts = stored_counts(portfolio.pk)
    names = []
    if counts["unmapped_status_changes"]:
        names = unmapped_statuses(portfolio.pk, as_of, record.mappings)
    if plan is None:
        out_of_range = dates_out_of_range(portfolio)
    else:  # such rows predate the checks at the entry points: the nightly full run recounts
        previous = plan.previous.caveats
        out_of_range = {k: int(previous.get(k) or 0) for k in OUT_OF_RANGE_CAVEATS}
    return {
        **counts,
        "unmapped_statuses": names,
        **out_of_range,
        "funding_periods_out_of_range": funding_periods_out_of_range(portfolio),
        "settings_ignored": list(record.settings_ignored),
        **record.dora_caveats,
        "benchmark": record.benchmark,
    }


# --- caveats ------------------------------------------------------------------------------------

# the fact fields the counts read (besides the item itself)
CAVEAT_FACT_FIELDS = (
    "unmapped_count",
    "unmapped_type_count",
    "truncated",
    "done_without_start",
    "reopen_count",
)
COUNTS = (
    "items",
    "unmapped_status_changes",
    "unmapped_type_changes",
    "truncated_histories",
    "done_without_start",
    "reopened_items",
)


def fact_counts(facts: pd.DataFrame) -> dict[str, int]:
    """The caveat counts of a frame of facts (one row per item, CAVEAT_FACT_FIELDS columns)."""
    if facts.empty:
        return dict.fromkeys(COUNTS, 0)
    return {
        "items": len(facts),
        "unmapped_status_changes": int(facts["unmapped_count"].sum()),
        "unmapped_type_changes": int(facts["unmapped_type_count"].sum()),
        "truncated_histories": int(facts["truncated"].astype(bool).sum()),
        "done_without_start": int(facts["done_without_start"].astype(bool).sum()),
        "reopened_items": int((facts["reopen_count"] > 0).sum()),
    }


def stored_counts(portfolio_id: int) -> dict[str, int]:
    """The caveat counts over every stored fact of the portfolio."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*), coalesce(sum(unmapped_count), 0), coalesce(sum(unmapped_type_count), 0),"
            " count(*) FILTER (WHERE truncated), count(*) FILTER (WHERE done_without_start),"
            " count(*) FILTER (WHERE reopen_count > 0)"
            " FROM valuestreams_workitemfact WHERE portfolio_id = %s",
            [portfolio_id],
        )
        return dict(zip(COUNTS, map(int, cursor.fetchone()), strict=True))


def updated_counts(
    previous: dict, old_facts: pd.DataFrame, new_facts: pd.DataFrame
) -> dict[str, int] | None:
    """``previous`` counts with the changed items' old facts replaced by their new ones (None
    when ``previous`` lacks a count, e.g. it was written by an older version)."""
    if any(not isinstance(previous.get(name), int) for name in COUNTS):
        return None
    before, after = fact_counts(old_facts), fact_counts(new_facts)
    return {name: previous[name] - before[name] + after[name] for name in COUNTS}


def unmapped_statuses(portfolio_id: int, as_of: datetime, mappings: read.Mappings) -> list[str]:
    """Names of the source statuses without a mapping among the portfolio's status changes."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT DISTINCT sc.status FROM valuestreams_statuschange sc"
            " JOIN valuestreams_workitemfact f ON f.item_id = sc.item_id"
            " WHERE f.portfolio_id = %s AND f.unmapped_count > 0 AND sc.at <= %s",
            [portfolio_id, as_of],
        )
        return sorted({row[0] for row in cursor.fetchall() if mappings.state_of(row[0]) is None})


OUT_OF_RANGE_CAVEATS = (
    "status_changes_out_of_range",
    "work_items_out_of_range",
    "deployments_out_of_range",
    "changes_out_of_range",
    "incidents_out_of_range",
)


def dates_out_of_range(portfolio: Portfolio) -> dict[str, int]:
    """How many of the portfolio's stored records are dated outside the accepted range (the
    metrics leave them out): keys :data:`OUT_OF_RANGE_CAVEATS`. Such rows can only predate the
    check at the entry points, or come from behind the services' back. One query; the status
    changes are found through their index on ``at``."""

    def outside(table: str, column: str) -> sql.Composable:
        return sql.SQL(
            "(SELECT count(*) FROM {} WHERE portfolio_id = {} AND NOT coalesce({}, true))"
        ).format(sql.Identifier(table), sql.Literal(portfolio.pk), read.in_date_range(column))

    status_changes = sql.SQL(
        "(SELECT count(*) FROM valuestreams_statuschange sc"
        " JOIN valuestreams_workitem wi ON wi.id = sc.item_id"
        " WHERE wi.portfolio_id = {} AND (sc.at < {} OR sc.at >= {}))"
    ).format(sql.Literal(portfolio.pk), sql.Literal(EARLIEST_MOMENT), sql.Literal(END_MOMENT))
    incidents = sql.SQL(
        "(SELECT count(*) FROM valuestreams_incident WHERE portfolio_id = {}"
        " AND NOT ({} AND coalesce({}, true)))"
    ).format(
        sql.Literal(portfolio.pk),
        read.in_date_range("created_at"),
        read.in_date_range("resolved_at"),
    )
    query = sql.SQL("SELECT {}").format(
        sql.SQL(", ").join(
            [
                status_changes,
                outside("valuestreams_workitem", "created_at"),
                outside("valuestreams_deployment", "finished_at"),
                outside("valuestreams_change", "first_commit_at"),
                incidents,
            ]
        )
    )
    connection.ensure_connection()
    with connection.connection.cursor() as cursor:
        cursor.execute(query)
        counts = cursor.fetchone()
    return dict(zip(OUT_OF_RANGE_CAVEATS, map(int, counts), strict=True))


def funding_periods_out_of_range(portfolio: Portfolio) -> list[str]:
    """Names of the portfolio's approved or closed funding periods dated outside the accepted
    range: their target allocations are left out of the metrics (see
    :func:`~valuestreams.recompute.read.allocation_targets`)."""
    periods = apps.get_model("leanpmo", "FundingPeriod").objects.filter(portfolio=portfolio)
    outside = Q(starts_on__lt=EARLIEST_DATE) | Q(ends_on__gt=LATEST_DATE)
    return list(
        periods.exclude(status="draft")
        .filter(outside)
        .order_by("starts_on", "pk")
        .values_list("name", flat=True)
    )


# --- the diff by row hash (see the module's docstring) --------------------------------------------

NULL_INT = -(2**62)  # stands for NULL in integer and datetime columns while hashing
_VERSION = b"row-hash-1"  # change when the hashed form changes: every row is rewritten once
_NAN_BITS = np.float64(np.nan).view(np.uint64)
COPY_ROWS = 10_000  # rows encoded at once: bounds the bytes and index arrays held in memory
_STAGED = itertools.count()  # numbers the staging tables of a process
IN_PLACE_MAX_ROWS = 50_000  # above this many changed rows, delete + COPY beats staging them


@dataclass
class Diff:
    """What to write: the primary keys of stored rows to delete, and the computed rows to insert."""

    delete_pks: np.ndarray
    insert: pd.DataFrame
    delete_all: bool = False  # every stored row the run covers goes


def _kind(model, name: str) -> str:
    kind = model._meta.get_field(name).get_internal_type()
    if kind == "DateTimeField":
        return "time"
    if kind == "FloatField":
        return "float"
    if kind == "BooleanField":
        return "bool"
    if kind in {"CharField", "TextField"}:
        return "text"
    return "int"


def _text_hashes(names) -> np.ndarray:
    return np.array(
        [
            int.from_bytes(hashlib.blake2b(str(n).encode(), digest_size=8, key=_VERSION).digest())
            for n in names
        ],
        dtype=np.uint64,
    )


def _column_words(column: pd.Series, kind: str) -> np.ndarray:
    """A column as uint64 words, in the form the value is stored in."""
    if kind == "time":
        if isinstance(column.dtype, pd.DatetimeTZDtype):
            column = column.dt.tz_convert("UTC").dt.tz_localize(None)
        micro = column.to_numpy().astype("M8[us]")
        return np.where(np.isnat(micro), NULL_INT, micro.view(np.int64)).view(np.uint64)
    if kind == "float":
        values = column.to_numpy(dtype=np.float64, na_value=np.nan)
        return np.where(np.isnan(values), _NAN_BITS, values.view(np.uint64))
    if kind == "bool":
        return column.to_numpy(dtype=np.int8).astype(np.uint64)
    if kind == "int":
        return column.to_numpy(dtype=np.int64, na_value=NULL_INT).view(np.uint64)
    codes, names = pd.factorize(column.astype(str), sort=False)
    return _text_hashes(names)[codes] if len(names) else np.zeros(len(column), dtype=np.uint64)


def row_hashes(model, frame: pd.DataFrame) -> np.ndarray:
    """A 64-bit hash (int64, never 0) of each row of ``frame`` (columns = field names of
    ``model``), over every column in the frame's order."""
    h = np.full(len(frame), np.uint64(0x243F6A8885A308D3), dtype=np.uint64)
    with np.errstate(over="ignore"):
        for position, name in enumerate(frame.columns):
            words = _column_words(frame[name], _kind(model, name))
            h ^= words + np.uint64(0x9E3779B97F4A7C15) * np.uint64(position + 1)
            h ^= h >> np.uint64(30)
            h *= np.uint64(0xBF58476D1CE4E5B9)
            h ^= h >> np.uint64(27)
            h *= np.uint64(0x94D049BB133111EB)
            h ^= h >> np.uint64(31)
    out = h.view(np.int64)
    out[out == 0] = 1  # 0 stands for "no hash stored"
    return out


def with_row_hash(model, frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with its ``row_hash`` column (what is written to the table)."""
    return frame.assign(row_hash=row_hashes(model, frame))


def _read_stored_hashes(model, where: sql.Composable) -> tuple[np.ndarray, np.ndarray]:
    """Primary keys and row hashes (0 where none) of the stored rows ``where`` selects, as two
    big-endian int64 strings built by PostgreSQL (one result row, no per-row round trip)."""
    query = sql.SQL(
        "SELECT string_agg(int8send({pk}), ''), string_agg(int8send(coalesce(row_hash, 0)), '')"
        " FROM {table} WHERE {where}"
    ).format(
        pk=sql.Identifier(model._meta.pk.column),
        table=sql.Identifier(model._meta.db_table),
        where=where,
    )
    connection.ensure_connection()
    # a server-side-binding cursor: Django's default client-side one cannot ask for binary results
    with psycopg.Cursor(connection.connection) as cursor:
        cursor.execute(query, binary=True)
        pks, hashes = cursor.fetchone()
    if pks is None:
        return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64)
    return (
        np.frombuffer(pks, dtype=">i8").astype(np.int64),
        np.frombuffer(hashes, dtype=">i8").astype(np.int64),
    )


def _isin(values: np.ndarray, among: np.ndarray) -> np.ndarray:
    """Membership by hash table (numpy's isin sorts; this is ~15x faster on random int64)."""
    return pd.Series(values, copy=False).isin(among).to_numpy()


def diff_rows(
    model,
    frame: pd.DataFrame,
    *,
    where: sql.Composable,
    stored: tuple[np.ndarray, np.ndarray] | None = None,
) -> Diff:
    """The rows of ``frame`` (columns = field names, with ``row_hash``) that are not stored
    as they are among the rows ``where`` selects, and those of them to delete (changed or
    gone). ``stored``: those rows' (primary keys, row hashes, 0 for none) when the caller has
    read them already."""
    stored_pk, stored_hash = stored if stored is not None else _read_stored_hashes(model, where)
    new_hash = frame["row_hash"].to_numpy(dtype=np.int64)
    kept = _isin(stored_hash, new_hash) & (stored_hash != 0)
    if not kept.any():
        return Diff(stored_pk, frame, delete_all=len(stored_pk) > 0)
    inserted = ~_isin(new_hash, stored_hash[kept])
    return Diff(delete_pks=stored_pk[~kept], insert=frame[inserted])


def apply_deletes(model, diff: Diff, *, where: sql.Composable) -> None:
    """Delete the stored rows ``diff`` names (in the caller's transaction); ``where`` selects
    them all when every one goes."""
    table, pk = sql.Identifier(model._meta.db_table), sql.Identifier(model._meta.pk.column)
    with connection.connection.cursor() as cursor:
        if diff.delete_all:
            cursor.execute(sql.SQL("DELETE FROM {} WHERE {}").format(table, where))
        elif len(diff.delete_pks):
            cursor.execute(
                sql.SQL("DELETE FROM {} WHERE {} = ANY({})").format(
                    table, pk, read.id_array(diff.delete_pks.tolist())
                )
            )


def copy_rows(model, frame: pd.DataFrame, *, portfolio_id: int, table: str | None = None) -> None:
    """COPY ``frame`` (columns = field names) with ``portfolio_id`` into the model's table (or
    ``table``, with the same columns), in PostgreSQL's binary format (:func:`binary_copy_chunks`),
    COPY_ROWS rows at a time."""
    if frame.empty:
        return
    fields = {f.column: f for f in model._meta.concrete_fields}
    frame = frame.assign(portfolio_id=portfolio_id)[["portfolio_id", *frame.columns]]
    kinds = [column_kind(fields[name].db_type(connection)) for name in frame.columns]
    statement = sql.SQL("COPY {} ({}) FROM STDIN (FORMAT binary)").format(
        sql.Identifier(table or model._meta.db_table),
        sql.SQL(", ").join(map(sql.Identifier, frame.columns)),
    )
    with connection.connection.cursor() as cursor, cursor.copy(statement) as copy:
        for chunk in binary_copy_chunks(frame, kinds, rows_per_chunk=COPY_ROWS):
            copy.write(chunk)


def natural_key(model) -> list[str]:
    """The columns of the model's unique key: its (unconditional) unique constraint, or its
    primary key."""
    for constraint in model._meta.constraints:
        if isinstance(constraint, models.UniqueConstraint) and constraint.condition is None:
            return [model._meta.get_field(name).column for name in constraint.fields]
    return [model._meta.pk.column]


def apply(model, diff: Diff, *, where: sql.Composable, portfolio_id: int) -> None:
    """Write ``diff`` (in the caller's transaction): rows of a stored key updated in place, new
    keys inserted, gone keys deleted (see the module's docstring); ``where`` selects every row
    the diff covers."""
    rows = diff.insert
    if diff.delete_all or not len(diff.delete_pks) or rows.empty or len(rows) > IN_PLACE_MAX_ROWS:
        apply_deletes(model, diff, where=where)
        copy_rows(model, rows, portfolio_id=portfolio_id)
        return
    written = _upsert(model, rows, portfolio_id=portfolio_id)
    gone = diff.delete_pks[~_isin(diff.delete_pks, written)]
    apply_deletes(model, Diff(delete_pks=gone, insert=rows.iloc[:0]), where=where)


def _upsert(model, frame: pd.DataFrame, *, portfolio_id: int) -> np.ndarray:
    """Insert ``frame``'s rows, updating the stored row of the same natural key in place; the
    primary keys of every row written."""
    table = model._meta.db_table
    staged = f"{table}_staged_{next(_STAGED)}"  # unique in the session: no DROP round trip
    columns = ["portfolio_id", *frame.columns]
    key = natural_key(model)
    names = sql.SQL(", ").join(map(sql.Identifier, columns))
    with connection.connection.cursor() as cursor:
        # dropped at the end of the transaction, whatever happens
        cursor.execute(
            sql.SQL("CREATE TEMP TABLE {} ON COMMIT DROP AS SELECT {} FROM {} WITH NO DATA").format(
                sql.Identifier(staged), names, sql.Identifier(table)
            )
        )
    copy_rows(model, frame, portfolio_id=portfolio_id, table=staged)
    updated = sql.SQL(", ").join(
        sql.SQL("{0} = EXCLUDED.{0}").format(sql.Identifier(c)) for c in columns if c not in key
    )
    with connection.connection.cursor() as cursor:
        cursor.execute(
            sql.SQL(
                "INSERT INTO {table} ({names}) SELECT {names} FROM {staged}"
                " ON CONFLICT ({key}) DO UPDATE SET {updated} RETURNING {pk}"
            ).format(
                table=sql.Identifier(table),
                names=names,
                staged=sql.Identifier(staged),
                key=sql.SQL(", ").join(map(sql.Identifier, key)),
                updated=updated,
                pk=sql.Identifier(model._meta.pk.column),
            )
        )
        return np.array([row[0] for row in cursor.fetchall()], dtype=np.int64)


# --- binary COPY (see the module's docstring) ----------------------------------------------------

SIGNATURE = b"PGCOPY\n\xff\r\n\x00" + b"\x00\x00\x00\x00" + b"\x00\x00\x00\x00"
TRAILER = b"\xff\xff"
PG_EPOCH_US = 946_684_800_000_000  # 2000-01-01T00:00:00Z in microseconds since 1970
_FIXED = {"int2": ">i2", "int4": ">i4", "int8": ">i8", "float8": ">f8", "bool": "u1"}
_MANY_TEXTS = 512  # above this many distinct texts in a column, rows are joined in Python


def column_kind(db_type: str) -> str:
    """The binary kind of a column from its SQL type (as Django's ``Field.db_type`` gives it)."""
    db_type = db_type.lower()
    if db_type.startswith(("varchar", "char", "text", "character")):
        return "text"
    kinds = {
        "smallint": "int2",
        "integer": "int4",
        "bigint": "int8",
        "double precision": "float8",
        "boolean": "bool",
        "timestamp with time zone": "timestamptz",
    }
    if db_type not in kinds:
        raise ValueError(f"no binary COPY encoding for SQL type {db_type!r}")
    return kinds[db_type]


def _fixed_column(column: pd.Series, kind: str) -> tuple[np.ndarray, np.ndarray]:
    """(null mask, big-endian bytes as an (n, size) uint8 array) of a fixed-size column."""
    if kind == "timestamptz":
        values = column if isinstance(column.dtype, pd.DatetimeTZDtype) else pd.to_datetime(column)
        # aware values are stored as UTC instants, naive ones are taken as UTC
        micro = np.asarray(values.dt.as_unit("us").array.asi8)
        null = micro == NAT
        raw = np.where(null, 0, micro - PG_EPOCH_US).astype(">i8")
    elif kind == "float8":
        values = column.to_numpy(dtype=np.float64, na_value=np.nan)
        null = np.isnan(values)
        raw = values.astype(">f8")
    else:
        null = column.isna().to_numpy()
        filled = column.fillna(0) if null.any() else column
        if kind == "bool":
            raw = filled.to_numpy().astype(bool).astype(np.uint8)
        else:
            raw = filled.to_numpy().astype(np.int64).astype(_FIXED[kind])
    size = raw.dtype.itemsize
    return null, raw.view(np.uint8).reshape(len(raw), size)


def _encode(frame: pd.DataFrame, kinds: Sequence[str]) -> bytes:
    """The tuples of ``frame`` (no header or trailer)."""
    n = len(frame)
    lengths, writers = [], []
    for name, kind in zip(frame.columns, kinds, strict=True):
        column = frame[name]
        if kind == "text":
            codes, uniques = pd.factorize(column)
            encoded = [str(u).encode() for u in uniques]
            if len(codes) and codes.min() < 0:  # missing text is written as an empty string
                codes = np.where(codes < 0, len(encoded), codes)
                encoded.append(b"")
            sizes = np.array([len(e) for e in encoded], dtype=np.int64)
            lengths.append(4 + (sizes[codes] if len(codes) else np.zeros(0, dtype=np.int64)))
            writers.append(("text", codes, encoded))
        else:
            null, raw = _fixed_column(column, kind)
            size = raw.shape[1] if raw.ndim == 2 else 0
            lengths.append(np.where(null, 4, 4 + size).astype(np.int64))
            writers.append(("fixed", null, raw))
    row_length = 2 + (np.sum(lengths, axis=0) if lengths else np.zeros(n, dtype=np.int64))
    row_start = np.concatenate(([0], np.cumsum(row_length)[:-1])) if n else row_length
    buffer = np.empty(int(row_length.sum()), dtype=np.uint8)
    field_count = np.array([len(kinds)], dtype=">i2").view(np.uint8)
    buffer[row_start[:, None] + np.arange(2)] = field_count
    position = row_start + 2
    for length, (how, first, second) in zip(lengths, writers, strict=True):
        if how == "text":
            _write_text(buffer, position, first, second)
        else:
            _write_fixed(buffer, position, first, second)
        position = position + length
    return buffer.tobytes()


def _write_fixed(buffer: np.ndarray, position: np.ndarray, null: np.ndarray, raw) -> None:
    size = raw.shape[1]
    filled = ~null
    header = np.array([size], dtype=">i4").view(np.uint8)
    at = position[filled]
    buffer[at[:, None] + np.arange(4)] = header
    buffer[at[:, None] + 4 + np.arange(size)] = raw[filled]
    if null.any():
        buffer[position[null][:, None] + np.arange(4)] = 0xFF


def _write_text(buffer: np.ndarray, position: np.ndarray, codes: np.ndarray, encoded) -> None:
    if len(encoded) > _MANY_TEXTS:
        for row, code in enumerate(codes.tolist()):
            data = len(encoded[code]).to_bytes(4, "big") + encoded[code]
            buffer[position[row] : position[row] + len(data)] = np.frombuffer(data, np.uint8)
        return
    order = np.argsort(codes, kind="stable")
    bounds = np.searchsorted(codes[order], np.arange(len(encoded) + 1))
    for code, data in enumerate(encoded):
        rows = order[bounds[code] : bounds[code + 1]]
        if not len(rows):
            continue
        field = np.frombuffer(len(data).to_bytes(4, "big") + data, dtype=np.uint8)
        buffer[position[rows][:, None] + np.arange(len(field))] = field


def binary_copy_chunks(
    frame: pd.DataFrame, kinds: Sequence[str], *, rows_per_chunk: int
) -> Iterable[bytes]:
    """The COPY ... FROM STDIN (FORMAT binary) stream of ``frame`` (one kind per column, see
    :func:`column_kind`), in chunks of ``rows_per_chunk`` rows: the header, tuples, trailer."""
    yield SIGNATURE
    for begin in range(0, len(frame), rows_per_chunk):
        yield _encode(frame.iloc[begin : begin + rows_per_chunk], kinds)
    yield TRAILER
