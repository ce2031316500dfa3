"""Signals API: the list with filters, a signal, acknowledging it, and each portfolio's thresholds.

Session authentication only (integration tokens read nothing). Everyone in a portfolio reads its
signals — sentences and facts without amounts of money unless they may see money; the Lean PMO
acknowledges and sets thresholds (others 403, outsiders 404). Permission is checked before the
body is validated.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils import timezone
from drf_spectacular.utils import (
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)
from rest_framework import mixins, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.request import Request
from rest_framework.response import Response

from leanpmo.api.filters import SignalFilter
from leanpmo.api.serializers.signals import (
    EMPTY_ACKNOWLEDGEMENT,
    AcknowledgementSerializer,
    AcknowledgeSerializer,
    SignalSerializer,
    ThresholdsSerializer,
)
from leanpmo.detectors.thresholds import DEFAULTS, THRESHOLD_NAMES
from leanpmo.models import Signal, SignalAcknowledgement
from leanpmo.services.signals import signal_acknowledge, signal_thresholds_save
from portfolio.access import money_portfolio_ids
from portfolio.api.errors import api_validation_error
from portfolio.models import Portfolio

NOT_FOUND = OpenApiResponse(description="Not a signal (or portfolio) you may see.")
FORBIDDEN = OpenApiResponse(description="You may read this but not change it (Lean PMO only).")
INVALID = OpenApiResponse(description="Nothing changed; a message per field, e.g. {\"until\": [...]}.")  # fmt: skip


@extend_schema_view(
    list=extend_schema(responses={200: SignalSerializer(many=True), 400: INVALID}),
    retrieve=extend_schema(responses={200: SignalSerializer, 404: NOT_FOUND}),
)
class SignalViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Signals of your portfolios, most severe and newest first."""

    serializer_class = SignalSerializer
    filterset_class = SignalFilter

    queryset = Signal.objects.none()  # for the schema; get_queryset narrows per person

    def initial(self, request: Request, *args, **kwargs) -> None:
        super().initial(request, *args, **kwargs)
        request.now = timezone.now()

    def get_queryset(self):
        now = getattr(self.request, "now", None) or timezone.now()
        return (
            Signal.objects.visible_to(self.request.user)
            .select_related("portfolio", "value_stream", "team")
            .with_acknowledgement(now)
            .order_by("-severity", "-opened_at", "pk")
        )

    def get_serializer_context(self) -> dict:
        user = self.request.user
        return {
            **super().get_serializer_context(),
            "now": self.request.now,
            "money_portfolios": money_portfolio_ids(user),
            "editable_portfolios": set(
                Portfolio.objects.editable_by(user).values_list("pk", flat=True)
            ),
        }

    @extend_schema(
        methods=["GET"],
        request=None,
        responses={200: AcknowledgementSerializer, 404: NOT_FOUND},
        description="The acknowledgement holding now (every field null when none does).",
    )
    @extend_schema(
        methods=["POST"],
        request=AcknowledgeSerializer,
        responses={200: SignalSerializer, 400: INVALID, 403: FORBIDDEN, 404: NOT_FOUND},
        description="Set the signal aside through `until` for `reason` (Lean PMO): it leaves the "
        "inbox and comes back after that day, or sooner if its severity gets worse.",
    )
    @action(detail=True, methods=["get", "post"], filterset_class=None, pagination_class=None)
    def acknowledge(self, request: Request, pk=None) -> Response:
        """GET: the acknowledgement holding now; POST: acknowledge the signal (Lean PMO)."""
        signal = self.get_object()
        if request.method == "GET":
            holding = (
                SignalAcknowledgement.objects.filter(
                    portfolio=signal.portfolio_id, detector=signal.detector, key=signal.key
                )
                .filter(expires_at__gt=request.now, severity__gte=signal.severity)
                .select_related("acknowledged_by")
                .first()
            )
            return Response(AcknowledgementSerializer(holding or EMPTY_ACKNOWLEDGEMENT).data)
        if not Signal.objects.editable_by(request.user).filter(pk=signal.pk).exists():
            raise PermissionDenied("Only the Lean PMO acknowledges signals.")
        body = AcknowledgeSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            signal_acknowledge(
                signal=signal, user=request.user, now=request.now, **body.validated_data
            )
        except DjangoValidationError as exc:
            raise api_validation_error(exc) from exc
        return Response(self.get_serializer(self.get_queryset().get(pk=signal.pk)).data)


def _thresholds_data(portfolio: Portfolio) -> dict:
    stored = getattr(portfolio, "signal_thresholds", None)
    values = {name: getattr(stored or DEFAULTS, name) for name in THRESHOLD_NAMES}
    updated = stored.updated_at if stored else None
    return ThresholdsSerializer({"portfolio": portfolio.pk, **values, "updated_at": updated}).data


@extend_schema_view(
    list=extend_schema(responses={200: ThresholdsSerializer(many=True)}),
    retrieve=extend_schema(responses={200: ThresholdsSerializer, 404: NOT_FOUND}),
    partial_update=extend_schema(
        request=ThresholdsSerializer,
        responses={200: ThresholdsSerializer, 400: INVALID, 403: FORBIDDEN, 404: NOT_FOUND},
    ),
)
class SignalThresholdsViewSet(viewsets.GenericViewSet):
    """Each portfolio's signal thresholds, by portfolio id: everyone in the portfolio reads them,
    its Lean PMO changes them with PATCH (audited; the signals are evaluated again)."""

    serializer_class = ThresholdsSerializer
    http_method_names = ["get", "patch", "head", "options"]

    def get_queryset(self):
        return (
            Portfolio.objects.visible_to(self.request.user)
            .select_related("signal_thresholds")
            .order_by("name")
        )

    def list(self, request: Request) -> Response:
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response([_thresholds_data(p) for p in page])

    def retrieve(self, request: Request, pk=None) -> Response:
        return Response(_thresholds_data(self.get_object()))

    def partial_update(self, request: Request, pk=None) -> Response:
        portfolio = self.get_object()
        if not Portfolio.objects.editable_by(request.user).filter(pk=portfolio.pk).exists():
            raise PermissionDenied("Only the Lean PMO sets the signal thresholds.")
        body = ThresholdsSerializer(data=request.data, partial=True)
        body.is_valid(raise_exception=True)
        try:
            signal_thresholds_save(portfolio=portfolio, user=request.user, **body.validated_data)
        except DjangoValidationError as exc:
            raise api_validation_error(exc) from exc
        return Response(_thresholds_data(self.get_queryset().get(pk=portfolio.pk)))
