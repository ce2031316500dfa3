"""Funding API: periods, budgets (ETag / If-Match), decisions (create + read), reviews, guardrails.

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
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from leanpmo.api.serializers import (
    BudgetSerializer,
    DecisionSerializer,
    DriftSerializer,
    FundingPeriodSerializer,
    GuardrailSerializer,
    PromotionPlanSerializer,
    PromotionResultSerializer,
    PromotionSerializer,
    ReviewSerializer,
    ScenarioDetailSerializer,
    ScenarioLineSerializer,
    ScenarioSerializer,
)
from leanpmo.models import (
    DecisionReview,
    FundingDecision,
    FundingPeriod,
    Guardrail,
    Scenario,
    ScenarioLine,
    ValueStreamBudget,
)
from leanpmo.selectors.funding import period_budgets
from leanpmo.selectors.scenarios import scenario_drift, scenario_lines
from leanpmo.services import (
    DecisionInput,
    PlanRowError,
    ScenarioStale,
    VersionConflict,
    budget_change,
    decision_record,
    guardrail_save,
    period_create,
    promotion_plan,
    review_record,
    scenario_create,
    scenario_line_change,
    scenario_promote,
)
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

LINE_IF_MATCH = OpenApiParameter(
    "If-Match",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    required=True,
    description='The scenario line\'s version as sent in its ETag, e.g. "2".',
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


class DecisionViewSet(
    MoneyViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin
):
    """Funding decisions: created with evidence frozen by the server, never updated or deleted."""

    model = FundingDecision
    serializer_class = DecisionSerializer
    filterset_fields = ["portfolio", "period", "value_stream", "initiative", "kind"]

    def get_queryset(self):
        return super().get_queryset().select_related("approval").order_by("-decided_at", "-pk")

    def perform_create(self, serializer):
        data = serializer.validated_data
        period: FundingPeriod = data["period"]
        budget = ValueStreamBudget.objects.filter(
            period=period, value_stream=data["value_stream"]
        ).first()
        amount = budget.total if budget else 0
        try:
            serializer.instance = decision_record(
                period=period,
                value_stream=data["value_stream"],
                decision=DecisionInput(
                    kind=data["kind"], rationale=data["rationale"], expected_outcome=data["expected_outcome"],
                    options_considered=data.get("options_considered", ""),
                    leading_indicators=data.get("leading_indicators", ""), review_due_on=data.get("review_due_on"),
                ),
                amount_before=amount, amount_after=amount, user=self.request.user, now=timezone.now(),
                supersedes=data.get("supersedes"),
            )  # fmt: skip
        except DjangoValidationError as exc:
            raise api_validation_error(exc, fields=DECISION_FIELDS) from exc


class ReviewViewSet(
    MoneyViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin
):
    """Decision reviews (append-only): did the expected outcome hold?"""

    model = DecisionReview
    serializer_class = ReviewSerializer
    filterset_fields = ["decision", "outcome"]

    def get_queryset(self):
        return super().get_queryset().order_by("-reviewed_at")

    def perform_create(self, serializer):
        decision = serializer.validated_data["decision"]
        try:
            serializer.instance = review_record(
                decision=decision, outcome=serializer.validated_data["outcome"],
                notes=serializer.validated_data.get("notes", ""), user=self.request.user, now=timezone.now(),
            )  # fmt: skip
        except DjangoValidationError as exc:
            raise api_validation_error(exc) from exc


class GuardrailViewSet(
    MoneyViewSet,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
):
    """Guardrails of your portfolios; Lean PMO creates and changes them (every change is audited)."""

    model = Guardrail
    serializer_class = GuardrailSerializer
    filterset_fields = ["portfolio", "kind", "active"]

    def get_queryset(self):
        return super().get_queryset().order_by("portfolio", "kind")

    def _save(self, serializer, guardrail: Guardrail | None):
        data = dict(serializer.validated_data)
        portfolio = data.pop("portfolio", None) or guardrail.portfolio
        try:
            serializer.instance = guardrail_save(
                portfolio=portfolio, user=self.request.user, guardrail=guardrail, **data
            )
        except DjangoValidationError as exc:
            raise api_validation_error(exc) from exc

    def perform_create(self, serializer):
        self._save(serializer, None)

    def perform_update(self, serializer):
        self._save(serializer, serializer.instance)


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
