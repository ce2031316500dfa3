"""Reads of file imports: the jobs a caller may see, whether a job is finished, and its problems
as a CSV report (the writes are in `valuestreams.services.imports`)."""

from __future__ import annotations

from django.db.models import QuerySet

from portfolio.models import IntegrationToken, Portfolio
from valuestreams.models import ImportJob, JobStatus
from valuestreams.parsing import records as neutral

FINISHED = (JobStatus.SUCCEEDED, JobStatus.FAILED)


def import_jobs_visible_to(user, token: IntegrationToken | None = None) -> QuerySet[ImportJob]:
    """Import jobs the caller may see: the token's portfolio, or the portfolios a person edits
    (imports are a Lean PMO tool)."""
    if token is not None:
        return ImportJob.objects.filter(portfolio=token.portfolio_id)
    return ImportJob.objects.filter(portfolio__in=Portfolio.objects.editable_by(user))


def import_job_error_report(job: ImportJob) -> str:
    """The job's errors, then warnings, as CSV text (cells neutralised against formulas)."""

    def rows(level: str) -> list[neutral.RowError]:
        return [
            neutral.RowError(
                row=problem.get("row"),
                key=problem.get("key"),
                field=problem.get("field") or "",
                message=problem.get("message") or "",
                file=problem.get("file") or "",
            )
            for problem in job.errors
            if problem.get("level", "error") == level
        ]

    return neutral.csv_error_report(rows("error"), warnings=rows("warning"))
