"""Import pages: the Lean PMO uploads a Jira search or a CSV pair and watches the job run."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_safe

from portfolio.access import get_for_user
from portfolio.http import form_status
from portfolio.models import Portfolio
from portfolio.uploads import upload_size_error
from valuestreams.forms import ImportUploadForm
from valuestreams.models import ImportJob
from valuestreams.selectors.imports import FINISHED, import_job_error_report
from valuestreams.services.imports import import_job_create

RECENT_JOBS = 20


def get_import_job_for_user(user, pk: int) -> ImportJob:
    """The job if the user may see its portfolio (else 404) and edit it (else 403)."""
    job = (
        ImportJob.objects.filter(pk=pk, portfolio__in=Portfolio.objects.visible_to(user))
        .select_related("portfolio", "created_by")
        .defer("payload", "payload_changes")
        .first()
    )
    if job is None:
        raise Http404(f"No import {pk} here.")
    if not Portfolio.objects.editable_by(user).filter(pk=job.portfolio_id).exists():
        raise PermissionDenied("Imports are run by the portfolio's Lean PMO.")
    return job


def import_list(request: HttpRequest, pk: int) -> HttpResponse:
    """Upload a file (or a CSV pair) and see the portfolio's recent imports."""
    portfolio = get_for_user(Portfolio, request.user, pk, write=True)
    form = ImportUploadForm(request.POST or None, request.FILES or None)
    too_large = {
        field: problem
        for field in ("file", "changes_file")
        if request.method == "POST"
        and (problem := upload_size_error(request, field, request.FILES.get(field)))
    }
    if request.method == "POST" and form.is_valid() and not too_large:
        data = form.cleaned_data
        changes = data.get("changes_file")
        try:
            job = import_job_create(
                portfolio=portfolio,
                created_by=request.user,
                format=data["format"],
                payload=data["file"].read(),
                payload_changes=changes.read() if changes else None,
                file_name=data["file"].name,
                dry_run=data["dry_run"],
                team_field=data.get("team_field") or "",
            )
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                form.add_error(field if field in form.fields else None, errors)
        else:
            messages.success(request, f"Import {job.pk} uploaded; a worker runs it now.")
            return redirect("import-detail", pk=job.pk)
    for field, problem in too_large.items():  # checked before anything read the file
        form.errors[field] = form.error_class([problem])
    jobs = (
        ImportJob.objects.filter(portfolio=portfolio)
        .select_related("created_by")
        .defer("payload", "payload_changes", "errors")[:RECENT_JOBS]
    )
    context = {"portfolio": portfolio, "form": form, "jobs": jobs}
    return render(request, "valuestreams/import_list.html", context, status=form_status(form))


@require_safe
def import_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """One import: progress (refreshed while it runs), summary and row-by-row problems."""
    job = get_import_job_for_user(request.user, pk)
    context = {"job": job, "portfolio": job.portfolio, "finished": job.status in FINISHED}
    return render(request, "valuestreams/import_detail.html", context)


@require_safe
def import_progress(request: HttpRequest, pk: int) -> HttpResponse:
    """The progress fragment that the detail page polls; once finished the whole result."""
    job = get_import_job_for_user(request.user, pk)
    context = {"job": job, "portfolio": job.portfolio, "finished": job.status in FINISHED}
    return render(request, "valuestreams/_import_progress.html", context)


@require_safe
def import_errors_csv(request: HttpRequest, pk: int) -> HttpResponse:
    """The job's errors and warnings as a CSV download (cells neutralised against formulas)."""
    job = get_import_job_for_user(request.user, pk)
    response = HttpResponse(
        import_job_error_report(job).encode("utf-8-sig"), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="import-{job.pk}-problems.csv"'
    return response
