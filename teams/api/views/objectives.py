"""API for objectives at portfolio, value-stream and team level: reading follows `visible_to`
(outsiders get 404); Lean PMO creates and edits them through the services (400 per field)."""

from __future__ import annotations

from rest_framework import mixins, viewsets

from portfolio.api.access import ChangeNeedsEditRights, IdFilterSet
from portfolio.api.errors import service_call
from teams.api.serializers.outcomes import ObjectiveSerializer
from teams.models import Objective
from teams.services.objectives import objective_create, objective_update


class ObjectiveFilter(IdFilterSet):
    class Meta:
        model = Objective
        fields = ["portfolio", "level", "value_stream", "team"]


class ObjectiveViewSet(
    ChangeNeedsEditRights,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """Objectives at portfolio, value-stream and team level; Lean PMO creates and edits them."""

    serializer_class = ObjectiveSerializer
    filterset_class = ObjectiveFilter

    def get_queryset(self):
        return Objective.objects.visible_to(self.request.user).order_by("portfolio", "level", "pk")

    def perform_create(self, serializer) -> None:
        serializer.instance = service_call(objective_create, **serializer.validated_data)

    def perform_update(self, serializer) -> None:
        serializer.instance = service_call(
            objective_update, objective=serializer.instance, **serializer.validated_data
        )
