"""File imports: the service (run in-process here), the pages and the API. The same import on a
real Celery worker is in test_imports_worker.py."""

import csv
import io
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from portfolio.services import integration_token_issue
from tests.access import EDITORS, AccessContract
from tests.factories import ImportJobFactory, ProductTeamFactory
from valuestreams.jobs import QUEUED_TOO_LONG, STALE_HEARTBEAT
from valuestreams.models import ImportJob, JobStatus, RecomputeJob, StatusChange, WorkItem
from valuestreams.selectors.imports import import_job_error_report
from valuestreams.services.imports import import_job_create, import_job_run, import_jobs_sweep

pytestmark = pytest.mark.django_db

DATA = Path(__file__).parent / "data"
ISSUES = (DATA / "issues.csv").read_bytes()
CHANGES = (DATA / "changes.csv").read_bytes()
JIRA = (DATA / "jira_search.json").read_bytes()
BAD_CHANGES = CHANGES.replace(b"2024-03-07T16:40:00+01:00", b"2024-03-07T16:40:00").replace(
    b"STW-105,,To Do", b"=HYPERLINK(1),,To Do"
)


def run(
    org, *, payload=ISSUES, changes=CHANGES, format="csv", dry_run=False, team_field=""
) -> ImportJob:
    job = import_job_create(
        portfolio=org.portfolio,
        created_by=org.users["pmo"],
        format=format,
        payload=payload,
        payload_changes=changes if format == "csv" else None,
        file_name="issues.csv",
        dry_run=dry_run,
        team_field=team_field,
    )
    return import_job_run(job_id=job.pk)


def test_a_csv_pair_is_imported_with_its_history(org):
    job = run(org)
    assert (job.status, job.progress) == ("succeeded", 100)
    assert {k: job.summary[k] for k in ("created", "updated", "unchanged", "items")} == {
        "created": 5,
        "updated": 0,
        "unchanged": 0,
        "items": 5,
    }
    assert WorkItem.objects.filter(portfolio=org.portfolio, source="csv").count() == 5
    reopened = WorkItem.objects.get(external_key="STW-101")
    assert list(reopened.status_changes.values_list("status", flat=True)) == [
        "To Do",
        "In Progress",
        "In Review",
        "Done",
        "In Progress",
        "Done",
    ]
    # the sample's team names are not teams of the portfolio: kept as the source's, with warnings
    assert reopened.team is None
    assert reopened.source_team == "Payments"
    assert {p["level"] for p in job.errors} == {"warning"}
    assert any("no team named 'Payments'" in p["message"] for p in job.errors)
    assert RecomputeJob.objects.filter(portfolio=org.portfolio).exists()


def test_importing_the_same_files_twice_changes_nothing(org):
    run(org)
    rows = list(StatusChange.objects.order_by("pk").values_list("pk", flat=True))
    job = run(org)
    assert (job.summary["created"], job.summary["updated"], job.summary["unchanged"]) == (0, 0, 5)
    assert list(StatusChange.objects.order_by("pk").values_list("pk", flat=True)) == rows


def test_a_jira_search_is_imported(org):
    job = run(org, payload=JIRA, format="jira")
    assert job.status == "succeeded", job.errors
    assert job.summary["created"] == 5
    assert WorkItem.objects.filter(source="jira").count() == 5


def test_a_jira_import_takes_each_items_team_from_the_field_it_is_told(org):
    payments = ProductTeamFactory(value_stream=org.value_stream, name="Payments")
    job = run(org, payload=JIRA, format="jira", team_field="customfield_10001")
    assert job.status == "succeeded", job.errors
    assert job.team_field == "customfield_10001"
    items = WorkItem.objects.filter(source="jira")
    assert items.filter(team=payments).count() == 2
    # a team Steward does not know is kept as the source's name, with a warning
    assert set(items.filter(team=None).values_list("source_team", flat=True)) == {"Onboarding", ""}
    assert any("Onboarding" in problem["message"] for problem in job.errors)


def test_without_a_team_field_jira_items_get_no_team(org):
    ProductTeamFactory(value_stream=org.value_stream, name="Payments")
    job = run(org, payload=JIRA, format="jira")
    assert job.status == "succeeded", job.errors
    assert not WorkItem.objects.filter(source="jira", team__isnull=False).exists()


def test_a_dry_run_reports_what_it_would_do_and_writes_nothing(org):
    job = run(org, dry_run=True)
    assert job.status == "succeeded"
    assert (job.summary["created"], job.summary["dry_run"]) == (5, True)
    assert WorkItem.objects.count() == StatusChange.objects.count() == 0
    assert not RecomputeJob.objects.exists()


