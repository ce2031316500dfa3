"""File imports: a Lean PMO uploads a Jira search (JSON, expand=changelog) or a CSV pair; a Celery
worker parses it and writes it with the same service as the ingest API, all-or-nothing.

The ImportJob row is the source of truth: ``status`` (queued → running → succeeded / failed),
``progress`` 0–100, ``summary`` (created / updated / unchanged, items, status changes, warnings)
and ``errors`` (every error and warning, row by row, as dicts with level, file, row, key, field,
message). A dry run parses, checks and counts, and writes nothing but the job row. A failed import
writes nothing but the job row either. *succeeded* is written in the same transaction as the
items, so the status never contradicts the database; a job whose worker died is sent again by the
sweep (:mod:`valuestreams.jobs`), which is safe because its data never committed.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import DatabaseError, transaction
from django.db.models import F
from django.utils import timezone

from config.celery import enqueue_on_commit
from portfolio.models import Portfolio
from portfolio.uploads import max_upload_bytes
from valuestreams.jobs import JobHeartbeat, job_sweep
from valuestreams.models import ImportJob, JobStatus
from valuestreams.parsing import records as neutral
from valuestreams.parsing.batch import IngestRejected
from valuestreams.parsing.csvpair import parse_csv_pair
from valuestreams.parsing.jira import parse_jira_search
from valuestreams.parsing.records import storable_text
from valuestreams.services.work_items import work_item_records_write


@transaction.atomic
def import_job_create(
    *,
    portfolio: Portfolio,
    created_by,
    format: str,
    payload: bytes,
    payload_changes: bytes | None = None,
    file_name: str = "",
    dry_run: bool = False,
    team_field: str = "",
) -> ImportJob:
    """Record an upload and enqueue its import after commit; returns the queued job.

    Raises ValidationError naming the field: ``format`` (jira or csv), ``file`` (missing, empty or
    too large), ``changes_file`` (needed for a CSV pair, too large), ``team_field`` (Jira only:
    the id or display name of the field holding each issue's team; the CSV pair has a team column).
    """
    errors: dict[str, str] = {}
    if format not in ImportJob.Format.values:
        errors["format"] = f"Choose the file format: {', '.join(ImportJob.Format.values)}."
    for field, content in (("file", payload), ("changes_file", payload_changes)):
        if content is not None and len(content) > max_upload_bytes():
            errors[field] = (
                f"The file has {len(content) / 1e6:.1f} MB; at most "
                f"{max_upload_bytes() / 1e6:g} MB are accepted."
            )
    if not payload:
        errors.setdefault("file", "Choose the file to import; it must not be empty.")
    if format == ImportJob.Format.CSV and not payload_changes:
        errors.setdefault(
            "changes_file", "A CSV import needs the status changes file (changes.csv) too."
        )
    team_field = (team_field or "").strip()
    if team_field and format != ImportJob.Format.JIRA:
        errors["team_field"] = "Only a Jira import has a team field; a CSV pair names the team."
    elif len(team_field) > ImportJob._meta.get_field("team_field").max_length:
        errors["team_field"] = "A Jira field id or name has at most 120 characters."
    if errors:
        raise ValidationError(errors)
    job = ImportJob.objects.create(
        portfolio=portfolio,
        created_by=created_by,
        format=format,
        dry_run=dry_run,
        file_name=file_name[:255],
        payload=payload,
        payload_changes=payload_changes if format == ImportJob.Format.CSV else None,
        team_field=team_field,
        enqueued_at=timezone.now(),
    )
    from valuestreams.tasks import import_job_run_task

    enqueue_on_commit(import_job_run_task, job.pk)
    return job


def _problem(level: str, error: neutral.RowError) -> dict[str, Any]:
    """A parser's problem as stored on the job (its texts storable: they quote the file)."""
    return {
        "level": level,
        "file": error.file,
        "row": error.row,
        "key": error.key and storable_text(error.key),
        "field": storable_text(error.field),
        "message": storable_text(error.message),
    }


def _set(job: ImportJob, **fields: Any) -> None:
    """Save job fields at once (outside a transaction the page sees them at once)."""
    for name, value in fields.items():
        setattr(job, name, value)
    ImportJob.objects.filter(pk=job.pk).update(**fields)


def import_job_run(*, job_id: int) -> ImportJob | None:
    """Parse and write (or, in a dry run, count) one queued import; a job already taken is left
    alone, so a redelivered message does nothing (nor one for a deleted job: None). Returns the
    finished job."""
    now = timezone.now()
    claimed = ImportJob.objects.filter(pk=job_id, status=JobStatus.QUEUED).update(
        status=JobStatus.RUNNING,
        progress=5,
        attempts=F("attempts") + 1,
        started_at=now,
        heartbeat_at=now,
    )
    job = ImportJob.objects.select_related("portfolio").filter(pk=job_id).first()
    if not claimed or job is None:
        return job
    with JobHeartbeat(ImportJob, job.pk):
        return _run(job)


def _run(job: ImportJob) -> ImportJob:
    try:
        if job.format == ImportJob.Format.JIRA:
            result = parse_jira_search(bytes(job.payload), team_field=job.team_field or None)
        else:
            result = parse_csv_pair(bytes(job.payload), bytes(job.payload_changes or b""))
        _set(job, progress=50)
        warnings = [_problem("warning", warning) for warning in result.warnings]
        if not result.ok:
            return _finish(
                job,
                JobStatus.FAILED,
                errors=[_problem("error", error) for error in result.errors] + warnings,
                summary={"items": result.item_count, "rows_read": result.rows_read},
            )
        try:
            # the items and the job's final status commit together, or neither does
            with transaction.atomic():
                written = work_item_records_write(
                    portfolio=job.portfolio,
                    records=result.items,
                    unknown_team="warn",
                    dry_run=job.dry_run,
                )
                warnings += [_ingest_problem("warning", w) for w in written.warnings]
                summary = {
                    "created": written.created,
                    "updated": written.updated,
                    "unchanged": written.unchanged,
                    "dry_run": job.dry_run,
                    "items": result.item_count,
                    "rows_read": result.rows_read,
                    "status_changes": result.status_change_count,
                    "warnings": len(warnings),
                }
                return _finish(job, JobStatus.SUCCEEDED, errors=warnings, summary=summary)
        except IngestRejected as exc:
            return _finish(
                job,
                JobStatus.FAILED,
                errors=[_ingest_problem("error", e) for e in exc.errors] + warnings,
                summary={"items": result.item_count, "rows_read": result.rows_read},
            )
        except DatabaseError as exc:
            # the checks before writing should leave the database nothing to refuse; if it still
            # does, the job says what it refused (the write was rolled back), as a problem row
            refused = storable_text(str(exc).strip().splitlines()[0] if str(exc).strip() else "")
            return _finish(
                job,
                JobStatus.FAILED,
                errors=[
                    {
                        "level": "error",
                        "file": "",
                        "row": None,
                        "key": None,
                        "field": "",
                        "message": f"The database refused the data ({type(exc).__name__}: "
                        f"{refused}); nothing was written.",
                    },
                    *warnings,
                ],
                summary={"items": result.item_count, "rows_read": result.rows_read},
            )
    except Exception as exc:
        # Still running means the data transaction did not commit: "nothing was written" is
        # true. A job that did commit is succeeded and stays so, whatever failed after.
        _finish(
            job,
            JobStatus.FAILED,
            errors=[_unexpected(f"The import stopped unexpectedly ({type(exc).__name__})")],
            summary={},
            only_if_running=True,
        )
        raise


def _unexpected(what: str) -> dict[str, Any]:
    return {
        "level": "error",
        "file": "",
        "row": None,
        "key": None,
        "field": "",
        "message": f"{what}; nothing was written. Try again, or report this to your administrator.",
    }


def _ingest_problem(level: str, error) -> dict[str, Any]:
    return {
        "level": level,
        "file": "",
        "row": None,
        "key": error.key,
        "field": error.field,
        "message": error.message,
    }


def _finish(
    job: ImportJob, status: str, *, errors: list, summary: dict, only_if_running: bool = False
) -> ImportJob:
    fields = {
        "status": status,
        "progress": 100,
        "errors": errors,
        "summary": summary,
        "finished_at": timezone.now(),
    }
    if only_if_running:
        if ImportJob.objects.filter(pk=job.pk, status=JobStatus.RUNNING).update(**fields):
            for name, value in fields.items():
                setattr(job, name, value)
        return job
    _set(job, **fields)
    return job


def _import_gave_up(job: ImportJob) -> dict[str, Any]:
    return {
        "progress": 100,
        "summary": {},
        "errors": [
            _unexpected(
                f"The import was interrupted {job.attempts} times: the worker running it stopped"
            )
        ],
    }


def import_jobs_sweep(*, now: datetime | None = None) -> list[int]:
    """Send lost import jobs again (:func:`valuestreams.jobs.job_sweep`); returns their ids."""
    from valuestreams.tasks import import_job_run_task

    return job_sweep(model=ImportJob, task=import_job_run_task, gave_up=_import_gave_up, now=now)
