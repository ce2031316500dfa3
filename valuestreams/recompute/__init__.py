"""Recomputing a portfolio's precomputed metrics: the pipeline's entry points.

- :func:`recompute_request` records (or merges into) a queued :class:`RecomputeJob` and enqueues
  its Celery task after commit; the job row, not the broker message, is the source of truth.
- :func:`recompute_job_run` is what the worker runs; :func:`recompute_jobs_sweep` sends lost jobs
  again; :func:`recompute_nightly` requests a full recompute of every portfolio after its local midnight.
- :func:`recompute_full_now` and :func:`recompute_incremental_now` recompute synchronously (the
  demo seed, the benchmark, tests); :func:`live_flow_rows` and :func:`live_dora_rows` compute one
  scope as of another time and store nothing (the API's ``?as_of=``).

Nothing else of the package is imported from outside. Its stages, in the order a run goes
through them:

- :mod:`~valuestreams.recompute.jobs` — claim a job, one run per portfolio at a time (an advisory
  lock, released by the server if the worker dies), heartbeat and progress, the sweep;
- :mod:`~valuestreams.recompute.plan` — for an incremental run (a job naming items or teams),
  which windows of which scopes to rewrite so that the result equals a full run's: those the
  change touched and those time moved;
- :mod:`~valuestreams.recompute.read` — status histories with COPY, DORA records, the stored
  facts and rows an incremental run carries forward;
- :mod:`~valuestreams.recompute.rows`, :mod:`~valuestreams.recompute.dora` and
  :mod:`~valuestreams.recompute.carry` — pure: the rows of every table from frames with the
  metrics of :mod:`valuestreams.metrics` (the DORA rows, their input hashes and which of them an
  incremental run recomputes in ``dora``), and the arithmetic that
  carries the previous rows forward by the changed items' old and new contributions (an item
  that moved team or value stream subtracts from its old scopes and adds to its new ones) when
  every changed item's previous history is known — it only grew, one late row was inserted
  into it, or it is rebuilt from the rows the previous run read and those superseded since
  (:class:`~valuestreams.models.SupersededStatusChange`) — (otherwise every item reaching the
  rewritten windows is read);
- :mod:`~valuestreams.recompute.publish` — one transaction: only the rows whose hash changed are
  written (binary COPY, updates in place), the caveats and the run record, the job's status.

Item facts, DORA rows and caveats are always exact: facts of changed items are recomputed, DORA
rows wherever what they are computed from changed (their input hash; an incremental run on the
same local day and DORA settings as the previous run hashes only the rows that the deliveries
and teams changed since can reach — :class:`~valuestreams.models.DeliveryChange`, written by
triggers whoever writes — and those of the records time made known), caveats are counts over
the stored facts (a full run sums them, an incremental one updates the previous counts by its
changed items).

Changes that move whole histories without naming items — a state/type mapping edit, funding
targets — request ``full=True``; an ingest of deployments, changes or incidents requests
``dora_changed=True`` (no work item is read for it); a team moved to another value stream
(:func:`teams.services.teams.team_update`) requests the team's items by ``team_ids``. The nightly full
run repairs anything changed behind the services' back (the Django admin, raw SQL); deliveries
and teams so changed are logged all the same, and the next run of any kind takes them into account.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np
import pandas as pd
from django.db import connection, transaction
from django.db.models import Max
from django.utils import timezone
from psycopg import sql

from config.celery import enqueue_on_commit
from portfolio.models import Portfolio
from valuestreams.metrics.flow_windows import period_windows
from valuestreams.models import DeliveryChange, JobStatus, MetricRun, RecomputeJob
from valuestreams.recompute import carry, jobs, publish, read
from valuestreams.recompute import dora as rd
from valuestreams.recompute import plan as planning
from valuestreams.recompute import rows as rr
from valuestreams.recompute.live import live_dora_rows, live_flow_rows

__all__ = [
    "live_dora_rows",
    "live_flow_rows",
    "recompute_full_now",
    "recompute_incremental_now",
    "recompute_job_run",
    "recompute_jobs_sweep",
    "recompute_nightly",
    "recompute_request",
]

logger = logging.getLogger(__name__)


# --- requests -------------------------------------------------------------------------------------


@transaction.atomic
def recompute_request(
    *,
    portfolio: Portfolio,
    item_ids: Iterable[int] = (),
    team_ids: Iterable[int] = (),
    dora_changed: bool = False,
    full: bool = False,
    requested_by=None,
) -> RecomputeJob:
    """Ask for a recompute of ``portfolio``: of everything (``full``), of what the given work
    items and teams touch, or — ``dora_changed`` alone, what an ingest of deployments, changes
    or incidents asks — an incremental run that reads no team's work items (its flow part
    carries the previous rows forward; every run recomputes the DORA rows whose inputs
    changed). A request naming nothing is a full one. A queued job of the same portfolio
    absorbs the request (item and team ids are merged, ``dora_changed`` kept; full wins);
    otherwise a new job is created and its task enqueued on commit."""
    item_ids, team_ids = sorted({int(i) for i in item_ids}), sorted({int(t) for t in team_ids})
    full = full or not (item_ids or team_ids or dora_changed)
    job = (
        RecomputeJob.objects.select_for_update()
        .filter(portfolio=portfolio, status=JobStatus.QUEUED)
        .order_by("created_at")
        .first()
    )
    if job is not None:
        if full:
            job.kind, job.item_ids, job.team_ids = MetricRun.Kind.FULL, [], []
            job.dora_changed = False
        elif job.kind == MetricRun.Kind.INCREMENTAL:
            job.item_ids = sorted({*job.item_ids, *item_ids})
            job.team_ids = sorted({*job.team_ids, *team_ids})
            job.dora_changed = job.dora_changed or dora_changed
        job.save(update_fields=["kind", "item_ids", "team_ids", "dora_changed"])
        return job
    job = RecomputeJob.objects.create(
        portfolio=portfolio,
        kind=MetricRun.Kind.FULL if full else MetricRun.Kind.INCREMENTAL,
        item_ids=[] if full else item_ids,
        team_ids=[] if full else team_ids,
        dora_changed=dora_changed and not full,
        requested_by=requested_by,
        enqueued_at=timezone.now(),
    )
    from valuestreams.tasks import run_recompute_job

    enqueue_on_commit(run_recompute_job, job.pk)
    return job


def recompute_full_now(*, portfolio: Portfolio, as_of: datetime | None = None) -> MetricRun:
    """Recompute every metric of ``portfolio`` as of ``as_of`` (default: now) and publish it."""
    as_of = as_of or timezone.now()
    with jobs.portfolio_lock(portfolio.pk, wait=True):
        return _run(portfolio, as_of=as_of, plan=None)


def recompute_incremental_now(
    *,
    portfolio: Portfolio,
    item_ids: Iterable[int] = (),
    team_ids: Iterable[int] = (),
    as_of: datetime | None = None,
) -> MetricRun:
    """Recompute synchronously what the given items and teams touch (falls back to a full run
    when there is no previous run to build on)."""
    as_of = as_of or timezone.now()
    with jobs.portfolio_lock(portfolio.pk, wait=True):
        plan = planning.plan_incremental(
            portfolio, as_of=as_of, item_ids=item_ids, team_ids=team_ids
        )
        return _run(portfolio, as_of=as_of, plan=plan)


# --- jobs -----------------------------------------------------------------------------------------


def recompute_job_run(*, job_id: int) -> MetricRun | None:
    """Run a queued job (what the Celery task calls). A job already claimed, finished or unknown
    is left alone, so a message delivered twice does nothing the second time. A job whose
    portfolio is being recomputed by another worker is sent again a little later."""
    portfolio_id = jobs.queued_portfolio(job_id)
    if portfolio_id is None:
        return None
    with jobs.portfolio_lock(portfolio_id, wait=False) as lock:
        if not lock.held:
            jobs.enqueue_later(job_id)
            return None
        job = jobs.claim(job_id)
        if job is None:
            return None
        with jobs.heartbeat(job):
            try:
                as_of = timezone.now()
                plan = None
                if job.kind == MetricRun.Kind.INCREMENTAL:
                    plan = planning.plan_incremental(
                        job.portfolio, as_of=as_of, item_ids=job.item_ids, team_ids=job.team_ids
                    )
                return _run(job.portfolio, as_of=as_of, plan=plan, job=job)
            except Exception as error:
                logger.exception("recompute job %s failed", job.pk)
                jobs.failed(job, error)
                raise


def recompute_jobs_sweep(*, now: datetime | None = None) -> list[int]:
    """Send lost recompute jobs again (:func:`valuestreams.jobs.job_sweep`); returns their ids."""
    return jobs.sweep(now=now)


def _local_midnight(portfolio: Portfolio, now: datetime) -> datetime:
    """The start of ``now``'s local day in the portfolio's time zone (UTC's where the stored zone
    is unknown: its run then fails and says why)."""
    try:
        zone = ZoneInfo(portfolio.time_zone)
    except (ZoneInfoNotFoundError, ValueError):
        zone = ZoneInfo("UTC")
    local = now.astimezone(zone)
    return local.replace(hour=0, minute=0, second=0, microsecond=0)


def recompute_nightly(*, now: datetime | None = None) -> list[int]:
    """Request a full recompute of every portfolio that has not had one requested since its own
    local midnight (the hourly beat entry: the first beat after each portfolio's midnight asks,
    a beat missed while workers were down is made up by the next); returns the job ids. So the
    day's incremental runs build on a run of the same local day, and the rows that the date
    alone changes (the open windows' DORA calendar days) are recomputed once a day, here.
    The delivery changes of deleted portfolios are forgotten first."""
    now = now or timezone.now()
    _forget_gone_portfolios()
    last_full = dict(
        RecomputeJob.objects.filter(kind=MetricRun.Kind.FULL)
        .values_list("portfolio")
        .annotate(last=Max("created_at"))
        .order_by()
    )
    return [
        recompute_request(portfolio=portfolio, full=True).pk
        for portfolio in Portfolio.objects.order_by("pk")
        if (last := last_full.get(portfolio.pk)) is None or last < _local_midnight(portfolio, now)
    ]


def _forget_gone_portfolios() -> int:
    """Delete the delivery changes of portfolios that no longer exist (a portfolio's own are
    deleted by the runs that take them into account); returns how many went."""
    gone, _ = DeliveryChange.objects.exclude(
        portfolio_id__in=Portfolio.objects.values("pk")
    ).delete()
    return gone


# --- a run: read, compute, publish ----------------------------------------------------------------


def _watermarks() -> tuple[int, int]:
    """The highest status change id and superseded status change id stored now."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT (SELECT coalesce(max(id), 0) FROM valuestreams_statuschange),"
            " (SELECT coalesce(max(id), 0) FROM valuestreams_supersededstatuschange)"
        )
        found = cursor.fetchone()
        return int(found[0]), int(found[1])


