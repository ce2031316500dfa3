"""The Celery application: broker from REDIS_URL, tasks discovered in every app, the beat schedule.

Also the one way the code enqueues a task after a commit (:func:`enqueue_on_commit`): the job row
is the source of truth and the job sweep delivers whatever could not be enqueued, so a broker
outage never turns a committed write into an error.
"""

from __future__ import annotations

import logging
import os
import warnings
from typing import Any

from celery import Celery, Task
from celery.exceptions import CPendingDeprecationWarning
from celery.worker.consumer import Consumer
from django.db import transaction

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

logger = logging.getLogger(__name__)

# Celery warns that it will cancel running acks_late tasks on a connection loss by default one
# day; Steward lets them finish (CELERY_WORKER_CANCEL_LONG_RUNNING_TASKS_ON_CONNECTION_LOSS).
warnings.filterwarnings(
    "ignore", category=CPendingDeprecationWarning, message=r"\s*In Celery 5.1 we introduced"
)

app = Celery("steward")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


def enqueue(task: Task | str, *args: Any, countdown: float | None = None) -> bool:
    """Send ``task(*args)`` to the broker now; False (logged) when the broker cannot take it.
    ``task`` is a task or a task's name (so that an app can enqueue another app's task without
    importing it, e.g. the recompute asking leanpmo to evaluate its signals).

    Every error is caught, not only kombu's connection errors: with Redis gone, kombu and redis-py
    raise OperationalError, ConnectionError, TimeoutError and, in some states, AttributeError. The
    caller's job row stays queued and the sweep (``valuestreams.tasks.sweep_jobs``) sends it again.
    """
    name = task if isinstance(task, str) else task.name
    try:
        if isinstance(task, str):
            app.send_task(task, args=args, countdown=countdown)
        else:
            task.apply_async(args, countdown=countdown)
    except Exception as exc:  # whatever the broker did, the job row is the truth
        logger.warning(
            "could not enqueue %s%r (%r); the job sweep will deliver it", name, args, exc
        )
        return False
    return True


def enqueue_on_commit(task: Task | str, *args: Any, countdown: float | None = None) -> None:
    """Enqueue ``task(*args)`` once the current transaction commits (at once outside one).

    Never raises into the request or task that committed: see :func:`enqueue`.
    """
    transaction.on_commit(lambda: enqueue(task, *args, countdown=countdown))


class BrokerLossConsumer(Consumer):
    """The worker's consumer, surviving the loss of a Redis broker while tasks are unacknowledged.

    Celery 5.7 closes a lost connection after ``collect()`` has already detached its transport, so
    every later use of the old channel raises ``AttributeError`` (``None`` has no ``hostname``):
    restoring the unacknowledged messages while the connection is closed, and acknowledging a
    task (``acks_late``) that finishes after the loss. Neither is a connection error to Celery, so
    the worker stopped ("Unrecoverable error"). Here the first is logged and the consumer goes on
    reconnecting; the second counts as a connection error ("Couldn't ack" is logged). Such a
    message comes back after the visibility timeout and finds its job finished, and a job whose
    message was lost is sent again by the job sweep long before.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.connection_errors = (*self.connection_errors, AttributeError)

    def on_connection_error_after_connected(self, exc: Exception) -> None:
        try:
            super().on_connection_error_after_connected(exc)
        except AttributeError:
            logger.warning(
                "closing the lost broker connection failed; reconnecting anyway", exc_info=True
            )
