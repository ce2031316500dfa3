from celery import shared_task
from django.core.cache import cache
from django.utils import timezone

from config.health import BEAT_KEY
from portfolio import sections


@shared_task(ignore_result=True)
def beat_heartbeat() -> None:
    """Record that beat scheduled and a worker ran a task; `/health/` shows how long ago."""
    cache.set(BEAT_KEY, timezone.now().isoformat(), timeout=None)


@shared_task(ignore_result=True)
def prune_data_changes() -> None:
    """Forget the data changes that no kept page section can still be keyed by (hourly)."""
    sections.prune_data_changes(timezone.now())
