"""Recompute jobs on a real Celery worker: end to end, twice delivered, lost and swept, killed."""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from django.db import connection
from django.utils import timezone

from tests.conftest import _database_url
from tests.valuestreams.recompute_data import add_item, at, small_dataset
from tests.valuestreams.test_recompute import published_rows
from valuestreams.models import FlowMetric, JobStatus, MetricRun, RecomputeJob
from valuestreams.recompute import (
    publish,
    recompute_full_now,
    recompute_job_run,
    recompute_jobs_sweep,
    recompute_request,
)
from valuestreams.tasks import run_recompute_job

AS_OF = dt.datetime(2026, 3, 2, 12, tzinfo=dt.UTC)
ROOT = Path(__file__).resolve().parents[2]


def wait_for(predicate, seconds: float = 60.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.2)
    return False


def job_status(job_id: int) -> str:
    return RecomputeJob.objects.get(pk=job_id).status


@pytest.mark.celery
def test_a_requested_job_runs_on_a_real_worker_and_publishes_its_run(org, celery_worker):
    small_dataset(org)
    job = recompute_request(portfolio=org.portfolio, full=True)
    assert wait_for(lambda: job_status(job.pk) == JobStatus.SUCCEEDED), job_status(job.pk)
    job.refresh_from_db()
    assert (job.progress, job.attempts, job.run.kind) == (100, 1, "full")
    assert FlowMetric.objects.filter(scope_kind="team", scope_id=org.team.pk).exists()


@pytest.mark.celery
def test_a_job_delivered_twice_runs_once(org, celery_worker):
    small_dataset(org)
    job = recompute_request(portfolio=org.portfolio, full=True)
    run_recompute_job.delay(job.pk)  # the same message again
    marker = recompute_request(portfolio=org.other_portfolio, full=True)  # queued behind both
    assert wait_for(lambda: job_status(marker.pk) == JobStatus.SUCCEEDED)
    job.refresh_from_db()
    assert job.status == JobStatus.SUCCEEDED
    assert job.attempts == 1
    assert MetricRun.objects.filter(portfolio=org.portfolio).count() == 1


@pytest.mark.django_db
def test_a_second_delivery_of_a_finished_job_does_nothing(org):
    small_dataset(org)
    job = RecomputeJob.objects.create(portfolio=org.portfolio, kind="full")
    assert recompute_job_run(job_id=job.pk) is not None
    assert recompute_job_run(job_id=job.pk) is None
    assert MetricRun.objects.count() == 1


@pytest.mark.django_db
def test_queued_requests_of_a_portfolio_merge_into_one_job(org):
    first = recompute_request(portfolio=org.portfolio, item_ids=[1, 2])
    second = recompute_request(portfolio=org.portfolio, item_ids=[2, 3], team_ids=[org.team.pk])
    assert first.pk == second.pk
    second.refresh_from_db()
    assert (second.kind, second.item_ids, second.team_ids) == (
        "incremental",
        [1, 2, 3],
        [org.team.pk],
    )
    recompute_request(portfolio=org.portfolio, full=True)
    second.refresh_from_db()
    assert (second.kind, second.item_ids) == ("full", [])
    assert RecomputeJob.objects.count() == 1


@pytest.mark.celery
def test_the_sweeper_re_enqueues_a_lost_job_and_a_job_whose_worker_died(org, celery_worker):
    small_dataset(org)
    long_ago = timezone.now() - dt.timedelta(minutes=30)
    lost = RecomputeJob.objects.create(portfolio=org.portfolio, kind="full")  # no message sent
    RecomputeJob.objects.filter(pk=lost.pk).update(enqueued_at=long_ago)
    dead = RecomputeJob.objects.create(portfolio=org.other_portfolio, kind="full")
    RecomputeJob.objects.filter(pk=dead.pk).update(
        status=JobStatus.RUNNING, heartbeat_at=long_ago, attempts=1
    )
    fresh = RecomputeJob.objects.create(portfolio=org.portfolio, kind="full")
    RecomputeJob.objects.filter(pk=fresh.pk).update(enqueued_at=timezone.now())

    again = recompute_jobs_sweep()

    assert sorted(again) == sorted([lost.pk, dead.pk])
    assert wait_for(lambda: job_status(lost.pk) == JobStatus.SUCCEEDED)
    assert wait_for(lambda: job_status(dead.pk) == JobStatus.SUCCEEDED)
    assert RecomputeJob.objects.get(pk=dead.pk).attempts == 2
    assert job_status(fresh.pk) == JobStatus.QUEUED