def test_a_bad_file_writes_nothing_and_reports_every_row(org):
    job = run(org, changes=BAD_CHANGES)
    assert (job.status, job.progress) == ("failed", 100)
    errors = [p for p in job.errors if p["level"] == "error"]
    assert {(p["file"], p["row"], p["field"]) for p in errors} >= {
        ("changes.csv", 4, "time"),
        ("changes.csv", 16, "key"),
    }
    assert WorkItem.objects.count() == StatusChange.objects.count() == 0
    report = list(csv.reader(io.StringIO(import_job_error_report(job))))
    assert report[0] == ["level", "file", "row", "key", "field", "message"]
    assert ["error", "changes.csv", "16", "'=HYPERLINK(1)", "key"] in [row[:5] for row in report]
    assert not any(row[3].startswith("=") for row in report)


@pytest.mark.parametrize(
    ("options", "field", "message"),
    [
        ({"format": "xml"}, "format", "Choose the file format"),
        ({"payload": b""}, "file", "must not be empty"),
        ({"payload_changes": None}, "changes_file", "needs the status changes file"),
        ({"team_field": "customfield_10001"}, "team_field", "Only a Jira import"),
        ({"format": "jira", "team_field": "x" * 121}, "team_field", "at most 120"),
    ],
)
def test_a_bad_upload_is_refused_naming_the_field(org, options, field, message):
    arguments = {
        "portfolio": org.portfolio,
        "created_by": None,
        "format": "csv",
        "payload": ISSUES,
        "payload_changes": CHANGES,
    } | options
    with pytest.raises(ValidationError) as caught:
        import_job_create(**arguments)
    assert message in caught.value.message_dict[field][0]
    assert not ImportJob.objects.exists()


def test_a_job_already_taken_is_not_run_twice(org):
    job = run(org)
    again = import_job_run(job_id=job.pk)
    assert again.summary == job.summary
    assert WorkItem.objects.count() == 5


def test_the_sweep_sends_again_an_import_queued_too_long_and_one_whose_worker_died(org):
    now = timezone.now()
    lost = ImportJobFactory(portfolio=org.portfolio, enqueued_at=now - QUEUED_TOO_LONG * 2)
    fresh = ImportJobFactory(portfolio=org.portfolio, enqueued_at=now)
    dead = ImportJobFactory(
        portfolio=org.portfolio,
        status=JobStatus.RUNNING,
        attempts=1,
        heartbeat_at=now - STALE_HEARTBEAT * 2,
    )
    alive = ImportJobFactory(
        portfolio=org.portfolio, status=JobStatus.RUNNING, attempts=1, heartbeat_at=now
    )
    assert import_jobs_sweep() == [dead.pk, lost.pk]
    for job in (lost, fresh, dead, alive):
        job.refresh_from_db()
    assert (dead.status, dead.attempts) == (JobStatus.QUEUED, 1)
    assert dead.enqueued_at > now
    assert lost.enqueued_at > now
    assert (fresh.status, fresh.enqueued_at) == (JobStatus.QUEUED, now)
    assert (alive.status, alive.heartbeat_at) == (JobStatus.RUNNING, now)


def test_an_import_whose_worker_died_three_times_fails_saying_so(org):
    job = ImportJobFactory(
        portfolio=org.portfolio,
        status=JobStatus.RUNNING,
        attempts=3,
        heartbeat_at=timezone.now() - STALE_HEARTBEAT * 2,
    )
    assert import_jobs_sweep() == []
    job.refresh_from_db()
    assert (job.status, job.progress) == (JobStatus.FAILED, 100)
    assert job.finished_at is not None
    assert [problem["message"] for problem in job.errors] == [
        "The import was interrupted 3 times: the worker running it stopped; nothing was written. "
        "Try again, or report this to your administrator."
    ]


# --- pages ---------------------------------------------------------------------------------------


def upload(org, **extra):
    return {
        "format": "csv",
        "file": SimpleUploadedFile("issues.csv", ISSUES, "text/csv"),
        "changes_file": SimpleUploadedFile("changes.csv", CHANGES, "text/csv"),
    } | extra


class TestImportListAccess(AccessContract):
    url_name = "import-list"
    expected = EDITORS

    def url_kwargs(self, org):
        return {"pk": org.portfolio.pk}


class TestImportUploadAccess(AccessContract):
    url_name = "import-list"
    method = "post"
    expected = {**EDITORS, "pmo": 302, "admin": 302}

    def url_kwargs(self, org):
        return {"pk": org.portfolio.pk}

    def payload(self, org):
        return upload(org)


class TestImportDetailAccess(AccessContract):
    url_name = "import-detail"
    expected = EDITORS

    def url_kwargs(self, org):
        return {"pk": ImportJobFactory(portfolio=org.portfolio).pk}


