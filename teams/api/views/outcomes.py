"""API for outcomes and learning: objectives, key results, check-ins, experiments, not-doing items,
team interactions and realisation metrics.

Reading follows each model's `visible_to`; outsiders get 404 on objects. Access comes before
validation (portfolio.api.access): writing into a parent or changing an object that you may not
see answers 404, one that you may read but not change 403; then writes go through the services,
whose validation errors come back as 400 with a message per field.
"""

from __future__ import annotations

import zoneinfo

from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils import timezone
from django_filters import rest_framework as filters
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, viewsets

from portfolio.api.access import ChangeNeedsEditRights, IdFilterSet
from portfolio.api.errors import api_validation_error
from teams import selectors
from teams.api.serializers.outcomes import (
    ExperimentSerializer,
    KeyResultSerializer,
    NotDoingItemSerializer,
    ObjectiveSerializer,
    OutcomeUpdatePostedSerializer,
    OutcomeUpdateSerializer,
    RealisationMetricSerializer,
    RealisationPointSerializer,
    TeamInteractionSerializer,
)
from teams.models import (
    Experiment,
    KeyResult,
    NotDoingItem,
    Objective,
    OutcomeUpdate,
    RealisationMetric,
    RealisationPoint,
    TeamInteraction,
)
from teams.services.objectives import (
    key_result_create,
    key_result_update,
    objective_create,
    objective_update,
)
from teams.services.outcomes import (
    experiment_create,
    experiment_update,
    not_doing_record,
    outcome_update_post,
)
from teams.services.realisation import realisation_metric_create, realisation_point_record


def _service_call(function, **kwargs):
    """Call a service; its ValidationError becomes DRF's (400 with a message per field)."""
    try:
        return function(**kwargs)
    except DjangoValidationError as exc:
        raise api_validation_error(exc) from exc


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
        serializer.instance = _service_call(objective_create, **serializer.validated_data)

    def perform_update(self, serializer) -> None:
        serializer.instance = _service_call(
            objective_update, objective=serializer.instance, **serializer.validated_data
        )


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
        serializer.instance = _service_call(key_result_create, **serializer.validated_data)

    def perform_update(self, serializer) -> None:
        serializer.instance = _service_call(
            key_result_update, key_result=serializer.instance, **serializer.validated_data
        )


class OutcomeUpdateFilter(IdFilterSet):
    team = filters.NumberFilter(field_name="key_result__objective__team")

    class Meta:
        model = OutcomeUpdate
        fields = ["key_result", "team", "status"]


class OutcomeUpdateViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    """Check-ins on key results, newest first. Append-only: post a new one with `corrects` to
    correct an earlier one. Members post to their own teams' key results."""

    serializer_class = OutcomeUpdateSerializer
    filterset_class = OutcomeUpdateFilter

    def get_queryset(self):
        return (
            OutcomeUpdate.objects.visible_to(self.request.user)
            .select_related("posted_by")
            .order_by("-posted_at", "-pk")
        )

    @extend_schema(responses={201: OutcomeUpdatePostedSerializer})
    def create(self, request, *args, **kwargs):
        """Post a check-in. The answer's `warnings` name what looks implausible (a jump larger
        than the key result's whole range, a status that contradicts the value); the check-in is
        saved all the same."""
        response = super().create(request, *args, **kwargs)
        response.data["warnings"] = self._warnings
        return response

    def perform_create(self, serializer) -> None:
        data = serializer.validated_data
        now = timezone.now()
        key_result = data["key_result"]
        time_zone = key_result.objective.portfolio.time_zone
        warnings = selectors.check_in_warnings_for(
            key_result=key_result,
            value=data["value"],
            status=data["status"],
            on=timezone.localdate(now, zoneinfo.ZoneInfo(time_zone)),
            time_zone=time_zone,
            corrects=data.get("corrects"),
        )
        serializer.instance = _service_call(
            outcome_update_post, posted_by=self.request.user, posted_at=now, **data
        )
        self._warnings = [{"code": w.code, "message": w.message} for w in warnings]


class TeamRecordFilter(IdFilterSet):
    value_stream = filters.NumberFilter(field_name="team__value_stream")


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
        serializer.instance = _service_call(
            experiment_create, created_by=self.request.user, **serializer.validated_data
        )

    def perform_update(self, serializer) -> None:
        data = dict(serializer.validated_data)
        if data.pop("team", serializer.instance.team) != serializer.instance.team:
            raise serializers.ValidationError(
                {"team": "An experiment cannot move to another team."}
            )
        serializer.instance = _service_call(
            experiment_update, experiment=serializer.instance, **data
        )


class NotDoingFilter(TeamRecordFilter):
    class Meta:
        model = NotDoingItem
        fields = ["team", "value_stream"]


class NotDoingItemViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    """Not-doing lists of the teams you can see; you add to your own teams' lists."""

    serializer_class = NotDoingItemSerializer
    filterset_class = NotDoingFilter

    def get_queryset(self):
        return NotDoingItem.objects.visible_to(self.request.user).order_by("-decided_on", "-pk")

    def perform_create(self, serializer) -> None:
        serializer.instance = _service_call(
            not_doing_record, recorded_by=self.request.user, **serializer.validated_data
        )


class TeamInteractionFilter(TeamRecordFilter):
    class Meta:
        model = TeamInteraction
        fields = ["team", "depends_on", "value_stream", "mode", "blocking"]


class TeamInteractionViewSet(viewsets.ReadOnlyModelViewSet):
    """Dependencies between teams with their interaction mode and whether they block."""

    serializer_class = TeamInteractionSerializer
    filterset_class = TeamInteractionFilter

    def get_queryset(self):
        return TeamInteraction.objects.visible_to(self.request.user).order_by("team", "depends_on")


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
        serializer.instance = _service_call(realisation_metric_create, **serializer.validated_data)


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
        serializer.instance = _service_call(realisation_point_record, **serializer.validated_data)
