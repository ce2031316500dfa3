"""API for key results: reading follows `visible_to` (outsiders get 404); Lean PMO creates, edits
and closes them through the services (400 per field)."""

from __future__ import annotations

from django_filters import rest_framework as filters
from rest_framework import mixins, viewsets

from portfolio.api.access import ChangeNeedsEditRights, IdFilterSet
from portfolio.api.errors import service_call
from teams.api.serializers.outcomes import KeyResultSerializer
from teams.models import KeyResult
from teams.services.objectives import key_result_create, key_result_update


class KeyResultFilter(IdFilterSet):
    team = filters.NumberFilter(field_name="objective__team")
    value_stream = filters.NumberFilter(field_name="objective__value_stream")

    class Meta:
        model = KeyResult
        fields = ["objective", "team", "value_stream", "closed"]


class KeyResultViewSet(
    ChangeNeedsEditRights,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """Key results; Lean PMO creates, edits and closes them (`closed: true`)."""

    serializer_class = KeyResultSerializer
    filterset_class = KeyResultFilter

    def get_queryset(self):
        return (
            KeyResult.objects.visible_to(self.request.user)
            .select_related("objective")
            .order_by("objective", "pk")
        )

    def perform_create(self, serializer) -> None:
        serializer.instance = service_call(key_result_create, **serializer.validated_data)

    def perform_update(self, serializer) -> None:
        serializer.instance = service_call(
            key_result_update, key_result=serializer.instance, **serializer.validated_data
        )
