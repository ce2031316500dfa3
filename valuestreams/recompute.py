"""Recomputing a portfolio's precomputed metrics: requests, jobs, full and incremental runs.

Public API (stable, used by ingest, imports, the demo seed and the pages):

- :func:`recompute_request` records (or merges into) a queued :class:`RecomputeJob` and enqueues
  its Celery task after commit; the job row, not the broker message, is the source of truth.
- :func:`recompute_full_now` recomputes synchronously and returns the published :class:`MetricRun`.
- :func:`recompute_job_run` is what the worker runs; :func:`recompute_jobs_sweep` re-enqueues lost
  jobs (:mod:`valuestreams.jobs`); :func:`recompute_nightly` requests a full recompute of every
  portfolio.

A run reads status histories with COPY (:mod:`valuestreams.selectors.frames`), computes rows with
the pure metrics (:mod:`valuestreams.recompute_rows`) and **publishes in one transaction**
(:mod:`valuestreams.recompute_publish`: of the stored rows it covers, it deletes and re-inserts
only those whose row hash differs from the computed one, :mod:`valuestreams.recompute_diff`), so a
killed worker leaves the previous results. An incremental run (a job naming items or teams)
rewrites only the windows touched by the change (of the touched teams, value streams and the
portfolio) and the windows time moved, and publishes exactly what a full run would
(:func:`valuestreams.recompute_plan.plan_incremental`). When every changed history only grew,
it reads the changed items' histories alone and carries the previous rows forward
(:mod:`valuestreams.recompute_carry`); otherwise it reads every item whose history reaches the
rewritten windows. One run per portfolio at a time (a PostgreSQL advisory lock, released by the
server if the worker dies).
Item facts, DORA rows and caveats are always exact: facts of changed items are recomputed, DORA
inputs are small and recomputed whole, caveats are counts over the stored facts (a full run sums
them, an incremental one updates the previous counts by its changed items,
:mod:`valuestreams.recompute_caveats`).

Changes that move whole histories without naming items — a state/type mapping edit, funding
targets — request ``full=True``; a team moved to another value stream
(:func:`teams.services.team_update`) requests the team's items by ``team_ids``. The nightly full
run repairs anything changed behind the services' back (the Django admin, raw SQL).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from config.celery import enqueue, enqueue_on_commit
from portfolio.models import Portfolio
from valuestreams.jobs import JobHeartbeat, job_sweep
from valuestreams.models import (
    JobStatus,
    MetricRun,
    RecomputeJob,
)
from valuestreams.recompute_plan import plan_incremental
from valuestreams.recompute_publish import recompute_run

logger = logging.getLogger(__name__)

_LOCK_NAMESPACE = 7_314_001  # pg advisory lock key space of recomputes (one lock per portfolio)


# --- requests -------------------------------------------------------------------------------------


@transaction.atomic
def recompute_request(
    *,
    portfolio: Portfolio,
    item_ids: Iterable[int] = (),
    team_ids: Iterable[int] = (),
    full: bool = False,
    requested_by=None,
) -> RecomputeJob:
    """Ask for a recompute of ``portfolio``: of everything (``full``), or of what the given work
    items and teams touch. A queued job of the same portfolio absorbs the request (item and team
    ids are merged; full wins); otherwise a new job is created and its task enqueued on commit."""
    item_ids, team_ids = sorted({int(i) for i in item_ids}), sorted({int(t) for t in team_ids})
    full = full or not (item_ids or team_ids)
    job = (
        RecomputeJob.objects.select_for_update()
        .filter(portfolio=portfolio, status=JobStatus.QUEUED)
        .order_by("created_at")
        .first()
    )
    if job is not None:
        if full:
            job.kind, job.item_ids, job.team_ids = MetricRun.Kind.FULL, [], []
        elif job.kind == MetricRun.Kind.INCREMENTAL:
            job.item_ids = sorted({*job.item_ids, *item_ids})
            job.team_ids = sorted({*job.team_ids, *team_ids})
        job.save(update_fields=["kind", "item_ids", "team_ids"])
        return job
    job = RecomputeJob.objects.create(
        portfolio=portfolio,
        kind=MetricRun.Kind.FULL if full else MetricRun.Kind.INCREMENTAL,
        item_ids=[] if full else item_ids,
        team_ids=[] if full else team_ids,
        requested_by=requested_by,
        enqueued_at=timezone.now(),
    )
    from valuestreams.tasks import run_recompute_job

    enqueue_on_commit(run_recompute_job, job.pk)
    return job


def recompute_full_now(*, portfolio: Portfolio, as_of: datetime | None = None) -> MetricRun:
    """Recompute every metric of ``portfolio`` as of ``as_of`` (default: now) and publish it."""
    as_of = as_of or timezone.now()
    with _portfolio_lock(portfolio.pk, wait=True):
        return recompute_run(portfolio, as_of=as_of, plan=None)


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
    with _portfolio_lock(portfolio.pk, wait=True):
        plan = plan_incremental(portfolio, as_of=as_of, item_ids=item_ids, team_ids=team_ids)
        return recompute_run(portfolio, as_of=as_of, plan=plan)


# --- jobs -----------------------------------------------------------------------------------------


class _portfolio_lock:
    """A session-level PostgreSQL advisory lock per portfolio: one recompute at a time. A killed
    worker's connection closes, which releases it."""

    def __init__(self, portfolio_id: int, *, wait: bool) -> None:
        self.portfolio_id, self.wait, self.held = portfolio_id, wait, False

    def __enter__(self) -> _portfolio_lock:
        function = "pg_advisory_lock" if self.wait else "pg_try_advisory_lock"
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT {function}(%s, %s)", [_LOCK_NAMESPACE, self.portfolio_id])
            row = cursor.fetchone()
        self.held = True if self.wait else bool(row[0])
        return self

    def __exit__(self, *exc) -> None:
        if self.held:
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT pg_advisory_unlock(%s, %s)", [_LOCK_NAMESPACE, self.portfolio_id]
                )