def _run(
    portfolio: Portfolio,
    *,
    as_of: datetime,
    plan: planning.Plan | None,
    job: RecomputeJob | None = None,
) -> MetricRun:
    """Recompute ``portfolio`` as of ``as_of`` — everything, or what ``plan`` covers — and
    publish it (the caller holds the portfolio's recompute lock)."""
    started = time.monotonic()
    watermark, superseded = _watermarks()
    settings = read.dora_settings(portfolio)
    delivery = _delivery_records(portfolio, plan, as_of=as_of, settings=settings)
    mappings = plan.changed.mappings if plan is not None else read.portfolio_mappings(portfolio)
    if plan is not None and plan.carry:
        flow = _carried(portfolio, plan, as_of=as_of)
        windows, items_read = plan.windows, len(plan.read_items)
    else:
        flow, windows, items_read = _recomputed(portfolio, plan, as_of=as_of, mappings=mappings)
    jobs.progress(job, 60)
    found = delivery()
    dora, dora_caveats = _dora(
        portfolio, plan, windows=windows, as_of=as_of, settings=settings, found=found
    )
    jobs.progress(job, 80)
    record = publish.RunRecord(
        watermark=watermark,
        superseded=superseded,
        items_read=items_read,
        started=started,
        benchmark=settings.benchmark,
        settings_ignored=settings.ignored,
        dora_caveats=dora_caveats,
        mappings=mappings,
        delivery_log=found.log,
        dora_settings=_settings_key(portfolio, settings),
    )
    return publish.publish(
        portfolio,
        as_of=as_of,
        plan=plan,
        flow=flow,
        dora=dora,
        windows=windows,
        record=record,
        job=job,
    )


