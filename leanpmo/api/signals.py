"""Signals API: the list with filters, a signal, acknowledging it, and each portfolio's thresholds.

Session authentication only (integration tokens read nothing). Everyone in a portfolio reads its
signals — sentences and facts without amounts of money unless they may see money; the Lean PMO
acknowledges and sets thresholds (others 403, outsiders 404). Permission is checked before the
body is validated.
"""

from __future__ import annotations

import django_filters
from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
    extend_schema_view,
)
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.request import Request
from rest_framework.response import Response

from leanpmo.detectors import DEFAULTS, DETECTOR_LABELS, SEVERITY_LABELS, SPECS, THRESHOLD_NAMES
from leanpmo.detectors.wording import MONEY_FACTS
from leanpmo.models import Signal, SignalAcknowledgement, SignalDetector, SignalSeverity
from leanpmo.panels import STATE_LABELS, evidence_links, signal_state
from leanpmo.services.signals import signal_acknowledge, signal_thresholds_save
from portfolio.access import money_portfolio_ids
from portfolio.api.errors import api_validation_error
from portfolio.models import Portfolio

NOT_FOUND = OpenApiResponse(description="Not a signal (or portfolio) you may see.")
FORBIDDEN = OpenApiResponse(description="You may read this but not change it (Lean PMO only).")
INVALID = OpenApiResponse(description="Nothing changed; a message per field, e.g. {\"until\": [...]}.")  # fmt: skip


class SignalFilter(django_filters.FilterSet):
    state = django_filters.ChoiceFilter(
        choices=list(STATE_LABELS.items()),
        method="filter_state",
        help_text="new (opened in the last 7 days), open (waiting), acknowledged, resolved or all "
        "(default: all).",
    )
    detector = django_filters.ChoiceFilter(choices=SignalDetector.choices)
    severity = django_filters.TypedChoiceFilter(choices=SignalSeverity.choices, coerce=int)

    class Meta:
        model = Signal
        fields = ["portfolio", "detector", "severity", "value_stream", "team"]

    def filter_state(self, queryset, name, value):
        return queryset.in_state(value, self.request.now)


class EvidenceSerializer(serializers.Serializer):
    label = serializers.CharField()
    url = serializers.CharField()


class SignalSerializer(serializers.ModelSerializer):
    """A signal: its detector, objects, severity, the sentence for you, facts (amounts of money
    left out unless you see the portfolio's money), evidence links, and when it was seen."""

    detector_label = serializers.SerializerMethodField()
    severity_label = serializers.SerializerMethodField()
    state = serializers.SerializerMethodField()
    explanation = serializers.SerializerMethodField()
    facts = serializers.SerializerMethodField()
    evidence = serializers.SerializerMethodField()
    value_stream_name = serializers.CharField(source="value_stream.name", default=None)
    team_name = serializers.CharField(source="team.name", default=None)
    acknowledged_until = serializers.DateTimeField(read_only=True, allow_null=True)
    acknowledged_reason = serializers.CharField(read_only=True, allow_null=True)

    class Meta:
        model = Signal
        fields = [
            "id", "portfolio", "detector", "detector_label", "key", "severity", "severity_label",
            "state", "explanation", "facts", "evidence", "value_stream", "value_stream_name",
            "team", "team_name", "first_seen", "opened_at", "last_seen", "resolved_at",
            "acknowledged_until", "acknowledged_reason",
        ]  # fmt: skip

    def _money(self, signal: Signal) -> bool:
        return signal.portfolio_id in self.context["money_portfolios"]

    def get_detector_label(self, signal: Signal) -> str:
        return DETECTOR_LABELS.get(signal.detector, signal.detector)

    def get_severity_label(self, signal: Signal) -> str:
        return SEVERITY_LABELS.get(signal.severity, "")

    @extend_schema_field(serializers.ChoiceField(choices=["new", "open", "acknowledged", "resolved"]))  # fmt: skip
    def get_state(self, signal: Signal) -> str:
        return signal_state(signal, self.context["now"])

    def get_explanation(self, signal: Signal) -> str:
        return signal.explanation(show_money=self._money(signal))

    @extend_schema_field(OpenApiTypes.OBJECT)
    def get_facts(self, signal: Signal) -> dict:
        if self._money(signal):
            return signal.facts
        return {key: value for key, value in signal.facts.items() if key not in MONEY_FACTS}

    @extend_schema_field(EvidenceSerializer(many=True))
    def get_evidence(self, signal: Signal) -> list[dict]:
        links = evidence_links(
            signal.evidence,
            show_money=self._money(signal),
            can_edit=signal.portfolio_id in self.context["editable_portfolios"],
        )
        return [{"label": link.label, "url": link.url} for link in links]


class AcknowledgementSerializer(serializers.Serializer):
    """An acknowledgement: why, until when (exclusive end, in UTC), who and when."""

    reason = serializers.CharField(allow_null=True)
    expires_at = serializers.DateTimeField(allow_null=True)
    severity = serializers.IntegerField(allow_null=True)
    acknowledged_by = serializers.CharField(
        source="acknowledged_by.username", allow_null=True, default=None
    )
    acknowledged_at = serializers.DateTimeField(allow_null=True)


EMPTY_ACKNOWLEDGEMENT = dict.fromkeys(["reason", "expires_at", "severity", "acknowledged_at"])


class AcknowledgeSerializer(serializers.Serializer):
    reason = serializers.CharField(allow_blank=True, help_text="Why it can wait.")
    until = serializers.DateField(
        allow_null=True, help_text="The last day it stays aside (portfolio's time zone)."
    )


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


def _threshold_field(spec):
    default = getattr(DEFAULTS, spec.name)
    common = {"min_value": spec.minimum, "max_value": spec.maximum, "help_text": f"{spec.help} ({spec.unit})"}  # fmt: skip
    if isinstance(default, float):
        return serializers.DecimalField(max_digits=3, decimal_places=1, **common)
    return serializers.IntegerField(**common)


ThresholdsSerializer = type(
    "ThresholdsSerializer",
    (serializers.Serializer,),
    {
        "__doc__": "A portfolio's thresholds (the defaults until the Lean PMO saved some).",
        "__module__": __name__,
        "portfolio": serializers.IntegerField(read_only=True),
        **{spec.name: _threshold_field(spec) for spec in SPECS},
        "updated_at": serializers.DateTimeField(read_only=True, allow_null=True),
    },
)


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
