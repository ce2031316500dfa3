"""API for the values of realisation metrics over time: reading follows `visible_to` (outsiders
get 404); Lean PMO posts them through the service (a repeated date replaces)."""

from __future__ import annotations

from django_filters import rest_framework as filters
from rest_framework import mixins, viewsets

from portfolio.api.access import IdFilterSet
from portfolio.api.errors import service_call
from teams.api.serializers.outcomes import RealisationPointSerializer
from teams.models import RealisationPoint
from teams.services.realisation import realisation_point_record


class RealisationPointFilter(IdFilterSet):
    value_stream = filters.NumberFilter(field_name="metric__value_stream")
    since = filters.DateFilter(field_name="on", lookup_expr="gte")

    class Meta:
        model = RealisationPoint
        fields = ["metric", "value_stream", "since"]


class RealisationPointViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    """Values of realisation metrics over time; Lean PMO posts them (a repeated date replaces)."""

    serializer_class = RealisationPointSerializer
    filterset_class = RealisationPointFilter

    def get_queryset(self):
        return RealisationPoint.objects.visible_to(self.request.user).order_by("metric", "on")

    def perform_create(self, serializer) -> None:
        serializer.instance = service_call(realisation_point_record, **serializer.validated_data)