Records = tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, pd.DataFrame]


@dataclass
class Narrowed:
    """The DORA records an incremental run reads when only some of them changed: per scope kind
    with a reached scope, the records its rows within ``reach`` are computed from (see
    :func:`valuestreams.recompute.read.narrowed_delivery_frames`) and the windows ending after
    its earliest moment (``kinds``: kind → deployments, changes, incidents, windows); the stored
    rows of the reached scopes from the earliest moment on, in ``windows``; and the run's DORA
    caveats."""

    kinds: dict[str, tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, pd.DataFrame]]
    stored: pd.DataFrame
    windows: pd.DataFrame
    reach: rd.Reach
    caveats: dict[str, int]


@dataclass
class DoraFound:
    """What a run read for its DORA rows: the delivery changes it takes into account (``log``:
    runs of ids, :func:`~valuestreams.recompute.read.delivery_log`; the next run deletes them) and either every record and stored row (``records``: a full
    run, or an incremental one on another basis than the previous run's), the records of what
    changed (``narrowed``), or neither: no DORA row can have changed since the previous run."""

    log: np.ndarray
    records: Records | None = None
    narrowed: Narrowed | None = None


def _settings_key(portfolio: Portfolio, settings: read.DoraSettings) -> str:
    """What, besides the records, every DORA row is computed from (MetricRun.dora_settings)."""
    gap = "none" if settings.max_gap is None else str(int(settings.max_gap.total_seconds()))
    return f"{settings.benchmark}|{gap}|{portfolio.time_zone}"