@pytest.mark.django_db
def test_a_publish_failing_half_way_leaves_the_previous_results(org, monkeypatch):
    small_dataset(org)
    recompute_full_now(portfolio=org.portfolio, as_of=AS_OF)
    before = published_rows(org.portfolio)
    add_item(
        org.portfolio,
        org.team,
        "A-9",
        "Bug",
        [(at(20), "To Do"), (at(21), "In Progress"), (at(23), "Done")],
    )

    def fail(step):
        if step == "flow":
            raise RuntimeError("disk full")

    monkeypatch.setattr(publish, "_publish_checkpoint", fail)
    with pytest.raises(RuntimeError):
        recompute_full_now(portfolio=org.portfolio, as_of=AS_OF + dt.timedelta(days=1))
    assert published_rows(org.portfolio) == before
    assert MetricRun.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_a_publish_commits_asynchronously_and_only_its_own_transaction(org, monkeypatch):
    small_dataset(org)
    seen = []

    def observe(step):
        with connection.cursor() as cursor:
            cursor.execute("SHOW synchronous_commit")
            seen.append(cursor.fetchone()[0])

    monkeypatch.setattr(publish, "_publish_checkpoint", observe)
    recompute_full_now(portfolio=org.portfolio, as_of=AS_OF)
    with connection.cursor() as cursor:
        cursor.execute("SHOW synchronous_commit")
        after = cursor.fetchone()[0]

    assert seen
    assert set(seen) == {"off"}  # inside the publishing transaction
    assert after == "on"  # the session's setting is untouched afterwards


KILLED_RUN = """
import os, sys, time
import django
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
django.setup()
from datetime import datetime
from portfolio.models import Portfolio
from valuestreams import recompute
from valuestreams.recompute import publish

def pause(step):
    if step == "status":
        open(sys.argv[2], "w").write(step)
        time.sleep(120)

publish._publish_checkpoint = pause
recompute.recompute_full_now(portfolio=Portfolio.objects.get(pk=int(sys.argv[1])),
                             as_of=datetime.fromisoformat(sys.argv[3]))
"""


@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_during_a_publish_leaves_the_previous_results(org, tmp_path):
    small_dataset(org)
    recompute_full_now(portfolio=org.portfolio, as_of=AS_OF)
    before = published_rows(org.portfolio)
    add_item(
        org.portfolio,
        org.team,
        "A-9",
        "Bug",
        [(at(20), "To Do"), (at(21), "In Progress"), (at(23), "Done")],
    )
    marker = tmp_path / "reached"
    env = {**os.environ, "DATABASE_URL": _database_url(connection.settings_dict)}
    worker = subprocess.Popen(
        [
            sys.executable,
            "-c",
            textwrap.dedent(KILLED_RUN),
            str(org.portfolio.pk),
            str(marker),
            (AS_OF + dt.timedelta(days=1)).isoformat(),
        ],
        env=env,
        cwd=ROOT,
    )
    try:
        assert wait_for(marker.exists, 60), "the recompute never reached its publish"
        # facts and flow rows are written inside the open transaction; kill it there
        os.kill(worker.pid, signal.SIGKILL)
        worker.wait(timeout=10)
    finally:
        if worker.poll() is None:
            worker.kill()
    assert published_rows(org.portfolio) == before
    assert MetricRun.objects.count() == 1
    # the killed session released its lock: the next run publishes the new item
    run = recompute_full_now(portfolio=org.portfolio, as_of=AS_OF + dt.timedelta(days=1))
    assert run.caveats["items"] == 6
