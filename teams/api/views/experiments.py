"""API for experiments: reading follows `visible_to` (outsiders get 404); you record and update
your own teams' experiments through the services (400 per field)."""

from __future__ import annotations

from rest_framework import mixins, serializers, viewsets

from portfolio.api.access import ChangeNeedsEditRights
from portfolio.api.errors import service_call
from teams.api.filters import TeamRecordFilter
from teams.api.serializers.outcomes import ExperimentSerializer
from teams.models import Experiment
from teams.services.outcomes import experiment_create, experiment_update


class ExperimentFilter(TeamRecordFilter):
    class Meta:
        model = Experiment
        fields = ["team", "value_stream", "result"]


class ExperimentViewSet(
    ChangeNeedsEditRights,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """Experiments of the teams you can see; you record and update your own teams' experiments."""

    serializer_class = ExperimentSerializer
    filterset_class = ExperimentFilter

    def get_queryset(self):
        return Experiment.objects.visible_to(self.request.user).order_by("-started_on", "-pk")

    def perform_create(self, serializer) -> None:
        serializer.instance = service_call(
            experiment_create, created_by=self.request.user, **serializer.validated_data
        )

    def perform_update(self, serializer) -> None:
        data = dict(serializer.validated_data)
        if data.pop("team", serializer.instance.team) != serializer.instance.team:
            raise serializers.ValidationError(
                {"team": "An experiment cannot move to another team."}
            )
        serializer.instance = service_call(
            experiment_update, experiment=serializer.instance, **data
        )
