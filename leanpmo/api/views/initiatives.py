"""Initiatives API: list (filtered), read, create, change; moves on the kanban; WSJF inputs.

Session authentication only (integration tokens read nothing here). Everyone in a portfolio reads
its initiatives (money fields null without the right to see money); the Lean PMO writes (403 for
the other readers); outsiders get 404 on objects and empty lists. Access is checked before the
input is validated, so a refusal never says what exists.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Prefetch
from django.utils import timezone
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.request import Request
from rest_framework.response import Response

from leanpmo.api.filters import InitiativeFilter
from leanpmo.api.serializers.initiatives import (
    CapRefusalSerializer,
    InitiativeSerializer,
    MoveSerializer,
    PendingExceptionSerializer,
    TransitionSerializer,
    WsjfSerializer,
)
from leanpmo.models import (
    Initiative,
    InitiativeTransition,
)
from leanpmo.services.initiative_cap import CapRefused
from leanpmo.services.initiative_edits import initiative_create, initiative_update
from leanpmo.services.initiative_moves import initiative_exception_request, initiative_move
from portfolio.access import money_portfolio_ids
from portfolio.api.access import writable_parent
from portfolio.api.errors import api_validation_error
from portfolio.api.schema import ErrorSerializer
from portfolio.models import Portfolio
from teams.models import KeyResult, ProductTeam

DENIED = OpenApiResponse(ErrorSerializer, description="read-only for you (not Lean PMO)")
MISSING = OpenApiResponse(ErrorSerializer, description="no such initiative in your portfolios")
BAD = OpenApiResponse(description="bad input: a message per field")
CAP = OpenApiResponse(
    CapRefusalSerializer, description="refused by the strategic WIP cap, naming the guardrail"
)


def cap_body(exc: CapRefused) -> dict:
    """The 409 answer: what refused the move and who holds the slots."""
    return {
        "detail": str(exc),
        "code": "strategic_wip_cap",
        "guardrail": {
            "id": exc.guardrail.pk,
            "description": exc.guardrail.describe(),
            "max_count": exc.guardrail.max_count,
        },
        "in_progress": [{"id": item.pk, "title": item.title} for item in exc.in_progress],
    }


@extend_schema_view(
    create=extend_schema(responses={201: InitiativeSerializer, 400: BAD, 403: DENIED}),
    update=extend_schema(
        responses={200: InitiativeSerializer, 400: BAD, 403: DENIED, 404: MISSING, 409: CAP}
    ),
    partial_update=extend_schema(
        responses={200: InitiativeSerializer, 400: BAD, 403: DENIED, 404: MISSING, 409: CAP}
    ),
    retrieve=extend_schema(responses={200: InitiativeSerializer, 404: MISSING}),
)
class InitiativeViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """Initiatives (bets) of your portfolios with their WSJF inputs and score, work shape and
    funding. Lean PMO creates (they enter the funnel) and changes them; moves go through
    `transitions/`. Relinking teams so that a running initiative becomes strategic above the cap
    answers 409."""

    serializer_class = InitiativeSerializer
    filterset_class = InitiativeFilter

    def get_queryset(self):
        return (
            Initiative.objects.visible_to(self.request.user)
            .with_shape()
            .prefetch_related(
                Prefetch("teams", queryset=ProductTeam.objects.only("pk", "value_stream_id")),
                "themes",
                "value_streams",
                Prefetch("leading_indicators", queryset=KeyResult.objects.only("pk")),
            )
            .order_by("portfolio", "title")
        )

    def get_serializer_context(self) -> dict:
        context = super().get_serializer_context()
        context["money_portfolio_ids"] = money_portfolio_ids(self.request.user)
        return context

    def _editable(self, initiative: Initiative) -> None:
        if not Initiative.objects.editable_by(self.request.user).filter(pk=initiative.pk).exists():
            raise PermissionDenied("Only the Lean PMO changes initiatives.")

    def _service_values(self, data: dict) -> dict:
        values = {k: v for k, v in data.items() if k not in {"portfolio", "work_shape"}}
        values["declared_shape"] = data.get("work_shape", "")
        return values

    def create(self, request: Request, *args, **kwargs) -> Response:
        raw = str(request.data.get("portfolio", "") if hasattr(request.data, "get") else "")
        if not (raw.isascii() and raw.isdigit()):
            raise ValidationError({"portfolio": ["Give the id of the portfolio."]})
        # access before validation: 404 / 403 before anything about the body is said
        portfolio = writable_parent(
            request.user, Portfolio, int(raw), refusal="Only the Lean PMO creates initiatives."
        )
        context = {**self.get_serializer_context(), "portfolio": portfolio}
        serializer = InitiativeSerializer(data=request.data, context=context)
        serializer.is_valid(raise_exception=True)
        values = self._service_values(serializer.validated_data)
        try:
            initiative = initiative_create(
                portfolio=portfolio, user=request.user, now=timezone.now(), **values
            )
        except DjangoValidationError as exc:
            raise api_validation_error(exc) from exc
        fresh = self.get_queryset().get(pk=initiative.pk)
        return Response(InitiativeSerializer(fresh, context=context).data, status=201)

    def update(self, request: Request, *args, **kwargs) -> Response:
        initiative = self.get_object()
        self._editable(initiative)
        context = {**self.get_serializer_context(), "portfolio": initiative.portfolio}
        serializer = InitiativeSerializer(
            initiative, data=request.data, partial=kwargs.get("partial", False), context=context
        )
        serializer.is_valid(raise_exception=True)
        try:
            initiative_update(
                initiative=initiative,
                user=request.user,
                **self._service_values(serializer.validated_data),
            )
        except CapRefused as exc:
            return Response(cap_body(exc), status=status.HTTP_409_CONFLICT)
        except DjangoValidationError as exc:
            raise api_validation_error(exc) from exc
        fresh = self.get_queryset().get(pk=initiative.pk)
        return Response(InitiativeSerializer(fresh, context=context).data)

    @extend_schema(
        methods=["GET"],
        responses={200: TransitionSerializer(many=True), 404: MISSING},
        description="The initiative's moves, oldest first (append-only).",
    )
    @extend_schema(
        methods=["POST"],
        request=MoveSerializer,
        responses={
            201: TransitionSerializer,
            202: PendingExceptionSerializer,
            400: BAD,
            403: DENIED,
            404: MISSING,
            409: CAP,
        },
        description="Move the initiative (Lean PMO). Into implementing, a strategic initiative "
        "must fit under the active “max strategic initiatives in progress” guardrail: else 409 "
        "naming it — or, with request_exception, 202 and an exception decision that moves it "
        "once an executive approves. Starting and stopping record funding decisions.",
    )
    @action(detail=True, methods=["get", "post"], filterset_class=None, pagination_class=None)
    def transitions(self, request: Request, pk=None) -> Response:
        """GET: the moves; POST: move the initiative."""
        initiative = self.get_object()
        if request.method == "GET":
            moves = InitiativeTransition.objects.filter(initiative=initiative).select_related(
                "moved_by"
            )
            return Response(TransitionSerializer(moves.order_by("moved_at", "pk"), many=True).data)
        self._editable(initiative)
        serializer = MoveSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        request_exception = data.pop("request_exception")
        now = timezone.now()
        try:
            moved = initiative_move(initiative=initiative, user=request.user, now=now, **data)
        except CapRefused as exc:
            if not request_exception:
                return Response(cap_body(exc), status=status.HTTP_409_CONFLICT)
            data.pop("to_state")
            try:
                decision = initiative_exception_request(
                    initiative=initiative, user=request.user, now=now, **data
                )
            except DjangoValidationError as inner:
                raise api_validation_error(inner) from inner
            body = {
                "decision": decision.pk,
                "pending_approval": True,
                "detail": f"{exc} Recorded as an exception decision for an executive.",
            }
            return Response(body, status=status.HTTP_202_ACCEPTED)
        except DjangoValidationError as exc:
            raise api_validation_error(exc) from exc
        return Response(TransitionSerializer(moved).data, status=status.HTTP_201_CREATED)

    @extend_schema(methods=["GET"], responses={200: WsjfSerializer, 404: MISSING})
    @extend_schema(
        methods=["PATCH"],
        request=WsjfSerializer,
        responses={200: WsjfSerializer, 400: BAD, 403: DENIED, 404: MISSING},
        description="Change WSJF inputs (Lean PMO); null clears one (then there is no score). "
        "Every change is kept in the audit history with who made it.",
    )
    @action(detail=True, methods=["get", "patch"], filterset_class=None, pagination_class=None)
    def wsjf(self, request: Request, pk=None) -> Response:
        """The WSJF inputs and score; PATCH changes inputs."""
        initiative = self.get_object()
        if request.method == "GET":
            return Response(WsjfSerializer(initiative).data)
        self._editable(initiative)
        serializer = WsjfSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        try:
            updated = initiative_update(
                initiative=initiative, user=request.user, **serializer.validated_data
            )
        except DjangoValidationError as exc:
            raise api_validation_error(exc) from exc
        return Response(WsjfSerializer(updated).data)
