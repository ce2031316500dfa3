"""Funding API: periods and budgets (ETag / If-Match).

People only: an integration token never reaches money (403 that says so). Reads are narrowed by each model's
`visible_to`; writes need `editable_by` (Lean PMO, administrators), else 403.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)
from rest_framework import mixins, status, viewsets
from rest_framework.request import Request
from rest_framework.response import Response

from leanpmo.api.serializers.funding import BudgetSerializer, FundingPeriodSerializer
from leanpmo.models import (
    FundingPeriod,
    ValueStreamBudget,
)
from leanpmo.services.budgets import budget_change
from leanpmo.services.decisions import DecisionInput
from leanpmo.services.money_plans import VersionConflict
from leanpmo.services.periods import period_create
from portfolio.api.access import ChangeNeedsEditRights
from portfolio.api.authentication import PeopleOnly
from portfolio.api.errors import api_validation_error
from portfolio.http import if_match_version

IF_MATCH = OpenApiParameter(
    "If-Match",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    required=True,
    description='The budget\'s version as sent in its ETag, e.g. "3".',
)


# a decision's service errors use the form's names; the API's decision object names them thus
DECISION_FIELDS = {"decision_kind": "kind"} | {
    name: name
    for name in ("kind", "rationale", "expected_outcome", "options_considered",
                 "leading_indicators", "review_due_on")
}  # fmt: skip


class MoneyViewSet(ChangeNeedsEditRights, viewsets.GenericViewSet):
    """Access before validation: the parent a body names is a WritableParent (404/403 first), and
    an object changed must be editable (403) before its new data is looked at."""

    permission_classes = [PeopleOnly]  # people only: an integration token is told it may not
    model: type

    def get_queryset(self):
        return self.model.objects.visible_to(self.request.user)


class FundingPeriodViewSet(
    MoneyViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin
):
    """Funding periods of your portfolios; Lean PMO creates draft periods (they may not overlap)."""

    model = FundingPeriod
    serializer_class = FundingPeriodSerializer
    filterset_fields = ["portfolio", "status"]

    def get_queryset(self):
        return super().get_queryset().order_by("portfolio", "starts_on")

    def perform_create(self, serializer):
        portfolio = serializer.validated_data["portfolio"]
        data = {k: v for k, v in serializer.validated_data.items() if k != "portfolio"}
        try:
            serializer.instance = period_create(portfolio=portfolio, user=self.request.user, **data)
        except DjangoValidationError as exc:
            raise api_validation_error(exc) from exc


class VersionedPlanViewSet(
    MoneyViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.UpdateModelMixin
):
    """Money plans (budgets, scenario lines): the ETag is the version; PUT/PATCH by editors must send
    it in If-Match (428 without, 412 when stale, with what is stored now)."""

    noun: str

    def retrieve(self, request: Request, *args, **kwargs) -> Response:
        response = super().retrieve(request, *args, **kwargs)
        response["ETag"] = f'"{response.data["version"]}"'
        return response

    def update(self, request: Request, *args, **kwargs) -> Response:
        plan = self.get_object()
        expected = if_match_version(request, self.noun)
        serializer = self.get_serializer(
            plan, data=request.data, partial=kwargs.get("partial", False)
        )
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        changes = {
            name: data.pop(name) for name in list(data) if name in self.model.EDITABLE_FIELDS
        }
        try:
            stored, extra, code = self.change(plan, expected, changes, data)
        except VersionConflict as exc:
            body = {"detail": str(exc), "current": self.get_serializer(exc.current).data}
            return Response(
                body,
                status=status.HTTP_412_PRECONDITION_FAILED,
                headers={"ETag": f'"{exc.current.version}"'},
            )
        except DjangoValidationError as exc:
            raise api_validation_error(exc, fields=self.error_fields(data)) from exc
        body = {**self.get_serializer(stored).data, **extra}
        return Response(body, status=code, headers={"ETag": f'"{stored.version}"'})

    def change(self, plan, expected: int, changes: dict, data: dict) -> tuple[Any, dict, int]:
        """Write `changes` through the service: (the plan as stored, extra body fields, status)."""
        raise NotImplementedError

    def error_fields(self, data: dict) -> dict[str, str]:
        """The service's error keys renamed to the API's fields (see api_validation_error)."""
        return {}


@extend_schema_view(
    update=extend_schema(parameters=[IF_MATCH], responses={200: BudgetSerializer, 412: OpenApiResponse(description="stale version"), 428: OpenApiResponse(description="If-Match missing")}),
    partial_update=extend_schema(parameters=[IF_MATCH], responses={200: BudgetSerializer, 412: OpenApiResponse(description="stale version"), 428: OpenApiResponse(description="If-Match missing")}),
)  # fmt: skip
class BudgetViewSet(VersionedPlanViewSet):
    """Value-stream budgets. Responses carry an ETag (the version); PUT/PATCH must send it in If-Match
    (428 without, 412 when stale). In an approved period a change needs a `decision` object."""

    model = ValueStreamBudget
    serializer_class = BudgetSerializer
    filterset_fields = ["period", "value_stream", "period__portfolio"]
    noun, edit_refusal = "budget", "Only the Lean PMO changes budgets."

    def get_queryset(self):
        return (
            super()
            .get_queryset()
            .select_related("value_stream", "period__portfolio")
            .order_by("period", "value_stream__name")
        )

    def error_fields(self, data: dict) -> dict[str, str]:
        fields = {name: f"decision.{field}" for name, field in DECISION_FIELDS.items()}
        if data.get("decision") is None:
            fields["decision_kind"] = "decision"
        return fields

    def change(self, plan, expected: int, changes: dict, data: dict) -> tuple[Any, dict, int]:
        decision = data.get("decision")
        result = budget_change(
            budget=plan, expected_version=expected, user=self.request.user, changes=changes,
            decision=DecisionInput(**decision) if decision else None, now=timezone.now(),
        )  # fmt: skip
        extra = (
            {"decision_id": result.decision.pk, "pending_approval": result.pending}
            if result.decision is not None
            else {}
        )
        code = status.HTTP_202_ACCEPTED if result.pending else status.HTTP_200_OK
        return result.budget, extra, code
