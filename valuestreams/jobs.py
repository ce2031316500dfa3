"""What every background job of this app (recompute jobs, import jobs) shares: its row, not the
broker message, is the source of truth, and the sweep resumes whatever was lost.

A job is created *queued* with ``enqueued_at`` and its task enqueued after commit
(:func:`config.celery.enqueue_on_commit`, which never raises: with the broker down the job simply
stays queued). A worker claims it (queued → running, ``attempts`` + 1, ``heartbeat_at``) and, while
it runs, :class:`JobHeartbeat` touches ``heartbeat_at`` from its own connection. The job's final
status is written in the same transaction as its data, so it never contradicts the database.

:func:`job_sweep` (beat, every minute, for each kind of job) sends again:

- a job *queued* for longer than QUEUED_TOO_LONG since it was last enqueued (its message was lost
  with the broker, or never reached it);
- a job *running* whose heartbeat is older than STALE_HEARTBEAT (its worker died): its data
  transaction never committed, so it goes back to *queued*, or, after MAX_ATTEMPTS claims, fails
  with a message saying so.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from celery import Task
from django.db import connection, models, transaction
from django.db.models.functions import Coalesce
from django.utils import timezone

from config.celery import enqueue_on_commit
from valuestreams.models import JobStatus

STALE_HEARTBEAT = timedelta(minutes=10)
QUEUED_TOO_LONG = timedelta(minutes=5)
HEARTBEAT_EVERY_S = 20.0
MAX_ATTEMPTS = 3


class JobHeartbeat(threading.Thread):
    """Touches a running job's ``heartbeat_at`` every few seconds from its own database connection
    while the work lasts (``with JobHeartbeat(RecomputeJob, pk): ...``)."""

    def __init__(self, model: type[models.Model], job_id: int) -> None:
        super().__init__(daemon=True, name=f"{model.__name__.lower()}-heartbeat-{job_id}")
        self.model, self.job_id, self.stop = model, job_id, threading.Event()

    def __enter__(self) -> JobHeartbeat:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()

    def run(self) -> None:
        try:
            while not self.stop.wait(HEARTBEAT_EVERY_S):
                self.model.objects.filter(pk=self.job_id, status=JobStatus.RUNNING).update(
                    heartbeat_at=timezone.now()
                )
        finally:
            connection.close()


def job_sweep(
    *,
    model: type[models.Model],
    task: Task,
    gave_up: Callable[[Any], dict[str, Any]],
    now: datetime | None = None,
) -> list[int]:
    """Send lost jobs of ``model`` to ``task`` again (module docstring); returns their ids.

    ``gave_up(job)`` returns the fields, besides status and finished_at, that describe a job failed
    after MAX_ATTEMPTS lost workers (its error message).
    """
    now = now or timezone.now()
    again: list[int] = []
    with transaction.atomic():
        stale = (
            model.objects.select_for_update(skip_locked=True)
            .filter(status=JobStatus.RUNNING, heartbeat_at__lt=now - STALE_HEARTBEAT)
            .order_by("pk")
        )
        for job in stale:
            if job.attempts >= MAX_ATTEMPTS:
                model.objects.filter(pk=job.pk).update(
                    status=JobStatus.FAILED, finished_at=now, **gave_up(job)
                )
                continue
            model.objects.filter(pk=job.pk).update(status=JobStatus.QUEUED, enqueued_at=now)
            again.append(job.pk)
        waiting = (
            model.objects.select_for_update(skip_locked=True)
            .alias(last_sent=Coalesce("enqueued_at", "created_at"))
            .filter(status=JobStatus.QUEUED, last_sent__lt=now - QUEUED_TOO_LONG)
            .order_by("pk")  # the oldest first
        )
        for job in waiting:
            model.objects.filter(pk=job.pk).update(enqueued_at=now)
            again.append(job.pk)
        for job_id in again:
            enqueue_on_commit(task, job_id)
    return again
