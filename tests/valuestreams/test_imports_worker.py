"""Imports run on a real Celery worker process: uploaded on the page, parsed and written by the
worker, watched through the progress fragment; a worker killed while committing one leaves a job
that says so, which the sweep runs again."""

import datetime as dt
import os
import time
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from tests.conftest import (
    _database_url,
    big_csv_pair,
    holding,
    start_celery_worker,
    stop_process,
    wait_for,
    waits_for_lock,
)
from valuestreams.jobs import STALE_HEARTBEAT
from valuestreams.models import ImportJob, JobStatus, StatusChange, WorkItem
from valuestreams.selectors.imports import FINISHED
from valuestreams.services.imports import import_job_create, import_jobs_sweep

pytestmark = [pytest.mark.celery, pytest.mark.django_db(transaction=True)]

DATA = Path(__file__).parent / "data"


def upload_and_wait(org, client_for, *, changes: bytes, dry_run: bool = False) -> ImportJob:
    data = {
        "format": "csv",
        "file": SimpleUploadedFile("issues.csv", (DATA / "issues.csv").read_bytes()),
        "changes_file": SimpleUploadedFile("changes.csv", changes),
    }
    if dry_run:
        data["dry_run"] = "on"
    client = client_for("pmo")
    response = client.post(reverse("import-list", args=[org.portfolio.pk]), data)
    assert response.status_code == 302
    job = ImportJob.objects.get(pk=int(response["Location"].rstrip("/").rsplit("/", 1)[1]))
    deadline = time.monotonic() + 60
    while job.status not in {"succeeded", "failed"}:
        assert time.monotonic() < deadline, f"import {job.pk} still {job.status} after 60 s"
        fragment = client.get(reverse("import-progress", args=[job.pk]))
        assert fragment.status_code == 200
        time.sleep(0.2)
        job.refresh_from_db()
    return job


def test_the_worker_imports_a_csv_pair(org, client_for, celery_worker):
    job = upload_and_wait(org, client_for, changes=(DATA / "changes.csv").read_bytes())
    assert (job.status, job.progress, job.summary["created"]) == ("succeeded", 100, 5)
    assert WorkItem.objects.filter(portfolio=org.portfolio).count() == 5
    # history rows per item:
    # STW-101 6, STW-102 4 (one is its type change), STW-103 5 (two blocked flags), 104 2, 105 1
    assert StatusChange.objects.filter(item__portfolio=org.portfolio).count() == 18


def test_a_dry_run_on_the_worker_writes_nothing(org, client_for, celery_worker):
    job = upload_and_wait(
        org, client_for, changes=(DATA / "changes.csv").read_bytes(), dry_run=True
    )
    assert (job.status, job.summary["created"], job.summary["dry_run"]) == ("succeeded", 5, True)
    assert WorkItem.objects.count() == StatusChange.objects.count() == 0


def test_a_failing_file_on_the_worker_writes_nothing_and_offers_the_error_csv(
    org, client_for, celery_worker
):
    bad = (DATA / "changes.csv").read_bytes().replace(b"+01:00,status", b",status", 1)
    job = upload_and_wait(org, client_for, changes=bad)
    assert job.status == "failed"
    assert any(p["field"] == "time" and p["row"] == 2 for p in job.errors)
    assert WorkItem.objects.count() == StatusChange.objects.count() == 0
    report = client_for("pmo").get(reverse("import-errors", args=[job.pk]))
    assert report.status_code == 200
    assert "has no time zone offset" in report.content.decode("utf-8-sig")


def test_a_worker_killed_while_committing_an_import_leaves_no_items_and_the_sweep_runs_it_again(
    org, celery_worker
):
    issues, changes = big_csv_pair(5_000, team=org.team.name)
    job = import_job_create(
        portfolio=org.portfolio,
        created_by=org.users["pmo"],
        format="csv",
        payload=issues,
        payload_changes=changes,
    )
    assert wait_for(lambda: ImportJob.objects.get(pk=job.pk).progress >= 50), "never parsed"
    # the worker has written every item and waits to record the job's status: it dies there
    with holding("SELECT 1 FROM valuestreams_importjob WHERE id = %s FOR UPDATE", job.pk):
        assert wait_for(lambda: waits_for_lock("valuestreams_importjob"), 120), "never wrote"
        celery_worker.kill()
        celery_worker.wait()
    # what the dead worker's sessions had sent runs now (a heartbeat may land); its transaction
    # never commits
    assert wait_for(lambda: not waits_for_lock("valuestreams_importjob"), 30)
    job.refresh_from_db()
    assert (job.status, job.attempts) == (JobStatus.RUNNING, 1)
    assert not WorkItem.objects.exists()  # the items went with the status: nothing contradicts

    # its heartbeat goes stale; the sweep queues it again and another worker imports it
    ImportJob.objects.filter(pk=job.pk).update(
        heartbeat_at=timezone.now() - STALE_HEARTBEAT - dt.timedelta(seconds=1)
    )
    env = {**os.environ, "DATABASE_URL": _database_url(connection.settings_dict)}
    second = start_celery_worker(env, "--pool", "solo", "--without-mingle", "--without-gossip")
    try:
        assert import_jobs_sweep() == [job.pk]
        assert wait_for(lambda: ImportJob.objects.get(pk=job.pk).status in FINISHED, 120)
    finally:
        stop_process(second)
    job.refresh_from_db()
    assert (job.status, job.attempts, job.summary["created"]) == (JobStatus.SUCCEEDED, 2, 5_000)
    assert WorkItem.objects.filter(portfolio=org.portfolio).count() == 5_000
