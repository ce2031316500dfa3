"""Funding API: scenarios, their lines (ETag / If-Match) and promotion. People only; reads
narrowed by `visible_to`, writes need `editable_by` (else 403)."""

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
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from leanpmo.api.serializers.scenarios import (
    DriftSerializer,
    PromotionPlanSerializer,
    PromotionResultSerializer,
    PromotionSerializer,
    ScenarioDetailSerializer,
    ScenarioLineSerializer,
    ScenarioSerializer,
)
from leanpmo.api.views.funding import DECISION_FIELDS, MoneyViewSet, VersionedPlanViewSet
from leanpmo.models import (
    Scenario,
    ScenarioLine,
)
from leanpmo.selectors.funding import period_budgets
from leanpmo.selectors.scenarios import scenario_drift, scenario_lines
from leanpmo.services.decisions import DecisionInput
from leanpmo.services.money_plans import PlanRowError, VersionConflict
from leanpmo.services.scenarios import (
    ScenarioStale,
    promotion_plan,
    scenario_create,
    scenario_line_change,
    scenario_promote,
)
from portfolio.api.errors import api_validation_error

LINE_IF_MATCH = OpenApiParameter(
    "If-Match",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    required=True,
    description='The scenario line\'s version as sent in its ETag, e.g. "2".',
)


class ScenarioViewSet(
    MoneyViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin
):
    """Scenarios (executives and Lean PMO only): a what-if copy of a period's plan. Lean PMO creates
    one by naming the period, edits its lines (/scenario-lines/), and promotes it into decisions."""

    model = Scenario
    serializer_class = ScenarioSerializer
    filterset_fields = ["period", "status", "period__portfolio"]

    def get_queryset(self):
        return (
            super()
            .get_queryset()
            .select_related("period")
            .prefetch_related("decisions")
            .order_by("-created_at", "-pk")
        )

    def get_serializer_class(self):
        if self.action == "retrieve":
            return ScenarioDetailSerializer
        if self.action == "promote":
            return PromotionSerializer
        return ScenarioSerializer

    def _detail(self, scenario: Scenario) -> dict:
        lines = scenario_lines(scenario)
        drift = scenario_drift(lines, period_budgets(scenario.period)) if scenario.is_draft else []
        return {
            **ScenarioSerializer(scenario).data,
            "lines": ScenarioLineSerializer(lines, many=True).data,
            "drift": DriftSerializer(drift, many=True).data,
        }

    def retrieve(self, request: Request, *args, **kwargs) -> Response:
        return Response(self._detail(self.get_object()))

    def perform_create(self, serializer):
        data = serializer.validated_data
        try:
            serializer.instance = scenario_create(
                period=data["period"], name=data["name"], description=data.get("description", ""),
                user=self.request.user, now=timezone.now(),
            )  # fmt: skip
        except DjangoValidationError as exc:
            raise api_validation_error(exc) from exc

    @extend_schema(
        methods=["GET"],
        responses={200: PromotionPlanSerializer(many=True)},
        description="What promoting would change: per value stream the money before and after, "
        "the suggested decision kind and the guardrail breaches it would cause.",
    )
    @extend_schema(
        methods=["POST"],
        request=PromotionSerializer,
        responses={
            200: PromotionResultSerializer(many=True),
            409: OpenApiResponse(description="the plan changed since the scenario was copied"),
        },
        description="Record one decision per changed value stream through the budget change "
        "path; all or nothing. 409 when the plan changed since the copy (refresh the scenario) "
        "or a budget moved.",
    )
    @action(detail=True, methods=["get", "post"], filterset_fields=[], pagination_class=None)
    def promote(self, request: Request, pk=None) -> Response:
        """GET: what promoting would change; POST: promote the scenario into decisions."""
        scenario = self.get_object()
        if request.method == "GET":
            plans = [
                {
                    "value_stream": plan.line.value_stream_id,
                    "value_stream_name": plan.line.value_stream.name,
                    "amount_before": plan.before,
                    "amount_after": plan.after,
                    "suggested_kind": plan.kind,
                    "breaches": [
                        f"{r.scope} · {r.description}: {r.message}" for r in plan.breaches
                    ],
                }
                for plan in (promotion_plan(scenario) if scenario.is_draft else [])
            ]
            return Response(PromotionPlanSerializer(plans, many=True).data)
        serializer = PromotionSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        decisions = {}
        for item in serializer.validated_data["decisions"]:
            fields = {name: value for name, value in item.items() if name != "value_stream"}
            decisions[item["value_stream"]] = DecisionInput(**fields)
        try:
            result = scenario_promote(
                scenario=scenario, decisions=decisions, user=request.user, now=timezone.now()
            )
        except ScenarioStale as exc:
            body = {"detail": str(exc), "drift": DriftSerializer(exc.drift, many=True).data}
            return Response(body, status=status.HTTP_409_CONFLICT)
        except VersionConflict as exc:
            return Response({"detail": str(exc)}, status=status.HTTP_409_CONFLICT)
        except PlanRowError as exc:
            within = f"decisions.{exc.row.value_stream_id}"
            raise api_validation_error(exc.error, fields=DECISION_FIELDS, within=within) from exc
        except DjangoValidationError as exc:
            raise api_validation_error(exc) from exc
        body = [
            {
                "value_stream": change.budget.value_stream_id,
                "decision": change.decision.pk,
                "kind": change.decision.kind,
                "pending_approval": change.pending,
            }
            for change in result.results
            if change.decision is not None
        ]
        return Response(PromotionResultSerializer(body, many=True).data)


@extend_schema_view(
    update=extend_schema(parameters=[LINE_IF_MATCH], responses={200: ScenarioLineSerializer, 412: OpenApiResponse(description="stale version"), 428: OpenApiResponse(description="If-Match missing")}),
    partial_update=extend_schema(parameters=[LINE_IF_MATCH], responses={200: ScenarioLineSerializer, 412: OpenApiResponse(description="stale version"), 428: OpenApiResponse(description="If-Match missing")}),
)  # fmt: skip
class ScenarioLineViewSet(VersionedPlanViewSet):
    """Lines of scenarios: one value stream's money and allocation. PUT/PATCH (Lean PMO, draft
    scenarios) must send the line's ETag in If-Match (428 without, 412 when stale); the same
    validation as budgets applies."""

    model = ScenarioLine
    serializer_class = ScenarioLineSerializer
    filterset_fields = ["scenario", "value_stream"]
    noun, edit_refusal = "line", "Only the Lean PMO changes scenarios."

    def get_queryset(self):
        return (
            super()
            .get_queryset()
            .select_related("value_stream")
            .order_by("scenario", "value_stream__name")
        )

    def change(self, plan, expected: int, changes: dict, data: dict) -> tuple[Any, dict, int]:
        stored = scenario_line_change(line=plan, expected_version=expected, changes=changes)
        return stored, {}, status.HTTP_200_OK
