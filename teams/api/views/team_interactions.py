"""API for the dependencies between teams (read-only): reading follows `visible_to`."""

from __future__ import annotations

from rest_framework import viewsets

from teams.api.filters import TeamRecordFilter
from teams.api.serializers.outcomes import TeamInteractionSerializer
from teams.models import TeamInteraction


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
