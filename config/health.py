"""`/health/`: is the database answering, is Redis, is a Celery worker, did beat run lately."""

from __future__ import annotations

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


@login_not_required
def health(request: HttpRequest) -> JsonResponse:
    """200 when the database and Redis answer (503 otherwise), with worker and beat status for humans."""
    report: dict[str, object] = {}
    healthy = True
    for name, probe in (("database", _database), ("redis", _redis)):
        try:
            report[name] = probe()
        except Exception as exc:  # a health check reports every failure instead of raising
            report[name] = f"error: {exc.__class__.__name__}"
            healthy = False
    if healthy:
        report["celery_workers"] = _workers()
        report["beat_last_run"] = _beat()
    return JsonResponse(report, status=200 if healthy else 503)
