"""A broker outage loses, stops and misreports nothing.

The journey kills a real Redis (a private one, never the machine's) while a worker commits a
20,000-item import and again while it publishes a recompute: the worker survives, both commit and
say so, requests answer as usual, and the sweep delivers what the outage left queued. The other
tests point Celery at a port where nothing listens and try every write that enqueues a job.
"""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from tests.conftest import big_csv_pair, holding, wait_for, waits_for_lock
from tests.factories import PortfolioMembershipFactory
from tests.leanpmo.support import make_period
from valuestreams.jobs import QUEUED_TOO_LONG
from valuestreams.models import (
    ImportJob,
    JobStatus,
    MetricRun,
    RecomputeJob,
    StatusChange,
    WorkItem,
)
from valuestreams.recompute import recompute_jobs_sweep
from valuestreams.services.imports import import_job_create, import_job_run, import_jobs_sweep

DATA = Path(__file__).parent / "valuestreams" / "data"
ITEMS = 20_000


def upload(client, org, issues: bytes, changes: bytes):
    return client.post(
        "/api/v1/ingest/imports/",
        {
            "portfolio": org.portfolio.pk,
            "format": "csv",
            "file": SimpleUploadedFile("issues.csv", issues),
            "changes_file": SimpleUploadedFile("changes.csv", changes),
        },
    )


def sweep_after_waiting() -> None:
    """What beat's sweep does once the queued jobs have waited longer than QUEUED_TOO_LONG."""
    waited = timezone.now() - QUEUED_TOO_LONG - dt.timedelta(seconds=1)
    for model in (RecomputeJob, ImportJob):
        model.objects.filter(status=JobStatus.QUEUED).update(enqueued_at=waited)
    recompute_jobs_sweep()
    import_jobs_sweep()


def worker_answers(app) -> bool:
    try:
        return bool(app.control.ping(timeout=0.5))
    except Exception:  # this process's pooled connection to the Redis that died
        return False


@pytest.mark.celery
def test_redis_killed_during_an_import_and_a_recompute_loses_stops_and_misreports_nothing(
    org, client_for, private_broker
):
    from config.celery import app

    pmo = client_for("pmo")
    # a second portfolio of the same Lean PMO, so that its recompute request is a new job
    PortfolioMembershipFactory(
        portfolio=org.other_portfolio, user=org.users["pmo"], role="lean_pmo"
    )
    issues, changes = big_csv_pair(ITEMS, team=org.team.name)
    response = upload(pmo, org, issues, changes)
    assert response.status_code == 202
    big = ImportJob.objects.get(pk=response.json()["id"])

    # Redis dies while the worker writes the items; they commit during the outage
    assert wait_for(lambda: ImportJob.objects.get(pk=big.pk).progress >= 50), "never parsed"
    with holding("SELECT 1 FROM valuestreams_importjob WHERE id = %s FOR UPDATE", big.pk):
        assert wait_for(lambda: waits_for_lock("valuestreams_importjob"), 120), "never wrote"
        private_broker.kill()

        # requests whose data is saved answer as usual, the broker being down
        requested = pmo.post(
            "/api/v1/recompute-jobs/",
            {"portfolio": org.other_portfolio.pk, "full": True},
            content_type="application/json",
        )
        assert requested.status_code == 202, requested.content
        assert requested.json()["status"] == "queued"
        small = upload(
            pmo, org, (DATA / "issues.csv").read_bytes(), (DATA / "changes.csv").read_bytes()
        )
        assert small.status_code == 202, small.content
        assert small.json()["status"] == "queued"
        health = pmo.get(reverse("health"))
        assert health.status_code == 503
        assert health.json()["redis"].startswith("error: ")

    assert wait_for(lambda: ImportJob.objects.get(pk=big.pk).status != JobStatus.RUNNING, 60)
    big.refresh_from_db()
    assert big.status == JobStatus.SUCCEEDED, big.errors
    assert big.summary["created"] == ITEMS
    assert WorkItem.objects.filter(portfolio=org.portfolio).count() == ITEMS
    assert StatusChange.objects.filter(item__portfolio=org.portfolio).count() == 3 * ITEMS
    time.sleep(1)  # the worker noticed the outage, and acknowledged the finished task
    assert private_broker.worker.poll() is None, "the worker stopped with the broker"

    # Redis returns (empty: the queued messages died with it); the worker reconnects by itself
    private_broker.restart()
    assert wait_for(lambda: worker_answers(app), 60), "the worker did not reconnect"
    assert wait_for(lambda: pmo.get(reverse("health")).status_code == 200, 30)
    # the recompute the import requested and the API's are queued, and the small import
    assert set(RecomputeJob.objects.values_list("portfolio", "status")) == {
        (org.portfolio.pk, JobStatus.QUEUED),
        (org.other_portfolio.pk, JobStatus.QUEUED),
    }
    assert ImportJob.objects.get(pk=small.json()["id"]).status == JobStatus.QUEUED

    # the sweep sends them again, the oldest first; Redis dies while the worker publishes one
    with holding("LOCK TABLE valuestreams_metricrun IN EXCLUSIVE MODE"):
        sweep_after_waiting()
        assert wait_for(lambda: waits_for_lock("valuestreams_metricrun"), 120), "never published"
        publishing = list(RecomputeJob.objects.filter(status=JobStatus.RUNNING))
        private_broker.kill()
    assert wait_for(lambda: not RecomputeJob.objects.filter(status=JobStatus.RUNNING).exists(), 60)
    for recompute in publishing:
        recompute.refresh_from_db()
        assert recompute.status == JobStatus.SUCCEEDED, recompute.error
        assert recompute.run is not None
    time.sleep(1)
    assert private_broker.worker.poll() is None, "the worker stopped with the broker"

    # Redis returns; whatever is still queued is delivered by the next sweep
    private_broker.restart()
    assert wait_for(lambda: worker_answers(app), 60), "the worker did not reconnect"
    sweep_after_waiting()

    swept = [time.monotonic()]

    def everything_finished() -> bool:
        jobs = [*ImportJob.objects.all(), *RecomputeJob.objects.all()]
        if any(job.status == JobStatus.QUEUED for job in jobs) and time.monotonic() > swept[0] + 5:
            sweep_after_waiting()  # as beat does every minute
            swept[0] = time.monotonic()
        return all(job.status in (JobStatus.SUCCEEDED, JobStatus.FAILED) for job in jobs)

    assert wait_for(everything_finished, 120), [
        *ImportJob.objects.values_list("pk", "status", "attempts", "enqueued_at"),
        *RecomputeJob.objects.values_list("pk", "status", "attempts", "enqueued_at"),
    ]
    assert set(ImportJob.objects.values_list("status", flat=True)) == {JobStatus.SUCCEEDED}
    assert set(RecomputeJob.objects.values_list("status", flat=True)) == {JobStatus.SUCCEEDED}
    assert WorkItem.objects.filter(portfolio=org.portfolio).count() == ITEMS + 5
    latest = MetricRun.objects.filter(portfolio=org.portfolio).latest("pk")
    assert latest.caveats["items"] == ITEMS + 5


