"""A recompute job's life: claimed by one worker, one run per portfolio at a time (a PostgreSQL
advisory lock), its heartbeat and progress while it runs, its final status, and the sweep that
sends lost jobs again. The machinery every kind of background job shares (the heartbeat thread,
the sweep's rules) is :mod:`valuestreams.jobs`; this module applies it to :class:`RecomputeJob`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from config.celery import enqueue
from valuestreams.jobs import JobHeartbeat, job_sweep
from valuestreams.models import JobStatus, MetricRun, RecomputeJob

_LOCK_NAMESPACE = 7_314_001  # pg advisory lock key space of recomputes (one lock per portfolio)


class portfolio_lock:
    """A session-level PostgreSQL advisory lock per portfolio: one recompute at a time. A killed
    worker's connection closes, which releases it. ``wait=False`` only tries (``held`` says
    whether it got the lock)."""

    def __init__(self, portfolio_id: int, *, wait: bool) -> None:
        self.portfolio_id, self.wait, self.held = portfolio_id, wait, False

    def __enter__(self) -> portfolio_lock:
        function = "pg_advisory_lock" if self.wait else "pg_try_advisory_lock"
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT {function}(%s, %s)", [_LOCK_NAMESPACE, self.portfolio_id])
            row = cursor.fetchone()
        self.held = True if self.wait else bool(row[0])
        return self

    def __exit__(self, *exc: object) -> None:
        if self.held:
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT pg_advisory_unlock(%s, %s)", [_LOCK_NAMESPACE, self.portfolio_id]
                )


def queued_portfolio(job_id: int) -> int | None:
    """The portfolio of job ``job_id`` while it is queued (None otherwise, or if unknown)."""
    return (
        RecomputeJob.objects.filter(pk=job_id, status=JobStatus.QUEUED)
        .values_list("portfolio_id", flat=True)
        .first()
    )


def claim(job_id: int) -> RecomputeJob | None:
    """Queued → running (attempts + 1, heartbeat now), or None when another worker has it or it
    is not queued any more."""
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


def heartbeat(job: RecomputeJob) -> JobHeartbeat:
    """The heartbeat of a running job (``with heartbeat(job): ...``)."""
    return JobHeartbeat(RecomputeJob, job.pk)


def progress(job: RecomputeJob | None, percent: int) -> None:
    """Record how far a running job is (and that its worker is alive)."""
    if job is not None:
        RecomputeJob.objects.filter(pk=job.pk).update(progress=percent, heartbeat_at=timezone.now())


def succeeded(job: RecomputeJob | None, run: MetricRun) -> None:
    """Mark the job succeeded with its run (in the publishing transaction)."""
    if job is not None:
        RecomputeJob.objects.filter(pk=job.pk).update(
            status=JobStatus.SUCCEEDED,
            progress=100,
            run=run,
            finished_at=timezone.now(),
            error="",
        )


def failed(job: RecomputeJob, error: Exception) -> None:
    """Mark the job failed with the error, unless it is not running any more (a job whose run
    published is succeeded, whatever failed after its commit)."""
    RecomputeJob.objects.filter(pk=job.pk, status=JobStatus.RUNNING).update(
        status=JobStatus.FAILED,
        error=f"{type(error).__name__}: {error}"[:2000],
        finished_at=timezone.now(),
    )


def enqueue_later(job_id: int) -> None:
    """Send the job again in a few seconds (with the broker down, the sweep sends it)."""
    from valuestreams.tasks import run_recompute_job

    enqueue(run_recompute_job, job_id, countdown=5)


def _gave_up(job: RecomputeJob) -> dict[str, Any]:
    return {
        "error": f"Gave up after {job.attempts} attempts: the worker running it stopped each "
        f"time. The published metrics are those of the previous run."
    }


def sweep(*, now: datetime | None = None) -> list[int]:
    """Send lost recompute jobs again (:func:`valuestreams.jobs.job_sweep`); returns their ids."""
    from valuestreams.tasks import run_recompute_job

    return job_sweep(model=RecomputeJob, task=run_recompute_job, gave_up=_gave_up, now=now)