def _same_basis(
    portfolio: Portfolio, plan: planning.Plan, *, as_of: datetime, settings: read.DoraSettings
) -> bool:
    """Whether the previous run's DORA rows differ from this run's only where records changed:
    the same DORA settings and time zone, the same windows, and the same local day (the open
    windows' deployment-frequency calendar ends on it)."""
    previous = plan.previous
    if previous.dora_settings != _settings_key(portfolio, settings):
        return False
    if previous.windows != publish.window_span(plan.windows):
        return False
    zone = ZoneInfo(portfolio.time_zone)
    return previous.as_of.astimezone(zone).date() == as_of.astimezone(zone).date()


def _every_record(portfolio: Portfolio) -> Records:
    return (
        read.deployments_frame(portfolio),
        read.changes_frame(portfolio),
        read.incidents_frame(portfolio),
        read.stored_dora_rows(portfolio.pk),
    )


def _read_records(
    portfolio: Portfolio,
    plan: planning.Plan | None,
    *,
    as_of: datetime,
    settings: read.DoraSettings,
    aside: bool = False,
) -> DoraFound:
    """What the run's DORA rows are computed from (:class:`DoraFound`); ``aside``: on this
    thread's own connection, closed when done. The delivery changes are read first: a write
    committed after is either seen by the reads that follow or left for the next run."""
    try:
        log = read.delivery_log(portfolio, read_before=_previous_run(portfolio, plan).delivery_log)
        if plan is None or not _same_basis(portfolio, plan, as_of=as_of, settings=settings):
            return DoraFound(log, records=_every_record(portfolio))
        changes = read.delivery_changes(portfolio, log, after=plan.previous.as_of, until=as_of)
        if changes.events.empty and not changes.moved:
            return DoraFound(log)
        if changes.moved and read.deployments_share(portfolio, changes.moved) > MOVED_MAX_SHARE:
            return DoraFound(log, records=_every_record(portfolio))
        return DoraFound(log, narrowed=_narrowed(portfolio, plan, log, changes, as_of, settings))
    finally:
        if aside:
            connection.close()


# a team moved to another value stream changes that value stream's and its old one's DORA rows
# in every window: read narrowed, their records cost more than reading every record (a plain
# scan) when they hold more than this share of the portfolio's deployments
MOVED_MAX_SHARE = 0.1


def _previous_run(portfolio: Portfolio, plan: planning.Plan | None) -> MetricRun:
    """The run this one builds on: the plan's, or for a full run the latest (an unsaved one
    without a log where there is none)."""
    if plan is not None:
        return plan.previous
    latest = MetricRun.objects.filter(portfolio=portfolio).order_by("-computed_at", "-pk")
    return latest.only("delivery_log").first() or MetricRun(delivery_log=[])


