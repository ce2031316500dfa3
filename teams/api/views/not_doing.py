"""API for the teams' not-doing lists: reading follows `visible_to` (outsiders get 404); you add
to your own teams' lists through the service (400 per field)."""

from __future__ import annotations

from rest_framework import mixins, viewsets

from portfolio.api.errors import service_call
from teams.api.filters import TeamRecordFilter
from teams.api.serializers.outcomes import NotDoingItemSerializer
from teams.models import NotDoingItem
from teams.services.outcomes import not_doing_record


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
        serializer.instance = service_call(
            not_doing_record, recorded_by=self.request.user, **serializer.validated_data
        )
