"""A real Celery worker on the configured Redis runs the beat heartbeat; /health/ reports it, and
answers 503 with the reason, never 500, when a probe fails."""

import time

import pytest
from django.core.cache import cache
from django.urls import reverse

from config.health import BEAT_KEY
from portfolio.tasks import beat_heartbeat


def _wait_for(predicate, seconds=15.0):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return False


@pytest.mark.celery
def test_heartbeat_task_runs_on_a_real_worker_and_health_reports_it(celery_worker, client):
    cache.delete(BEAT_KEY)
    beat_heartbeat.delay()
    assert _wait_for(lambda: cache.get(BEAT_KEY) is not None), "the worker never ran the heartbeat"
    body = client.get(reverse("health")).json()
    assert body["database"] == "ok"
    assert body["redis"] == "ok"
    assert body["celery_workers"] >= 1
    assert body["beat_last_run"].endswith("s ago")


def test_beat_schedules_the_heartbeat(settings):
    assert settings.CELERY_BEAT_SCHEDULE["heartbeat"]["task"] == beat_heartbeat.name


def test_health_answers_503_when_the_database_is_down(client, monkeypatch):
    import config.health

    def broken():
        raise OSError("connection refused")

    monkeypatch.setattr(config.health, "_database", broken)
    response = client.get(reverse("health"))
    assert response.status_code == 503
    assert response.json()["database"] == "error: OSError"


@pytest.mark.django_db
def test_health_answers_503_with_the_reason_when_the_worker_ping_fails(client, broker_unreachable):
    response = client.get(reverse("health"))
    assert response.status_code == 503
    body = response.json()
    assert (body["database"], body["redis"]) == ("ok", "ok")
    assert body["celery_workers"] == "error: OperationalError"


@pytest.mark.django_db
def test_health_answers_503_with_the_reason_when_beat_left_an_unreadable_record(client):
    cache.set(BEAT_KEY, "yesterday", timeout=60)
    try:
        response = client.get(reverse("health"))
    finally:
        cache.delete(BEAT_KEY)  # the cache outlives the test: later health checks must not see it
    assert response.status_code == 503
    assert response.json()["beat_last_run"] == "error: ValueError"


@pytest.mark.django_db
def test_health_answers_503_when_redis_is_down_and_does_not_wait_for_the_broker(
    client, settings, broker_unreachable
):
    settings.CACHES = {
        "default": {**settings.CACHES["default"], "LOCATION": broker_unreachable.conf.broker_url}
    }
    response = client.get(reverse("health"))
    assert response.status_code == 503
    assert response.json() == {
        "database": "ok",
        "redis": "error: ConnectionError",
        "celery_workers": "not checked: Redis is down",
        "beat_last_run": "not checked: Redis is down",
    }