# --- every write that enqueues a job, with nothing listening where the broker should be ----------


@pytest.mark.django_db(transaction=True)
def test_an_import_finishing_with_the_broker_down_is_succeeded_with_its_items(
    org, broker_unreachable
):
    job = import_job_create(
        portfolio=org.portfolio,
        created_by=org.users["pmo"],
        format="csv",
        payload=(DATA / "issues.csv").read_bytes(),
        payload_changes=(DATA / "changes.csv").read_bytes(),
    )
    import_job_run(job_id=job.pk)  # its recompute request cannot be enqueued after the commit
    job.refresh_from_db()
    assert (job.status, job.summary["created"]) == (JobStatus.SUCCEEDED, 5)
    assert WorkItem.objects.filter(portfolio=org.portfolio).count() == 5
    assert RecomputeJob.objects.get(portfolio=org.portfolio).status == JobStatus.QUEUED


def _ingest_work_item(org, client):
    record = {
        "key": "OUT-1",
        "type": "Story",
        "created_at": "2026-03-02T09:00:00Z",
        "status_history": [{"at": "2026-03-02T09:00:00Z", "status": "To Do"}],
    }
    return client.post(
        "/api/v1/ingest/work-items/",
        {"portfolio": org.portfolio.pk, "source": "jira", "records": [record]},
        content_type="application/json",
    )


def _ingest_deployment(org, client):
    record = {"key": "deploy-1", "finished_at": "2026-03-02T09:00:00Z"}
    return client.post(
        "/api/v1/ingest/deployments/",
        {"portfolio": org.portfolio.pk, "source": "github", "records": [record]},
        content_type="application/json",
    )


def _recompute_api(org, client):
    return client.post(
        "/api/v1/recompute-jobs/",
        {"portfolio": org.portfolio.pk, "full": True},
        content_type="application/json",
    )


def _import_api(org, client):
    return upload(
        client, org, (DATA / "issues.csv").read_bytes(), (DATA / "changes.csv").read_bytes()
    )


def _import_page(org, client):
    return client.post(
        reverse("import-list", args=[org.portfolio.pk]),
        {
            "format": "csv",
            "file": SimpleUploadedFile("issues.csv", (DATA / "issues.csv").read_bytes()),
            "changes_file": SimpleUploadedFile("changes.csv", (DATA / "changes.csv").read_bytes()),
        },
    )


def _mapping_page(org, client):
    data = {"states-TOTAL_FORMS": "1", "states-INITIAL_FORMS": "0"}
    data |= {"states-0-name": "Parked", "states-0-value": "waiting"}
    data |= {"types-TOTAL_FORMS": "0", "types-INITIAL_FORMS": "0"}
    return client.post(reverse("mapping-page", args=[org.portfolio.pk]), data)


def _period_approval(org, client):
    period = make_period(org)
    return client.post(
        reverse("period-status", args=[org.portfolio.pk, period.pk]),
        {"status": "approved", "confirm": "on"},
    )


@pytest.mark.parametrize(
    ("write", "answer", "job_model"),
    [
        (_ingest_work_item, 200, RecomputeJob),
        (_ingest_deployment, 200, RecomputeJob),
        (_recompute_api, 202, RecomputeJob),
        (_import_api, 202, ImportJob),
        (_import_page, 302, ImportJob),
        (_mapping_page, 302, RecomputeJob),
        (_period_approval, 302, RecomputeJob),
    ],
    ids=lambda value: getattr(value, "__name__", str(value)).strip("_"),
)
@pytest.mark.django_db(transaction=True)  # the request commits, then enqueues
def test_a_write_whose_data_committed_answers_as_usual_with_the_broker_down(
    org, client_for, broker_unreachable, caplog, write, answer, job_model
):
    response = write(org, client_for("pmo"))
    assert response.status_code == answer, response.content[:500]
    job = job_model.objects.get(portfolio=org.portfolio)
    assert job.status == JobStatus.QUEUED
    assert job.enqueued_at is not None  # the sweep sends it QUEUED_TOO_LONG after this
    assert "the job sweep will deliver it" in caplog.text
