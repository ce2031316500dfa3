"""`/health/`: is the database answering, is Redis, is a Celery worker, did beat run lately."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from django.contrib.auth.decorators import login_not_required
from django.core.cache import cache
from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.utils import timezone

from config.celery import app

BEAT_KEY = "steward:beat:last"


def _database() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return "ok"


def _redis() -> str:
    cache.set("steward:health", "ok", timeout=5)
    return cache.get("steward:health")


def _workers() -> int:
    return len(app.control.ping(timeout=1.0) or [])


def _beat() -> str | None:
    last = cache.get(BEAT_KEY)
    if not last:
        return None
    age = timezone.now() - datetime.fromisoformat(last)
    return f"{int(age.total_seconds())} s ago"


def _probe(probe: Callable[[], object]) -> tuple[object, bool]:
    """The probe's answer and True, or ``"error: <kind>"`` and False: a probe never raises."""
    try:
        return probe(), True
    except Exception as exc:  # a health check reports every failure instead of raising
        return f"error: {exc.__class__.__name__}", False


@login_not_required
def health(request: HttpRequest) -> JsonResponse:
    """200 when every probe answers, 503 when one fails (its value says why): the database and
    Redis; then, with Redis up, how many Celery workers answer a ping (0 is an answer, not a
    failure: the web serves without them) and how long ago beat last ran. With Redis down the
    worker and beat probes are not run (they would only wait for the broker)."""
    report: dict[str, object] = {}
    report["database"], database_ok = _probe(_database)
    report["redis"], redis_ok = _probe(_redis)
    healthy = database_ok and redis_ok
    if redis_ok:
        for name, probe in (("celery_workers", _workers), ("beat_last_run", _beat)):
            report[name], ok = _probe(probe)
            healthy = healthy and ok
    else:
        report["celery_workers"] = report["beat_last_run"] = "not checked: Redis is down"
    return JsonResponse(report, status=200 if healthy else 503)