def _narrowed(
    portfolio: Portfolio,
    plan: planning.Plan,
    log: np.ndarray,
    changes: read.DeliveryChanges,
    as_of: datetime,
    settings: read.DoraSettings,
) -> Narrowed:
    """The records, stored rows and caveats of an incremental run where some records changed
    (see :class:`~valuestreams.recompute.dora.Reach`)."""

    def utc(ns) -> datetime:
        return pd.Timestamp(int(ns), tz="UTC").to_pydatetime()

    def moments(series: pd.Series) -> pd.Series:
        return pd.Series(pd.to_datetime(series.to_numpy(), utc=True), index=series.index)

    teams, streams, whole = rd.first_moments(changes.events, as_of)
    latest = read.latest_deployments_before(
        portfolio,
        teams=moments(teams),
        streams=moments(streams),
        before=None if whole is None else utc(whole),
    )
    relinked = read.incidents_from(
        portfolio,
        log,
        teams=moments(teams),
        streams=moments(streams),
        since=None if whole is None else utc(whole),
    )
    reach = rd.reach((teams, streams, whole), latest, relinked, changes.moved)
    ends = plan.windows["window_end"].dt.as_unit("ns").array.asi8
    windows = plan.windows[ends > reach.lowest()].reset_index(drop=True)
    starts = windows["window_start"].dt.as_unit("ns").array.asi8
    open_incidents = read.open_incidents(
        portfolio,
        resolved_from=utc(starts.min()),
        created_before=utc(starts.max()),
        as_of=as_of,
    )
    kinds = {}
    bounds = rd.read_bounds(reach, windows, open_incidents, read.team_streams(portfolio))
    for kind, (teams_from, default) in bounds.items():
        frames = read.narrowed_delivery_frames(
            portfolio,
            bounds=moments(teams_from),
            default=None if default is None else utc(default),
        )
        kinds[kind] = (*frames, rd.kind_windows(windows, reach, kind))
    stored = read.stored_dora_rows_of(
        portfolio.pk,
        teams=reach.teams.index.tolist(),
        streams=reach.streams.index.tolist(),
        after=utc(starts.min() - 1000),
    )
    if changes.events.empty:  # only teams moved: no incident's link to the portfolio's deployments
        caveats = {k: int(plan.previous.caveats.get(k) or 0) for k in DORA_CAVEATS}
    else:
        caveats = read.incident_caveats(portfolio, as_of=as_of, max_gap=settings.max_gap)
    return Narrowed(kinds, stored, windows, reach, caveats)


DORA_CAVEATS = ("incidents", "incidents_unlinked")


def _delivery_records(
    portfolio: Portfolio,
    plan: planning.Plan | None,
    *,
    as_of: datetime,
    settings: read.DoraSettings,
) -> Callable[[], DoraFound]:
    """The DORA records of an incremental run, read on a second connection while the flow part
    runs (the server scans and aggregates them while this process computes). A full run reads
    them after its flow part, on its own connection: read during it, they would add to its peak
    memory (~25 MiB at 200k items); so does a run inside a transaction (tests: its rows are
    invisible to another connection). Nothing in a run depends on reading them after the flow
    part: DORA records are not watermarked, each read is its own statement."""
    if plan is None or connection.in_atomic_block:
        return lambda: _read_records(portfolio, plan, as_of=as_of, settings=settings)
    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="recompute-dora-read")
    future = pool.submit(_read_records, portfolio, plan, as_of=as_of, settings=settings, aside=True)
    pool.shutdown(wait=False)
    return future.result