class TestImportProgressAccess(TestImportDetailAccess):
    url_name = "import-progress"


class TestImportErrorsAccess(TestImportDetailAccess):
    url_name = "import-errors"


class TestForeignImportAccess(AccessContract):
    url_name = "import-detail"
    expected = {**EDITORS, "member": 404, "executive": 404, "pmo": 404}

    def url_kwargs(self, org):
        return {"pk": ImportJobFactory(portfolio=org.other_portfolio).pk}


def test_an_upload_queues_a_job_and_shows_its_page(org, client_for):
    client = client_for("pmo")
    response = client.post(reverse("import-list", args=[org.portfolio.pk]), upload(org))
    job = ImportJob.objects.get()
    assert response["Location"] == reverse("import-detail", args=[job.pk])
    assert (job.status, job.format, job.created_by, bytes(job.payload)) == (
        "queued",
        "csv",
        org.users["pmo"],
        ISSUES,
    )
    page = client.get(response["Location"]).content.decode()
    assert f'hx-get="{reverse("import-progress", args=[job.pk])}"' in page
    assert "team from" not in page
    assert 'hx-trigger="every 1s"' in page
    assert "django_htmx/htmx-2.min.js" in page


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"changes_file": ""}, "changes_file", "needs the status changes file"),
        ({"file": ""}, "file", "This field is required."),
        ({"format": "xml"}, "format", "Select a valid choice"),
    ],
)
def test_a_bad_upload_on_the_page_gets_a_clear_error(org, client_for, changes, field, message):
    response = client_for("pmo").post(
        reverse("import-list", args=[org.portfolio.pk]), upload(org, **changes)
    )
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not ImportJob.objects.exists()


def test_a_jira_upload_on_the_page_records_its_team_field(org, client_for):
    client = client_for("pmo")
    form = {
        "format": "jira",
        "file": SimpleUploadedFile("search.json", JIRA),
        "team_field": " customfield_10001 ",
    }
    response = client.post(reverse("import-list", args=[org.portfolio.pk]), form)
    job = ImportJob.objects.get()
    assert (job.format, job.team_field) == ("jira", "customfield_10001")
    assert "team from customfield_10001" in client.get(response["Location"]).content.decode()


def test_a_finished_job_shows_its_summary_and_stops_polling(org, client_for):
    job = run(org, dry_run=True)
    page = client_for("pmo").get(reverse("import-progress", args=[job.pk])).content.decode()
    assert "hx-trigger" not in page
    assert "Dry run: nothing was written" in page
    assert "no team named" in page


def test_a_failed_job_offers_its_problems_as_csv(org, client_for):
    job = run(org, changes=BAD_CHANGES)
    client = client_for("pmo")
    page = client.get(reverse("import-detail", args=[job.pk])).content.decode()
    assert "Nothing was imported" in page
    assert reverse("import-errors", args=[job.pk]) in page
    download = client.get(reverse("import-errors", args=[job.pk]))
    assert download["Content-Type"].startswith("text/csv")
    assert "attachment" in download["Content-Disposition"]
    text = download.content.decode("utf-8-sig")
    assert "'=HYPERLINK(1)" in text
    assert ",=HYPERLINK" not in text


def test_the_import_list_query_count_does_not_grow_with_jobs(org, client_for):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = client_for("pmo")
    url = reverse("import-list", args=[org.portfolio.pk])
    ImportJobFactory(portfolio=org.portfolio)
    with CaptureQueriesContext(connection) as few:
        client.get(url)
    for _ in range(10):
        ImportJobFactory(portfolio=org.portfolio, created_by=org.users["admin"])
    with CaptureQueriesContext(connection) as many:
        client.get(url)
    assert len(many) == len(few)


# --- API -----------------------------------------------------------------------------------------

IMPORTS = reverse("api:ingest-import-list")


def test_a_token_uploads_an_import_and_reads_its_progress(org):
    token = integration_token_issue(portfolio=org.portfolio, name="ci", days=1, now=timezone.now())
    client = Client(HTTP_AUTHORIZATION=f"Bearer {token.text}")
    response = client.post(IMPORTS, upload(org, dry_run="true"))
    assert response.status_code == 202, response.content
    body = response.json()
    assert (body["status"], body["dry_run"], body["portfolio"]) == (
        "queued",
        True,
        org.portfolio.pk,
    )
    import_job_run(job_id=body["id"])
    job = client.get(reverse("api:ingest-import-detail", args=[body["id"]])).json()
    assert (job["status"], job["progress"], job["summary"]["created"]) == ("succeeded", 100, 5)


def test_an_api_upload_without_the_changes_file_is_refused(org, client_for):
    response = client_for("pmo").post(
        IMPORTS, upload(org, portfolio=org.portfolio.pk, changes_file="")
    )
    assert response.status_code == 400
    assert "needs the status changes file" in response.json()["changes_file"][0]
    assert not ImportJob.objects.exists()


