"""API for check-ins (outcome updates) on key results: append-only, posted by members to their own
teams' key results, answered with the warnings that ask for a second look."""

from __future__ import annotations

import zoneinfo

from django.utils import timezone
from django_filters import rest_framework as filters
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, viewsets

from portfolio.api.access import IdFilterSet
from portfolio.api.errors import service_call
from teams import selectors
from teams.api.serializers.outcomes import OutcomeUpdatePostedSerializer, OutcomeUpdateSerializer
from teams.models import OutcomeUpdate
from teams.services.outcomes import outcome_update_post


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
        serializer.instance = service_call(
            outcome_update_post, posted_by=self.request.user, posted_at=now, **data
        )
        self._warnings = [{"code": w.code, "message": w.message} for w in warnings]