def _dora(
    portfolio: Portfolio,
    plan: planning.Plan | None,
    *,
    windows: pd.DataFrame,
    as_of: datetime,
    settings: read.DoraSettings,
    found: DoraFound,
) -> tuple[publish.DoraRows, dict[str, int]]:
    """The DORA rows a run publishes, with the run's DORA caveats. A full run computes every
    row. An incremental one computes only the rows whose input hash — what the row is computed
    from (:func:`~valuestreams.recompute.dora.dora_input_hashes`: no metric computed) — differs
    from the stored one's, and replaces only those and the stored rows no longer published,
    hashing only the rows that what changed since the previous run can reach: none when no
    delivery record changed, no record became known by time, no team moved (its
    :class:`~valuestreams.models.DeliveryChange` rows, written by triggers whoever writes:
    the ingest services, the admin, raw SQL); those :class:`~valuestreams.recompute.dora.Reach`
    gives otherwise (a new, re-sent, corrected or deleted record, a late or back-dated incident
    linked to an earlier deployment, a team moved to another value stream). When the rows
    differ on another basis — DORA settings or time zone changed, other windows, a new local
    day — or a scope gained its first DORA record or lost its last, or a team moved between
    value streams holding more than :data:`MOVED_MAX_SHARE` of the deployments, every row is
    hashed and the stored ones read, as a full run's."""
    common = {
        "as_of": as_of,
        "tz": portfolio.time_zone,
        "portfolio_id": portfolio.pk,
        "benchmark": settings.benchmark,
        "max_gap": settings.max_gap,
    }
    if found.records is None and found.narrowed is None:  # nothing changed
        empty = np.zeros(0, dtype=np.int64)
        rows = pd.DataFrame({c: [] for c in [*rd.DORA_FIELDS, "input_hash"]})
        caveats = {k: int(plan.previous.caveats.get(k) or 0) for k in DORA_CAVEATS}
        return publish.DoraRows(rows=rows, replaced=(empty, empty)), caveats
    if found.narrowed is not None:
        n = found.narrowed
        prepared, hashed = {}, []
        for kind, (*frames, kind_windows) in n.kinds.items():
            scopes = [(kind, rd.KIND_COLUMNS[kind])]
            inputs = rd.dora_inputs(
                *frames, windows=kind_windows, as_of=as_of, max_gap=settings.max_gap, scopes=scopes
            )
            cells = rd.dora_input_hashes(
                *frames, inputs=inputs, windows=kind_windows, scopes=scopes, **common
            )
            hashed.append(cells[rd.within(cells, kind_windows, n.reach)])
            prepared[kind] = (frames, inputs, kind_windows)
        cells = pd.concat(hashed, ignore_index=True)
        stored = n.stored[rd.within(n.stored, n.windows, n.reach)].reset_index(drop=True)
        if rd.same_scopes(cells, stored, n.reach):
            changed, replaced = rd.dora_changed(cells, stored)
            parts = [
                rd.dora_rows_of(
                    *frames,
                    cells=chosen,
                    inputs=inputs,
                    windows=kind_windows,
                    **common,
                )
                for kind, chosen in changed.groupby("scope_kind", sort=False)
                for frames, inputs, kind_windows in [prepared[kind]]
            ]
            rows = (
                pd.concat(parts, ignore_index=True)
                if parts
                else pd.DataFrame({c: [] for c in [*rd.DORA_FIELDS, "input_hash"]})
            )
            replaced_rows = (
                stored["id"].to_numpy()[replaced],
                stored["row_hash"].to_numpy()[replaced],
            )
            return publish.DoraRows(rows=rows, replaced=replaced_rows), n.caveats
        found.records = _every_record(portfolio)  # a scope appeared or went: every row
    deployments, changes, incidents, stored = found.records
    inputs = rd.dora_inputs(
        deployments, changes, incidents, windows=windows, as_of=as_of, max_gap=settings.max_gap
    )
    cells = rd.dora_input_hashes(
        deployments, changes, incidents, inputs=inputs, windows=windows, **common
    )
    if plan is None:
        rows = rd.dora_rows_of(
            deployments, changes, incidents, cells=cells, inputs=inputs, windows=windows, **common
        )
        dora = publish.DoraRows(rows=rows)
    else:
        changed, replaced = rd.dora_changed(cells, stored)
        rows = rd.dora_rows_of(
            deployments, changes, incidents, cells=changed, inputs=inputs, windows=windows, **common
        )
        dora = publish.DoraRows(
            rows=rows,
            replaced=(
                stored["id"].to_numpy()[replaced],
                stored["row_hash"].to_numpy()[replaced],
            ),
        )
    caveats = rd.dora_caveats(deployments, incidents, as_of=as_of, max_gap=settings.max_gap)
    return dora, caveats