@pytest.mark.parametrize(
    ("who", "status"),
    [("anonymous", 401), ("outsider", 404), ("member", 403), ("executive", 403), ("pmo", 202)],
)
def test_an_api_upload_needs_the_lean_pmo(org, client_for, who, status):
    response = client_for(who).post(IMPORTS, upload(org, portfolio=org.portfolio.pk))
    assert response.status_code == status
    assert ImportJob.objects.count() == (1 if status == 202 else 0)


class TestImportJobApiListAccess(AccessContract):
    url_name = "api:ingest-import-list"
    expected = {"anonymous": 401, "outsider": 200, "member": 200, "executive": 200, "pmo": 200, "admin": 200}  # fmt: skip


class TestImportJobApiDetailAccess(AccessContract):
    url_name = "api:ingest-import-detail"
    expected = {"anonymous": 401, "outsider": 404, "member": 404, "executive": 404, "pmo": 200, "admin": 200}  # fmt: skip

    def url_kwargs(self, org):
        return {"pk": ImportJobFactory(portfolio=org.portfolio).pk}


def _jira_with(**fields) -> bytes:
    import json

    data = json.loads(JIRA)
    data["issues"][1]["fields"].update(fields)
    return json.dumps(data).encode()


def test_a_jira_summary_with_a_nul_character_is_imported_and_the_issue_named(org):
    job = run(org, format="jira", payload=_jira_with(summary="Budget grid\u0000 rounds \ud800"))
    assert job.status == "succeeded", job.errors
    assert WorkItem.objects.get(external_key="STW-102").title == "Budget grid rounds \ufffd"
    [warning] = [p for p in job.errors if "cannot store" in p["message"]]
    assert (warning["level"], warning["key"], warning["field"]) == (
        "warning",
        "STW-102",
        "fields.summary",
    )


def test_a_text_too_long_for_the_database_is_a_row_error_and_nothing_is_written(org):
    job = run(org, format="jira", payload=_jira_with(summary="x" * 501))
    assert job.status == "failed"
    [error] = [p for p in job.errors if p["level"] == "error"]
    assert (error["key"], error["field"]) == ("STW-102", "title")
    assert "501 characters; at most 500 fit" in error["message"]
    assert not WorkItem.objects.exists()


def test_a_database_refusal_is_reported_as_a_problem_not_a_crash(org, monkeypatch):
    from django.db import DataError

    from valuestreams.services import imports

    def refuse(**kwargs):
        raise DataError("value too long for type character varying(120)\nCONTEXT: COPY")

    monkeypatch.setattr(imports, "work_item_records_write", refuse)
    job = run(org, format="jira", payload=JIRA)
    assert job.status == "failed"
    [error] = job.errors[:1]
    assert "The database refused the data (DataError: value too long" in error["message"]
    assert "stopped unexpectedly" not in error["message"]


@pytest.mark.parametrize("field", ["file", "changes_file"])
def test_a_file_over_the_limit_is_dropped_while_it_streams_in_and_refused_with_the_limit(
    org, client_for, settings, field
):
    settings.STEWARD_MAX_UPLOAD_BYTES = 1_000  # both sample files have more than 1,000 bytes

    def big():
        return SimpleUploadedFile("big.csv", (ISSUES if field == "file" else CHANGES) * 3)

    page = client_for("pmo").post(
        reverse("import-list", args=[org.portfolio.pk]),
        upload(org, **{field: big(), "file" if field != "file" else "changes_file": (
            SimpleUploadedFile("small.csv", b"key\n", "text/csv")
        )}),
    )  # fmt: skip
    assert page.status_code == 400
    assert page.context["form"].errors[field] == [
        "The file is larger than 0.001 MB; at most 0.001 MB are accepted."
    ]
    api = client_for("pmo").post(
        reverse("api:ingest-import-list"),
        {"portfolio": org.portfolio.pk, "format": "csv", **{field: big()}},
    )
    assert api.status_code == 400
    assert "at most 0.001 MB are accepted" in api.json()[field][0]
    assert not ImportJob.objects.exists()


def test_the_service_states_the_size_limit_in_the_unit_it_uses(org, settings):
    settings.STEWARD_MAX_UPLOAD_BYTES = 50_000_000
    with pytest.raises(ValidationError) as refused:
        import_job_create(
            portfolio=org.portfolio, created_by=org.users["pmo"], format="jira",
            payload=b"x" * 50_000_001,
        )  # fmt: skip
    assert refused.value.message_dict["file"] == [
        "The file has 50.0 MB; at most 50 MB are accepted."
    ]