def _claim(job_id: int) -> RecomputeJob | None:
    with transaction.atomic():
        job = (
            RecomputeJob.objects.select_for_update(skip_locked=True)
            .filter(pk=job_id, status=JobStatus.QUEUED)
            .select_related("portfolio")
            .first()
        )
        if job is None:
            return None
        now = timezone.now()
        job.status, job.started_at, job.heartbeat_at = JobStatus.RUNNING, now, now
        job.attempts += 1
        job.progress = 1
        job.save(update_fields=["status", "started_at", "heartbeat_at", "attempts", "progress"])
        return job


def recompute_job_run(*, job_id: int) -> MetricRun | None:
    """Run a queued job (what the Celery task calls). A job already claimed, finished or unknown
    is left alone, so a message delivered twice does nothing the second time. A job whose
    portfolio is being recomputed by another worker is re-enqueued a little later."""
    portfolio_id = (
        RecomputeJob.objects.filter(pk=job_id, status=JobStatus.QUEUED)
        .values_list("portfolio_id", flat=True)
        .first()
    )
    if portfolio_id is None:
        return None
    with _portfolio_lock(portfolio_id, wait=False) as lock:
        if not lock.held:
            _enqueue_later(job_id)
            return None
        job = _claim(job_id)
        if job is None:
            return None
        with JobHeartbeat(RecomputeJob, job.pk):
            try:
                as_of = timezone.now()
                plan = None
                if job.kind == MetricRun.Kind.INCREMENTAL:
                    plan = plan_incremental(
                        job.portfolio, as_of=as_of, item_ids=job.item_ids, team_ids=job.team_ids
                    )
                return recompute_run(job.portfolio, as_of=as_of, plan=plan, job=job)
            except Exception as error:
                logger.exception("recompute job %s failed", job.pk)
                # only a job still running: one whose run published is succeeded, whatever
                # failed after its commit
                RecomputeJob.objects.filter(pk=job.pk, status=JobStatus.RUNNING).update(
                    status=JobStatus.FAILED,
                    error=f"{type(error).__name__}: {error}"[:2000],
                    finished_at=timezone.now(),
                )
                raise


def _enqueue_later(job_id: int) -> None:
    """Send the job again in a few seconds (with the broker down, the sweep sends it)."""
    from valuestreams.tasks import run_recompute_job

    enqueue(run_recompute_job, job_id, countdown=5)


def _recompute_gave_up(job: RecomputeJob) -> dict[str, Any]:
    return {
        "error": f"Gave up after {job.attempts} attempts: the worker running it stopped each "
        f"time. The published metrics are those of the previous run."
    }


def recompute_jobs_sweep(*, now: datetime | None = None) -> list[int]:
    """Send lost recompute jobs again (:func:`valuestreams.jobs.job_sweep`); returns their ids."""
    from valuestreams.tasks import run_recompute_job

    return job_sweep(
        model=RecomputeJob, task=run_recompute_job, gave_up=_recompute_gave_up, now=now
    )


def recompute_nightly() -> list[int]:
    """Request a full recompute of every portfolio (the nightly beat entry); returns job ids."""
    return [
        recompute_request(portfolio=portfolio, full=True).pk
        for portfolio in Portfolio.objects.order_by("pk")
    ]
