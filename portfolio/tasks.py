from celery import shared_task
from django.core.cache import cache
from django.utils import timezone

from config.health import BEAT_KEY


@shared_task(ignore_result=True)
def beat_heartbeat() -> None:
    """Record that beat scheduled and a worker ran a task; `/health/` shows how long ago."""
    cache.set(BEAT_KEY, timezone.now().isoformat(), timeout=None)
