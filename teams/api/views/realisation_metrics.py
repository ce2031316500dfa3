"""API for realisation metrics of value streams: reading follows `visible_to` (outsiders get
404); Lean PMO adds them through the service (400 per field)."""

from __future__ import annotations

from rest_framework import mixins, viewsets

from portfolio.api.errors import service_call
from teams.api.serializers.outcomes import RealisationMetricSerializer
from teams.models import RealisationMetric
from teams.services.realisation import realisation_metric_create


class RealisationMetricViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    """Realisation metrics of the value streams you can see; Lean PMO adds them."""

    serializer_class = RealisationMetricSerializer
    filterset_fields = ["value_stream"]

    def get_queryset(self):
        return RealisationMetric.objects.visible_to(self.request.user).order_by(
            "value_stream", "name"
        )

    def perform_create(self, serializer) -> None:
        serializer.instance = service_call(realisation_metric_create, **serializer.validated_data)
