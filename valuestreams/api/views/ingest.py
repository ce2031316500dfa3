"""The ingest API under /api/v1/ingest/: batch endpoints for work items, deployments, incidents and
changes, and file imports. Integration tokens (``Authorization: Bearer stw_…``) of a portfolio, or
a Lean PMO's browser session, may call them; a token reaches no other endpoint."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.core.exceptions import RequestDataTooBig, ValidationError
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.authentication import SessionAuthentication
from rest_framework.exceptions import ParseError
from rest_framework.exceptions import ValidationError as DRFValidationError
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from portfolio.api.authentication import (
    IngestPermission,
    IntegrationTokenAuthentication,
    portfolio_for_ingest,
    request_token,
)
from portfolio.api.errors import BodyTooLarge, api_validation_error
from portfolio.api.parsers import JSONParser
from portfolio.uploads import upload_size_error
from valuestreams.api.serializers import ingest as s
from valuestreams.parsing.batch import IngestError, IngestRejected
from valuestreams.selectors.imports import import_jobs_visible_to
from valuestreams.services.deliveries import changes_ingest, deployments_ingest, incidents_ingest
from valuestreams.services.imports import import_job_create
from valuestreams.services.upserts import IngestSummary
from valuestreams.services.work_items import work_items_ingest

AUTHENTICATION = [IntegrationTokenAuthentication, SessionAuthentication]
ERRORS = OpenApiResponse(s.IngestErrorsSerializer, description="Nothing written; every problem.")


def _errors(*errors: IngestError, code: int = status.HTTP_400_BAD_REQUEST) -> Response:
    return Response({"errors": [error.as_dict() for error in errors]}, status=code)


def _portfolio_id(data: Any) -> int | None:
    """The `portfolio` named in a body (int or digits), None when absent; ValueError otherwise."""
    value = data.get("portfolio") if hasattr(data, "get") else None
    if value in (None, ""):
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    raise ValueError(f"portfolio must be a portfolio id (a number), got {value!r}.")


class _BatchIngestViewSet(viewsets.ViewSet):
    """POST a batch; 200 with {created, updated, unchanged} or 400 with every bad record."""

    authentication_classes = AUTHENTICATION
    permission_classes = [IngestPermission]
    parser_classes = [JSONParser]
    ingest: Callable[..., IngestSummary]

    def handle_exception(self, exc: Exception) -> Response:
        """A body that is not JSON, or too large to read, is refused in the batch's own error
        shape ({"errors": [...]}) with DRF's status (400, 413)."""
        response = super().handle_exception(exc)
        if isinstance(exc, ParseError | RequestDataTooBig | BodyTooLarge):
            return _errors(
                IngestError(None, None, "", str(response.data["detail"])),
                code=response.status_code,
            )
        return response

    def create(self, request: Request) -> Response:
        body = request.data
        if not isinstance(body, dict):
            return _errors(IngestError(None, None, "", "The body must be a JSON object."))
        try:
            portfolio_id = _portfolio_id(body)
        except ValueError as exc:
            return _errors(IngestError(None, None, "portfolio", str(exc)))
        if portfolio_id is None and request_token(request) is None:
            return _errors(IngestError(None, None, "portfolio", "Name the portfolio (its id)."))
        portfolio = portfolio_for_ingest(request, portfolio_id)
        source = body.get("source")
        if source is not None and not isinstance(source, str):
            return _errors(IngestError(None, None, "source", "source must be a text."))
        dry_run = body.get("dry_run", False)
        if not isinstance(dry_run, bool):
            return _errors(IngestError(None, None, "dry_run", "dry_run must be true or false."))
        try:
            summary = type(self).ingest(
                portfolio=portfolio, records=body.get("records"), source=source, dry_run=dry_run
            )
        except IngestRejected as exc:
            return _errors(*exc.errors)
        return Response(s.IngestSummarySerializer(summary.as_dict()).data)


def _documented(record: type, name: str):
    return extend_schema(
        request=s.batch_serializer(record, name),
        responses={200: s.IngestSummarySerializer, 400: ERRORS, 413: ERRORS},
    )


class WorkItemIngestViewSet(_BatchIngestViewSet):
    """Work items with their full status history (replaced when the item changed)."""

    ingest = staticmethod(work_items_ingest)

    @_documented(s.WorkItemRecordSerializer, "WorkItemBatch")
    def create(self, request: Request) -> Response:
        return super().create(request)


class DeploymentIngestViewSet(_BatchIngestViewSet):
    """Deployments from CI/CD."""

    ingest = staticmethod(deployments_ingest)

    @_documented(s.DeploymentRecordSerializer, "DeploymentBatch")
    def create(self, request: Request) -> Response:
        return super().create(request)


class IncidentIngestViewSet(_BatchIngestViewSet):
    """Production incidents, optionally naming the deployment that caused them."""

    ingest = staticmethod(incidents_ingest)

    @_documented(s.IncidentRecordSerializer, "IncidentBatch")
    def create(self, request: Request) -> Response:
        return super().create(request)


class ChangeIngestViewSet(_BatchIngestViewSet):
    """Commits / pull requests with their first-commit time and the deployment that shipped them."""

    ingest = staticmethod(changes_ingest)

    @_documented(s.ChangeRecordSerializer, "ChangeBatch")
    def create(self, request: Request) -> Response:
        return super().create(request)


class ImportJobViewSet(
    mixins.CreateModelMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    """File imports: POST a Jira search JSON or a CSV pair (multipart); GET a job for progress."""

    authentication_classes = AUTHENTICATION
    permission_classes = [IngestPermission]
    parser_classes = [MultiPartParser, FormParser]
    serializer_class = s.ImportJobSerializer
    filterset_fields = ["portfolio", "status"]

    def get_queryset(self):
        return import_jobs_visible_to(self.request.user, request_token(self.request)).order_by(
            "-created_at"
        )

    @extend_schema(request=s.ImportUploadSerializer, responses={202: s.ImportJobSerializer})
    def create(self, request: Request, *args, **kwargs) -> Response:
        try:  # access before validation: 404/403 before anything about the upload is said
            portfolio = portfolio_for_ingest(request, _portfolio_id(request.data))
        except ValueError as exc:
            return Response({"portfolio": [str(exc)]}, status=status.HTTP_400_BAD_REQUEST)
        too_large = {
            field: [problem]
            for field in ("file", "changes_file")
            if (problem := upload_size_error(request, field, request.FILES.get(field)))
        }
        if too_large:
            raise DRFValidationError(too_large)
        upload = s.ImportUploadSerializer(data=request.data)
        upload.is_valid(raise_exception=True)
        data = upload.validated_data
        changes = data.get("changes_file")
        try:
            job = import_job_create(
                portfolio=portfolio,
                created_by=request.user if request.user.is_authenticated else None,
                format=data["format"],
                payload=data["file"].read(),
                payload_changes=changes.read() if changes else None,
                file_name=data["file"].name,
                dry_run=data["dry_run"],
                team_field=data.get("team_field") or "",
            )
        except ValidationError as exc:
            raise api_validation_error(exc) from exc
        return Response(s.ImportJobSerializer(job).data, status=status.HTTP_202_ACCEPTED)
