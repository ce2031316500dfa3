"""The Celery application: broker from REDIS_URL, tasks discovered in every app, the beat schedule."""

import logging
import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("steward")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

logger = logging.getLogger(__name__)


def send_after_commit(task_name: str, *args, countdown: float | None = None) -> None:
    """Send the task named `task_name` with `args` once the current transaction commits (at once
    outside one). A broker that cannot be reached is logged, never raised: the caller's row that
    asked for the work is committed, and its sweep sends it again. By name, so an app can enqueue
    another app's task without importing it."""
    from django.db import transaction

    def send() -> None:
        try:
            app.send_task(task_name, args=args, countdown=countdown)
        except Exception:  # the broker is down: the sweep re-sends from the database
            logger.warning("could not enqueue %s%r; the sweep will", task_name, args, exc_info=True)

    transaction.on_commit(send)