def _recomputed(
    portfolio: Portfolio, plan: planning.Plan | None, *, as_of: datetime, mappings: read.Mappings
) -> tuple[rr.FlowRows, pd.DataFrame, int]:
    """The rows of a full run, or of an incremental one that reads every item reaching the
    rewritten windows; with the run's windows and the number of items read."""
    tz = portfolio.time_zone
    only = None if plan is None else plan.read_items.tolist()
    history = read.read_history(portfolio, item_ids=only)
    scopes = read.item_scopes(portfolio, item_ids=only)
    transitions, _ = read.transitions_frame(history, scopes, mappings)
    digests = rr.history_digests(history, as_of, mappings.type_is_mapped)
    items_read = len(scopes.item_id)
    del history, scopes
    if plan is None:
        windows = rr.report_windows(
            start=read.data_start(portfolio, as_of=as_of), as_of=as_of, tz=tz
        )
        computed = windows
    else:
        windows, computed = plan.windows, plan.computed_windows
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
        flow.flow, read.allocation_targets(portfolio), read.team_streams(portfolio)
    )
    if plan is not None:
        flow.facts = flow.facts[flow.facts["item_id"].isin(plan.changed_items)]
        flow.flow = flow.flow[planning.rewritten(flow.flow, plan, portfolio.pk)]
        flow.status = flow.status[planning.rewritten(flow.status, plan, portfolio.pk)]
    return flow, windows, items_read


def _carried(portfolio: Portfolio, plan: planning.Plan, *, as_of: datetime) -> rr.FlowRows:
    """The rows of an incremental run that carries the previous rows forward (see
    :mod:`valuestreams.recompute.carry`): it reads the changed items' histories (kept from
    planning), the previous rows of the rewritten windows and the stored facts of the items done
    in the units (scope, window) whose completion columns a change moved, never the histories
    of unchanged items."""
    tz, prev_as_of, changed = portfolio.time_zone, plan.previous.as_of, plan.changed
    computed = plan.computed_windows
    new_tr, facts = changed.transitions, changed.new_facts
    # each changed item's history and scope as the previous run saw them: its old contribution
    rows = changed.old_facts["history_rows"]
    if plan.rebuilt is not None:  # their old rows are not among the rows known now
        rows = rows.drop(np.unique(plan.rebuilt.item_id))
    old_history = rr.digested_history(changed.history, rows, as_of, plan.inserted)
    if plan.rebuilt is not None:
        old_history = rr.merged_histories(old_history, plan.rebuilt)
    old_tr, _ = read.transitions_frame(old_history, changed.old_scopes(), changed.mappings)
    # the completion columns are computed only for the units (scope, window) a changed item's
    # done, type, flow time or scope moved, and for windows the previous run did not publish;
    # every other unit's are carried: only the facts of those units are read
    affected = carry.affected_units(changed.old_facts, facts, computed, portfolio_id=portfolio.pk)
    fresh = np.flatnonzero(planning.unpublished(computed, plan.previous))
    spans, scoped = carry.unit_spans(affected, fresh, computed)
    done = read.done_facts(
        portfolio, spans=spans, scoped=scoped, exclude=plan.changed_items.tolist()
    )
    changed_done = facts.loc[
        facts["done"].notna(),
        ["item_id", "item_type", "done", "flow_time_s", "active_s", "team_id", "value_stream_id"],
    ].astype({"item_type": str})
    # the stored rows this run replaces (the same condition publishing uses): those of the
    # rewritten windows are carried forward, and all of them are diffed against by hash
    where = planning.rewritten_condition(portfolio.pk, plan)
    stored_flow = read.stored_load_rows(where)
    stored_status = read.stored_status_rows(where)
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
                read.stored_load_rows(
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
        affected=affected,
        fresh=fresh,
        prev_as_of=prev_as_of,
        as_of=as_of,
        tz=tz,
        portfolio_id=portfolio.pk,
    )
    flow = rr.with_targets(flow, read.allocation_targets(portfolio), read.team_streams(portfolio))
    digests = rr.history_digests(changed.history, as_of, changed.mappings.type_is_mapped)
    return rr.FlowRows(
        facts=rr.fact_rows(facts, digests),
        flow=flow[planning.rewritten(flow, plan, portfolio.pk)],
        status=status[planning.rewritten(status, plan, portfolio.pk)],
        stored={
            "flow": (stored_flow["id"].to_numpy(), stored_flow["row_hash"].to_numpy()),
            "status": (stored_status["id"].to_numpy(), stored_status["row_hash"].to_numpy()),
        },
    )
