"""Celery tasks of the valuestreams app: ids in, one service call out."""

from celery import shared_task

from config.celery import enqueue_on_commit
from valuestreams.recompute import recompute_job_run, recompute_jobs_sweep, recompute_nightly


@shared_task(ignore_result=True, acks_late=True)
def run_recompute_job(job_id: int) -> None:
    """Run a queued RecomputeJob (a second delivery of the same message does nothing); once its
    run is published, ask the Lean PMO's signals to be evaluated on the new figures (by name:
    valuestreams does not import leanpmo)."""
    run = recompute_job_run(job_id=job_id)
    if run is not None:
        enqueue_on_commit("leanpmo.tasks.request_signal_evaluation", run.portfolio_id)


@shared_task(ignore_result=True)
def sweep_jobs() -> None:
    """Send again the recompute and import jobs whose message or worker was lost (beat, every
    minute; see valuestreams.jobs)."""
    from valuestreams.services.imports import import_jobs_sweep

    recompute_jobs_sweep()
    import_jobs_sweep()


@shared_task(ignore_result=True)
def recompute_all_portfolios_nightly() -> None:
    """Request a full recompute of every portfolio past its local midnight that has not had one
    today (beat, hourly)."""
    recompute_nightly()


@shared_task(ignore_result=True, acks_late=True)
def import_job_run_task(job_id: int) -> None:
    """Run a queued ImportJob (ingest engineer; a second delivery of the same message does nothing)."""
    from valuestreams.services.imports import import_job_run

    import_job_run(job_id=job_id)
